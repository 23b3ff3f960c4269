// Minari layout (main_data.hdf5): one group per episode, episode_<i>/{observations (T+1, obs),
// actions (T, act), rewards, terminations, truncations ((T,) or (T, 1))}; file attributes
// such as env_spec and dataset_id name the environment.
#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "datasets/checked_read.h"
#include "datasets/hdf5_io.h"
#include "datasets/readers.h"

namespace seqrl {
namespace {

// "episode_12" -> 12; -1 for any other name.
int64_t episode_index(const std::string& name) {
  const std::string prefix = "episode_";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return -1;
  auto digits = name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::strtoll(digits.c_str(), nullptr, 10);
}

}  // namespace

Dataset read_minari(hid_t file, const std::string& path, std::vector<EnvHint>& env_hints) {
  std::vector<std::pair<int64_t, std::string>> groups;
  for (const auto& name : h5::list_group(file, "."))
    if (episode_index(name) >= 0) {
      // Minari raises on an episode it cannot open; skipping it would silently drop data.
      if (!h5::is_group(file, name)) throw Error(path + ": " + name + ": cannot open episode group (file corrupt?)");
      groups.push_back({episode_index(name), name});
    }
  std::sort(groups.begin(), groups.end());
  if (groups.empty()) throw Error(path + ": empty dataset (no episode_N groups)");
  int64_t declared_episodes = -1;
  if (H5Aexists(file, "total_episodes") > 0) {
    h5::Handle attr(H5Aopen(file, "total_episodes", H5P_DEFAULT));
    h5::Handle space(attr.valid() ? H5Aget_space(attr.get()) : H5I_INVALID_HID);
    if (!space.valid() || H5Sget_simple_extent_npoints(space.get()) != 1 ||  // one value: H5Aread fills it all
        H5Aread(attr.get(), H5T_NATIVE_INT64, &declared_episodes) < 0)
      throw Error(path + ": total_episodes: unreadable attribute (file corrupt?)");
    if (declared_episodes != int64_t(groups.size()))
      throw Error(path + ": total_episodes says " + std::to_string(declared_episodes) + " but the file has " +
                  std::to_string(groups.size()) + " episode groups (file corrupt or truncated?)");
  }

  Dataset ds;
  ds.path = path;
  ds.layout = "minari";
  std::vector<torch::Tensor> obs, act, rew;
  int64_t row = 0;
  for (const auto& [index, name] : groups) {
    if (h5::is_group(file, name + "/observations"))
      throw Error(path + ": " + name +
                  "/observations: is a group (dict observation space); only flat Box "
                  "observations are supported");
    auto o = read_table(file, name + "/observations", path);
    auto a = read_table(file, name + "/actions", path);
    auto r = read_column(file, name + "/rewards", path);
    auto term = read_flags(file, name + "/terminations", path);
    auto trunc = read_flags(file, name + "/truncations", path);
    const int64_t steps = a.size(0);
    if (steps == 0) throw Error(path + ": " + name + ": empty episode (0 steps)");
    if (o.size(0) != steps + 1)
      throw Error(path + ": length mismatch: " + name + "/observations has " + std::to_string(o.size(0)) +
                  " rows but " + name + "/actions has " + std::to_string(steps) + " (expected actions + 1)");
    check_rows(r, steps, name + "/rewards", name + "/actions", path);
    check_rows(term, steps, name + "/terminations", name + "/actions", path);
    check_rows(trunc, steps, name + "/truncations", name + "/actions", path);
    if (!obs.empty() && (o.size(1) != obs[0].size(1) || a.size(1) != act[0].size(1)))
      throw Error(path + ": " + name + ": observation/action width differs from " + groups[0].second);
    obs.push_back(o.narrow(0, 0, steps));  // the final observation has no action
    act.push_back(a);
    rew.push_back(r);
    bool terminal = term[steps - 1].item<bool>(), timeout = trunc[steps - 1].item<bool>();
    ds.episodes.push_back({row, steps, terminal, timeout, 0.0});
    row += steps;
  }
  ds.observations = torch::cat(obs).contiguous();
  ds.actions = torch::cat(act).contiguous();
  ds.rewards = torch::cat(rew).contiguous();
  for (const char* key : {"env_spec", "dataset_id"})
    if (auto text = h5::string_attr(file, key); !text.empty()) env_hints.push_back({key, text});
  return ds;
}

}  // namespace seqrl
