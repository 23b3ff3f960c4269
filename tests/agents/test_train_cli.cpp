// The multi-seed workflow from the command line: `seqrl train --seeds 0,1 -j 2` (one run folder
// per seed, children in parallel, log lines tagged), `seqrl table` over those runs, `seqrl plot`
// of their curves; and what a single `seqrl train` leaves on disk (metrics rows, config-relative
// paths, no folder after a failed start).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "datasets/dataset.h"
#include "dt_fixture.h"

namespace fs = std::filesystem;
using namespace seqrl;
using namespace seqrl::testing;

namespace {

const std::string kCli = SEQRL_CLI;

// Trains the tiny config with `--seeds <seeds> -j 2` into dir/runs; returns the exit status.
int train_seeds(const fs::path& dir, const std::string& seeds, std::string* output) {
  auto data = write_hopper_like(dir);
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml(data, 20, 10));
  return run_command(
      kCli + " train -c " + cfg + " run.out_dir=" + (dir / "runs").string() + " --seeds " + seeds + " -j 2", output);
}

// The run folders under dir/runs, by the run.seed of their config.yaml.
std::map<int, fs::path> runs_by_seed(const fs::path& dir) {
  std::map<int, fs::path> runs;
  for (const auto& e : fs::directory_iterator(dir / "runs"))
    if (fs::exists(e.path() / "config.yaml"))  // a child that failed on its config never wrote one
      runs[YAML::LoadFile((e.path() / "config.yaml").string())["run"]["seed"].as<int>()] = e.path();
  return runs;
}

// The final evaluation entry of a run's eval.json for the first target (the table's default) in
// window mode.
YAML::Node first_window_result(const fs::path& run) {
  auto eval = YAML::LoadFile((run / "eval.json").string());
  for (const auto& r : eval["final"])
    if (r["mode"].as<std::string>() == "window") return r;
  ADD_FAILURE() << run << ": no window-mode result";
  return {};
}

