// Evaluation of a decision model in MuJoCo: N parallel episodes in a VecEnv, conditioned on a
// target return that is decremented by each received reward (the DT protocol).
//
// Three acting modes, reported side by side:
//   window     re-encode the last K steps every step from a zero state (the papers' protocol);
//              the policy a window-trained model (train.context = window) was trained as;
//   recurrent  carry the backbone state from the episode's first step, O(1) per step (for the
//              transformer a KV cache of the last 3K tokens). The policy an episode-trained
//              model (train.context = episode) was trained as; for a window-trained recurrent
//              backbone it differs from window mode once t >= K (its state holds more than K steps);
//   runtime    recurrent acting through the LibTorch-free runtime (runtime/sqp.h), the model
//              exported in memory as `seqrl export` would write it; one policy per episode;
//   runtime-float16  the same with the weights exported as float16 (`seqrl export --dtype float16`).
//   runtime-int8     a float32 export acted with the backbone's matrices in int8 (SQP_LOAD_INT8).
#pragma once
#include <torch/torch.h>

#include <atomic>
#include <string>
#include <vector>

#include "core/stats.h"
#include "models/decision_model.h"

namespace seqrl {

// What the policy needs besides its weights: how the training data was scaled.
struct PolicyScaling {
  torch::Tensor state_mean, state_std;  // [obs] float32
  double reward_scale = 1000;
};

struct EvalSettings {
  std::string env;              // "hopper", ...
  double target = 3600;         // target return (unscaled)
  std::string mode = "window";  // "window", "recurrent", "runtime", "runtime-float16" or "runtime-int8"
  int episodes = 10;            // run in parallel, one env each
  uint64_t seed = 100000;       // episode i resets with seed + i (kept apart from training seeds)
  int threads = 0;              // VecEnv threads (0: all cores)
  // Set from a SIGINT handler: the evaluation stops at the next env step with seqrl::Interrupted.
  const std::atomic<bool>* stop = nullptr;
};

struct EvalResult {
  std::string env, mode;
  double target = 0;
  std::vector<double> returns, normalized, lengths;  // per episode
  double return_mean = 0, return_std = 0, normalized_mean = 0, normalized_std = 0;
  double seconds = 0;  // wall time of the episodes (acting and env steps)
  // Episode 0, step by step while it runs: the (scaled) return-to-go the policy was
  // conditioned on, the raw observation it saw, the action taken and the reward received —
  // for checking the protocol and for seeing how an episode ends (`seqrl eval --trace`).
  std::vector<double> trace_rtg, trace_reward;
  std::vector<std::vector<double>> trace_obs, trace_action;
};

// Runs `settings.episodes` episodes to termination or the time limit.
EvalResult evaluate_policy(DecisionModel& model, const PolicyScaling& scaling, const EvalSettings& settings);

// The DT paper's target returns per env (hopper 3600/1800, halfcheetah 6000/12000,
// walker2d 5000/2500).
std::vector<double> default_targets(const std::string& env);

}  // namespace seqrl
