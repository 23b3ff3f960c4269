#include "tests/datasets/dataset_files.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "datasets/hdf5_io.h"

namespace seqrl::test {

D4rlArrays make_arrays(int64_t obs_dim, int64_t act_dim, const std::vector<EpisodeSpec>& episodes, uint64_t seed) {
  torch::manual_seed(seed);
  int64_t n = 0;
  for (const auto& e : episodes) n += e.length;
  D4rlArrays a;
  a.observations = torch::randn({n, obs_dim}) * 2 + 0.5;
  a.actions = torch::rand({n, act_dim}) * 2 - 1;
  a.rewards = torch::randn({n}) + 3;
  a.terminals = torch::zeros({n}, torch::kBool);
  a.timeouts = torch::zeros({n}, torch::kBool);
  int64_t row = 0;
  for (const auto& e : episodes) {
    row += e.length;
    if (e.end == End::Terminal) a.terminals[row - 1] = true;
    if (e.end == End::Timeout) a.timeouts[row - 1] = true;
  }
  a.next_observations = torch::randn({n, obs_dim});
  a.qpos = torch::randn({n, 6});
  a.qvel = torch::randn({n, 6});
  a.action_log_probs = torch::randn({n});
  return a;
}

void write_minari(const std::string& path, const D4rlArrays& a, const std::vector<EpisodeSpec>& episodes,
                  const std::string& env_id, bool column_flags) {
  auto f = h5::create_file(path);
  int64_t row = 0;
  for (size_t i = 0; i < episodes.size(); ++i) {
    const int64_t t = episodes[i].length;
    const std::string g = "episode_" + std::to_string(i) + "/";
    auto obs = torch::cat({a.observations.narrow(0, row, t), a.next_observations.narrow(0, row + t - 1, 1)});
    auto shape = column_flags ? std::vector<int64_t>{t, 1} : std::vector<int64_t>{t};
    h5::write_tensor(f.get(), g + "observations", obs, 0, path);
    h5::write_tensor(f.get(), g + "actions", a.actions.narrow(0, row, t), 0, path);
    h5::write_tensor(f.get(), g + "rewards", a.rewards.narrow(0, row, t).to(torch::kDouble), 0, path);
    h5::write_tensor(f.get(), g + "terminations", a.terminals.narrow(0, row, t).reshape(shape), 0, path);
    h5::write_tensor(f.get(), g + "truncations", a.timeouts.narrow(0, row, t).reshape(shape), 0, path);
    row += t;
  }
  h5::write_int_attr(f.get(), "total_episodes", int64_t(episodes.size()), path);
  h5::write_int_attr(f.get(), "total_steps", row, path);
  if (!env_id.empty()) {
    h5::write_string_attr(f.get(), "env_spec", "{\"id\": \"" + env_id + "\", \"max_episode_steps\": 1000}", path);
    h5::write_string_attr(f.get(), "algorithm_name", "SAC", path);
  }
}

void DatasetFiles::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = std::filesystem::temp_directory_path() / ("seqrl_datasets_" + std::string(info->test_suite_name()) + "_" +
                                                   info->name() + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}

void DatasetFiles::TearDown() { std::filesystem::remove_all(dir_); }

CommandResult run_command(const std::string& cmd) {
  CommandResult r{-1, ""};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace seqrl::test