double mean_of(const YAML::Node& list) {
  double sum = 0;
  for (const auto& v : list) sum += v.as<double>();
  return sum / double(list.size());
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

TEST(TrainSeeds, TwoSeedsInParallelGiveTwoRunsThatTheTableAggregates) {
  auto dir = temp_dir("seeds");
  std::string out;
  ASSERT_EQ(train_seeds(dir, "0,1", &out), 0) << out;
  auto runs = runs_by_seed(dir);
  ASSERT_EQ(runs.size(), 2u) << out;
  ASSERT_EQ(runs.begin()->first, 0);
  ASSERT_EQ(runs.rbegin()->first, 1);
  for (const auto& [seed, run] : runs) {
    ASSERT_TRUE(fs::exists(run / "eval.json")) << run;
    EXPECT_EQ(YAML::LoadFile((run / "eval.json").string())["seed"].as<int>(), seed);
  }

  // Each run's score for the table: the mean over its episodes, computed here from the returns'
  // normalized values; different training seeds act differently on the same evaluation episode.
  std::vector<double> scores;
  for (const auto& [seed, run] : runs) scores.push_back(mean_of(first_window_result(run)["normalized"]));
  EXPECT_NE(first_window_result(runs.at(0))["returns"][0].as<double>(),
            first_window_result(runs.at(1))["returns"][0].as<double>());

  // seqrl table over the parent folder: one cell, 2 seeds, mean and population std of the two.
  ASSERT_EQ(run_command(kCli + " table " + (dir / "runs").string() + " --csv " + (dir / "table.csv").string(), &out), 0)
      << out;
  std::istringstream csv(read_file((dir / "table.csv").string()));
  std::string header, row, extra;
  std::getline(csv, header);
  std::getline(csv, row);
  EXPECT_FALSE(std::getline(csv, extra)) << "one dataset x backbone cell expected";
  auto cells = csv_cells(row + ",");  // "," keeps a trailing empty cell
  // dataset,backbone,column,mode,target,seeds,final_mean,final_std,best_mean,best_std,paper (empty: not D4RL),
  // data_mean,data_std,final_episode_std,best_episode_std (empty: two seeds)
  ASSERT_EQ(cells.size(), 15u) << row;
  EXPECT_EQ(cells[13], "");
  EXPECT_EQ(cells[14], "");
  EXPECT_EQ(cells[0], "hopper-synthetic");
  EXPECT_EQ(cells[1], "mingru");
  EXPECT_EQ(cells[5], "2");
  const double mean = (scores[0] + scores[1]) / 2;
  const double std = std::sqrt(((scores[0] - mean) * (scores[0] - mean) + (scores[1] - mean) * (scores[1] - mean)) / 2);
  EXPECT_NEAR(std::stod(cells[6]), mean, 1e-4 * (1 + std::abs(mean))) << row;
  EXPECT_NEAR(std::stod(cells[7]), std, 1e-4 * (1 + std)) << row;
  EXPECT_GT(std, 0);

  // Beside the scores, the training file's own (behaviour) score, as `seqrl train` recorded it.
  const auto st = dataset_stats(load_dataset((dir / "hopper-synthetic.hdf5").string()));
  ASSERT_TRUE(st.has_normalized);
  EXPECT_NEAR(std::stod(cells[11]), st.normalized_mean, 1e-4 * (1 + std::abs(st.normalized_mean))) << row;
  EXPECT_NEAR(std::stod(cells[12]), st.normalized_std, 1e-4 * (1 + st.normalized_std)) << row;
  auto data = YAML::LoadFile((runs.at(0) / "eval.json").string())["data"];
  EXPECT_EQ(data["transitions"].as<int64_t>(), st.transitions);
  EXPECT_EQ(data["episodes"].as<int64_t>(), st.terminal_episodes + st.timeout_episodes);
  EXPECT_DOUBLE_EQ(data["return_mean"].as<double>(), st.return_mean);

  // The runs' records kept without checkpoints (as bench/suite-sweep keeps a sweep's): the same table.
  for (const auto& [seed, run] : runs) {
    const auto kept = dir / "kept" / run.filename();
    fs::create_directories(kept);
    for (const char* f : {"config.yaml", "eval.json"}) fs::copy_file(run / f, kept / f);
  }
  ASSERT_EQ(run_command(kCli + " table " + (dir / "kept").string() + " --csv " + (dir / "kept.csv").string(), &out), 0)
      << out;
  EXPECT_EQ(read_file((dir / "kept.csv").string()), read_file((dir / "table.csv").string()));
  fs::remove_all(dir);
}

TEST(TrainSeeds, ABadSeedFailsTheStartBeforeAnyRunFolderExists) {
  auto dir = temp_dir("seed_fails");
  // 2^30 + 1 passes --seeds (a non-negative number) but not run.seed's range check.
  const std::string bad = std::to_string((1 << 30) + 1);
  std::string out;
  EXPECT_EQ(train_seeds(dir, "0," + bad, &out), 1) << out;
  EXPECT_TRUE(one_line(out)) << out;
  EXPECT_NE(out.find("run.seed = " + bad), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "runs") && !fs::is_empty(dir / "runs")) << "a run folder was left behind";
  fs::remove_all(dir);
}

TEST(TrainSeeds, AMissingDatasetFailsTheStartBeforeAnyRunFolderExists) {
  auto dir = temp_dir("seed_no_data");
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml((dir / "absent.hdf5").string(), 20, 10));
  std::string out;
  EXPECT_EQ(
      run_command(kCli + " train -c " + cfg + " run.out_dir=" + (dir / "runs").string() + " --seeds 0,1 -j 2", &out), 1)
      << out;
  EXPECT_TRUE(one_line(out)) << out;
  EXPECT_NE(out.find((dir / "absent.hdf5").string() + ": no such file"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "runs") && !fs::is_empty(dir / "runs")) << "a run folder was left behind";
  fs::remove_all(dir);
}

TEST(TrainSeeds, ParallelRunsTagTheirLogLinesWithTheRunName) {
  auto dir = temp_dir("seed_tags");
  std::string out;
  ASSERT_EQ(train_seeds(dir, "0,1", &out), 0) << out;
  for (const auto& [seed, run] : runs_by_seed(dir))
    EXPECT_NE(out.find("[" + run.filename().string() + "] [info] eval "), std::string::npos) << run.filename() << "\n"
                                                                                             << out;
  fs::remove_all(dir);
}

