// SAC pieces checked against naive float64 references (sequential loops over plain doubles),
// plus a tiny end-to-end run through the CLI that checkpoints and resumes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include "agents/checkpoint.h"
#include "agents/replay_buffer.h"
#include "agents/sac.h"
#include "core/error.h"
#include "datasets/hdf5_io.h"
#include "sac_test_util.h"

namespace seqrl {

namespace {
namespace fs = std::filesystem;
using testing::sh;

double at(const torch::Tensor& t, std::initializer_list<int64_t> idx) {
  auto x = t;
  for (auto i : idx) x = x[i];
  return x.item<double>();
}

TEST(SacMath, SquashedGaussianLogProbMatchesNaiveFormula) {
  torch::manual_seed(1);
  const int B = 7, D = 3;
  auto mean = torch::randn({B, D});
  auto log_std = torch::rand({B, D}) * 2 - 1.5;
  auto u = torch::randn({B, D}) * 1.5;
  auto got = squashed_gaussian_log_prob(u, mean, log_std);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{B}));
  for (int b = 0; b < B; ++b) {
    double lp = 0;
    for (int d = 0; d < D; ++d) {
      double x = at(u, {b, d}), m = at(mean, {b, d}), s = std::exp(at(log_std, {b, d}));
      double tanh_x = std::tanh(x);
      // Density of the Gaussian times the change of variables |da/du| = 1 - tanh^2.
      lp += -0.5 * std::pow((x - m) / s, 2) - std::log(s) - 0.5 * std::log(2 * M_PI) - std::log(1 - tanh_x * tanh_x);
    }
    EXPECT_NEAR(got[b].item<double>(), lp, 1e-4 * (1 + std::fabs(lp))) << "row " << b;
  }
}

TEST(SacMath, SquashedLogProbStaysFiniteWhenTanhSaturates) {
  auto u = torch::tensor({{30.0f, -30.0f}});
  auto lp = squashed_gaussian_log_prob(u, torch::zeros({1, 2}), torch::zeros({1, 2}));
  EXPECT_TRUE(std::isfinite(lp.item<double>()));
}

TEST(SacMath, ActorSampleIsSquashedAndLogProbConsistent) {
  torch::manual_seed(2);
  Actor actor(5, 3, std::vector<int>{16, 16}, -20.0, 2.0);
  auto obs = torch::randn({64, 5});
  auto [a, lp] = actor->sample(obs);
  EXPECT_LT(a.abs().max().item<double>(), 1.0);
  EXPECT_EQ(lp.sizes(), (std::vector<int64_t>{64}));
  // The deterministic action is tanh(mean).
  auto [mean, log_std] = actor->forward(obs);
  EXPECT_TRUE(torch::allclose(actor->deterministic(obs), torch::tanh(mean)));
  EXPECT_LE(log_std.max().item<double>(), 2.0);
}

