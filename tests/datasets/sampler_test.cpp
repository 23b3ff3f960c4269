// The DT sequence sampler against hand-computed windows and a naive float64 reference.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.h"
#include "datasets/sampler.h"

namespace seqrl::test {
namespace {

// In-memory dataset; observation column 0 holds the row index so a sampled (normalized) state
// tells which row it came from.
Dataset make_dataset(const std::vector<int64_t>& lengths, int64_t obs_dim, int64_t act_dim, uint64_t seed) {
  torch::manual_seed(seed);
  Dataset ds;
  ds.path = "mem";
  ds.env = "hopper";
  ds.layout = "d4rl";
  ds.obs_dim = obs_dim;
  ds.act_dim = act_dim;
  int64_t n = 0;
  for (auto len : lengths) {
    ds.episodes.push_back({n, len, true, false, 0.0});
    n += len;
  }
  ds.observations = torch::randn({n, obs_dim}) * 3 + 1;
  ds.observations.select(1, 0).copy_(torch::arange(n, torch::kFloat));
  ds.actions = torch::rand({n, act_dim});
  ds.rewards = torch::randn({n}) + 2;
  return ds;
}

// Row of each window position (-1 for padding), recovered from the state's column 0.
std::vector<int64_t> window_rows(const SequenceBatch& b, const SequenceSampler& s, int64_t i) {
  auto col = b.states[i].select(1, 0) * s.state_std()[0] + s.state_mean()[0];
  std::vector<int64_t> rows;
  for (int64_t j = 0; j < b.mask.size(1); ++j)
    rows.push_back(b.mask[i][j].item<float>() > 0 ? std::lround(col[j].item<double>()) : -1);
  return rows;
}

TEST(SequenceSampler, HandComputedWindowsOfTinyDataset) {
  // Two episodes: rows 0..2 (rewards 1, 2, 3) and rows 3..4 (rewards 10, 20); K = 4.
  Dataset ds = make_dataset({3, 2}, 2, 1, 1);
  ds.rewards = torch::tensor({1.f, 2.f, 3.f, 10.f, 20.f});
  ds.actions = torch::tensor({0.1f, 0.2f, 0.3f, 0.4f, 0.5f}).reshape({5, 1});
  SequenceSampler s(ds, {4, 10.0, 2}, 123);
  // Expected (rtg x10, timestep, action) for each start row, left-padded to K = 4.
  struct Window {
    std::vector<float> rtg;
    std::vector<int64_t> t;
    std::vector<float> act, mask;
  };
  std::map<int64_t, Window> expected = {
      {0, {{0, 0.6f, 0.5f, 0.3f}, {0, 0, 1, 1}, {0, 0.1f, 0.2f, 0.3f}, {0, 1, 1, 1}}},  // timesteps clamp at 1
      {1, {{0, 0, 0.5f, 0.3f}, {0, 0, 1, 1}, {0, 0, 0.2f, 0.3f}, {0, 0, 1, 1}}},
      {2, {{0, 0, 0, 0.3f}, {0, 0, 0, 1}, {0, 0, 0, 0.3f}, {0, 0, 0, 1}}},
      {3, {{0, 0, 3.0f, 2.0f}, {0, 0, 0, 1}, {0, 0, 0.4f, 0.5f}, {0, 0, 1, 1}}},
      {4, {{0, 0, 0, 2.0f}, {0, 0, 0, 1}, {0, 0, 0, 0.5f}, {0, 0, 0, 1}}},  // row 4 is step 1 of its episode
  };
  std::map<int64_t, int> seen;
  auto b = s.sample(500);
  for (int64_t i = 0; i < 500; ++i) {
    auto rows = window_rows(b, s, i);
    int64_t first = *std::find_if(rows.begin(), rows.end(), [](int64_t r) { return r >= 0; });
    ASSERT_TRUE(expected.count(first)) << first;
    const auto& w = expected[first];
    ++seen[first];
    for (int64_t j = 0; j < 4; ++j) {
      EXPECT_FLOAT_EQ(b.rtg[i][j][0].item<float>(), w.rtg[j]);
      EXPECT_EQ(b.timesteps[i][j].item<int64_t>(), w.t[j]);
      EXPECT_FLOAT_EQ(b.actions[i][j][0].item<float>(), w.act[j]);
      EXPECT_EQ(b.mask[i][j].item<float>(), w.mask[j]);
      if (w.mask[j] == 0) EXPECT_EQ(b.states[i][j].abs().sum().item<float>(), 0.f);
    }
  }
  // Every start row is reachable, each with probability 1/5 (episode prob ∝ length x uniform start).
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& [row, count] : seen) EXPECT_NEAR(count, 100, 40) << row;
}

TEST(SequenceSampler, MatchesNaiveReferenceOnRandomData) {
  Dataset ds = make_dataset({57, 3, 120, 1, 31}, 5, 2, 2);
  SamplerConfig cfg{20, 1000.0, 100};
  SequenceSampler s(ds, cfg, 7);
  const int64_t n = ds.size();

  // Naive float64 reference: mean/std per column, per-row rtg and timestep.
  auto obs = ds.observations.to(torch::kDouble);
  std::vector<double> mean(5, 0), var(5, 0);
  for (int64_t c = 0; c < 5; ++c) {
    for (int64_t i = 0; i < n; ++i) mean[c] += obs[i][c].item<double>() / double(n);
    for (int64_t i = 0; i < n; ++i) var[c] += std::pow(obs[i][c].item<double>() - mean[c], 2) / double(n);
    EXPECT_NEAR(s.state_mean()[c].item<double>(), mean[c], 1e-5 * (1 + std::abs(mean[c])));
    EXPECT_NEAR(s.state_std()[c].item<double>(), std::sqrt(var[c]), 1e-5 * std::sqrt(var[c]));
  }
  std::vector<double> rtg(n);
  std::vector<int64_t> ts(n), episode(n);
  for (size_t e = 0; e < ds.episodes.size(); ++e) {
    const auto& ep = ds.episodes[e];
    for (int64_t i = ep.start; i < ep.start + ep.length; ++i) {
      double g = 0;
      for (int64_t j = i; j < ep.start + ep.length; ++j) g += ds.rewards[j].item<double>();
      rtg[i] = g / 1000.0;
      ts[i] = std::min<int64_t>(i - ep.start, 99);
      episode[i] = int64_t(e);
    }
  }

  auto b = s.sample(64);
  EXPECT_EQ(b.states.sizes(), (std::vector<int64_t>{64, 20, 5}));
  EXPECT_EQ(b.actions.sizes(), (std::vector<int64_t>{64, 20, 2}));
  EXPECT_EQ(b.rtg.sizes(), (std::vector<int64_t>{64, 20, 1}));
  EXPECT_EQ(b.timesteps.scalar_type(), torch::kLong);
  EXPECT_EQ(b.mask.scalar_type(), torch::kFloat);
  for (int64_t i = 0; i < 64; ++i) {
    auto rows = window_rows(b, s, i);
    int64_t pad = std::count(rows.begin(), rows.end(), -1);
    for (int64_t j = 0; j < 20; ++j) {
      if (j < pad) {
        EXPECT_EQ(rows[j], -1) << "padding must be on the left";
        EXPECT_EQ(b.rtg[i][j][0].item<float>(), 0.f);
        EXPECT_EQ(b.timesteps[i][j].item<int64_t>(), 0);
        EXPECT_EQ(b.actions[i][j].abs().sum().item<float>(), 0.f);
        continue;
      }
      int64_t r = rows[j];
      ASSERT_GE(r, 0);
      ASSERT_LT(r, n);
      if (j > pad) EXPECT_EQ(r, rows[j - 1] + 1) << "consecutive rows";
      EXPECT_EQ(episode[r], episode[rows[pad]]) << "one episode per window";
      EXPECT_NEAR(b.rtg[i][j][0].item<double>(), rtg[r], 1e-6 * (1 + std::abs(rtg[r])));
      EXPECT_EQ(b.timesteps[i][j].item<int64_t>(), ts[r]);
      EXPECT_TRUE(torch::equal(b.actions[i][j], ds.actions[r]));
      for (int64_t c = 1; c < 5; ++c)
        EXPECT_NEAR(b.states[i][j][c].item<double>(), (obs[r][c].item<double>() - mean[c]) / std::sqrt(var[c]), 1e-4);
    }
    // Padding only when the window runs into the episode end.
    if (pad > 0) {
      const auto& ep = ds.episodes[size_t(episode[rows[pad]])];
      EXPECT_EQ(rows.back(), ep.start + ep.length - 1);
    }
  }
}

TEST(SequenceSampler, DeterministicAndResumable) {
  Dataset ds = make_dataset({50, 80, 13}, 4, 2, 3);
  SequenceSampler a(ds, {}, 42), b(ds, {}, 42), c(ds, {}, 43);
  auto x = a.sample(32), y = b.sample(32), z = c.sample(32);
  EXPECT_TRUE(torch::equal(x.states, y.states));
  EXPECT_TRUE(torch::equal(x.rtg, y.rtg));
  EXPECT_FALSE(torch::equal(x.states, z.states));

  auto state = a.rng_state();
  auto next = a.sample(16);
  SequenceSampler resumed(ds, {}, 999);
  resumed.set_rng_state(state);
  auto again = resumed.sample(16);
  EXPECT_TRUE(torch::equal(next.states, again.states));
  EXPECT_TRUE(torch::equal(next.timesteps, again.timesteps));
  EXPECT_TRUE(torch::equal(next.mask, again.mask));
  EXPECT_THROW(resumed.set_rng_state("not a state"), Error);
}

TEST(SequenceSampler, ConstantColumnStdIsFloored) {
  Dataset ds = make_dataset({10}, 3, 1, 4);
  ds.observations.select(1, 2).fill_(5.f);
  SequenceSampler s(ds, {}, 1);
  EXPECT_FLOAT_EQ(s.state_std()[2].item<float>(), 1e-6f);
  auto b = s.sample(8);
  EXPECT_TRUE(torch::isfinite(b.states).all().item<bool>());
}

TEST(SequenceSampler, RejectsBadConfig) {
  Dataset ds = make_dataset({10}, 3, 1, 5);
  EXPECT_THROW(SequenceSampler(ds, {0, 1000, 1000}, 1), Error);
  EXPECT_THROW(SequenceSampler(ds, {20, 0, 1000}, 1), Error);
  EXPECT_THROW(SequenceSampler(ds, {20, 1000, 0}, 1), Error);
  SequenceSampler s(ds, {}, 1);
  EXPECT_THROW(s.sample(0), Error);
  EXPECT_THROW(SequenceSampler(Dataset{}, {}, 1), Error);
}

// Episode batches (train.context = episode): whole episodes from their first step, left-padded
// to the longest drawn, episodes drawn uniformly, each cut at max_ep_len steps.
TEST(SequenceSampler, EpisodeBatchesHoldWholeEpisodesFromTheirFirstStep) {
  // Episodes: rows 0..2 (rewards 1, 2, 3) and rows 3..4 (rewards 10, 20).
  Dataset ds = make_dataset({3, 2}, 2, 1, 1);
  ds.rewards = torch::tensor({1.f, 2.f, 3.f, 10.f, 20.f});
  SequenceSampler s(ds, {4, 10.0, 1000}, 5);
  std::map<int64_t, int> seen;  // episode length -> rows
  for (int i = 0; i < 200; ++i) {
    auto b = s.sample_episodes(2);
    const int64_t width = b.mask.size(1);
    const int64_t longest = b.mask.sum(1).max().item<float>();
    EXPECT_EQ(width, longest) << "padded to the longest drawn episode only";
    for (int64_t r = 0; r < 2; ++r) {
      auto rows = window_rows(b, s, r);
      const int64_t len = b.mask[r].sum().item<float>();
      ++seen[len];
      ASSERT_TRUE(len == 3 || len == 2) << len;
      const int64_t pad = width - len, first = len == 3 ? 0 : 3;
      const std::vector<float> rtg = len == 3 ? std::vector<float>{0.6f, 0.5f, 0.3f} : std::vector<float>{3.f, 2.f};
      for (int64_t j = 0; j < width; ++j) {
        if (j < pad) {
          EXPECT_EQ(rows[j], -1);
          EXPECT_EQ(b.mask[r][j].item<float>(), 0.f);
          continue;
        }
        EXPECT_EQ(rows[j], first + j - pad);
        EXPECT_EQ(b.timesteps[r][j].item<int64_t>(), j - pad) << "starts at the episode's first step";
        EXPECT_FLOAT_EQ(b.rtg[r][j][0].item<float>(), rtg[j - pad]);
      }
    }
  }
  // Uniform over episodes, not over rows: 200 of 400 each (binomial std 10).
  EXPECT_NEAR(seen[3], 200, 50);
  EXPECT_NEAR(seen[2], 200, 50);

  // max_ep_len 2 keeps each episode's first 2 steps.
  SequenceSampler cut(ds, {4, 10.0, 2}, 5);
  auto b = cut.sample_episodes(8);
  EXPECT_EQ(b.mask.size(1), 2);
  EXPECT_EQ(b.mask.sum().item<float>(), 16.f);
  for (int64_t r = 0; r < 8; ++r) EXPECT_EQ(b.timesteps[r][0].item<int64_t>(), 0);
  EXPECT_THROW(cut.sample_episodes(0), Error);
}

}  // namespace
}  // namespace seqrl::test
