// Test fixtures for tests/datasets: a temp folder per test, and generators for synthetic D4RL
// and Minari files (layouts: Farama-Foundation/D4RL d4rl/offline_env.py, Farama-Foundation/Minari
// docs/content/dataset_standards.md).
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "datasets/d4rl_writer.h"

namespace seqrl::test {

// How an episode of a synthetic dataset ends.
enum class End { Terminal, Timeout, Unfinished };
struct EpisodeSpec {
  int64_t length;
  End end;
};

// Random float32 arrays with the given episode structure (terminals/timeouts as bool),
// next_observations and infos filled too. Deterministic in `seed`.
D4rlArrays make_arrays(int64_t obs_dim, int64_t act_dim, const std::vector<EpisodeSpec>& episodes, uint64_t seed);

// Writes a Minari main_data.hdf5 at `path` with one episode_i group per episode of `a`
// (observations get the T+1 row), flags as (T, 1) if `column_flags`, and file attributes
// env_spec / dataset_id naming `env_id` (empty: none).
void write_minari(const std::string& path, const D4rlArrays& a, const std::vector<EpisodeSpec>& episodes,
                  const std::string& env_id, bool column_flags);

class DatasetFiles : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

// Runs a shell command, returning its exit code and its stdout+stderr.
struct CommandResult {
  int code;
  std::string output;
};
CommandResult run_command(const std::string& cmd);

}  // namespace seqrl::test
