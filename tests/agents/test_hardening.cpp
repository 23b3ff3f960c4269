// Checkpoints and training under faults (issue 15): checksums and fallback, a failing write,
// fsync or rename at every call of a run (fault injection through core/atomic_file.h), the run
// lock, stale temp files, model keys changed before resume, Ctrl-C in the final evaluation.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agents/checkpoint.h"
#include "agents/dt.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/run_dir.h"
#include "tests/agents/dt_fixture.h"

namespace fs = std::filesystem;
using namespace seqrl;
using namespace seqrl::testing;

namespace {

const std::string kCli = SEQRL_CLI;

void flip_byte(const fs::path& file, double where) {
  auto bytes = read_file(file.string());
  bytes[size_t(double(bytes.size()) * where)] ^= 0x10;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

void write_step_checkpoint(const fs::path& dir, int step, bool as_last = false) {
  CheckpointWriter w;
  w.number("step", step);
  w.tensor("weights", torch::arange(1000, torch::kFloat) * float(step));
  w.save((dir / ("step_" + std::to_string(step) + ".pt")).string());
  if (as_last) w.save((dir / "last.pt").string());
}

TEST(CheckpointChecksum, AFlippedByteIsAnErrorNotADifferentModel) {
  auto dir = temp_dir("checksum");
  write_step_checkpoint(dir, 7);
  auto file = dir / "step_7.pt";
  EXPECT_EQ(CheckpointReader(file.string()).number("step"), 7);
  flip_byte(file, 0.6);  // inside the tensor data
  try {
    CheckpointReader r(file.string());
    FAIL() << "a corrupt checkpoint loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("step_7.pt: checksum mismatch"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(CheckpointChecksum, CorruptLastFallsBackToTheNewestIntactStep) {
  auto root = temp_dir("fallback");
  auto dir = root / "checkpoints";
  fs::create_directories(dir);
  write_step_checkpoint(dir, 5);
  write_step_checkpoint(dir, 10, true);
  flip_byte(dir / "last.pt", 0.5);
  EXPECT_EQ(open_checkpoint(root.string()).number("step"), 10);
  flip_byte(dir / "step_10.pt", 0.5);
  auto r = open_checkpoint(root.string());
  EXPECT_EQ(r.number("step"), 5);
  EXPECT_EQ(r.path(), (dir / "step_5.pt").string());
  // An explicitly named step file does not fall back.
  EXPECT_THROW(open_checkpoint((dir / "step_10.pt").string()), Error);
  flip_byte(dir / "step_5.pt", 0.5);
  EXPECT_THROW(open_checkpoint(root.string()), Error);
  fs::remove_all(root);
}

TEST(RunLockTest, ASecondHolderFailsNamingTheFolder) {
  auto dir = temp_dir("lock");
  {
    RunLock first(dir.string());
    try {
      RunLock second(dir.string());
      FAIL() << "two locks on one run folder";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("another seqrl process is using this run folder"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_NO_THROW(RunLock again(dir.string()));  // released with its holder
  fs::remove_all(dir);
}

// A tiny run configured from dt_fixture's YAML, its config.yaml written as `seqrl train` does.
struct TinyRun {
  DtConfig config;
  std::string dir;
};

TinyRun make_run(const fs::path& root, const std::string& data, int64_t steps, int64_t ckpt_every) {
  TinyRun run;
  Config cfg;
  cfg.declare<DtConfig>();
  cfg.load_yaml_text(tiny_yaml(data, steps, ckpt_every), "tiny.yaml");
  cfg.resolve();
  run.config = cfg.get<DtConfig>();
  run.dir = create_run_dir(root.string(), "tiny");
  write_file_atomic((fs::path(run.dir) / "config.yaml").string(), cfg.to_yaml());
  return run;
}

std::string step_column(const std::string& run_dir) {
  std::istringstream in(read_file((fs::path(run_dir) / "metrics.csv").string()));
  std::string line, steps;
  std::getline(in, line);
  while (std::getline(in, line)) steps += line.substr(0, line.find(',')) + " ";
  return steps;
}

// The step whose checkpoint save call `index` belongs to. A save writes step_N.pt, then last.pt:
// a call before the next last.pt belongs to the save of the step_N.pt written just before it;
// any other call (metrics rows, the next save's step_N.pt) to the next step_N.pt.
int64_t saving_step(const std::vector<std::string>& calls, size_t index, int64_t final_step) {
  auto step_in = [](const std::string& path) -> int64_t {
    auto at = path.find("/step_");
    return at == std::string::npos ? -1 : std::stoll(path.substr(at + 6));
  };
  for (size_t i = index; i < calls.size(); ++i) {
    if (step_in(calls[i]) >= 0) return step_in(calls[i]);
    if (calls[i].find("/last.pt") != std::string::npos) {
      for (size_t j = i; j-- > 0;)
        if (step_in(calls[j]) >= 0) return step_in(calls[j]);
      return final_step;
    }
  }
  return final_step;
}

TEST(FaultInjection, AFailingWriteFsyncOrRenameAtAnyCallLosesAtMostOneCheckpointInterval) {
  auto root = temp_dir("faults");
  auto data = write_hopper_like(root);
  const int64_t steps = 20, every = 5;

  // A clean run, recording every write/fsync/rename it makes.
  auto clean = make_run(root / "clean", data, steps, every);
  std::vector<std::string> calls;
  set_file_fault_hook([&](FileOp, const std::string& path) {
    calls.push_back(path);
    return 0;
  });
  ASSERT_EQ(train_decision_model(clean.config, clean.dir, false), 0);
  set_file_fault_hook(nullptr);
  const auto expected_rows = step_column(clean.dir);
  ASSERT_EQ(expected_rows, "5 10 15 20 20 20 ");  // log_every 5, then the final evaluation's targets 3600, 1800
  ASSERT_GT(calls.size(), 30u);

  for (size_t k = 0; k < calls.size(); ++k) {
    SCOPED_TRACE("fault at call " + std::to_string(k) + " (" + calls[k] + ")");
    auto run = make_run(root / ("k" + std::to_string(k)), data, steps, every);
    size_t call = 0;
    set_file_fault_hook([&](FileOp op, const std::string&) {
      if (call++ != k) return 0;
      return op == FileOp::Write ? ENOSPC : EIO;
    });
    std::string message;
    try {
      train_decision_model(run.config, run.dir, false);
    } catch (const Error& e) {
      message = e.what();
    }
    set_file_fault_hook(nullptr);
    ASSERT_FALSE(message.empty()) << "the injected fault went unnoticed";
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    if (calls[k].find(".tmp.") != std::string::npos && message.find("write failed") != std::string::npos)
      EXPECT_NE(message.find("no space left on device"), std::string::npos) << message;
    // No temp file survives, the checkpoint left is intact and at most one interval old.
    for (const auto& e : fs::recursive_directory_iterator(run.dir))
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
    const int64_t failed_at = saving_step(calls, k, steps);
    if (failed_at > every) {
      auto r = open_checkpoint(run.dir);
      EXPECT_GE(int64_t(r.number("step")), failed_at - every);
    }
    // Resuming completes the run with every metrics row exactly once.
    const bool any_checkpoint =
        fs::exists(fs::path(run.dir) / "checkpoints" / "last.pt") ||
        fs::exists(fs::path(run.dir) / "checkpoints" / ("step_" + std::to_string(every) + ".pt"));
    ASSERT_EQ(train_decision_model(run.config, run.dir, any_checkpoint), 0);
    EXPECT_EQ(step_column(run.dir), expected_rows);
    EXPECT_TRUE(fs::exists(fs::path(run.dir) / "eval.json"));
    fs::remove_all(run.dir);
  }
  fs::remove_all(root);
}

TEST(TrainCli, ResumeOfAFolderThatIsNotARunWritesNothing) {
  auto dir = temp_dir("notarun");
  const std::string text = "train:\n  steps: 7\n";
  write_text(dir / "config.yaml", text);
  std::string out;
  EXPECT_EQ(run_command(kCli + " train --resume " + dir.string(), &out), 1) << out;
  EXPECT_NE(out.find("no checkpoint there"), std::string::npos) << out;
  EXPECT_EQ(read_file((dir / "config.yaml").string()), text);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().filename().string());
  EXPECT_EQ(files, std::vector<std::string>{"config.yaml"});
  fs::remove_all(dir);
}

// A finished tiny run made through the CLI; returns its folder.
fs::path cli_run(const fs::path& dir, int64_t steps) {
  auto data = write_hopper_like(dir);
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml(data, steps, 5));
  std::string out;
  EXPECT_EQ(run_command(kCli + " train -c " + cfg + " run.out_dir=" + (dir / "runs").string(), &out), 0) << out;
  return *fs::directory_iterator(dir / "runs");
}

TEST(TrainCli, ChangedModelKeyOnResumeIsAnErrorNamingIt) {
  auto dir = temp_dir("shape");
  auto run = cli_run(dir, 10);
  auto config = read_file((run / "config.yaml").string());
  auto at = config.find("max_ep_len: 1000");
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, 16, "max_ep_len: 2000");
  write_text(run / "config.yaml", config);
  std::string out;
  EXPECT_EQ(run_command(kCli + " train --resume " + run.string() + " train.steps=20", &out), 1) << out;
  EXPECT_NE(out.find("model.max_ep_len = 2000 but the checkpoint"), std::string::npos) << out;
  EXPECT_NE(out.find("model.max_ep_len = 1000"), std::string::npos) << out;
  EXPECT_EQ(read_file((run / "config.yaml").string()), config);  // nothing rewritten
  // A key that does not size the weights may change.
  EXPECT_EQ(run_command(kCli + " train --resume " + run.string() +
                            " model.max_ep_len=1000 model.dropout=0.2 "
                            "train.steps=15",
                        &out),
            0)
      << out;
  fs::remove_all(dir);
}

TEST(TrainCli, StaleTempFilesAreRemovedAndALockedRunIsRefused) {
  auto dir = temp_dir("stale");
  auto run = cli_run(dir, 10);
  write_text(run / "checkpoints" / "last.pt.tmp.4242", "half a checkpoint");
  write_text(run / "metrics.csv.tmp.4243", "step\n");
  std::string out;
  // Another process holds the run: flock(1) takes the lock, then runs the second trainer.
  EXPECT_EQ(run_command("flock " + (run / ".lock").string() + " " + kCli + " train --resume " + run.string() +
                            " train.steps=15",
                        &out),
            1)
      << out;
  EXPECT_NE(out.find("another seqrl process is using this run folder"), std::string::npos) << out;
  EXPECT_EQ(run_command(kCli + " train --resume " + run.string() + " train.steps=15", &out), 0) << out;
  EXPECT_FALSE(fs::exists(run / "checkpoints" / "last.pt.tmp.4242"));
  EXPECT_FALSE(fs::exists(run / "metrics.csv.tmp.4243"));
  fs::remove_all(dir);
}

TEST(TrainSignal, CtrlCDuringTheFinalEvaluationStopsPromptlyWith130) {
  auto root = temp_dir("final_sigint");
  auto data = write_hopper_like(root);
  auto run = make_run(root, data, 10, 5);
  run.config.episodes = 200;  // a long final evaluation: 2 targets x 200 episodes
  run.config.eval_modes = "both";
  std::atomic<bool> done{false};
  std::chrono::steady_clock::time_point sent;
  std::thread interrupter([&] {
    while (!done && !fs::exists(fs::path(run.dir) / "checkpoints" / "step_10.pt"))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sent = std::chrono::steady_clock::now();
    if (!done) ::kill(::getpid(), SIGINT);
  });
  const int code = train_decision_model(run.config, run.dir, false);
  done = true;
  interrupter.join();
  EXPECT_EQ(code, 130);
  // Well before the 800 evaluation episodes could finish (generous: CI machines are shared).
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count(), 20.0);
  EXPECT_FALSE(fs::exists(fs::path(run.dir) / "eval.json"));
  EXPECT_EQ(open_checkpoint(run.dir).number("step"), 10);  // what was saved is kept
  fs::remove_all(root);
}

TEST(TrainNan, NoCheckpointIsClaimedWhenNoneWasWritten) {
  auto dir = temp_dir("nan_fresh");
  auto bad = write_hopper_like(dir, 600, 3e38f, "hopper-overflow.hdf5");
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml(bad, 20, 10));
  std::string out;
  EXPECT_EQ(run_command(kCli + " train -c " + cfg + " run.out_dir=" + (dir / "runs").string(), &out), 1) << out;
  EXPECT_NE(out.find("training loss is"), std::string::npos) << out;
  EXPECT_NE(out.find("no checkpoint was written"), std::string::npos) << out;
  EXPECT_EQ(out.find("intact"), std::string::npos) << out;
  fs::remove_all(dir);
}

// One-line errors that name the file or key, before any training starts.
TEST(TrainCli, BadConfigsNameTheFileOrKey) {
  auto dir = temp_dir("badcfg");
  auto data = write_hopper_like(dir);
  auto runs = " run.out_dir=" + (dir / "runs").string();
  struct Case {
    std::string args, expected;
    int code;
  };
  const std::vector<Case> cases = {
      {"foo", "unknown command 'foo'", 2},
      {"trian", "did you mean 'train'", 2},
      {"train data.path=" + data + " data.env=mars", "data.env = mars: unknown environment", 1},
      {"train data.path=" + data + " model.embed_dim=65536", "model.embed_dim = 65536", 1},
      {"train data.path=" + data + " train.batch_size=1048576", "train.batch_size = 1048576", 1},
      {"train data.path=" + data + " model.backbone=mlstm model.mlstm.chunk=2.5",
       "model.mlstm.chunk = 2.5: expected an integer", 1},
      {"train data.path=" + data + " model.mamba.d_conv=2.7", "model.mamba.d_conv = 2.7: expected an integer", 1},
      {"train data.path=", "data.path = \"\": expected a non-empty path", 1},
      {"train -c " + write_text(dir / "dup.yaml", "train:\n  steps: 1\n  steps: 2\n"),
       "dup.yaml: line 3: duplicate key", 1},
      {"train -c " + write_text(dir / "empty.yaml", ""), "empty.yaml: empty config", 1},
      {"train -c " + write_text(dir / "complex.yaml", "? [a, b] : 1\n"), "complex.yaml: line 1: a key must be", 1},
  };
  for (const auto& c : cases) {
    std::string out;
    EXPECT_EQ(run_command(kCli + " " + c.args + runs, &out), c.code) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.expected), std::string::npos) << c.args << "\n" << out;
    EXPECT_NE(out.find("seqrl: "), std::string::npos) << out;
  }
  // A path is taken verbatim: "#" and "!!binary" stay part of the file name.
  std::string out;
  EXPECT_EQ(run_command(kCli + " train --print-config 'data.path=a #b.hdf5'", &out), 0) << out;
  EXPECT_NE(out.find("a #b.hdf5"), std::string::npos) << out;
  EXPECT_EQ(run_command(kCli + " train 'data.path=!!binary " + data + "'" + runs, &out), 1) << out;
  EXPECT_NE(out.find("!!binary " + data + ": no such file"), std::string::npos) << out;
  fs::remove_all(dir);
}

}  // namespace
