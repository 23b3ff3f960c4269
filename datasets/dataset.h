// Offline datasets in memory: the D4RL flat HDF5 layout (v0/v1/v2) and Minari's per-episode
// layout, read whole into contiguous float32 tensors and validated. Layouts: Farama-Foundation/
// D4RL (d4rl/offline_env.py, scripts/generation/mujoco/*.py) and Farama-Foundation/Minari
// (docs/content/dataset_standards.md).
//
//   auto ds = seqrl::load_dataset("hopper-medium-v2.hdf5");   // env from the file name
//   auto st = seqrl::dataset_stats(ds);
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/d4rl.h"

namespace seqrl {

// One episode: rows [start, start + length) of the flat arrays. An unfinished trailing episode
// (the file ends mid-episode) has terminal == timeout == false.
struct Episode {
  int64_t start, length;
  bool terminal;  // ended by a real "done" (e.g. the hopper fell)
  bool timeout;   // ended by the time limit
  double ret;     // undiscounted sum of rewards
};

struct Dataset {
  std::string path, env;  // env: "hopper", "halfcheetah", "walker2d" ("" only if default-constructed)
  std::string layout;     // "d4rl" or "minari"
  int64_t obs_dim = 0, act_dim = 0;
  torch::Tensor observations, actions, rewards;  // float32 [N,obs], [N,act], [N]; contiguous
  std::vector<Episode> episodes;                 // in file order, covering all N rows
  int64_t size() const { return rewards.defined() ? rewards.size(0) : 0; }
};

// The three D4RL locomotion environments and their dims (the Gym v2 envs' observation and
// action sizes, openai/gym 0.18 gym/envs/mujoco). Kept here so datasets do not depend on envs/;
// their reference returns are core/d4rl.h.
struct D4rlEnvInfo {
  const char* name;
  int64_t obs_dim, act_dim;
};
const std::vector<D4rlEnvInfo>& d4rl_envs();
// The env whose name occurs in `text` (case-insensitive, e.g. "Hopper-v3",
// "walker2d_medium-v2.hdf5"), or nullptr when none or more than one does.
const D4rlEnvInfo* find_d4rl_env(const std::string& text);

// Reads and validates `path`: a D4RL .hdf5 file, a Minari main_data.hdf5, or a Minari dataset
// folder (holding data/main_data.hdf5). The env comes from `env` (any spelling find_d4rl_env
// accepts; `env_key` names where it was set, for messages), the file's metadata (Minari
// env_spec / dataset_id, D4RL metadata/env) and the file name where it names one env; sources
// that disagree are an error naming both. Throws seqrl::Error with one line naming the file and
// key on: missing or non-regular file, not HDF5, truncated, declared sizes the file cannot hold,
// missing key, wrong rank, length mismatch, NaN/Inf (key and first row), empty dataset, an
// episode group that cannot be opened, bad 0/1 flags, unknown env, dims not matching env.
// Minari data logs a warning that its scores are not comparable with D4RL's. A file on which
// the HDF5 library crashes or hangs is such an error too: a child process reads it first.
Dataset load_dataset(const std::string& path, const std::string& env = "", const std::string& env_key = "--env");

struct DatasetStats {
  int64_t transitions = 0, obs_dim = 0, act_dim = 0;
  int64_t episodes = 0;           // all, including an unfinished tail
  int64_t terminal_episodes = 0;  // ended by terminal
  int64_t timeout_episodes = 0;   // ended by time limit (and not terminal)
  int64_t unfinished_episodes = 0;
  int64_t tail_length = 0;  // rows of the unfinished last episode (0 if none)
  // Returns over finished episodes (all episodes if none is finished); return_episodes counts them.
  int64_t return_episodes = 0;
  double return_mean = 0, return_std = 0, return_min = 0, return_max = 0;
  int64_t length_min = 0, length_max = 0;
  bool has_normalized = false;                     // false for Minari data: not comparable with D4RL
  double normalized_mean = 0, normalized_std = 0;  // x100
};
DatasetStats dataset_stats(const Dataset& ds);

}  // namespace seqrl
