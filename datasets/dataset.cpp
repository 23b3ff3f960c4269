#include "datasets/dataset.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "core/child_probe.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/stats.h"
#include "datasets/checked_read.h"
#include "datasets/hdf5_io.h"
#include "datasets/readers.h"
#include "datasets/suite.h"

namespace seqrl {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A dataset name (datasets/suite.h) names a file; a Minari dataset folder holds data/main_data.hdf5.
std::string resolve_file(const std::string& spec) {
  namespace fs = std::filesystem;
  if (spec.empty()) throw Error("dataset path is empty; expected a D4RL .hdf5 file or a Minari dataset folder");
  std::error_code ec;
  const std::string path = resolve_dataset_spec(spec);
  if (path != spec && !fs::exists(path, ec))
    throw Error(spec + ": " + path + " is not there (" +
                (spec.rfind("seqrl:", 0) == 0 ? "make it with `seqrl dataset make " + spec.substr(6) + "`"
                                              : std::string("put D4RL's file there, or set SEQRL_DATA_DIR")) +
                ")");
  if (!fs::is_directory(path, ec)) return path;
  for (const char* rel : {"data/main_data.hdf5", "main_data.hdf5"})
    if (fs::exists(fs::path(path) / rel, ec)) return (fs::path(path) / rel).string();
  throw Error(path + ": is a directory without data/main_data.hdf5 (expected a D4RL .hdf5 file or a Minari dataset)");
}

// Every env named in `text` (see find_d4rl_env); more than one means `text` is ambiguous.
std::vector<const D4rlEnvInfo*> envs_named(const std::string& text) {
  auto t = lower(text);
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());  // "half_cheetah"
  std::vector<const D4rlEnvInfo*> out;
  for (const auto& e : d4rl_envs())
    if (t.find(e.name) != std::string::npos) out.push_back(&e);
  return out;
}

// One source of the env's identity: where it was read and what it names.
struct EnvSource {
  std::string where;
  const D4rlEnvInfo* env;
};

// In order of authority: the explicit argument, the file's metadata, the file name (for a
// Minari file, always main_data.hdf5, the path given), each only where it names exactly one
// env. Any two sources that disagree are an error naming both.
const D4rlEnvInfo& choose_env(const Dataset& ds, const std::string& path_arg, const std::string& env_arg,
                              const std::string& env_key, const std::vector<EnvHint>& hints) {
  std::vector<EnvSource> sources;
  if (!env_arg.empty()) {
    auto named = envs_named(env_arg);
    if (named.size() != 1)
      throw Error(env_key + " = " + env_arg + ": unknown environment, expected one of " + d4rl_env_list());
    sources.push_back({env_key + " = " + env_arg, named[0]});
  }
  for (const auto& h : hints)
    if (auto named = envs_named(h.text); named.size() == 1)
      sources.push_back({h.key + " \"" + h.text + "\"", named[0]});
  const std::string name = ds.layout == "minari" ? path_arg : std::filesystem::path(ds.path).filename().string();
  if (auto named = envs_named(name); named.size() == 1) sources.push_back({"file name " + name, named[0]});
  if (sources.empty())
    throw Error(ds.path +
                ": cannot tell the environment from the file's metadata or name; set data.env or pass --env (" +
                d4rl_env_list() + ")");
  for (const auto& s : sources)
    if (s.env != sources[0].env)
      throw Error(ds.path + ": environment sources disagree: " + sources[0].where + " names " + sources[0].env->name +
                  " but " + s.where + " names " + s.env->name);
  return *sources[0].env;
}

}  // namespace

const std::vector<D4rlEnvInfo>& d4rl_envs() {
  static const std::vector<D4rlEnvInfo> envs = {{"halfcheetah", 17, 6}, {"hopper", 11, 3}, {"walker2d", 17, 6}};
  return envs;
}

const D4rlEnvInfo* find_d4rl_env(const std::string& text) {
  auto named = envs_named(text);
  return named.size() == 1 ? named[0] : nullptr;
}

