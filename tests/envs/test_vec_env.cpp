// VecEnv against independent single Envs: same seeds and actions give the same numbers,
// ended envs are frozen (no auto-reset), the thread count does not change results.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "core/error.h"
#include "envs/env.h"
#include "envs/thread_pool.h"
#include "envs/vec_env.h"

namespace seqrl {
namespace {

// Steps a VecEnv and N plain Envs side by side; plain envs stop at their episode's end.
void expect_matches_single_envs(const std::string& name, int n, int threads, int steps) {
  VecEnv venv(name, n, threads);
  ASSERT_EQ(venv.size(), n);
  std::vector<Env> envs;
  std::vector<uint64_t> seeds;
  for (int i = 0; i < n; ++i) {
    envs.emplace_back(name);
    seeds.push_back(100 + i);
  }
  const auto obs0 = venv.reset(seeds);
  ASSERT_EQ(obs0.sizes(), (std::vector<int64_t>{n, venv.spec().obs_dim}));
  ASSERT_EQ(obs0.dtype(), torch::kFloat32);
  std::vector<std::vector<double>> last(n);
  std::vector<bool> ended(n, false), ended_terminated(n, false);
  for (int i = 0; i < n; ++i) {
    last[i] = envs[i].reset(seeds[i]);
    for (int j = 0; j < venv.spec().obs_dim; ++j) ASSERT_EQ(obs0[i][j].item<float>(), static_cast<float>(last[i][j]));
  }
  torch::manual_seed(0);
  int saw_ended = 0;
  for (int k = 0; k < steps; ++k) {
    const auto actions = torch::rand({n, venv.spec().act_dim}, torch::kFloat32) * 2.4 - 1.2;
    const VecStep out = venv.step(actions);
    ASSERT_EQ(out.reward.dtype(), torch::kFloat64);
    ASSERT_EQ(out.terminated.dtype(), torch::kBool);
    const auto a64 = actions.to(torch::kFloat64);
    for (int i = 0; i < n; ++i) {
      double reward = 0;
      if (!ended[i]) {
        const auto r = envs[i].step(
            std::vector<double>(a64[i].data_ptr<double>(), a64[i].data_ptr<double>() + venv.spec().act_dim));
        last[i] = r.obs;
        reward = r.reward;
        ended[i] = r.terminated || r.truncated;
        ended_terminated[i] = r.terminated;
      } else {
        ++saw_ended;
      }
      ASSERT_EQ(out.reward[i].item<double>(), reward) << "env " << i << " step " << k;
      ASSERT_EQ(out.terminated[i].item<bool>(), bool(ended_terminated[i])) << "env " << i << " step " << k;
      for (int j = 0; j < venv.spec().obs_dim; ++j)
        ASSERT_EQ(out.obs[i][j].item<float>(), static_cast<float>(last[i][j]));
    }
    ASSERT_EQ(venv.done(), ended);
  }
  if (name == "hopper") EXPECT_GT(saw_ended, 0) << "the test should cover frozen envs";
}

TEST(VecEnv, MatchesSingleEnvsAndFreezesEndedOnes) { expect_matches_single_envs("hopper", 5, 3, 80); }
TEST(VecEnv, MatchesSingleEnvsOnOneThread) { expect_matches_single_envs("walker2d", 3, 1, 40); }
TEST(VecEnv, MoreThreadsThanEnvs) { expect_matches_single_envs("halfcheetah", 2, 8, 20); }

TEST(VecEnv, ResetRestartsEndedEnvs) {
  VecEnv venv("hopper", 2, 2);
  venv.reset({1, 2});
  const auto push = torch::ones({2, 3}, torch::kFloat64);
  for (int k = 0; k < 300 && !(venv.done()[0] && venv.done()[1]); ++k) venv.step(push);
  ASSERT_EQ(venv.done(), (std::vector<bool>{true, true}));
  venv.reset({1, 2});
  EXPECT_EQ(venv.done(), (std::vector<bool>{false, false}));
  const auto out = venv.step(torch::zeros({2, 3}));
  EXPECT_GT(out.reward[0].item<double>(), 0.5);  // stepped again: healthy reward paid
}

TEST(VecEnv, RejectsBadShapesAndSeedCounts) {
  VecEnv venv("hopper", 2, 1);
  EXPECT_THROW(venv.reset({1}), Error);
  venv.reset({1, 2});
  EXPECT_THROW(venv.step(torch::zeros({2, 4})), Error);
  EXPECT_THROW(venv.step(torch::zeros({3, 3})), Error);
  EXPECT_THROW(venv.step(torch::zeros({6})), Error);
  EXPECT_THROW(venv.step(torch::zeros({2, 3}, torch::kInt64)), Error);
  EXPECT_THROW(VecEnv("hopper", 0), Error);
  EXPECT_THROW(VecEnv("cartpole", 2), Error);
  auto nan_actions = torch::zeros({2, 3});
  nan_actions[1][2] = NAN;
  EXPECT_THROW(venv.step(nan_actions), Error);  // a worker's exception reaches the caller
}

// Back-to-back runs (the workers are still spinning) and runs after a pause (they have gone
// to sleep) each call every part exactly once, and run() returns only after all have.
TEST(ThreadPool, EveryPartOncePerRunAwakeOrAsleep) {
  ThreadPool pool(3);
  ASSERT_EQ(pool.size(), 3);
  std::vector<std::atomic<int>> calls(3);
  for (int round = 0; round < 2000; ++round) {
    if (round % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pool.run([&](int part) { calls[part].fetch_add(1); });
    for (int part = 0; part < 3; ++part) ASSERT_EQ(calls[part].load(), round + 1) << "part " << part;
  }
}

TEST(ThreadPool, RethrowsAPartsExceptionAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run([](int part) {
    if (part == 1) throw std::runtime_error("part 1 failed");
  }),
               std::runtime_error);
  std::atomic<int> calls{0};
  pool.run([&](int) { calls.fetch_add(1); });
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace seqrl
