#include "eval/evaluate.h"

#include <chrono>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "envs/env.h"
#include "envs/vec_env.h"
#include "eval/policy_export.h"
#include "runtime/sqp.h"

namespace seqrl {

std::vector<double> default_targets(const std::string& env) {
  const auto& name = env_spec(env).name;
  if (name == "hopper") return {3600, 1800};
  if (name == "halfcheetah") return {6000, 12000};
  return {5000, 2500};  // walker2d
}

namespace {

// The model's view of the episode so far, kept for window mode: [N, T, ...] with T growing.
struct History {
  std::vector<torch::Tensor> states, actions, rtg, timesteps;

  // The last K steps, left-padded to K (mask 0 on padding) as the model was trained on.
  std::vector<torch::Tensor> window(int64_t K) const {
    int64_t T = static_cast<int64_t>(states.size());
    int64_t from = std::max<int64_t>(0, T - K);
    auto take = [&](const std::vector<torch::Tensor>& v) {
      std::vector<torch::Tensor> slice(v.begin() + from, v.end());
      return torch::stack(slice, 1);
    };
    auto s = take(states), a = take(actions), r = take(rtg), t = take(timesteps);
    int64_t n = s.size(0), real = T - from, pad = K - real;
    auto mask = torch::ones({n, real}, s.options());
    if (pad > 0) {
      auto left = [&](const torch::Tensor& x) {
        auto shape = x.sizes().vec();
        shape[1] = pad;
        return torch::cat({torch::zeros(shape, x.options()), x}, 1);
      };
      s = left(s), a = left(a), r = left(r), t = left(t), mask = left(mask);
    }
    return {s, a, r, t, mask};
  }
};

}  // namespace

EvalResult evaluate_policy(DecisionModel& model, const PolicyScaling& scaling, const EvalSettings& settings) {
  const bool through_runtime =
      settings.mode == "runtime" || settings.mode == "runtime-float16" || settings.mode == "runtime-int8";
  if (settings.mode != "window" && settings.mode != "recurrent" && !through_runtime)
    throw UsageError("eval mode '" + settings.mode +
                     "': expected window, recurrent, runtime, runtime-float16 or runtime-int8");
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  auto param = model->parameters().front();
  auto opts = torch::TensorOptions().dtype(param.scalar_type()).device(param.device());
  const auto& cfg = model->config();
  const int n = settings.episodes;

  VecEnv envs(settings.env, n, settings.threads);
  if (envs.spec().obs_dim != cfg.state_dim || envs.spec().act_dim != cfg.act_dim)
    throw Error("env " + settings.env + " has obs/act dims " + std::to_string(envs.spec().obs_dim) + "/" +
                std::to_string(envs.spec().act_dim) + " but the model was trained on " + std::to_string(cfg.state_dim) +
                "/" + std::to_string(cfg.act_dim));
  std::vector<uint64_t> seeds(n);
  for (int i = 0; i < n; ++i) seeds[i] = settings.seed + static_cast<uint64_t>(i);

  auto mean = scaling.state_mean.to(opts), std = scaling.state_std.to(opts);
  auto normalize = [&](const torch::Tensor& obs) { return (obs.to(opts) - mean) / std; };

  auto obs = envs.reset(seeds);
  auto rtg = torch::full({n, 1}, settings.target / scaling.reward_scale, opts);
  std::vector<double> returns(n, 0.0), lengths(n, 0.0);
  History history;
  struct {
    std::vector<double> rtg, reward;
    std::vector<std::vector<double>> obs, action;
  } trace;
  auto state = model->begin(n);
  const int64_t max_steps = envs.spec().max_episode_steps;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<sqp_policy, void (*)(sqp_policy*)>> runtime;
  if (through_runtime) {
    const auto dtype = settings.mode == "runtime-float16" ? PolicyDtype::float16 : PolicyDtype::float32;
    const unsigned flags = settings.mode == "runtime-int8" ? SQP_LOAD_INT8 : 0;
    const auto bytes = encode_policy(model, scaling, settings.env, settings.target, dtype);
    for (int i = 0; i < n; ++i) {
      char err[512];
      runtime.emplace_back(sqp_load_memory_ex(bytes.data(), bytes.size(), "exported policy", flags, err, sizeof err),
                           sqp_free);
      if (!runtime.back()) throw Error(err);
      sqp_reset(runtime.back().get(), settings.target);
    }
  }
  auto runtime_call = [](sqp_policy* p, int status) {
    if (status != SQP_OK) throw Error(std::string("runtime: ") + sqp_error(p));
  };

  for (int64_t t = 0; t < max_steps; ++t) {
    if (settings.stop && settings.stop->load()) throw Interrupted("evaluation stopped at step " + std::to_string(t));
    auto s = normalize(obs);
    auto timestep = torch::full({n}, std::min<int64_t>(t, cfg.max_ep_len - 1), opts.dtype(torch::kInt64));
    torch::Tensor action;
    if (settings.mode == "recurrent") {
      action = model->act(state, rtg, s, timestep);
    } else if (through_runtime) {
      auto raw = obs.to(torch::kCPU, torch::kFloat64).contiguous();
      action = torch::zeros({n, cfg.act_dim}, torch::kFloat64);
      auto done = envs.done();
      for (int i = 0; i < n; ++i)
        if (!done[i])
          runtime_call(runtime[i].get(),
                       sqp_act(runtime[i].get(), raw[i].data_ptr<double>(), action[i].data_ptr<double>()));
    } else {
      history.states.push_back(s);
      history.rtg.push_back(rtg);
      history.timesteps.push_back(timestep);
      // The action slot of the current step is unknown yet: zero, as in DT's evaluation.
      history.actions.push_back(torch::zeros({n, cfg.act_dim}, opts));
      auto w = history.window(cfg.context);
      action = model->forward(w[0], w[1], w[2], w[3], w[4]).select(1, cfg.context - 1);
      history.actions.back() = action;
    }
    auto before = envs.done();
    if (!before[0]) {
      auto row0 = [](const torch::Tensor& x) {
        auto r = x[0].to(torch::kCPU, torch::kFloat64).contiguous();
        return std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
      };
      trace.rtg.push_back(rtg[0][0].item<double>());
      trace.obs.push_back(row0(obs));
      trace.action.push_back(row0(action));
    }
    auto out = envs.step(action.to(torch::kCPU, torch::kFloat64));
    if (settings.mode == "recurrent") model->observe_action(state, action, timestep);
    auto reward = out.reward;
    auto reward_acc = reward.accessor<double, 1>();
    for (int i = 0; i < n; ++i) {
      if (before[i]) continue;
      if (!runtime.empty())
        runtime_call(runtime[i].get(), sqp_observe(runtime[i].get(), action[i].data_ptr<double>(), reward_acc[i]));
      returns[i] += reward_acc[i];
      if (i == 0) trace.reward.push_back(reward_acc[i]);
      lengths[i] += 1;
    }
    rtg = rtg - reward.to(opts).unsqueeze(1) / scaling.reward_scale;
    obs = out.obs;
    auto done = envs.done();
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (was_training) model->train();

  EvalResult result;
  result.env = env_spec(settings.env).name;
  result.mode = settings.mode;
  result.target = settings.target;
  result.returns = returns;
  result.lengths = lengths;
  result.seconds = seconds;
  for (double r : returns) result.normalized.push_back(d4rl_normalized_score(settings.env, r));
  result.trace_rtg = std::move(trace.rtg);
  result.trace_reward = std::move(trace.reward);
  result.trace_obs = std::move(trace.obs);
  result.trace_action = std::move(trace.action);
  std::tie(result.return_mean, result.return_std) = mean_std(result.returns);
  std::tie(result.normalized_mean, result.normalized_std) = mean_std(result.normalized);
  return result;
}

}  // namespace seqrl
