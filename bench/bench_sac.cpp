// `seqrl bench sac --env hopper [--batch 256] [--updates N] [--learn STEPS]`: SAC throughput
// on the current device — env steps/s with random and with policy actions, gradient updates/s
// (critics + actor + alpha + target, 256x256 MLPs) — and, with --learn, a learning check:
// a short SAC run whose deterministic evaluation must clearly beat the uniform random policy
// (exit 1 otherwise).
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "agents/sac.h"
#include "cli/command.h"
#include "core/config.h"
#include "core/device.h"
#include "core/error.h"
#include "envs/env.h"

namespace seqrl::bench {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct SacBenchArgs {
  std::string env = "hopper", device = "auto";
  int batch = 256;
  int updates = 500;
  int64_t learn_steps = 0;
  int64_t seed = 0;
};

// Fills `buffer` with `steps` uniform-random transitions; returns env steps/s.
double fill_random(Env& env, ReplayBuffer& buffer, int64_t steps, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const auto& spec = env.spec();
  auto obs = env.reset(0);
  auto t0 = Clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    Transition t{obs, std::vector<double>(spec.act_dim), {}, env.qpos(), env.qvel()};
    for (auto& a : t.action) a = u(rng);
    auto r = env.step(t.action);
    t.next_obs = r.obs, t.reward = r.reward, t.terminal = r.terminated && !r.truncated, t.timeout = r.truncated;
    buffer.add(t);
    obs = (r.terminated || r.truncated) ? env.reset(i + 1) : r.obs;
  }
  return steps / since(t0);
}

double random_policy_return(const std::string& env_name, int episodes, uint64_t seed) {
  Env env(env_name);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  double total = 0;
  for (int e = 0; e < episodes; ++e) {
    env.reset(seed + e);
    for (;;) {
      std::vector<double> a(env.spec().act_dim);
      for (auto& x : a) x = u(rng);
      auto r = env.step(a);
      total += r.reward;
      if (r.terminated || r.truncated) break;
    }
  }
  return total / episodes;
}

void run(const SacBenchArgs& args) {
  const auto& spec = env_spec(args.env);
  auto device = resolve_device(args.device, "--device");
  torch::manual_seed(static_cast<uint64_t>(args.seed));
  std::mt19937_64 rng(static_cast<uint64_t>(args.seed));
  Env env(spec.name);
  ReplayBuffer buffer(20'000, spec.obs_dim, spec.act_dim, spec.nq, spec.nv);
  double random_sps = fill_random(env, buffer, 20'000, rng);

  SacConfig cfg;
  Sac agent(spec.obs_dim, spec.act_dim, cfg, device);
  auto obs = env.reset(1);
  auto t0 = Clock::now();
  const int act_steps = 2000;
  for (int i = 0; i < act_steps; ++i) {
    auto r = env.step(agent.act(obs, false));
    obs = (r.terminated || r.truncated) ? env.reset(i + 2) : r.obs;
  }
  double policy_sps = act_steps / since(t0);

  for (int i = 0; i < 10; ++i) agent.update(buffer.sample(args.batch, rng, device));  // warm-up
  if (device.is_cuda()) torch::cuda::synchronize();
  t0 = Clock::now();
  for (int i = 0; i < args.updates; ++i) agent.update(buffer.sample(args.batch, rng, device));
  if (device.is_cuda()) torch::cuda::synchronize();
  double ups = args.updates / since(t0);

  std::printf("seqrl bench sac: env %s, device %s, torch threads %d\n", spec.name.c_str(),
              device.is_cuda() ? "cuda" : "cpu", torch::get_num_threads());
  std::printf("%-44s %12s\n", "measure", "rate/s");
  std::printf("%-44s %12.0f\n", "env steps, random actions", random_sps);
  std::printf("%-44s %12.0f\n", "env steps, SAC policy actions", policy_sps);
  std::printf("%-44s %12.1f\n", ("SAC updates, batch " + std::to_string(args.batch)).c_str(), ups);
  std::printf("%-44s %12.1f\n", "training env steps (1 update/step, estimate)", 1.0 / (1.0 / ups + 1.0 / policy_sps));

  if (args.learn_steps == 0) return;
  Config c;
  c.declare<SacRunConfig>();
  auto root = (std::filesystem::temp_directory_path() / "seqrl-bench-sac").string();
  const int64_t steps = args.learn_steps;
  c.apply_overrides({"run.env=" + spec.name, "run.steps=" + std::to_string(steps),
                     "run.start_steps=" + std::to_string(std::min<int64_t>(5000, steps / 5)),
                     "run.eval_every=" + std::to_string(steps), "run.eval_episodes=10",
                     "run.checkpoint_every=" + std::to_string(steps), "run.save_replay=false",
                     "run.log_every=" + std::to_string(std::max<int64_t>(1, steps / 20)), "run.out_dir=" + root,
                     "run.name=learn-check", "run.seed=" + std::to_string(args.seed), "run.device=" + args.device});
  c.resolve();
  auto t1 = Clock::now();
  auto result = run_sac(c.get<SacRunConfig>(), "");
  double random_ret = random_policy_return(spec.name, 10, 12345);
  const auto* reference = find_d4rl_reference(spec.name);
  bool learns = result.final_eval_return > random_ret + 0.1 * (reference->expert - reference->random);
  std::printf("\nlearning check: %lld env steps in %.0f s (run folder %s)\n", (long long)steps, since(t1),
              result.dir.c_str());
  std::printf("%-44s %12.1f (normalized %.1f)\n", "uniform random policy return, 10 episodes", random_ret,
              d4rl_normalized_score(spec.name, random_ret));
  std::printf("%-44s %12.1f (normalized %.1f)\n", "SAC deterministic return, 10 episodes", result.final_eval_return,
              d4rl_normalized_score(spec.name, result.final_eval_return));
  std::printf("%s: SAC %s the random policy by >= 10 normalized points\n", learns ? "PASS" : "FAIL",
              learns ? "beats" : "does not beat");
  if (!learns) throw Error("bench sac --learn: SAC did not improve over the random policy");
}

void add_bench_sac(CLI::App& parent) {
  auto args = std::make_shared<SacBenchArgs>();
  auto* cmd = parent.add_subcommand("sac", "SAC update rate and env-steps/s; --learn: short run must beat random");
  cmd->add_option("--env", args->env, "hopper, halfcheetah, walker2d")->capture_default_str();
  cmd->add_option("--batch", args->batch, "batch size of the timed updates")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--updates", args->updates, "timed gradient updates")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--device", args->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--learn", args->learn_steps, "also train this many env steps and compare with the random policy")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", args->seed, "seed")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->callback([args] { run(*args); });
}

}  // namespace

SEQRL_COMMAND("bench", 30, add_bench_sac);

}  // namespace seqrl::bench
