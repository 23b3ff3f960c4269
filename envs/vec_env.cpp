#include "envs/vec_env.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"

namespace seqrl {

VecEnv::VecEnv(const std::string& env, int num_envs, int threads) {
  if (num_envs < 1) throw Error("num_envs: expected at least 1, got " + std::to_string(num_envs));
  if (threads < 0) throw Error("threads: expected 0 (all cores) or more, got " + std::to_string(threads));
  envs_.reserve(num_envs);
  for (int i = 0; i < num_envs; ++i) envs_.emplace_back(env);
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = std::make_unique<ThreadPool>(std::min(threads, num_envs));
  terminated_.assign(num_envs, 0);
  truncated_.assign(num_envs, 0);
  last_obs_.assign(static_cast<size_t>(num_envs) * spec().obs_dim, 0.0f);
}

void VecEnv::for_each_env(const std::function<void(int)>& fn) {
  // Envs are handed out one at a time rather than in fixed blocks: ended envs cost nothing,
  // so with terminations (hopper, walker) fixed blocks would leave some threads idle.
  std::atomic<int> next{0};
  const int n = size();
  pool_->run([&](int) {
    for (int i = next.fetch_add(1, std::memory_order_relaxed); i < n; i = next.fetch_add(1, std::memory_order_relaxed))
      fn(i);
  });
}

torch::Tensor VecEnv::reset(const std::vector<uint64_t>& seeds) {
  if (static_cast<int>(seeds.size()) != size()) {
    throw Error("reset: expected " + std::to_string(size()) + " seeds (one per env), got " +
                std::to_string(seeds.size()));
  }
  const int obs_dim = spec().obs_dim;
  for_each_env([&](int i) {
    const auto o = envs_[i].reset(seeds[i]);
    std::copy(o.begin(), o.end(), last_obs_.begin() + static_cast<int64_t>(i) * obs_dim);
    terminated_[i] = truncated_[i] = 0;
  });
  auto obs = torch::empty({size(), obs_dim}, torch::kFloat32);
  std::copy(last_obs_.begin(), last_obs_.end(), obs.data_ptr<float>());
  return obs;
}

VecStep VecEnv::step(const torch::Tensor& actions) {
  const int n = size(), act_dim = spec().act_dim, obs_dim = spec().obs_dim;
  if (actions.dim() != 2 || actions.size(0) != n || actions.size(1) != act_dim) {
    throw Error("actions: expected shape [" + std::to_string(n) + ", " + std::to_string(act_dim) + "], got " +
                c10::str(actions.sizes()));
  }
  if (!actions.device().is_cpu() || !actions.is_floating_point()) {
    throw Error("actions: expected a floating-point CPU tensor, got " + c10::str(actions.dtype()) + " on " +
                actions.device().str());
  }
  const auto a = actions.to(torch::kFloat64).contiguous();
  const double* in = a.data_ptr<double>();
  for (int64_t k = 0; k < a.numel(); ++k) {  // checked up front so that no env steps on a bad batch
    if (!std::isfinite(in[k])) throw Error(fmt::format("actions: row {} has a non-finite value", k / act_dim));
  }
  VecStep out{torch::empty({n, obs_dim}, torch::kFloat32), torch::zeros({n}, torch::kFloat64),
              torch::empty({n}, torch::kBool), torch::empty({n}, torch::kBool)};
  double* reward = out.reward.data_ptr<double>();
  for_each_env([&](int i) {
    if (!terminated_[i] && !truncated_[i]) {  // an ended env is not stepped: reward 0, flags and obs kept
      const double* row = in + static_cast<int64_t>(i) * act_dim;
      const StepResult r = envs_[i].step(std::vector<double>(row, row + act_dim));
      std::copy(r.obs.begin(), r.obs.end(), last_obs_.begin() + static_cast<int64_t>(i) * obs_dim);
      reward[i] = r.reward;
      terminated_[i] = r.terminated;
      truncated_[i] = r.truncated;
    }
  });
  std::copy(last_obs_.begin(), last_obs_.end(), out.obs.data_ptr<float>());
  std::copy(terminated_.begin(), terminated_.end(), out.terminated.data_ptr<bool>());
  std::copy(truncated_.begin(), truncated_.end(), out.truncated.data_ptr<bool>());
  return out;
}

std::vector<bool> VecEnv::done() const {
  std::vector<bool> out(size());
  for (int i = 0; i < size(); ++i) out[i] = terminated_[i] || truncated_[i];
  return out;
}

}  // namespace seqrl
