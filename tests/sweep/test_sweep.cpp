// `seqrl sweep` end to end: a 2 backbones × 2 seeds grid of tiny runs, run here with -j 2 and on
// a real one-node Slurm (scripts/slurm_local.sh: munged + slurmctld + slurmd on localhost) as one
// job array; a second invocation continues instead of starting again; both give the same table.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "../agents/dt_fixture.h"
#include "core/atomic_file.h"

namespace fs = std::filesystem;
using namespace seqrl;
using namespace seqrl::testing;

namespace {

const std::string kCli = SEQRL_CLI;

// The sweep file: the tiny config as base (relative path), the grid, resources for both ways.
std::string write_sweep(const fs::path& dir, const std::string& name, const std::string& out_dir, int steps = 10) {
  write_hopper_like(dir);
  write_text(dir / "tiny.yaml", tiny_yaml("hopper-synthetic.hdf5", 10, 10));
  return write_text(dir / name, "config: tiny.yaml\nout_dir: " + out_dir +
                                    "\nset:\n  train.steps: " + std::to_string(steps) +
                                    "\ngrid:\n  model.backbone: [mingru, gru]\n  run.seed: [0, 1]\n"
                                    "local: {jobs: 2, threads: 1}\nslurm: {cpus: 1, time: \"00:10:00\"}\n");
}

std::string table_csv(const fs::path& runs, const fs::path& csv) {
  std::string out;
  EXPECT_EQ(run_command(kCli + " table " + runs.string() + " --csv " + csv.string(), &out), 0) << out;
  return read_file(csv.string());
}

const std::vector<std::string> kRuns = {"backbone-mingru_seed-0", "backbone-mingru_seed-1", "backbone-gru_seed-0",
                                        "backbone-gru_seed-1"};

TEST(SweepLocal, RunsTheGridSkipsFinishedRunsResumesInterruptedOnesAndRefusesAChangedFile) {
  auto dir = temp_dir("sweep_local");
  auto sweep = write_sweep(dir, "grid.yaml", "runs");
  std::string out;
  ASSERT_EQ(run_command(kCli + " sweep status " + sweep, &out), 0) << out;
  EXPECT_NE(out.find("4 runs: done 0, running 0, failed 0, pending 4"), std::string::npos) << out;

  ASSERT_EQ(run_command(kCli + " sweep " + sweep, &out), 0) << out;
  for (const auto& name : kRuns) {
    ASSERT_TRUE(fs::exists(dir / "runs" / name / "eval.json")) << name << "\n" << out;
    auto config = YAML::LoadFile((dir / "runs" / name / "config.yaml").string());
    EXPECT_EQ(config["run"]["threads"].as<int>(), 1);
    EXPECT_EQ(config["train"]["steps"].as<int>(), 10);
    // Paths in the sweep and its base config resolve against their own folder.
    EXPECT_EQ(config["data"]["path"].as<std::string>(), (dir / "hopper-synthetic.hdf5").string());
  }
  EXPECT_NE(out.find("[backbone-gru_seed-1] [info]"), std::string::npos) << "log lines carry the run's tag\n" << out;
  EXPECT_NE(out.find("| gru | mingru |"), std::string::npos) << out;
  ASSERT_EQ(run_command(kCli + " sweep status " + sweep, &out), 0) << out;
  EXPECT_NE(out.find("done 4, running 0, failed 0, pending 0"), std::string::npos) << out;
  auto csv = table_csv(dir / "runs", dir / "t.csv");
  EXPECT_NE(csv.find("hopper-synthetic,gru,gru,window,first,2,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("hopper-synthetic,mingru,mingru,window,first,2,"), std::string::npos) << csv;

  // A second invocation: nothing finished is trained again.
  const auto stamp = fs::last_write_time(dir / "runs" / kRuns[0] / "eval.json");
  ASSERT_EQ(run_command(kCli + " sweep " + sweep, &out), 0) << out;
  EXPECT_NE(out.find("0 to train (skipped: 4 done)"), std::string::npos) << out;
  EXPECT_EQ(fs::last_write_time(dir / "runs" / kRuns[0] / "eval.json"), stamp);

  // A run killed before its final evaluation (its last checkpoint is there, its status says
  // running with a pid that is gone): the next invocation resumes it, and only it.
  const auto killed = dir / "runs" / kRuns[3];
  fs::remove(killed / "eval.json");
  write_text(
      killed / "status.json", "{\"state\": \"running\", \"host\": \"" + [] {
        char h[256] = {};
        ::gethostname(h, 255);
        return std::string(h);
      }() + "\", \"pid\": 999999999}");
  ASSERT_EQ(run_command(kCli + " sweep status " + sweep, &out), 0) << out;
  EXPECT_NE(out.find("done 3, running 0, failed 1, pending 0"), std::string::npos) << out;
  ASSERT_EQ(run_command(kCli + " sweep " + sweep, &out), 0) << out;
  EXPECT_NE(out.find("1 to train (skipped: 3 done)"), std::string::npos) << out;
  EXPECT_NE(read_file((killed / "log.txt").string()).find("resumed"), std::string::npos);
  EXPECT_EQ(table_csv(dir / "runs", dir / "t2.csv"), csv) << "the resumed run scores as before";

  // The sweep file changed under existing runs: an error naming the setting, nothing started.
  write_sweep(dir, "grid.yaml", "runs", 20);
  EXPECT_EQ(run_command(kCli + " sweep " + sweep, &out), 1) << out;
  EXPECT_NE(out.find("train.steps = 10, the sweep file now says 20"), std::string::npos) << out;
  fs::remove_all(dir);
}

// The datasets axis: one experiment config per dataset (as configs/<env>-<kind>.yaml are), each
// run built on its own; the folder is named by the config.
TEST(SweepLocal, AConfigAxisRunsEachDatasetsOwnConfig) {
  auto dir = temp_dir("sweep_configs");
  write_hopper_like(dir);
  write_text(dir / "a.yaml", tiny_yaml("hopper-synthetic.hdf5", 10, 10));
  write_text(dir / "b.yaml", "defaults: a.yaml\neval:\n  targets: [900]\n");
  auto sweep = write_text(dir / "datasets.yaml",
                          "out_dir: runs\ngrid:\n  config: [a.yaml, b.yaml]\n  run.seed: [3]\n"
                          "local: {jobs: 1, threads: 1}\n");
  std::string out;
  ASSERT_EQ(run_command(kCli + " sweep " + sweep, &out), 0) << out;
  for (const std::string name : {"a_seed-3", "b_seed-3"}) {
    ASSERT_TRUE(fs::exists(dir / "runs" / name / "eval.json")) << name << "\n" << out;
    auto config = YAML::LoadFile((dir / "runs" / name / "config.yaml").string());
    EXPECT_EQ(config["run"]["seed"].as<int>(), 3) << name;
    const bool b = name[0] == 'b';
    const auto targets = config["eval"]["targets"];
    EXPECT_EQ(targets.size() == 1 && targets[0].as<double>() == 900, b)
        << name << ": each run has its own config's setting";
  }
  fs::remove_all(dir);
}

TEST(SweepLocal, BadSweepFilesAreOneLineNamingFileAndKey) {
  auto dir = temp_dir("sweep_bad");
  write_hopper_like(dir);
  write_text(dir / "tiny.yaml", tiny_yaml("hopper-synthetic.hdf5", 10, 10));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"config: tiny.yaml\ngrid:\n  run.seed: []\n", "grid.run.seed: expected a non-empty list"},
      {"config: tiny.yaml\ngird:\n  run.seed: [0]\n", "unknown key 'gird' (did you mean 'grid'?)"},
      {"config: tiny.yaml\ngrid:\n  model.backbone: [gru, nope]\n", "model.backbone = nope"},
      {"config: nothere.yaml\ngrid:\n  run.seed: [0]\n", "nothere.yaml: no such file"},
      {"config: tiny.yaml\ngrid:\n  run.seed: [0]\nslurm: {cpu: 2}\n", "unknown key 'slurm.cpu'"},
      {"config: tiny.yaml\ngrid:\n  config: [tiny.yaml]\n", "either at the top or as the grid axis grid.config"},
      {"grid:\n  config: [tiny.yaml, gone.yaml]\n", "grid.config: " + (dir / "gone.yaml").string() + ": no such file"},
  };
  for (const auto& [text, expected] : cases) {
    auto sweep = write_text(dir / "bad.yaml", text);
    std::string out;
    EXPECT_EQ(run_command(kCli + " sweep " + sweep + " --out-never-used", &out), 2) << out;  // usage: unknown flag
    EXPECT_EQ(run_command(kCli + " sweep " + sweep, &out), 1) << text << out;
    EXPECT_NE(out.find(expected), std::string::npos) << text << out;
    EXPECT_NE(out.find("bad.yaml"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
  EXPECT_FALSE(fs::exists(dir / "runs")) << "no run folder for a sweep that failed to start";
  fs::remove_all(dir);
}

// Starts the private Slurm for the test and stops it however the test ends.
struct LocalSlurm {
  fs::path dir;
  bool up = false;
  std::string output;
  explicit LocalSlurm(const fs::path& d) : dir(d) {
    up = run_command("bash " + std::string(SEQRL_SOURCE_DIR) + "/scripts/slurm_local.sh start " + dir.string(),
                     &output) == 0;
    if (up) ::setenv("SLURM_CONF", (dir / "slurm.conf").c_str(), 1);
  }
  // Before the folder goes: the daemons' pid files are in it.
  void stop() {
    if (up) run_command("bash " + std::string(SEQRL_SOURCE_DIR) + "/scripts/slurm_local.sh stop " + dir.string());
    up = false;
  }
  ~LocalSlurm() { stop(); }
};

TEST(SweepSlurm, AJobArrayOnAOneNodeClusterGivesTheSameTableAsTheLocalSweep) {
  auto dir = temp_dir("sweep_slurm");
  LocalSlurm slurm(dir / "slurm");
  // No quiet skip: a machine that cannot start Slurm fails this test, with the daemons' logs.
  ASSERT_TRUE(slurm.up) << "could not start the test Slurm (scripts/slurm_local.sh):\n" << slurm.output;

  auto local = write_sweep(dir, "local.yaml", "runs-local");
  auto cluster = write_sweep(dir, "cluster.yaml", "runs-slurm");
  std::string out;
  ASSERT_EQ(run_command(kCli + " sweep " + local, &out), 0) << out;
  ASSERT_EQ(run_command(kCli + " sweep " + cluster + " --slurm --wait", &out), 0) << out;
  EXPECT_NE(out.find("submitted Slurm job array"), std::string::npos) << out;
  EXPECT_NE(out.find("done 4, running 0, failed 0, pending 0"), std::string::npos) << out;
  for (const auto& name : kRuns) {
    const auto run = dir / "runs-slurm" / name;
    ASSERT_TRUE(fs::exists(run / "eval.json")) << name << "\n" << out;
    // It ran as an array task: its status names the Slurm job, and the task's output exists.
    auto status = YAML::LoadFile((run / "status.json").string());
    EXPECT_EQ(status["state"].as<std::string>(), "done");
    EXPECT_NE(status["slurm_job"].as<std::string>().find('_'), std::string::npos) << status["slurm_job"];
  }
  size_t outputs = 0;
  for (const auto& e : fs::directory_iterator(dir / "runs-slurm" / "slurm")) outputs += e.path().extension() == ".out";
  EXPECT_EQ(outputs, 4u);
  // Same seeds, same settings, one thread each: the same numbers, here and on the cluster.
  EXPECT_EQ(table_csv(dir / "runs-slurm", dir / "slurm.csv"), table_csv(dir / "runs-local", dir / "local.csv"));

  // A second submission finds everything done and submits nothing.
  ASSERT_EQ(run_command(kCli + " sweep " + cluster + " --slurm --wait", &out), 0) << out;
  EXPECT_NE(out.find("0 to submit (skipped: 4 done)"), std::string::npos) << out;
  slurm.stop();
  // "[s]lurm.conf": the pattern must not match the shell that runs pgrep.
  EXPECT_NE(run_command("pgrep -f " + (dir / "slurm" / "[s]lurm.conf").string()), 0) << "slurmctld/slurmd left running";
  fs::remove_all(dir);
}

}  // namespace