TEST(Train, MetricsRowsEveryLogStepAndOneRowPerEvaluatedTargetAndMode) {
  auto dir = temp_dir("metrics_rows");
  auto data = write_hopper_like(dir);
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml(data, 20, 10));
  std::string out;
  ASSERT_EQ(run_command(kCli + " train -c " + cfg +
                            " eval.modes=both eval.targets=[1800,900] run.out_dir=" + (dir / "runs").string(),
                        &out),
            0)
      << out;
  const fs::path run = *fs::directory_iterator(dir / "runs");
  std::istringstream csv(read_file((run / "metrics.csv").string()));
  std::string line;
  std::getline(csv, line);
  ASSERT_EQ(line, "step,wall_s,loss,lr,samples_per_s,eval_target,eval_mode,eval_return,eval_normalized");
  std::vector<std::string> loss_steps, evals;
  while (std::getline(csv, line)) {
    auto cells = csv_cells(line + ",");
    ASSERT_GE(cells.size(), 9u) << line;
    if (!cells[2].empty()) loss_steps.push_back(cells[0]);
    if (!cells[5].empty()) evals.push_back(cells[0] + " " + cells[5] + " " + cells[6]);
  }
  EXPECT_EQ(loss_steps, (std::vector<std::string>{"5", "10", "15", "20"}));  // log_every 5
  EXPECT_EQ(evals,
            (std::vector<std::string>{"20 1800 window", "20 1800 recurrent", "20 900 window", "20 900 recurrent"}));
  EXPECT_EQ(YAML::LoadFile((run / "status.json").string())["state"].as<std::string>(), "done");
  fs::remove_all(dir);
}

TEST(Train, PathsInAConfigResolveAgainstItsFolderFromAnyWorkingFolder) {
  auto dir = temp_dir("config_paths");
  fs::create_directories(dir / "data");
  fs::create_directories(dir / "configs");
  fs::create_directories(dir / "elsewhere");
  write_hopper_like(dir / "data");
  // Relative to the config file: ../data/..., ../runs.
  auto text = tiny_yaml("../data/hopper-synthetic.hdf5", 10, 10);
  text.replace(text.find("run:\n"), 5, "run:\n  out_dir: ../runs\n");
  auto cfg = write_text(dir / "configs" / "rel.yaml", text);
  std::string out;
  ASSERT_EQ(run_command("cd " + (dir / "elsewhere").string() + " && " + kCli + " train -c " + cfg, &out), 0) << out;
  ASSERT_TRUE(fs::is_directory(dir / "runs")) << out;
  const fs::path run = *fs::directory_iterator(dir / "runs");
  // The saved config holds absolute paths: the run folder means the same data from anywhere.
  EXPECT_EQ(YAML::LoadFile((run / "config.yaml").string())["data"]["path"].as<std::string>(),
            (dir / "data" / "hopper-synthetic.hdf5").string());
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));
  fs::remove_all(dir);
}

// A dataset name (datasets/suite.h) is not a path: a config in another folder, and the shipped
// locomotion configs, keep `seqrl:`/`d4rl:` names as they are while real paths resolve.
TEST(Train, DatasetNamesInAConfigStayNamesFromAnyFolder) {
  auto dir = temp_dir("dataset_names");
  fs::create_directories(dir / "configs");
  fs::create_directories(dir / "elsewhere");
  auto text = tiny_yaml("seqrl:hopper-medium", 10, 10);
  text.replace(text.find("run:\n"), 5, "run:\n  out_dir: ../runs\n");
  auto cfg = write_text(dir / "configs" / "named.yaml", text);
  std::string out;
  ASSERT_EQ(
      run_command("cd " + (dir / "elsewhere").string() + " && " + kCli + " train -c " + cfg + " --print-config", &out),
      0)
      << out;
  auto resolved = YAML::Load(out);
  EXPECT_EQ(resolved["data"]["path"].as<std::string>(), "seqrl:hopper-medium");
  EXPECT_EQ(resolved["run"]["out_dir"].as<std::string>(), (dir / "runs").string());
  ASSERT_EQ(run_command("cd " + (dir / "elsewhere").string() + " && " + kCli + " train -c " + cfg +
                            " data.path=d4rl:hopper-medium --print-config",
                        &out),
            0)
      << out;
  EXPECT_EQ(YAML::Load(out)["data"]["path"].as<std::string>(), "d4rl:hopper-medium");
  for (const std::string name : {"hopper-medium", "halfcheetah-medium-replay", "walker2d-medium-expert"}) {
    ASSERT_EQ(
        run_command(kCli + " train -c " + std::string(SEQRL_SOURCE_DIR) + "/configs/" + name + ".yaml --print-config",
                    &out),
        0)
        << out;
    EXPECT_EQ(YAML::Load(out)["data"]["path"].as<std::string>(), "seqrl:" + name);
  }
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));
  fs::remove_all(dir);
}