TEST(SacMath, PolyakUpdateIsConvexCombination) {
  torch::manual_seed(3);
  EnsembleCritic source(4, 2, std::vector<int>{8}), target(4, 2, std::vector<int>{8});
  std::vector<std::vector<double>> before_t, before_s;
  auto flat = [](const torch::Tensor& p) {
    auto c = p.detach().to(torch::kFloat64).contiguous().view(-1);
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  for (auto& p : target->parameters()) before_t.push_back(flat(p));
  for (auto& p : source->parameters()) before_s.push_back(flat(p));
  const double tau = 0.005;
  polyak_update(*target, *source, tau);
  auto after = target->parameters();
  for (size_t i = 0; i < after.size(); ++i) {
    auto now = flat(after[i]);
    for (size_t j = 0; j < now.size(); ++j)
      ASSERT_NEAR(now[j], (1 - tau) * before_t[i][j] + tau * before_s[i][j], 1e-6);
  }
}

TEST(SacMath, AlphaGrowsWhenEntropyIsBelowTarget) {
  // Target entropy -act_dim = -3; log-probs of +5 mean entropy -5 < -3: alpha must grow.
  auto log_alpha = torch::zeros({1}, torch::requires_grad());
  auto low_entropy_logp = torch::full({10}, 5.0);
  auto loss = alpha_loss(log_alpha, low_entropy_logp, -3.0);
  loss.backward();
  // d/dlog_alpha of -log_alpha (logp + target) = -(5 - 3) = -2: descent raises log_alpha.
  EXPECT_NEAR(log_alpha.grad().item<double>(), -2.0, 1e-5);  // float32 mean
  log_alpha.grad().zero_();
  alpha_loss(log_alpha, torch::full({10}, -7.0), -3.0).backward();
  EXPECT_NEAR(log_alpha.grad().item<double>(), 10.0, 1e-5);  // entropy 7 > 3: alpha shrinks
}

TEST(SacMath, EnsembleCriticMatchesPerMemberNaiveMlp) {
  torch::manual_seed(4);
  const int obs_dim = 3, act_dim = 2, B = 5;
  EnsembleCritic critic(obs_dim, act_dim, std::vector<int>{6, 4});
  auto obs = torch::randn({B, obs_dim}), act = torch::randn({B, act_dim});
  auto q = critic->forward(obs, act);
  ASSERT_EQ(q.sizes(), (std::vector<int64_t>{2, B}));
  for (int m = 0; m < 2; ++m)
    for (int b = 0; b < B; ++b) {
      std::vector<double> x;
      for (int i = 0; i < obs_dim; ++i) x.push_back(at(obs, {b, i}));
      for (int i = 0; i < act_dim; ++i) x.push_back(at(act, {b, i}));
      for (size_t l = 0; l < critic->weights.size(); ++l) {
        auto& W = critic->weights[l];
        std::vector<double> y(W.size(2));
        for (size_t o = 0; o < y.size(); ++o) {
          double s = at(critic->biases[l], {m, 0, int64_t(o)});
          for (size_t i = 0; i < x.size(); ++i) s += x[i] * at(W, {m, int64_t(i), int64_t(o)});
          y[o] = (l + 1 < critic->weights.size()) ? std::max(0.0, s) : s;
        }
        x = y;
      }
      EXPECT_NEAR(q[m][b].item<double>(), x[0], 1e-5);
    }
}

Transition make_transition(int i) {
  Transition t;
  t.obs = {double(i), i + 0.5};
  t.next_obs = {i + 1.0, i + 1.5};
  t.action = {i * 0.01};
  t.qpos = {double(i), 0, 1};
  t.qvel = {-double(i), 2};
  t.reward = i * 10;
  t.log_prob = -i;
  t.terminal = i % 3 == 0;
  t.timeout = i % 5 == 0;
  return t;
}

TEST(ReplayBuffer, RingKeepsNewestRowsInOrder) {
  ReplayBuffer buf(4, 2, 1, 3, 2);
  for (int i = 0; i < 7; ++i) buf.add(make_transition(i));
  EXPECT_EQ(buf.size(), 4);
  EXPECT_EQ(buf.total_added(), 7);
  auto rows = buf.rows_in_order();
  for (int k = 0; k < 4; ++k) {
    int i = 3 + k;  // rows 3..6 survive, oldest first
    EXPECT_EQ(rows["observations"][k][0].item<float>(), float(i));
    EXPECT_EQ(rows["rewards"][k].item<float>(), float(i * 10));
    EXPECT_EQ(rows["terminals"][k].item<float>(), i % 3 == 0 ? 1.f : 0.f);
    EXPECT_EQ(rows["timeouts"][k].item<float>(), i % 5 == 0 ? 1.f : 0.f);
    EXPECT_EQ(rows["infos/qvel"][k][0].item<float>(), float(-i));
    EXPECT_EQ(rows["infos/action_log_probs"][k].item<float>(), float(-i));
  }
  // Restoring into a fresh buffer gives back the same rows and the same ring position.
  ReplayBuffer copy(4, 2, 1, 3, 2);
  copy.restore(rows, 7, "test");
  copy.add(make_transition(7));
  buf.add(make_transition(7));
  auto a = buf.rows_in_order(), b = copy.rows_in_order();
  for (const auto& k : ReplayBuffer::keys()) EXPECT_TRUE(torch::equal(a[k], b[k])) << k;
}

TEST(ReplayBuffer, SamplesAreStoredRowsAndCoverTheBuffer) {
  ReplayBuffer buf(100, 2, 1, 3, 2);
  for (int i = 0; i < 50; ++i) buf.add(make_transition(i));
  std::mt19937_64 rng(5);
  auto batch = buf.sample(2000, rng, torch::kCPU);
  std::set<int> seen;
  for (int k = 0; k < 2000; ++k) {
    int i = static_cast<int>(batch.obs[k][0].item<float>());
    ASSERT_GE(i, 0);
    ASSERT_LT(i, 50);  // never an unfilled slot
    // Columns stay aligned row by row.
    ASSERT_EQ(batch.rewards[k].item<float>(), float(i * 10));
    ASSERT_EQ(batch.next_obs[k][0].item<float>(), float(i + 1));
    ASSERT_EQ(batch.terminals[k].item<float>(), i % 3 == 0 ? 1.f : 0.f);
    seen.insert(i);
  }
  EXPECT_EQ(seen.size(), 50u);  // 2000 draws over 50 rows miss one with probability ~1e-16
}

TEST(ReplayBuffer, RejectsWrongWidthsAndEmptySampling) {
  ReplayBuffer buf(4, 2, 1, 3, 2);
  std::mt19937_64 rng(0);
  EXPECT_THROW(buf.sample(1, rng, torch::kCPU), Error);
  auto t = make_transition(0);
  t.obs.push_back(1);
  EXPECT_THROW(buf.add(t), Error);
}

TEST(Sac, UpdateFitsCriticsOnAFixedBatchAndCheckpointRoundTrips) {
  torch::manual_seed(6);
  SacConfig cfg;
  cfg.hidden = {32, 32};
  Sac agent(4, 2, cfg, torch::kCPU);
  auto obs = torch::randn({64, 4});
  ReplayBatch batch{obs, torch::rand({64, 2}) * 2 - 1, obs.sum(1), torch::randn({64, 4}), torch::zeros({64})};
  auto first = agent.update(batch);
  SacStats last;
  double lowest_entropy = first.entropy;
  for (int i = 0; i < 200; ++i) {
    last = agent.update(batch);
    lowest_entropy = std::min(lowest_entropy, last.entropy);
  }
  EXPECT_LT(last.critic_loss, first.critic_loss);
  // Temperature: while the policy's entropy stays above the target (-act_dim = -2), the alpha
  // loss lowers log alpha every step. Adam moves it by at most about alpha_lr (3e-4) a step,
  // so 200 steps lower log alpha by at most ~0.06; require at least half of that, downwards.
  ASSERT_GT(lowest_entropy, -2.0) << "precondition: entropy above the target throughout";
  const double log_ratio = std::log(last.alpha / first.alpha);
  EXPECT_LT(log_ratio, -0.03) << first.alpha << " -> " << last.alpha;
  EXPECT_GT(log_ratio, -200 * cfg.alpha_lr * 1.1) << first.alpha << " -> " << last.alpha;

  auto path = (fs::temp_directory_path() / ("seqrl_sac_ckpt_" + std::to_string(::getpid()) + ".pt")).string();
  CheckpointWriter w;
  agent.save(w);
  w.save(path);
  Sac other(4, 2, cfg, torch::kCPU);
  CheckpointReader r(path);
  other.load(r);
  std::vector<double> o{0.1, -0.2, 0.3, 0.4};
  EXPECT_EQ(agent.act(o, true), other.act(o, true));
  EXPECT_DOUBLE_EQ(agent.alpha(), other.alpha());
  CheckpointReader r2(path);
  auto actor = Sac::load_actor(r2, torch::kCPU);
  EXPECT_EQ(policy_action(actor, o, true, nullptr, torch::kCPU), agent.act(o, true));
  SacConfig wider = cfg;
  wider.hidden = {64, 64};
  Sac mismatched(4, 2, wider, torch::kCPU);
  CheckpointReader r3(path);
  EXPECT_THROW(mismatched.load(r3), Error);
  fs::remove(path);
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

TEST(SacCli, TinyRunCheckpointsResumesAndDumpsItsReplay) {
  auto root = fs::temp_directory_path() / ("seqrl_sac_cli_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::string tiny =
      " sac.hidden=[32,32] sac.batch_size=32 run.start_steps=100 run.log_every=50"
      " run.eval_every=150 run.eval_episodes=1 run.checkpoint_every=200";
  auto r = sh("sac -c " + std::string(SEQRL_SOURCE_DIR) +
              "/configs/sac/hopper.yaml run.steps=300 run.out_dir=" + root.string() + tiny);
  ASSERT_EQ(r.code, 0) << r.out;
  std::vector<fs::path> runs{fs::directory_iterator(root), fs::directory_iterator()};
  ASSERT_EQ(runs.size(), 1u);
  auto run = runs[0];
  for (const char* f : {"config.yaml", "log.txt", "metrics.csv", "checkpoints/step_200.pt", "checkpoints/last.pt",
                        "checkpoints/replay.pt"})
    EXPECT_TRUE(fs::exists(run / f)) << f;

  auto csv = read_csv((run / "metrics.csv").string());
  ASSERT_GE(csv.size(), 2u);
  auto col = [&](const std::string& name) { return std::find(csv[0].begin(), csv[0].end(), name) - csv[0].begin(); };
  EXPECT_EQ(csv.back()[col("step")], "300");
  EXPECT_FALSE(csv.back()[col("eval_return")].empty());
  EXPECT_FALSE(csv.back()[col("critic_loss")].empty());

  // Resume to 400 steps: metrics continue without duplicate steps, the buffer keeps growing.
  r = sh("sac --resume " + run.string() + " run.steps=400");
  ASSERT_EQ(r.code, 0) << r.out;
  csv = read_csv((run / "metrics.csv").string());
  std::vector<std::string> steps;
  for (size_t i = 1; i < csv.size(); ++i) steps.push_back(csv[i][col("step")]);
  EXPECT_EQ(steps, (std::vector<std::string>{"50", "100", "150", "200", "250", "300", "350", "400"}));
  CheckpointReader last((run / "checkpoints/last.pt").string());
  EXPECT_EQ(last.number("step"), 400);
  int64_t total = 0;
  auto rows = load_replay_rows((run / "checkpoints/replay.pt").string(), &total);
  EXPECT_EQ(total, 400);

  // medium-replay: the buffer's first 200 rows, as float64 like D4RL's medium-replay files.
  auto out = (root / "hopper-medium-replay.hdf5").string();
  r = sh("collect --kind medium-replay --policy " + (run / "checkpoints/step_200").string() + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  auto f = h5::open_file(out);
  for (const char* k : {"observations", "infos/qpos", "rewards"}) {
    auto d = h5::open_dataset(f.get(), k, k);
    h5::Handle type(H5Dget_type(d.get()));
    EXPECT_EQ(H5Tget_size(type.get()), 8u) << k;
    auto t = h5::read_tensor(d.get(), torch::kFloat32, k);
    EXPECT_TRUE(torch::equal(t, rows[k].slice(0, 0, 200))) << k;
  }
  EXPECT_EQ(sh("dataset validate " + out).code, 0);

  // Errors: unknown key (exit 1, names it), -c together with --resume (usage, exit 2).
  r = sh("sac run.bogus=1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("run.bogus"), std::string::npos) << r.out;
  EXPECT_EQ(
      sh("sac --resume " + run.string() + " -c " + std::string(SEQRL_SOURCE_DIR) + "/configs/sac/hopper.yaml").code, 2);
  fs::remove_all(root);
}

// An interrupted run resumed from its checkpoint is the uninterrupted run: same actor, critics
// and replay rows bit for bit, same metrics. The interruption falls mid-episode, so the env's
// state (MuJoCo's, warm start included) and the episode's return so far come from the checkpoint.
TEST(SacCli, AResumedRunEqualsTheUninterruptedOne) {
  auto root = fs::temp_directory_path() / ("seqrl_sac_resume_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::string tiny =
      " sac.hidden=[32,32] sac.batch_size=32 run.start_steps=100 run.log_every=50"
      " run.eval_every=150 run.eval_episodes=1 run.checkpoint_every=200";
  auto start = [&](const std::string& name, int steps) {
    auto r =
        sh("sac -c " + std::string(SEQRL_SOURCE_DIR) + "/configs/sac/hopper.yaml run.steps=" + std::to_string(steps) +
           " run.out_dir=" + (root / name).string() + tiny);
    EXPECT_EQ(r.code, 0) << r.out;
    return fs::directory_iterator(root / name)->path();
  };
  const auto straight = start("straight", 600);
  const auto resumed = start("resumed", 300);
  {
    CheckpointReader at300((resumed / "checkpoints/last.pt").string());
    ASSERT_EQ(at300.number("step"), 300);
    EXPECT_GT(at300.number("episode_length_so_far"), 0) << "the interruption falls mid-episode";
  }
  auto r = sh("sac --resume " + resumed.string() + " run.steps=600");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("no env state"), std::string::npos) << r.out;

  CheckpointReader a((straight / "checkpoints/last.pt").string()), b((resumed / "checkpoints/last.pt").string());
  auto actor_a = Sac::load_actor(a, torch::kCPU), actor_b = Sac::load_actor(b, torch::kCPU);
  auto pa = actor_a->parameters(), pb = actor_b->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "actor parameter " << i;
  for (const char* k : {"env_qpos", "env_qvel", "env_qacc_warmstart"})
    EXPECT_TRUE(torch::equal(a.tensor(k), b.tensor(k))) << k;
  EXPECT_EQ(a.number("episode"), b.number("episode"));
  EXPECT_EQ(a.number("episode_return_so_far"), b.number("episode_return_so_far"));
  int64_t total_a = 0, total_b = 0;
  auto rows_a = load_replay_rows((straight / "checkpoints/replay.pt").string(), &total_a);
  auto rows_b = load_replay_rows((resumed / "checkpoints/replay.pt").string(), &total_b);
  EXPECT_EQ(total_a, 600);
  EXPECT_EQ(total_b, 600);
  for (const auto& [k, v] : rows_a) EXPECT_TRUE(torch::equal(v, rows_b.at(k))) << k;

  // metrics.csv: every column but the clock ones.
  auto ma = read_csv((straight / "metrics.csv").string()), mb = read_csv((resumed / "metrics.csv").string());
  ASSERT_EQ(ma.size(), mb.size());
  for (size_t row = 0; row < ma.size(); ++row)
    for (size_t c = 0; c < ma[0].size(); ++c)
      if (ma[0][c] != "wall_s" && ma[0][c] != "env_steps_per_s")
        EXPECT_EQ(ma[row][c], mb[row][c]) << ma[0][c] << " at row " << row;
  fs::remove_all(root);
}

}  // namespace
}  // namespace seqrl
