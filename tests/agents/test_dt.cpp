// The offline trainer and its evaluation protocol: loss masking, RTG conditioning and reward
// scaling at eval, window-vs-recurrent acting, resume after kill -9, NaN handling, SIGINT.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "agents/checkpoint.h"
#include "agents/dt.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/run_dir.h"
#include "dt_fixture.h"

namespace fs = std::filesystem;
using namespace seqrl;
using namespace seqrl::testing;

namespace {

// A tiny configuration that trains in seconds.
DtConfig tiny_config(const std::string& dataset, const std::string& backbone, int64_t steps) {
  Config cfg;
  cfg.declare<DtConfig>();
  auto c = cfg.get<DtConfig>();  // backbone options at their defaults
  c.dataset = dataset;
  c.backbone = backbone;
  c.context = 8;
  c.embed_dim = 16;
  c.layers = 1;
  c.heads = 1;
  c.dropout = 0.0;
  c.steps = steps;
  c.batch_size = 16;
  c.lr = 3e-3;
  c.warmup_steps = 10;
  c.log_every = 10;
  c.checkpoint_every = 50;
  c.eval_every = 0;
  c.episodes = 1;
  c.eval_during_episodes = 1;
  c.eval_modes = "window";
  c.threads = 1;
  return c;
}

std::string run_in(const fs::path& root, const DtConfig& c) {
  auto dir = create_run_dir(root.string(), c.backbone);
  write_file_atomic((fs::path(dir) / "config.yaml").string(), Config::yaml_of(c));
  return dir;
}

// Column `col` of metrics.csv as numbers (empty cells skipped).
std::vector<double> metric_column(const std::string& run_dir, size_t col) {
  std::istringstream in(read_file((fs::path(run_dir) / "metrics.csv").string()));
  std::string line;
  std::getline(in, line);
  std::vector<double> out;
  while (std::getline(in, line)) {
    const auto cells = csv_cells(line);
    if (col < cells.size() && !cells[col].empty()) out.push_back(std::stod(cells[col]));
  }
  return out;
}

TEST(MaskedActionLoss, EqualsNaiveLoopOverRealStepsOnly) {
  torch::manual_seed(0);
  auto pred = torch::randn({3, 5, 2}, torch::kFloat64), target = torch::randn({3, 5, 2}, torch::kFloat64);
  auto mask = torch::tensor({0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1}, torch::kFloat64).reshape({3, 5});
  double sum = 0;
  int real = 0;
  for (int b = 0; b < 3; ++b)
    for (int k = 0; k < 5; ++k) {
      if (mask[b][k].item<double>() == 0) continue;
      ++real;
      for (int j = 0; j < 2; ++j) {
        double d = pred[b][k][j].item<double>() - target[b][k][j].item<double>();
        sum += d * d / 2.0;
      }
    }
  EXPECT_NEAR(masked_action_loss(pred, target, mask).item<double>(), sum / real, 1e-12);
  // Padded predictions do not matter at all.
  auto pred2 = pred.clone();
  pred2[0][0] += 100.0;
  EXPECT_DOUBLE_EQ(masked_action_loss(pred2, target, mask).item<double>(),
                   masked_action_loss(pred, target, mask).item<double>());
}

// "A short real run per backbone shows the loss going down" (issue 6): 150 steps on
// generated data whose actions are a smooth function of the state.
class LossGoesDown : public ::testing::TestWithParam<std::string> {};

TEST_P(LossGoesDown, OnGeneratedData) {
  auto dir = temp_dir("loss_" + GetParam());
  auto data = write_hopper_like(dir);
  auto c = tiny_config(data, GetParam(), 150);
  auto run = run_in(dir, c);
  ASSERT_EQ(train_decision_model(c, run, false), 0);
  auto loss = metric_column(run, 2);
  ASSERT_GE(loss.size(), 10u);
  double first = loss.front(), last = (loss[loss.size() - 1] + loss[loss.size() - 2] + loss[loss.size() - 3]) / 3;
  EXPECT_LT(last, 0.6 * first) << GetParam() << ": loss " << first << " -> " << last;
  EXPECT_TRUE(fs::exists(fs::path(run) / "eval.json"));
  // The checkpoint loads back into a fresh model (module names must serialize).
  EXPECT_EQ(load_trained_policy(run, "cpu").step, 150);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(EveryBackbone, LossGoesDown, ::testing::ValuesIn(backbone_names()));  // the registry

// Issue 17: checkpoints store the run's own config (Config::yaml_of), not whatever config.yaml
// holds on disk, and a non-default backbone option survives the round trip.
TEST(DtCheckpoint, StoresTheRunsOwnConfigNotTheFileOnDisk) {
  auto dir = temp_dir("own_config");
  auto data = write_hopper_like(dir);
  auto c = tiny_config(data, "mingru", 20);
  c.backbone_options["mingru"]["expand"] = 2;
  auto run = run_in(dir, c);
  write_file_atomic((fs::path(run) / "config.yaml").string(), "edited: by hand\n");
  ASSERT_EQ(train_decision_model(c, run, false), 0);
  CheckpointReader r(resolve_checkpoint(run));
  EXPECT_EQ(r.text("config"), Config::yaml_of(c));
  auto p = load_trained_policy(run, "cpu");
  EXPECT_EQ(p.config.backbone_options.at("mingru").at("expand"), 2.0);
  EXPECT_EQ(p.config.steps, 20);
  EXPECT_EQ(p.config.dataset, data);
  fs::remove_all(dir);
}

TEST(DtEval, RtgStartsAtTargetOverScaleAndDropsByEachRewardOverScale) {
  auto dir = temp_dir("rtg");
  auto data = write_hopper_like(dir);
  auto c = tiny_config(data, "mingru", 20);
  c.reward_scale = 500;  // not the default: train and eval must agree on it
  auto run = run_in(dir, c);
  ASSERT_EQ(train_decision_model(c, run, false), 0);
  auto policy = load_trained_policy(run, "cpu");
  EXPECT_DOUBLE_EQ(policy.scaling.reward_scale, 500);
  EvalSettings s;
  s.env = "hopper";
  s.target = 1800;
  s.episodes = 2;
  auto r = evaluate_policy(policy.model, policy.scaling, s);
  ASSERT_GE(r.trace_rtg.size(), 2u);
  ASSERT_EQ(r.trace_rtg.size(), r.trace_reward.size());
  EXPECT_NEAR(r.trace_rtg[0], 1800.0 / 500.0, 1e-6);
  double received = 0;
  for (size_t t = 0; t < r.trace_rtg.size(); ++t) {
    EXPECT_NEAR(r.trace_rtg[t], (1800.0 - received) / 500.0, 1e-4) << "step " << t;
    received += r.trace_reward[t];
  }
  EXPECT_NEAR(received, r.returns[0], 1e-6);
  fs::remove_all(dir);
}

TEST(DtEval, WindowAndRecurrentModesTakeTheSameActionsWhileTheHistoryFitsTheWindow) {
  auto dir = temp_dir("modes");
  auto data = write_hopper_like(dir);
  auto c = tiny_config(data, "mingru", 20);
  c.context = 30;
  auto run = run_in(dir, c);
  ASSERT_EQ(train_decision_model(c, run, false), 0);
  auto policy = load_trained_policy(run, "cpu");
  policy.model->to(torch::kFloat64);  // tight comparison
  EvalSettings s;
  s.env = "hopper";
  s.target = 3600;
  s.episodes = 2;
  s.mode = "window";
  auto window = evaluate_policy(policy.model, policy.scaling, s);
  s.mode = "recurrent";
  auto recurrent = evaluate_policy(policy.model, policy.scaling, s);
  size_t n = std::min<size_t>({window.trace_action.size(), recurrent.trace_action.size(), 30});
  ASSERT_GE(n, 5u);
  for (size_t t = 0; t < n; ++t)
    for (size_t j = 0; j < window.trace_action[t].size(); ++j)
      EXPECT_NEAR(window.trace_action[t][j], recurrent.trace_action[t][j], 1e-9) << "step " << t;
  fs::remove_all(dir);
}

std::map<std::string, torch::Tensor> model_tensors(const std::string& run_dir) {
  auto p = load_trained_policy(run_dir, "cpu");
  std::map<std::string, torch::Tensor> out;
  for (const auto& kv : p.model->named_parameters()) out[kv.key()] = kv.value().detach().clone();
  return out;
}

// Starts `seqrl train` in the background; returns its pid.
pid_t spawn_train(const std::string& args, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string cmd = std::string("exec ") + SEQRL_CLI + " " + args + " > " + log.string() + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits until `path` exists (or the process ends); true if it appeared while still running.
bool wait_for_file(const fs::path& path, pid_t pid) {
  for (int i = 0; i < 60000; ++i) {
    if (fs::exists(path)) return true;
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

TEST(DtResume, KilledWithSigkillAndResumedGivesBitIdenticalParameters) {
  auto dir = temp_dir("resume");
  auto data = write_hopper_like(dir);
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml(data, 120, 10));

  // Uninterrupted reference run.
  std::string out;
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " train -c " + cfg + " run.out_dir=" + (dir / "a").string(), &out), 0)
      << out;
  fs::path ref = *fs::directory_iterator(dir / "a");

  // Same run, killed -9 right after its first checkpoint, then resumed.
  fs::create_directories(dir / "b");
  auto run_b = create_run_dir((dir / "b").string(), "killed");
  pid_t pid = spawn_train("train -c " + cfg + " --run-dir " + run_b, dir / "b.log");
  ASSERT_TRUE(wait_for_file(fs::path(run_b) / "checkpoints" / "step_10.pt", pid))
      << read_file((dir / "b.log").string());
  ::kill(pid, SIGKILL);
  int status;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_FALSE(fs::exists(fs::path(run_b) / "eval.json"));  // it really was cut short
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " train --resume " + run_b, &out), 0) << out;

