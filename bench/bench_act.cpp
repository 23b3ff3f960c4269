// `seqrl bench act`: µs per env step of acting at batch 1 on one thread — the LibTorch-free
// runtime (runtime/sqp.h) against LibTorch's recurrent acting (DecisionModel::act +
// observe_action) and its window acting (forward over the last K steps, as DT evaluates).
// The runtime runs three times: float32 weights, float16 weights (`seqrl export --dtype float16`),
// and float32 weights loaded with SQP_LOAD_INT8 (the backbone's matrices in int8).
// The models are freshly initialized (timing does not depend on the weights), hopper-sized
// (obs 11, act 3); every mode sees the same random observations. Each figure is this thread's
// CPU time per step (what the step costs when it has the core, robust to a loaded machine),
// the fastest of --repeats runs, with that run's wall-clock figure beside it.
#include <torch/torch.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/command.h"
#include "core/error.h"
#include "eval/policy_export.h"
#include "models/backbone.h"
#include "runtime/sqp.h"

namespace seqrl::bench {
namespace {

struct Options {
  std::vector<std::string> backbones{"mingru", "minlstm", "lru", "gru"};
  int64_t dim = 128, layers = 3, context = 20;
  int steps = 2000, window_steps = 200, repeats = 3;
};

struct PerStep {
  double cpu_us = -1, wall_us = -1;
};

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Runs act_steps(warmup) untimed, then act_steps(n) `repeats` times, keeping the fastest: on a
// shared machine the slower runs measure the neighbours.
PerStep time_steps(const std::function<void(int)>& act_steps, int warmup, int n, int repeats) {
  act_steps(warmup);
  PerStep best;
  for (int r = 0; r < repeats; ++r) {
    const double cpu0 = thread_seconds();
    const auto wall0 = std::chrono::steady_clock::now();
    act_steps(n);
    const double cpu = 1e6 * (thread_seconds() - cpu0) / n,
                 wall = 1e6 * std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count() / n;
    if (best.cpu_us < 0 || cpu < best.cpu_us) best = {cpu, wall};
  }
  return best;
}

void run(const Options& o) {
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  const int obs_dim = 11, act_dim = 3;
  std::vector<std::string> names = o.backbones;
  if (names.size() == 1 && names[0] == "all") {
    names.clear();
    for (const auto& info : backbone_registry()) names.push_back(info.name);
  }
  std::printf(
      "batch 1, 1 thread, dim %lld, layers %lld, K %lld, obs %d, act %d, float32; "
      "us per env step, thread CPU time (wall), fastest of %d runs\n",
      (long long)o.dim, (long long)o.layers, (long long)o.context, obs_dim, act_dim, o.repeats);
  std::printf("%-12s %18s %18s %18s %18s %20s %12s %12s %12s\n", "backbone", "runtime", "runtime-f16", "runtime-int8",
              "libtorch-recurrent", "libtorch-window", "win/runtime", "win/f16", "win/int8");
  for (const auto& name : names) {
    try {
      backbone_info(name);
    } catch (const Error& e) {
      throw UsageError(e.what());
    }
    DecisionModelConfig c;
    c.state_dim = obs_dim;
    c.act_dim = act_dim;
    c.context = o.context;
    c.backbone = name;
    c.backbone_config.dim = o.dim;
    c.backbone_config.layers = o.layers;
    c.backbone_config.dropout = 0;
    torch::manual_seed(0);
    DecisionModel model(c);
    model->eval();
    PolicyScaling scaling{torch::zeros({obs_dim}), torch::ones({obs_dim}), 1000};
    auto obs = torch::randn({o.steps, obs_dim}, torch::kFloat64).contiguous();

    // Runtime: float32 and float16 weights, and int8 matrices.
    std::string runtime_error;
    auto time_runtime = [&](PolicyDtype dtype, unsigned flags) {
      const auto bytes = encode_policy(model, scaling, "hopper", 1800, dtype);
      char err[512];
      std::unique_ptr<sqp_policy, void (*)(sqp_policy*)> rt(
          sqp_load_memory_ex(bytes.data(), bytes.size(), "bench policy", flags, err, sizeof err), sqp_free);
      if (!rt) {
        runtime_error = err;
        return PerStep{};
      }
      double action[act_dim];
      return time_steps(
          [&](int n) {
            sqp_reset(rt.get(), 1800);
            for (int t = 0; t < n; ++t) {
              sqp_act(rt.get(), obs[t % o.steps].data_ptr<double>(), action);
              sqp_observe(rt.get(), action, 1.0);
            }
          },
          100, o.steps, o.repeats);
    };
    const PerStep runtime = time_runtime(PolicyDtype::float32, 0), runtime_half = time_runtime(PolicyDtype::float16, 0),
                  runtime_int8 = time_runtime(PolicyDtype::float32, SQP_LOAD_INT8);

    // LibTorch recurrent.
    auto obs32 = obs.to(torch::kFloat32);
    auto recurrent_steps = [&](int n) {
      auto state = model->begin(1);
      auto rtg = torch::full({1, 1}, 1.8f);
      for (int t = 0; t < n; ++t) {
        auto timestep = torch::full({1}, t, torch::kInt64);
        auto a = model->act(state, rtg, obs32[t % o.steps].unsqueeze(0), timestep);
        model->observe_action(state, a, timestep);
        rtg = rtg - 0.001f;
      }
    };
    auto recurrent = time_steps(recurrent_steps, 20, o.steps, o.repeats);

    // LibTorch window: a full window of the last K steps per env step (steady state).
    const auto K = o.context;
    auto states = obs32.narrow(0, 0, K).unsqueeze(0).clone(), actions = torch::zeros({1, K, act_dim});
    auto rtg = torch::full({1, K, 1}, 1.8f), steps = torch::arange(K, torch::kInt64).unsqueeze(0);
    auto window_steps = [&](int n) {
      for (int t = 0; t < n; ++t) {
        states = torch::roll(states, -1, 1);
        states.select(1, K - 1).copy_(obs32[t % o.steps]);
        auto a = model->forward(states, actions, rtg, steps).select(1, K - 1);
        actions = torch::roll(actions, -1, 1);
        actions.select(1, K - 1).copy_(a);
      }
    };
    auto window = time_steps(window_steps, 5, o.window_steps, o.repeats);

    auto cell = [](const PerStep& p) {
      char text[64];
      std::snprintf(text, sizeof text, "%.1f (%.1f)", p.cpu_us, p.wall_us);
      return std::string(text);
    };
    if (runtime.cpu_us > 0)
      std::printf("%-12s %18s %18s %18s %18s %20s %11.1fx %11.1fx %11.1fx\n", name.c_str(), cell(runtime).c_str(),
                  cell(runtime_half).c_str(), cell(runtime_int8).c_str(), cell(recurrent).c_str(), cell(window).c_str(),
                  window.cpu_us / runtime.cpu_us, window.cpu_us / runtime_half.cpu_us,
                  window.cpu_us / runtime_int8.cpu_us);
    else
      std::printf("%-12s %18s %18s %18s %18s %20s   (runtime: %s)\n", name.c_str(), "-", "-", "-",
                  cell(recurrent).c_str(), cell(window).c_str(), runtime_error.c_str());
    std::fflush(stdout);
  }
}

void add_bench_act(CLI::App& group) {
  auto o = std::make_shared<Options>();
  auto* cmd =
      group.add_subcommand("act", "Acting: us per env step at batch 1, runtime vs LibTorch recurrent and window");
  cmd->add_option("--backbones", o->backbones, "Names or 'all' (default: mingru,minlstm,lru,gru)")->delimiter(',');
  cmd->add_option("--dim", o->dim, "Width")->check(CLI::PositiveNumber);
  cmd->add_option("--layers", o->layers, "Layers")->check(CLI::PositiveNumber);
  cmd->add_option("--context", o->context, "K: steps in a window")->check(CLI::PositiveNumber);
  cmd->add_option("--steps", o->steps, "Timed env steps (runtime, recurrent)")->check(CLI::PositiveNumber);
  cmd->add_option("--window-steps", o->window_steps, "Timed env steps (window)")->check(CLI::PositiveNumber);
  cmd->add_option("--repeats", o->repeats, "Timed runs per figure; the fastest is reported")
      ->check(CLI::PositiveNumber);
  cmd->callback([o] { run(*o); });
}

SEQRL_COMMAND("bench", 40, add_bench_act);

}  // namespace
}  // namespace seqrl::bench
