// Gym v3 semantics of Env: names, specs, reset noise and seeding, reward, termination,
// truncation, action clipping, errors. Constants: openai/gym 0.18.0, gym/envs/mujoco/*_v3.py.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "envs/env.h"

namespace seqrl {
namespace {

// The models' rest pose (facts): all zero, except rootz of hopper/walker (ref 1.25).
std::vector<double> qpos0(const std::string& name) {
  std::vector<double> q(env_spec(name).nq, 0.0);
  if (name != "halfcheetah") q[1] = 1.25;  // qpos[1] is the absolute torso height
  return q;
}

TEST(EnvSpecs, NamesAndConstantsFromTheFactSheet) {
  EXPECT_EQ(env_names(), (std::vector<std::string>{"halfcheetah", "hopper", "walker2d"}));
  for (const char* alias : {"hopper", "Hopper-v3", "hopper-medium-v2", "hopper-medium-replay-v2"}) {
    EXPECT_EQ(env_spec(alias).name, "hopper") << alias;
  }
  EXPECT_EQ(env_spec("HalfCheetah-v3").name, "halfcheetah");
  EXPECT_EQ(env_spec("half_cheetah").name, "halfcheetah");
  EXPECT_EQ(env_spec("walker2d-medium-expert-v2").name, "walker2d");
  struct Row {
    const char* name;
    int obs, act, nq, nv, frame_skip;
  };
  for (const Row& r :
       {Row{"halfcheetah", 17, 6, 9, 9, 5}, Row{"hopper", 11, 3, 6, 6, 4}, Row{"walker2d", 17, 6, 9, 9, 4}}) {
    const EnvSpec& s = env_spec(r.name);
    EXPECT_EQ(s.obs_dim, r.obs) << r.name;
    EXPECT_EQ(s.act_dim, r.act) << r.name;
    EXPECT_EQ(s.nq, r.nq) << r.name;
    EXPECT_EQ(s.nv, r.nv) << r.name;
    EXPECT_EQ(s.frame_skip, r.frame_skip) << r.name;
    EXPECT_EQ(s.max_episode_steps, 1000) << r.name;
  }
}

TEST(EnvSpecs, UnknownNameListsTheValidOnes) {
  try {
    env_spec("ant");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'ant'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("halfcheetah, hopper, walker2d"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Env("hopperx"), Error);
}

class EachEnv : public ::testing::TestWithParam<std::string> {};

TEST_P(EachEnv, SeededResetIsReproducibleAndSeedsDiffer) {
  Env a(GetParam()), b(GetParam());
  const auto first = a.reset(7);
  EXPECT_EQ(first, b.reset(7));
  EXPECT_EQ(a.qvel(), b.qvel());
  const std::vector<double> action(a.spec().act_dim, 0.3);
  const auto ra = a.step(action), rb = b.step(action);  // stepping is deterministic too
  EXPECT_EQ(ra.obs, rb.obs);
  EXPECT_EQ(ra.reward, rb.reward);
  for (int k = 0; k < 20; ++k) a.step(action);
  EXPECT_EQ(a.reset(7), first);  // a used env resets to exactly the same state
  EXPECT_EQ(a.elapsed_steps(), 0);
  EXPECT_NE(b.reset(8), first);
}

// Reset noise (facts): hopper/walker qpos, qvel += U(-5e-3, 5e-3); halfcheetah qpos +=
// U(-0.1, 0.1), qvel = 0.1 N(0, 1). Checked in distribution over many seeds (mean, std and
// bounds), since our generator is not numpy's.
TEST_P(EachEnv, ResetNoiseHasGymsDistribution) {
  const std::string name = GetParam();
  Env env(name);
  const auto q0 = qpos0(name);
  const bool cheetah = name == "halfcheetah";
  const double scale = cheetah ? 0.1 : 5e-3;
  double sum_q = 0, sq_q = 0, sum_v = 0, sq_v = 0, max_q = 0;
  int n_q = 0, n_v = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    env.reset(seed);
    const auto q = env.qpos(), v = env.qvel();
    for (size_t j = 0; j < q.size(); ++j) {
      const double d = q[j] - q0[j];
      sum_q += d, sq_q += d * d, ++n_q;
      max_q = std::max(max_q, std::abs(d));
    }
    for (double x : v) {
      sum_v += x, sq_v += x * x, ++n_v;
      if (!cheetah) EXPECT_LE(std::abs(x), scale);
    }
  }
  EXPECT_LE(max_q, scale);
  EXPECT_GT(max_q, 0.95 * scale);  // the whole interval is used
  const double uniform_std = scale / std::sqrt(3.0);
  EXPECT_NEAR(sum_q / n_q, 0.0, 0.05 * scale);
  EXPECT_NEAR(std::sqrt(sq_q / n_q), uniform_std, 0.05 * uniform_std);
  const double v_std = cheetah ? scale : uniform_std;
  EXPECT_NEAR(sum_v / n_v, 0.0, 0.05 * scale);
  EXPECT_NEAR(std::sqrt(sq_v / n_v), v_std, 0.05 * v_std);
}

// reward = (x_after - x_before) / dt + healthy - w * sum(clip(a)^2), dt = timestep * frame_skip.
TEST_P(EachEnv, RewardIsForwardVelocityPlusHealthyMinusControlCost) {
  const std::string name = GetParam();
  Env env(name);
  env.reset(3);
  const bool cheetah = name == "halfcheetah";
  const double dt = cheetah ? 0.01 * 5 : 0.002 * 4;
  const double w = cheetah ? 0.1 : 1e-3, healthy = cheetah ? 0.0 : 1.0;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-1.5, 1.5);  // beyond the bounds: cost is on clipped actions
  for (int k = 0; k < 40; ++k) {
    std::vector<double> a(env.spec().act_dim);
    double cost = 0;
    for (double& x : a) {
      x = u(rng);
      const double c = std::clamp(x, -1.0, 1.0);
      cost += c * c;
    }
    const double x_before = env.qpos()[0];
    const auto r = env.step(a);
    EXPECT_NEAR(r.reward, (env.qpos()[0] - x_before) / dt + healthy - w * cost, 1e-9) << "step " << k;
  }
}

TEST_P(EachEnv, ActionsAreClippedToTheUnitBox) {
  Env a(GetParam()), b(GetParam());
  a.reset(5);
  b.reset(5);
  std::vector<double> wild(a.spec().act_dim), clipped(a.spec().act_dim);
  for (int i = 0; i < a.spec().act_dim; ++i) {
    wild[i] = (i % 3 == 0) ? 4.0 : (i % 3 == 1 ? -2.5 : 0.25);
    clipped[i] = std::clamp(wild[i], -1.0, 1.0);
  }
  const auto ra = a.step(wild), rb = b.step(clipped);
  EXPECT_EQ(ra.obs, rb.obs);
  EXPECT_EQ(ra.reward, rb.reward);
}

TEST_P(EachEnv, TruncatesAtStep1000AndResetClearsIt) {
  Env env(GetParam());
  env.reset(0);
  const std::vector<double> zero(env.spec().act_dim, 0.0);
  for (int k = 1; k <= 1000; ++k) {
    const auto r = env.step(zero);
    ASSERT_EQ(r.truncated, k == 1000) << "step " << k;
    ASSERT_EQ(env.elapsed_steps(), k);
  }
  env.reset(1);
  EXPECT_EQ(env.elapsed_steps(), 0);
  EXPECT_FALSE(env.step(zero).truncated);
}

TEST_P(EachEnv, BadInputThrowsNamedErrors) {
  Env env(GetParam());
  const int act = env.spec().act_dim;
  try {
    env.step(std::vector<double>(act + 1, 0.0));
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("action: expected " + std::to_string(act)), std::string::npos) << e.what();
  }
  std::vector<double> nan_action(act, 0.0);
  nan_action[act - 1] = std::nan("");
  EXPECT_THROW(env.step(nan_action), Error);
  EXPECT_THROW(env.reset_to({1.0}, std::vector<double>(env.spec().nv, 0.0)), Error);
  EXPECT_THROW(env.reset_to(qpos0(GetParam()), std::vector<double>(env.spec().nv + 2, 0.0)), Error);
}

