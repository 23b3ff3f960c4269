// `seqrl bench episode`: what episode-context training and recurrent acting cost, per backbone,
// at the decision-model level (hopper dims, obs 11 / act 3, 3 tokens per env step):
//   - one training step (forward + backward of the action loss) on a batch of whole episodes of
//     T env steps (3T tokens), with the peak memory of that pass — linear in T for a backbone
//     with a constant-size state;
//   - recurrent acting, act + observe_action at batch 1 through one 1000-step episode: the time
//     of env step 1 and of env step 999 (medians over episodes), O(1) in t when they agree.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench/backbone_names.h"
#include "bench/peak_memory.h"
#include "cli/command.h"
#include "core/error.h"
#include "models/decision_model.h"

namespace seqrl::bench {
namespace {

struct Options {
  std::vector<std::string> backbones{"all"};
  std::vector<int64_t> lengths{250, 500, 1000};  // env steps per training episode
  int64_t batch = 4, dim = 32, layers = 2;
  int repeat = 2;            // timed training passes per length
  int acting_episodes = 10;  // 1000-step episodes for the step-1 / step-999 times
  double budget_s = 30;      // skip longer lengths once one training pass took longer than this
  int threads = 0;           // LibTorch intra-op threads (0: library default)
};

constexpr int64_t kObs = 11, kAct = 3, kActingSteps = 1000;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

DecisionModel make(const std::string& name, const Options& o) {
  DecisionModelConfig c;
  c.state_dim = kObs;
  c.act_dim = kAct;
  c.backbone = name;
  c.backbone_config.dim = o.dim;
  c.backbone_config.layers = o.layers;
  c.backbone_config.dropout = 0.0;
  torch::manual_seed(0);
  return DecisionModel(c);
}

// Microseconds of env step 1 and env step 999 of recurrent acting, medians over episodes.
std::pair<double, double> acting_us(DecisionModel& model, int episodes) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<double> first, last;
  for (int e = 0; e < episodes; ++e) {
    auto state = model->begin(1);
    auto rtg = torch::full({1, 1}, 1.8);
    for (int64_t t = 0; t < kActingSteps; ++t) {
      auto s = torch::randn({1, kObs});
      auto timestep = torch::full({1}, t, torch::kLong);
      auto t0 = std::chrono::steady_clock::now();
      auto a = model->act(state, rtg, s, timestep);
      model->observe_action(state, a, timestep);
      const double us = 1e6 * seconds_since(t0);
      if (t == 1) first.push_back(us);
      if (t == kActingSteps - 1) last.push_back(us);
    }
  }
  return {median(first), median(last)};
}

void run(const Options& o) {
  if (o.threads > 0) torch::set_num_threads(o.threads);
  const auto names = backbone_names(o.backbones);
  const torch::Device cpu(torch::kCPU);
  std::printf(
      "cpu, decision model (obs %lld, act %lld), batch %lld episodes, dim %lld, layers %lld, float32, %d threads\n",
      (long long)kObs, (long long)kAct, (long long)o.batch, (long long)o.dim, (long long)o.layers,
      torch::get_num_threads());
  // peak MiB: the process's resident-set peak added by the first training pass.
  std::printf("%-12s %9s %7s %8s %12s %10s %12s %14s %14s\n", "backbone", "state", "T", "tokens", "train ms/step",
              "peak MiB", "us/env step", "act us t=1", "act us t=999");
  for (const auto& name : names) {
    auto model = make(name, o);
    const bool constant = model->backbone_state_is_constant();
    const auto [us_first, us_last] = acting_us(model, o.acting_episodes);
    model->train();
    bool skip_rest = false;
    for (auto T : o.lengths) {
      const char* state = constant ? "constant" : "growing";
      if (skip_rest) {
        std::printf("%-12s %9s %7lld %8lld %12s %10s %12s %14.1f %14.1f\n", name.c_str(), state, (long long)T,
                    (long long)(3 * T), "skipped", "-", "-", us_first, us_last);
        continue;
      }
      auto states = torch::randn({o.batch, T, kObs}), actions = torch::rand({o.batch, T, kAct}) * 2 - 1;
      auto rtg = torch::randn({o.batch, T, 1});
      auto timesteps = torch::arange(T, torch::kLong).unsqueeze(0).expand({o.batch, T}).contiguous();
      auto pass = [&] {
        model->zero_grad();
        (model->forward(states, actions, rtg, timesteps) - actions).square().mean().backward();
      };
      double first = 0;
      auto peak = peak_mib_during(cpu, [&] {
        auto t0 = std::chrono::steady_clock::now();
        pass();
        first = seconds_since(t0);
      });
      double ms = 1e3 * first;
      if (first * o.repeat < o.budget_s) {
        auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < o.repeat; ++r) pass();
        ms = 1e3 * seconds_since(t0) / o.repeat;
      }
      char peak_text[32] = "n/a";
      if (peak) std::snprintf(peak_text, sizeof peak_text, "%.1f", *peak);
      std::printf("%-12s %9s %7lld %8lld %12.1f %10s %12.2f %14.1f %14.1f\n", name.c_str(), state, (long long)T,
                  (long long)(3 * T), ms, peak_text, 1e3 * ms / double(o.batch * T), us_first, us_last);
      std::fflush(stdout);
      skip_rest = first > o.budget_s;
    }
  }
}

void add_bench_episode(CLI::App& group) {
  auto o = std::make_shared<Options>();
  auto* cmd = group.add_subcommand(
      "episode", "Episode-context training cost (ms, peak memory vs length) and recurrent acting time at t=1 vs t=999");
  cmd->add_option("--backbones", o->backbones, "Names or 'all'")->delimiter(',');
  cmd->add_option("--lengths", o->lengths, "Episode lengths in env steps")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o->batch, "Episodes per training batch")->check(CLI::PositiveNumber);
  cmd->add_option("--dim", o->dim, "Width")->check(CLI::PositiveNumber);
  cmd->add_option("--layers", o->layers, "Layers")->check(CLI::PositiveNumber);
  cmd->add_option("--repeat", o->repeat, "Timed training passes per length")->check(CLI::PositiveNumber);
  cmd->add_option("--acting-episodes", o->acting_episodes, "1000-step episodes timed for acting")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--budget", o->budget_s, "Skip longer lengths once a pass takes more seconds than this");
  cmd->add_option("--threads", o->threads, "LibTorch threads (0: default)")->check(CLI::NonNegativeNumber);
  cmd->callback([o] { run(*o); });
}

SEQRL_COMMAND("bench", 35, add_bench_episode);

}  // namespace
}  // namespace seqrl::bench
