// `seqrl collect` through the CLI: files in the D4RL v2 layout (Farama-Foundation/D4RL,
// d4rl/offline_env.py) that pass `seqrl dataset validate`, read back with the statistics the
// collector reported, record simulator states that replay to the same transitions, and a
// resumed collection equal to an uninterrupted one.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "agents/checkpoint.h"
#include "agents/sac.h"
#include "datasets/dataset.h"
#include "datasets/hdf5_io.h"
#include "envs/env.h"
#include "sac_test_util.h"

namespace seqrl {

namespace {
namespace fs = std::filesystem;

using testing::sh;

class Collect : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("seqrl_collect_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }

  // An untrained SAC actor saved the way `seqrl sac` saves checkpoints.
  std::string make_policy() {
    torch::manual_seed(0);
    SacConfig cfg;
    cfg.hidden = {32, 32};
    Sac agent(11, 3, cfg, torch::kCPU);
    CheckpointWriter w;
    agent.save(w);
    w.text("env", "hopper");
    w.number("step", 0);
    auto p = path("policy.pt");
    w.save(p);
    return p;
  }

  fs::path dir;
};

std::map<std::string, torch::Tensor> read_all(const std::string& file) {
  auto f = h5::open_file(file);
  std::map<std::string, torch::Tensor> out;
  for (const char* k : {"observations", "actions", "rewards", "terminals", "timeouts", "next_observations",
                        "infos/qpos", "infos/qvel", "infos/action_log_probs"}) {
    auto d = h5::open_dataset(f.get(), k, file + ":" + k);
    out[k] = h5::read_tensor(d.get(), torch::kFloat64, file + ":" + k);
  }
  return out;
}

TEST_F(Collect, RandomRolloutIsAValidD4rlFileWithMatchingStatistics) {
  auto out = path("hopper-random.hdf5");
  auto r = sh("collect --kind random --env hopper --steps 700 --chunk 250 --seed 3 --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_FALSE(fs::exists(out + ".partial")) << "the partial state is removed once the file is written";
  auto v = sh("dataset validate " + out);
  EXPECT_EQ(v.code, 0) << v.out;

  auto a = read_all(out);
  ASSERT_EQ(a["observations"].sizes(), (std::vector<int64_t>{700, 11}));
  ASSERT_EQ(a["infos/qpos"].sizes(), (std::vector<int64_t>{700, 6}));
  ASSERT_EQ(a["infos/qvel"].sizes(), (std::vector<int64_t>{700, 6}));
  // Naive statistics from the raw arrays: episodes end at terminal or timeout.
  std::vector<double> returns;
  double ret = 0;
  for (int i = 0; i < 700; ++i) {
    ret += a["rewards"][i].item<double>();
    bool term = a["terminals"][i].item<double>() > 0, tout = a["timeouts"][i].item<double>() > 0;
    ASSERT_FALSE(term && tout) << "row " << i;
    if (term || tout) returns.push_back(ret), ret = 0;
    // Uniform actions in [-1, 1]^3 have log-density -3 log 2.
    ASSERT_NEAR(a["infos/action_log_probs"][i].item<double>(), -3 * std::log(2.0), 1e-6);
    ASSERT_LE(a["actions"][i].abs().max().item<double>(), 1.0);
  }
  ASSERT_GT(returns.size(), 5u) << "random hopper falls within a few dozen steps";
  double mean = 0;
  for (double x : returns) mean += x / returns.size();

  auto ds = load_dataset(out);
  auto st = dataset_stats(ds);
  EXPECT_EQ(st.transitions, 700);
  EXPECT_EQ(st.terminal_episodes + st.timeout_episodes, static_cast<int64_t>(returns.size()));
  EXPECT_NEAR(st.return_mean, mean, 1e-3);
  // The collector's own summary line agrees with the reader.
  char expect[64];
  std::snprintf(expect, sizeof expect, "return %.1f", mean);
  EXPECT_NE(r.out.find(expect), std::string::npos) << r.out;
}

TEST_F(Collect, RecordedStatesReplayToTheRecordedTransitions) {
  auto policy = make_policy();
  auto out = path("hopper-policy.hdf5");
  auto r = sh("collect --kind medium --env hopper --policy " + policy + " --steps 300 --chunk 100 --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  auto a = read_all(out);
  Env env("hopper");
  for (int i = 0; i < 300; i += 7) {
    auto vec = [&](const char* k) {
      auto t = a[k][i].contiguous();
      return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    };
    auto obs = env.reset_to(vec("infos/qpos"), vec("infos/qvel"));
    for (int j = 0; j < 11; ++j) ASSERT_NEAR(obs[j], vec("observations")[j], 1e-4) << "row " << i;
    auto s = env.step(vec("actions"));
    // qpos/qvel are stored as float32: allow the rounding to grow over one step.
    for (int j = 0; j < 11; ++j) ASSERT_NEAR(s.obs[j], vec("next_observations")[j], 1e-2) << "row " << i;
    EXPECT_NEAR(s.reward, a["rewards"][i].item<double>(), 1e-2) << "row " << i;
  }
  // Sampled actions carry the squashed-Gaussian log-density (finite, not the uniform constant).
  EXPECT_GT(a["infos/action_log_probs"].std().item<double>(), 0.0);
}

TEST_F(Collect, ResumedCollectionEqualsUninterruptedRun) {
  auto policy = make_policy();
  // The seed is a parameter: CLI11 itself rejects a repeated --seed (exit 2).
  auto cmd = [&](const std::string& out, int seed = 7) {
    return "collect --kind medium --env hopper --policy " + policy + " --steps 600 --chunk 150 --seed " +
           std::to_string(seed) + " --out " + out;
  };
  auto whole = path("hopper-whole.hdf5"), resumed = path("hopper-resumed.hdf5");
  ASSERT_EQ(sh(cmd(whole)).code, 0);

  auto r1 = sh(cmd(resumed) + " --stop-after-chunks 2");
  ASSERT_EQ(r1.code, 0) << r1.out;
  EXPECT_FALSE(fs::exists(resumed));
  EXPECT_TRUE(fs::exists(resumed + ".partial/progress.pt"));
  auto again = sh(cmd(resumed));  // without --resume: refuses to clobber
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.out.find("--resume"), std::string::npos) << again.out;
  auto other = sh(cmd(resumed, 8) + " --resume");  // different options: refused
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.out.find("other options"), std::string::npos) << other.out;
  auto r2 = sh(cmd(resumed) + " --resume");
  ASSERT_EQ(r2.code, 0) << r2.out;

  auto a = read_all(whole), b = read_all(resumed);
  for (const auto& [k, t] : a) EXPECT_TRUE(torch::equal(t, b[k])) << k;
}

TEST_F(Collect, MediumExpertCutsTheFirstFileAfterItsLastFinishedEpisode) {
  auto m = path("hopper-m.hdf5"), e = path("hopper-e.hdf5"), me = path("hopper-me.hdf5");
  ASSERT_EQ(sh("collect --kind random --steps 250 --seed 1 --out " + m).code, 0);
  ASSERT_EQ(sh("collect --kind random --steps 120 --seed 2 --out " + e).code, 0);
  auto r = sh("collect --kind medium-expert --env hopper --inputs " + m + " " + e + " --out " + me);
  ASSERT_EQ(r.code, 0) << r.out;
  auto a = read_all(m), b = read_all(e), c = read_all(me);
  int64_t keep = 0;
  for (int64_t i = 0; i < 250; ++i)
    if (a["terminals"][i].item<double>() > 0 || a["timeouts"][i].item<double>() > 0) keep = i + 1;
  ASSERT_GT(keep, 0);
  for (const auto& [k, t] : c) {
    ASSERT_EQ(t.size(0), keep + 120) << k;
    EXPECT_TRUE(torch::equal(t.slice(0, 0, keep), a[k].slice(0, 0, keep))) << k;
    EXPECT_TRUE(torch::equal(t.slice(0, keep), b[k])) << k;
  }
  EXPECT_EQ(sh("dataset validate " + me).code, 0);
}

TEST_F(Collect, UsageAndInputErrors) {
  auto out = path("hopper-x.hdf5");
  auto r = sh("collect --kind medium --out " + out);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--policy"), std::string::npos) << r.out;
  r = sh("collect --kind medium --policy " + path("nope.pt") + " --out " + out);
  EXPECT_EQ(r.code, 1) << r.out;
  r = sh("collect --kind bogus --out " + out);
  EXPECT_EQ(r.code, 2) << r.out;
  auto policy = make_policy();
  r = sh("collect --kind medium --env walker2d --policy " + policy + " --out " + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("hopper"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace seqrl