// A checkpointed state resumes the episode bit for bit: same observations, rewards, flags and
// clock as the env that kept going (what lets a resumed SAC run equal an uninterrupted one).
TEST_P(EachEnv, SetStateContinuesTheEpisodeExactly) {
  Env original(GetParam());
  original.reset(11);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto action = [&] {
    std::vector<double> a(original.spec().act_dim);
    for (auto& x : a) x = u(rng);
    return a;
  };
  for (int t = 0; t < 137; ++t) original.step(action());
  const EnvState saved = original.state();
  EXPECT_EQ(saved.elapsed_steps, 137);

  Env restored(GetParam());
  restored.reset(999);  // some other episode first: nothing of it may leak into the restore
  for (int t = 0; t < 20; ++t) restored.step(std::vector<double>(original.spec().act_dim, 0.3));
  restored.set_state(saved);
  for (int t = 0; t < 300; ++t) {
    const auto a = action();
    const auto x = original.step(a), y = restored.step(a);
    ASSERT_EQ(x.obs, y.obs) << "step " << t;
    ASSERT_EQ(x.reward, y.reward) << "step " << t;
    ASSERT_EQ(x.terminated, y.terminated) << "step " << t;
    ASSERT_EQ(x.truncated, y.truncated) << "step " << t;
  }
  EXPECT_EQ(restored.elapsed_steps(), 437);

  auto bad = saved;
  bad.qacc_warmstart.pop_back();
  EXPECT_THROW(restored.set_state(bad), Error);
  bad = saved;
  bad.qvel[0] = std::nan("");
  EXPECT_THROW(restored.set_state(bad), Error);
  bad = saved;
  bad.elapsed_steps = 1000;
  EXPECT_THROW(restored.set_state(bad), Error);
}

