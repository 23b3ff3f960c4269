// `seqrl bench env --env hopper --envs N`: env-steps/s of a VecEnv of N envs on 1, 2, 4 .. N
// threads, next to raw mj_step throughput on the same model with as many independent threads
// (no env layer, no synchronization: the most the hardware gives). One env step is frame_skip
// mj_steps, so "of raw" = env-steps/s over raw mj_step/s / frame_skip at the same thread
// count: what the env layer (observation, reward, health, tensors, pool) keeps. Random
// actions in [-1, 1]; envs that end are counted only while running, and all are reset once
// all have ended.
#include <mujoco/mujoco.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "core/error.h"
#include "envs/model.h"
#include "envs/vec_env.h"

namespace seqrl::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct EnvBenchArgs {
  std::string env = "hopper";
  int envs = 0;  // 0: hardware threads
  double seconds = 1.0;
};

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Raw mj_step/s: random controls held for frame_skip substeps, as an env step would, and a
// fresh mj_resetData every 1000 env steps as an episode would.
double raw_mj_steps_per_second(const std::string& env, double seconds) {
  const auto model = env_model(env);
  const mjModel* m = model.get();
  mjData* d = mj_makeData(m);
  const int frame_skip = env_spec(env).frame_skip;
  std::mt19937_64 rng(0);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  long long steps = 0;
  const auto start = Clock::now();
  while (since(start) < seconds) {
    if (steps % (1000LL * frame_skip) == 0) mj_resetData(m, d);
    for (int i = 0; i < m->nu; ++i) d->ctrl[i] = uniform(rng);
    for (int k = 0; k < frame_skip; ++k) mj_step(m, d);
    steps += frame_skip;
  }
  const double rate = steps / since(start);
  mj_deleteData(d);
  return rate;
}

double vec_env_steps_per_second(const std::string& env, int num_envs, int threads, double seconds) {
  VecEnv venv(env, num_envs, threads);
  std::vector<uint64_t> seeds(num_envs);
  uint64_t next_seed = 0;
  auto reset_all = [&] {
    for (auto& s : seeds) s = next_seed++;
    venv.reset(seeds);
  };
  reset_all();
  torch::manual_seed(0);
  const auto actions = torch::rand({64, num_envs, venv.spec().act_dim}, torch::kFloat64) * 2 - 1;
  long long env_steps = 0;
  const auto start = Clock::now();
  for (long long k = 0; since(start) < seconds; ++k) {
    const auto done = venv.done();
    long long running = 0;
    for (bool d : done) running += !d;
    if (running == 0) {
      reset_all();
      continue;
    }
    venv.step(actions[k % 64]);
    env_steps += running;
  }
  return env_steps / since(start);
}

// raw_mj_steps_per_second on `threads` threads at once, summed.
double raw_parallel(const std::string& env, int threads, double seconds) {
  std::vector<double> rates(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { rates[t] = raw_mj_steps_per_second(env, seconds); });
  for (auto& th : pool) th.join();
  double sum = 0;
  for (double r : rates) sum += r;
  return sum;
}

void run(const EnvBenchArgs& args) {
  const EnvSpec& spec = env_spec(args.env);
  const int n = args.envs > 0 ? args.envs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::printf("env %s, %d envs, frame_skip %d, %u hardware threads\n\n", spec.name.c_str(), n, spec.frame_skip,
              std::thread::hardware_concurrency());
  std::printf("%8s %14s %9s %22s %8s\n", "threads", "env-steps/s", "speedup", "raw mj_step/s (env eq)", "of raw");
  std::vector<int> thread_counts;
  for (int t = 1; t < n; t *= 2) thread_counts.push_back(t);
  thread_counts.push_back(n);
  double one = 0;
  for (int t : thread_counts) {
    const double rate = vec_env_steps_per_second(spec.name, n, t, args.seconds);
    const double raw = raw_parallel(spec.name, t, args.seconds);
    if (t == 1) one = rate;
    std::printf("%8d %14.0f %8.2fx %12.0f (%7.0f) %7.1f%%\n", t, rate, rate / one, raw, raw / spec.frame_skip,
                100.0 * rate / (raw / spec.frame_skip));
  }
}

void add_bench_env(CLI::App& parent) {
  auto args = std::make_shared<EnvBenchArgs>();
  auto* cmd =
      parent.add_subcommand("env", "Env-steps/s of VecEnv on 1..N threads versus raw mj_step on the same model");
  cmd->add_option("--env", args->env, "halfcheetah, hopper or walker2d");
  cmd->add_option("--envs", args->envs, "Number of envs N (0: hardware threads)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seconds", args->seconds, "Measuring time per row")->check(CLI::Range(0.01, 600.0));
  cmd->callback([args] {
    try {
      env_spec(args->env);
    } catch (const Error& e) {
      throw UsageError(std::string("--env ") + e.what());
    }
    run(*args);
  });
}

}  // namespace

SEQRL_COMMAND("bench", 30, add_bench_env);

}  // namespace seqrl::bench
