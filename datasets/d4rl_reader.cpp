// D4RL flat layout: observations [N,obs], actions [N,act], rewards [N] or [N,1], terminals [N],
// optional timeouts [N]; float32 or float64 (medium-replay); bools as h5py's int8 enum.
#include <algorithm>

#include "core/error.h"
#include "datasets/checked_read.h"
#include "datasets/hdf5_io.h"
#include "datasets/readers.h"

namespace seqrl {

// Gym's TimeLimit for the locomotion tasks: v0/v1 files without `timeouts` still cut there.
static constexpr int64_t kD4rlMaxEpisodeSteps = 1000;

std::vector<Episode> split_episodes(const torch::Tensor& terminals, const torch::Tensor& timeouts, bool have_timeouts,
                                    int64_t max_steps) {
  auto term = terminals.contiguous();
  auto tout = timeouts.contiguous();
  const bool* t = term.data_ptr<bool>();
  const bool* o = tout.data_ptr<bool>();
  const int64_t n = term.size(0);
  std::vector<Episode> eps;
  int64_t start = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool cut = !have_timeouts && i - start + 1 == max_steps;
    if (t[i] || o[i] || cut) {
      eps.push_back({start, i - start + 1, t[i], o[i] || (cut && !t[i]), 0.0});
      start = i + 1;
    }
  }
  if (start < n) eps.push_back({start, n - start, false, false, 0.0});
  return eps;
}

Dataset read_d4rl(hid_t file, const std::string& path, std::vector<EnvHint>& env_hints) {
  Dataset ds;
  ds.path = path;
  ds.layout = "d4rl";
  ds.observations = read_table(file, "observations", path);
  const int64_t n = ds.observations.size(0);
  ds.actions = read_table(file, "actions", path);
  check_rows(ds.actions, n, "actions", "observations", path);
  ds.rewards = read_column(file, "rewards", path);
  check_rows(ds.rewards, n, "rewards", "observations", path);
  auto terminals = read_flags(file, "terminals", path);
  check_rows(terminals, n, "terminals", "observations", path);
  const bool have_timeouts = h5::exists(file, "timeouts");
  auto timeouts = have_timeouts ? read_flags(file, "timeouts", path) : torch::zeros({n}, torch::kBool);
  check_rows(timeouts, n, "timeouts", "observations", path);
  // next_observations is not needed for DT training; check its shape only (no read).
  if (h5::is_dataset(file, "next_observations")) {
    auto d = h5::open_dataset(file, "next_observations", path);
    auto shape = h5::dataset_shape(d.get(), path + ": next_observations");
    if (shape.empty() || shape[0] != n)
      throw Error(path + ": length mismatch: next_observations has " +
                  (shape.empty() ? std::string("no") : std::to_string(shape[0])) + " rows but observations has " +
                  std::to_string(n));
  }
  ds.episodes = split_episodes(terminals, timeouts, have_timeouts, kD4rlMaxEpisodeSteps);

  // D4RL's own files carry no env name in metadata/; files written by `seqrl collect` do.
  for (const char* key : {"metadata/env", "metadata/env_name"})
    if (auto text = h5::string_dataset(file, key); !text.empty()) env_hints.push_back({key, text});
  return ds;
}

}  // namespace seqrl
