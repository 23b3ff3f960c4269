// D4RL-style dataset collection, the way D4RL made its locomotion files: roll out a policy
// (uniform random, or a SAC checkpoint sampling its stochastic actions), dump an online run's
// replay buffer, or concatenate two files. Output: the D4RL v2 flat layout (datasets/d4rl_writer.h).
//
// Rollouts run in chunks of whole episodes; after each chunk "<out>.partial/" gets the chunk's
// rows and a progress file (both atomic), so a killed run continues with `resume` and yields
// exactly the file an uninterrupted run with the same seed would. The final file is atomic too.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace seqrl {

struct CollectConfig {
  // random | medium | expert | policy (rollouts; the last three need `policy`) |
  // medium-replay (replay buffer of `policy`'s run, up to its step) | medium-expert (`inputs`)
  std::string kind = "policy";
  std::string env = "hopper";
  std::string policy;               // a SAC checkpoint: RUN/checkpoints/step_N(.pt)
  std::vector<std::string> inputs;  // medium-expert: the medium file, then the expert file
  std::string out;
  int64_t steps = 1'000'000;  // rollout transitions
  int64_t seed = 0;
  bool deterministic = false;    // D4RL recorded sampled actions
  int64_t chunk_steps = 50'000;  // rows per resumable chunk (rounded up to an episode end)
  bool resume = false;
  int stop_after_chunks = 0;  // >0: stop as if killed after this many new chunks (tests)
  int gzip_level = 4;
};

struct CollectSummary {
  int64_t rows = 0, episodes = 0;  // episodes: finished ones
  double return_mean = 0, return_std = 0;
  bool complete = false;  // false when stopped by stop_after_chunks
};

// Throws seqrl::UsageError for inconsistent options, seqrl::Error for bad inputs.
CollectSummary collect(const CollectConfig& cfg);

}  // namespace seqrl