TEST(Train, AFailedStartLeavesNoRunFolderAndBadDevicesAreOneLine) {
  auto dir = temp_dir("failed_start");
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml((dir / "missing.hdf5").string(), 10, 10));
  std::string out;
  EXPECT_EQ(run_command(kCli + " train -c " + cfg + " run.out_dir=" + (dir / "runs").string(), &out), 1) << out;
  EXPECT_NE(out.find("missing.hdf5"), std::string::npos) << out;
  EXPECT_TRUE(!fs::exists(dir / "runs") || fs::is_empty(dir / "runs")) << "an empty run folder was left behind";
  for (const std::string device : {"gpu", "cuda:x", "cuda:7"}) {
    EXPECT_EQ(
        run_command(kCli + " train -c " + cfg + " run.device=" + device + " run.out_dir=" + (dir / "runs").string(),
                    &out),
        1)
        << out;
    EXPECT_TRUE(one_line(out)) << out;
    EXPECT_NE(out.find("run.device = " + device), std::string::npos) << out;
  }
  EXPECT_TRUE(!fs::exists(dir / "runs") || fs::is_empty(dir / "runs"));
  fs::remove_all(dir);
}

TEST(Plot, TwoRunsGiveOnePngWrittenByRename) {
  auto dir = temp_dir("plot");
  std::string out;
  ASSERT_EQ(train_seeds(dir, "0,1", &out), 0) << out;
  auto runs = runs_by_seed(dir);
  ASSERT_EQ(runs.size(), 2u);
  const auto png = dir / "curves.png";
  ASSERT_EQ(
      run_command(kCli + " plot " + runs.at(0).string() + " " + runs.at(1).string() + " --out " + png.string(), &out),
      0)
      << out;
  auto bytes = read_file(png.string());
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(bytes.size(), 10000u) << "a 1200x500 two-panel plot with curves";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 4)  // data, config, runs, png
      << "a temporary file was left behind";
  // An output folder that does not exist: one line (gnuplot's own, not its PNG on stdout).
  EXPECT_EQ(run_command(kCli + " plot " + runs.at(0).string() + " --out " + (dir / "no" / "x.png").string(), &out), 1);
  EXPECT_TRUE(one_line(out)) << out.substr(0, 300);
  EXPECT_NE(out.find("gnuplot failed writing " + (dir / "no" / "x.png").string()), std::string::npos)
      << out.substr(0, 300);
  fs::remove_all(dir);
}

TEST(Plot, BadRunsAreNamedAndAFailedPlotLeavesTheOldFileIntact) {
  auto dir = temp_dir("plot_errors");
  std::string out;
  // A folder with no run in it: exit 1, one line naming it.
  fs::create_directories(dir / "not-a-run");
  EXPECT_EQ(run_command(kCli + " plot " + (dir / "not-a-run").string(), &out), 1);
  EXPECT_NE(out.find((dir / "not-a-run").string() + ": no run folders"), std::string::npos) << out;
  EXPECT_TRUE(one_line(out)) << out;
  // No runs at all: a usage error.
  EXPECT_EQ(run_command(kCli + " plot", &out), 2);
  EXPECT_TRUE(one_line(out)) << out;
  // A run that has just started (no metrics rows yet): one line saying so; the previous PNG is
  // untouched and no temporary file remains.
  fs::create_directories(dir / "empty-run" / "checkpoints");
  write_text(dir / "empty-run" / "config.yaml", "run:\n  seed: 0\ndata:\n  path: x.hdf5\nmodel:\n  backbone: gru\n");
  write_text(dir / "empty-run" / "metrics.csv",
             "step,wall_s,loss,lr,samples_per_s,eval_target,eval_mode,eval_return,eval_normalized\n");
  const auto png = dir / "empty-run" / "curves.png";
  write_text(png, "previous plot");
  EXPECT_EQ(run_command(kCli + " plot " + (dir / "empty-run").string(), &out), 1);
  EXPECT_NE(out.find("no metrics rows yet"), std::string::npos) << out;
  EXPECT_TRUE(one_line(out)) << out;
  EXPECT_EQ(read_file(png.string()), "previous plot");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "empty-run"), fs::directory_iterator{}), 4)
      << "a temporary file was left behind";  // config.yaml, checkpoints, metrics.csv, curves.png
  // Training rows but no evaluation yet: the loss panel alone, a valid PNG.
  write_text(dir / "empty-run" / "metrics.csv",
             "step,wall_s,loss,lr,samples_per_s,eval_target,eval_mode,eval_return,eval_normalized\n"
             "5,0.1,0.9,0.001,100,,,,\n10,0.2,0.5,0.001,100,,,,\n");
  ASSERT_EQ(run_command(kCli + " plot " + (dir / "empty-run").string(), &out), 0) << out;
  EXPECT_EQ(read_file(png.string()).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  fs::remove_all(dir);
}

}  // namespace