  auto a = model_tensors(ref.string()), b = model_tensors(run_b);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
  // The resumed run's metrics are the reference's, row for row (each training step once, then
  // the final evaluation's rows), but for the clock columns.
  auto csv_rows = [](const std::string& run) {
    std::istringstream in(read_file((fs::path(run) / "metrics.csv").string()));
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(in, line);) rows.push_back(csv_cells(line));
    return rows;
  };
  auto ra = csv_rows(ref.string()), rb = csv_rows(run_b);
  ASSERT_EQ(ra.size(), rb.size());
  ASSERT_GT(ra.size(), 2u);
  for (size_t row = 1; row < ra.size(); ++row)
    for (size_t col = 0; col < ra[0].size() && col < ra[row].size(); ++col)
      if (ra[0][col] != "wall_s" && ra[0][col] != "samples_per_s")
        EXPECT_EQ(ra[row][col], rb[row].size() > col ? rb[row][col] : "") << ra[0][col] << " in row " << row;
  fs::remove_all(dir);
}

TEST(DtNan, NonFiniteLossStopsNamingTheStepAndKeepsTheLastGoodCheckpoint) {
  auto dir = temp_dir("nan");
  auto good = write_hopper_like(dir);
  // Finite rewards whose returns overflow float32: the RTG tokens become Inf, the loss NaN.
  auto bad = write_hopper_like(dir, 600, 3e38f, "hopper-overflow.hdf5");
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml(good, 20, 10));
  std::string out;
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " train -c " + cfg + " run.out_dir=" + (dir / "runs").string(), &out),
            0)
      << out;
  fs::path run = *fs::directory_iterator(dir / "runs");
  auto last = run / "checkpoints" / "last.pt";
  auto before = read_file(last.string());

  int code = run_command(
      std::string(SEQRL_CLI) + " train --resume " + run.string() + " data.path=" + bad + " train.steps=40", &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("steps 21-25: training loss is"), std::string::npos) << out;  // read back every log_every (5)
  EXPECT_EQ(read_file(last.string()), before);                                     // untouched, still loadable
  EXPECT_NO_THROW(load_trained_policy(run.string(), "cpu"));
  fs::remove_all(dir);
}

