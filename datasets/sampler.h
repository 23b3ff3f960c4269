// The Decision-Transformer training sampler ("RTG sampler"): windows of K consecutive steps of
// one episode, with normalized states, actions, return-to-go, timesteps and a padding mask.
//
// Protocol (Chen et al. 2021, gym/experiment.py): an episode is picked with probability
// proportional to its length and a start step uniformly within it — which is the same as a
// start row drawn uniformly over all N rows, and is how it is done here. The window takes up
// to K steps from the start; near the episode end it is shorter and LEFT-padded: padded steps
// have state 0, action 0 (DT used -10; any value works, they are masked), rtg 0, timestep 0,
// mask 0.
//   rtg[t]      = (sum of rewards from t to the episode end, undiscounted) / reward_scale
//   timestep[t] = index of t within its episode, clamped to max_ep_len - 1
//   state       = (s - mean) / std, mean/std over all dataset observations (std floored at 1e-6)
//
// Episode batches (sample_episodes, train.context = episode) instead hold whole episodes from
// their first step (timestep 0), as recurrent evaluation sees them: episodes are drawn uniformly
// (so every dataset step is equally likely to be in a batch), each truncated to max_ep_len
// steps, and rows shorter than the batch's longest are LEFT-padded exactly like windows.
// Batches are gathered with index tensors from arrays precomputed once (normalized states,
// per-row rtg and timestep, plus one zero row used for padding). Deterministic given the seed;
// rng_state()/set_rng_state() allow bit-exact resume.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace seqrl {

struct SamplerConfig {
  int context = 20;            // K
  double reward_scale = 1000;  // divides returns-to-go
  int max_ep_len = 1000;       // timesteps are clamped to max_ep_len - 1
};

struct SequenceBatch {
  torch::Tensor states;     // [B, K, obs] float32, normalized
  torch::Tensor actions;    // [B, K, act] float32
  torch::Tensor rtg;        // [B, K, 1]   float32, scaled
  torch::Tensor timesteps;  // [B, K]      int64
  torch::Tensor mask;       // [B, K]      float32: 1 real step, 0 padding
};

class SequenceSampler {
 public:
  // Throws seqrl::Error on an empty dataset or a config value out of range.
  SequenceSampler(const Dataset& ds, SamplerConfig cfg, uint64_t seed);
  SequenceBatch sample(int64_t batch_size);
  // [B, L, ...] with L the longest drawn episode (<= max_ep_len); one whole episode per row.
  SequenceBatch sample_episodes(int64_t batch_size);

  torch::Tensor state_mean() const { return mean_; }  // [obs] float32
  torch::Tensor state_std() const { return std_; }    // [obs] float32, >= 1e-6
  const SamplerConfig& config() const { return cfg_; }

  std::string rng_state() const;
  void set_rng_state(const std::string& state);  // throws seqrl::Error if malformed

 private:
  uint64_t uniform_below(uint64_t n);  // unbiased draw in [0, n), portable across stdlibs
  // Rows first[b] .. first[b] + len[b] - 1, left-padded to the longest: the batch for both samplers.
  SequenceBatch gather(const torch::Tensor& first, const torch::Tensor& len, int64_t width) const;

  SamplerConfig cfg_;
  int64_t rows_ = 0;                                     // N; row N of the tables below is the padding row
  torch::Tensor states_;                                 // [N+1, obs] normalized
  torch::Tensor actions_;                                // [N+1, act]
  torch::Tensor rtg_;                                    // [N+1] scaled return-to-go
  torch::Tensor timesteps_;                              // [N+1] int64, clamped
  torch::Tensor episode_end_;                            // [N] int64: one past the last row of the row's episode
  std::vector<int64_t> episode_start_, episode_length_;  // per episode (sample_episodes)
  torch::Tensor mean_, std_;
  std::mt19937_64 rng_;
};

}  // namespace seqrl
