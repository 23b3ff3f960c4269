// N environments of one kind stepped in parallel on a persistent thread pool, with batched
// tensors in and out. No auto-reset: an env whose episode ended stays ended (its reward is 0,
// its flags stay set) until the next reset(), so evaluation controls every episode.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envs/env.h"
#include "envs/thread_pool.h"

namespace seqrl {

struct VecStep {
  torch::Tensor obs;         // [N, obs] float32
  torch::Tensor reward;      // [N] float64
  torch::Tensor terminated;  // [N] bool
  torch::Tensor truncated;   // [N] bool
};

class VecEnv {
 public:
  // threads 0: hardware threads; never more threads than envs.
  VecEnv(const std::string& env, int num_envs, int threads = 0);
  int size() const { return static_cast<int>(envs_.size()); }
  int threads() const { return pool_->size(); }
  const EnvSpec& spec() const { return envs_.front().spec(); }

  // One seed per env; returns the first observations [N, obs] float32.
  torch::Tensor reset(const std::vector<uint64_t>& seeds);
  // actions [N, act] (any float dtype, CPU); values are clipped to [-1, 1] as in Env::step.
  VecStep step(const torch::Tensor& actions);
  // terminated or truncated, per env.
  std::vector<bool> done() const;

 private:
  // Runs fn(i) once for every env index, on the pool's threads.
  void for_each_env(const std::function<void(int)>& fn);

  std::vector<Env> envs_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<char> terminated_, truncated_;  // char, not vector<bool>: written from threads
  std::vector<float> last_obs_;               // [N * obs]: repeated for envs that have ended
};

}  // namespace seqrl