TEST(DtSignal, SigintFinishesTheStepSavesAndExits) {
  auto dir = temp_dir("sigint");
  auto data = write_hopper_like(dir);
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml(data, 1000000, 10));
  fs::create_directories(dir / "runs");
  auto run = create_run_dir((dir / "runs").string(), "sigint");
  pid_t pid = spawn_train("train -c " + cfg + " --run-dir " + run, dir / "log");
  ASSERT_TRUE(wait_for_file(fs::path(run) / "checkpoints" / "step_10.pt", pid));
  ::kill(pid, SIGINT);
  int status;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of handling it";
  EXPECT_EQ(WEXITSTATUS(status), 130);
  auto log = read_file((dir / "log").string());
  EXPECT_NE(log.find("interrupted at step"), std::string::npos) << log;
  CheckpointReader r((fs::path(run) / "checkpoints" / "last.pt").string());
  EXPECT_GE(r.number("step"), 10);
  EXPECT_LT(r.number("step"), 1000000);
  fs::remove_all(dir);
}

TEST(DtCli, UnknownConfigKeyExitsOneNamingTheClosestKey) {
  auto dir = temp_dir("cli");
  std::string out;
  EXPECT_EQ(run_command(std::string(SEQRL_CLI) + " train train.step=5", &out), 1);
  EXPECT_NE(out.find("unknown key 'train.step'"), std::string::npos) << out;
  EXPECT_NE(out.find("did you mean 'train.steps'"), std::string::npos) << out;
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "one line: " << out;
  EXPECT_EQ(run_command(std::string(SEQRL_CLI) + " train model.backbone=rnn", &out), 1);
  EXPECT_NE(out.find("model.backbone = rnn: expected one of"), std::string::npos) << out;
  fs::remove_all(dir);
}

}  // namespace

namespace {

TEST(Checkpoints, RunFolderResolvesToLastOrElseTheHighestStep) {
  auto dir = temp_dir("resolve");
  fs::create_directories(dir / "checkpoints");
  for (int step : {5, 40, 100}) {
    CheckpointWriter w;
    w.number("step", step);
    w.save((dir / "checkpoints" / ("step_" + std::to_string(step) + ".pt")).string());
  }
  EXPECT_EQ(resolve_checkpoint(dir.string()), (dir / "checkpoints" / "step_100.pt").string());
  fs::copy_file(dir / "checkpoints" / "step_40.pt", dir / "checkpoints" / "last.pt");
  EXPECT_EQ(resolve_checkpoint(dir.string()), (dir / "checkpoints" / "last.pt").string());
  EXPECT_EQ(resolve_checkpoint((dir / "checkpoints" / "step_5").string()),
            (dir / "checkpoints" / "step_5.pt").string());
  EXPECT_THROW(resolve_checkpoint((dir / "checkpoints" / "step_6").string()), Error);
  std::ofstream(dir / "checkpoints" / "junk.pt") << "not a checkpoint";
  EXPECT_THROW(CheckpointReader((dir / "checkpoints" / "junk.pt").string()), Error);
  fs::remove_all(dir);
}

}  // namespace