INSTANTIATE_TEST_SUITE_P(Envs, EachEnv, ::testing::Values("halfcheetah", "hopper", "walker2d"));

// One step from a given state with zero action; health is judged on the state after the step.
StepResult step_from(const std::string& name, std::vector<double> qpos, std::vector<double> qvel) {
  Env env(name);
  env.reset_to(qpos, qvel);
  return env.step(std::vector<double>(env.spec().act_dim, 0.0));
}

TEST(Termination, HopperHealthRanges) {
  auto q = qpos0("hopper");
  const std::vector<double> v0(6, 0.0);
  EXPECT_FALSE(step_from("hopper", q, v0).terminated);
  auto low = q;
  low[1] = 0.6;  // z must be > 0.7
  const auto fallen = step_from("hopper", low, v0);
  EXPECT_TRUE(fallen.terminated);
  EXPECT_GT(fallen.reward, 0.5);  // the healthy +1 is paid on the terminal step too
  auto tilted = q;
  tilted[2] = 0.25;  // |angle| must be < 0.2
  EXPECT_TRUE(step_from("hopper", tilted, v0).terminated);
  tilted[2] = -0.25;
  EXPECT_TRUE(step_from("hopper", tilted, v0).terminated);
  // State check on unclipped qvel: |v| < 100 (the observation clips it to 10).
  auto fast = v0;
  fast[0] = 150.0;
  const auto r = step_from("hopper", q, fast);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.obs[5], 10.0);
}

TEST(Termination, WalkerHealthRanges) {
  auto q = qpos0("walker2d");
  const std::vector<double> v0(9, 0.0);
  EXPECT_FALSE(step_from("walker2d", q, v0).terminated);
  auto z = q;
  z[1] = 0.75;  // z in (0.8, 2.0)
  EXPECT_TRUE(step_from("walker2d", z, v0).terminated);
  z[1] = 2.1;
  EXPECT_TRUE(step_from("walker2d", z, v0).terminated);
  auto angle = q;
  angle[2] = 1.1;  // angle in (-1, 1)
  EXPECT_TRUE(step_from("walker2d", angle, v0).terminated);
  angle[2] = 0.9;
  EXPECT_FALSE(step_from("walker2d", angle, v0).terminated);
  // No state check for the walker: a fast body is still healthy, and the obs clips qvel.
  auto fast = v0;
  fast[0] = 150.0;
  const auto r = step_from("walker2d", q, fast);
  EXPECT_FALSE(r.terminated);
  EXPECT_EQ(r.obs[8], 10.0);
}

TEST(Termination, HalfCheetahNeverTerminatesEvenUpsideDown) {
  auto q = qpos0("halfcheetah");
  q[1] = -0.3;
  q[2] = 3.0;  // flipped over
  Env env("halfcheetah");
  env.reset_to(q, std::vector<double>(9, 0.0));
  for (int k = 0; k < 100; ++k) ASSERT_FALSE(env.step(std::vector<double>(6, 1.0)).terminated);
}

// Fact-sheet self-check (MuJoCo 2.2.2, our library's version): from qpos0, qvel 0, no noise,
// a[i] = 0.5 sin(0.01 k + i) for k = 0..999, stepping on after termination. Returns are
// rounded to 0.01 in the sheet; same MuJoCo version, so we allow only that rounding.
TEST(SelfCheck, SinusoidFromRestMatchesTheFactSheet) {
  struct Row {
    const char* name;
    int first_termination;
    double ret;
  };
  for (const Row& row : {Row{"hopper", 29, 1184.41}, Row{"walker2d", 25, 800.64}, Row{"halfcheetah", -1, -64.09}}) {
    Env env(row.name);
    env.reset_to(qpos0(row.name), std::vector<double>(env.spec().nv, 0.0));
    double ret = 0;
    int first = -1;
    for (int k = 0; k < 1000; ++k) {
      std::vector<double> a(env.spec().act_dim);
      for (int i = 0; i < env.spec().act_dim; ++i) a[i] = 0.5 * std::sin(0.01 * k + i);
      const auto r = env.step(a);
      ret += r.reward;
      if (r.terminated && first < 0) first = k + 1;  // the sheet counts env steps from 1
    }
    EXPECT_EQ(first, row.first_termination) << row.name;
    EXPECT_NEAR(ret, row.ret, 0.006) << row.name;
  }
}

}  // namespace
}  // namespace seqrl