namespace {

Dataset read_dataset(const std::string& path, const std::string& path_arg, const std::string& env_arg,
                     const std::string& env_key) {
  auto file = h5::open_file(path);
  std::vector<EnvHint> hints;
  Dataset ds;
  if (h5::exists(file.get(), "observations")) {
    ds = read_d4rl(file.get(), path, hints);
  } else {
    bool minari = false;
    for (const auto& name : h5::list_group(file.get(), ".")) minari = minari || name.rfind("episode_", 0) == 0;
    if (!minari && !H5Aexists(file.get(), "total_episodes"))
      throw Error(path + ": missing required dataset 'observations' (and no Minari episode_N groups)");
    ds = read_minari(file.get(), path, hints);
  }
  if (ds.size() == 0) throw Error(path + ": observations: empty dataset (0 rows)");
  check_finite(ds.observations, "observations", path);
  check_finite(ds.actions, "actions", path);
  check_finite(ds.rewards, "rewards", path);
  ds.obs_dim = ds.observations.size(1);
  ds.act_dim = ds.actions.size(1);

  const auto& env = choose_env(ds, path_arg, env_arg, env_key, hints);
  ds.env = env.name;
  if (ds.obs_dim != env.obs_dim || ds.act_dim != env.act_dim)
    throw Error(path + ": dims do not match env " + ds.env + ": observations have " + std::to_string(ds.obs_dim) +
                " columns and actions " + std::to_string(ds.act_dim) + ", " + ds.env + " expects " +
                std::to_string(env.obs_dim) + " and " + std::to_string(env.act_dim) + " (wrong --env?)");

  auto rewards = ds.rewards.to(torch::kDouble);
  const double* r = rewards.data_ptr<double>();
  for (auto& ep : ds.episodes) ep.ret = std::accumulate(r + ep.start, r + ep.start + ep.length, 0.0);
  if (ds.layout == "minari")
    spdlog::warn("{}: Minari data (Gymnasium v5 envs): returns are not comparable with D4RL reference scores", path);
  return ds;
}

}  // namespace

Dataset load_dataset(const std::string& path_arg, const std::string& env_arg, const std::string& env_key) {
  const std::string path = resolve_file(path_arg);
  // libhdf5 segfaults or loops forever on some corrupt files (fuzz/regressions): a child
  // process reads the file first, and this one only after that child came back. A legitimate
  // read runs at well over 20 MB/s; the limit leaves a minute beyond that.
  static ProbeWorker reader(
      [](const std::vector<std::string>& a) { read_dataset(a.at(0), a.at(1), a.at(2), a.at(3)); });
  // Memory: 2 GiB, and 64 bytes per stored byte for what compression expands (D4RL's gzip'd
  // columns expand 2-10x; a column of zeros 1000x, but that is small), within 3/4 of this machine.
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  const double limit = 60.0 + (ec ? 0.0 : double(bytes) / 20e6);
  const int64_t memory =
      std::min<int64_t>((int64_t(2) << 30) + (ec ? 0 : 64 * int64_t(bytes)), physical_memory_bytes() / 4 * 3);
  const auto probe = reader.run({path, path_arg, env_arg, env_key}, limit, memory);
  if (probe.outcome == ProbeOutcome::crashed)
    throw Error(path + ": the HDF5 library crashed reading this file (" + probe.detail + "); the file is corrupt");
  if (probe.outcome == ProbeOutcome::timed_out)
    throw Error(path + ": reading this file did not finish in " + std::to_string(int(limit)) +
                " s (the HDF5 library loops on some corrupt files); the file is corrupt");
  if (probe.outcome == ProbeOutcome::out_of_memory)
    throw Error(path + ": reading this file took more than " + gib_text(double(memory)) +
                " of memory (the HDF5 library allocates without bound on some corrupt files); the file is corrupt");
  return read_dataset(path, path_arg, env_arg, env_key);
}

DatasetStats dataset_stats(const Dataset& ds) {
  DatasetStats st;
  st.transitions = ds.size();
  st.obs_dim = ds.obs_dim;
  st.act_dim = ds.act_dim;
  st.episodes = int64_t(ds.episodes.size());
  std::vector<double> rets;
  for (const auto& ep : ds.episodes) {
    if (ep.terminal)
      ++st.terminal_episodes;
    else if (ep.timeout)
      ++st.timeout_episodes;
    else
      ++st.unfinished_episodes;
    if (ep.terminal || ep.timeout) rets.push_back(ep.ret);
  }
  if (!ds.episodes.empty() && !ds.episodes.back().terminal && !ds.episodes.back().timeout)
    st.tail_length = ds.episodes.back().length;
  if (rets.empty())
    for (const auto& ep : ds.episodes) rets.push_back(ep.ret);
  st.return_episodes = int64_t(rets.size());
  if (!rets.empty()) {
    std::tie(st.return_mean, st.return_std) = mean_std(rets);
    st.return_min = *std::min_element(rets.begin(), rets.end());
    st.return_max = *std::max_element(rets.begin(), rets.end());
  }
  for (const auto& ep : ds.episodes) {
    st.length_min = st.length_min == 0 ? ep.length : std::min(st.length_min, ep.length);
    st.length_max = std::max(st.length_max, ep.length);
  }
  st.has_normalized = ds.layout == "d4rl" && find_d4rl_env(ds.env) != nullptr;
  if (st.has_normalized) {
    st.normalized_mean = d4rl_normalized_score(ds.env, st.return_mean);
    st.normalized_std = d4rl_normalized_score(ds.env, st.return_mean + st.return_std) - st.normalized_mean;
  }
  return st;
}

}  // namespace seqrl
