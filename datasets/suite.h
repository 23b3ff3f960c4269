// The seqrl locomotion suite: D4RL-recipe datasets that seqrl makes itself with its own SAC and
// collector (Fu et al. 2020, "D4RL", section on the MuJoCo locomotion tasks): for each of
// hopper, halfcheetah and walker2d a random, medium, medium-replay, expert and medium-expert
// file in the D4RL v2 layout.
//
// The repo ships only what is small: datasets/suite/suite.json (one record per file: how it is
// made and the statistics it must come out with) and the SAC actors in datasets/suite/policies/.
// `seqrl dataset make <env>-<kind>` regenerates a file from its record (agents/suite_maker.h).
//
// Dataset names: "seqrl:hopper-medium" is the suite's file, "d4rl:hopper-medium" D4RL's
// (data/d4rl/hopper_medium-v2.hdf5, as D4RL names it), both under $SEQRL_DATA_DIR (default ./data); any other
// string is a path, taken verbatim.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seqrl {

struct SuiteStats {
  int64_t transitions = 0, episodes = 0;  // episodes: finished ones
  double return_mean = 0, return_std = 0;
  double normalized_mean = 0, normalized_std = 0;  // D4RL normalized x100
};

struct SuiteEntry {
  std::string name;  // "<env>-<kind>"
  std::string env;   // hopper | halfcheetah | walker2d
  std::string kind;  // random | medium | medium-replay | expert | medium-expert
  // The SAC run the policy comes from (configs/sac/<env>.yaml and its seed): medium-replay
  // re-runs it up to policy_step.
  std::string sac_config;
  int64_t sac_seed = 0;
  // medium, expert, medium-replay: the actor (relative to the suite folder) and its SAC step.
  std::string policy;
  int64_t policy_step = 0;
  // The policy's deterministic evaluation when it was adopted (episodes, mean, std).
  int policy_eval_episodes = 0;
  double policy_eval_return = 0, policy_eval_return_std = 0;
  // random, medium, expert: rollout length and seed.
  int64_t steps = 0, seed = 0;
  std::optional<SuiteStats> recorded;  // the file as made; absent until first made
  double make_seconds = 0;             // wall time of that make, on the machine named below
  std::string made_on;
  std::string blas;  // OpenBLAS kernels that make (or reproduce) the record (blas_kernels())
};

struct Suite {
  std::string dir;  // the folder holding suite.json and policies/
  std::vector<SuiteEntry> entries;
  // Throws seqrl::UsageError listing the known names.
  const SuiteEntry& find(const std::string& name) const;
  SuiteEntry& find(const std::string& name);
};

// $SEQRL_SUITE_DIR, or this source tree's datasets/suite.
std::string suite_dir();
// Reads dir/suite.json; throws seqrl::Error naming the file and key.
Suite load_suite(const std::string& dir = suite_dir());
// Changes dir/suite.json under an exclusive lock (dir/suite.json.lock): reads the file afresh,
// applies `change`, writes it atomically, and makes `suite` the result. Two processes recording
// or adopting at once (`dataset make --record` of two files) then keep each other's entries,
// where saving a copy loaded earlier would drop them.
void update_suite(Suite& suite, const std::function<void(Suite&)>& change);

// D4RL's published statistics of its file of the same name, if the fact sheet has them
// (transitions, finished episodes, mean and std return; normalized from those).
std::optional<SuiteStats> d4rl_published_stats(const std::string& name);

// The statistics as suite.json and `dataset list --json` write them (a NaN std, D4RL's
// unpublished medium-expert one, as null).
nlohmann::ordered_json suite_stats_json(const SuiteStats& s);

// $SEQRL_DATA_DIR or "data".
std::string data_dir();
// Where `seqrl dataset make` writes a suite file: <data_dir>/seqrl/<name>.hdf5.
std::string suite_file(const std::string& name);
// "seqrl:<name>" -> suite_file(name); "d4rl:hopper-medium-replay" ->
// <data_dir>/d4rl/hopper_medium_replay-v2.hdf5 (D4RL's file name);
// anything else is returned unchanged. Throws seqrl::Error for a malformed name.
std::string resolve_dataset_spec(const std::string& spec);

}  // namespace seqrl
