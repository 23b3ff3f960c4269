// The multi-seed workflow from the command line: `seqrl train --seeds 0,1 -j 2` (one run folder
// per seed, children in parallel), `seqrl table` over those runs, and `seqrl plot` of their curves.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
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
  return run_command(kCli + " train -c " + cfg + " run.out_dir=" + (dir / "runs").string() + " --seeds " + seeds +
                         " -j 2",
                     output);
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

// "a,b,c" -> cells.
std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
  return cells;
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
  auto cells = csv_cells(row);
  ASSERT_EQ(cells.size(), 9u) << row;  // dataset,backbone,mode,target,seeds,final_mean,final_std,best_mean,best_std
  EXPECT_EQ(cells[0], "hopper-synthetic");
  EXPECT_EQ(cells[1], "mingru");
  EXPECT_EQ(cells[4], "2");
  const double mean = (scores[0] + scores[1]) / 2;
  const double std = std::sqrt(((scores[0] - mean) * (scores[0] - mean) + (scores[1] - mean) * (scores[1] - mean)) / 2);
  EXPECT_NEAR(std::stod(cells[5]), mean, 1e-4 * (1 + std::abs(mean))) << row;
  EXPECT_NEAR(std::stod(cells[6]), std, 1e-4 * (1 + std)) << row;
  EXPECT_GT(std, 0);
  fs::remove_all(dir);
}

TEST(TrainSeeds, AFailingSeedIsNamedExitsNonZeroAndLeavesTheOtherSeedsRun) {
  auto dir = temp_dir("seed_fails");
  // 2^30 + 1 passes --seeds (a non-negative number) but not the child's run.seed range check.
  const std::string bad = std::to_string((1 << 30) + 1);
  std::string out;
  EXPECT_EQ(train_seeds(dir, "0," + bad, &out), 1) << out;
  EXPECT_NE(out.find("seed " + bad + " failed"), std::string::npos) << out;
  EXPECT_EQ(out.find("seed 0 failed"), std::string::npos) << out;
  EXPECT_NE(out.find("1 of 2 seeds failed"), std::string::npos) << out;
  auto runs = runs_by_seed(dir);
  ASSERT_TRUE(runs.count(0)) << out;
  EXPECT_TRUE(fs::exists(runs.at(0) / "eval.json"));
  fs::remove_all(dir);
}

TEST(Plot, TwoRunsGiveOnePngWrittenByRename) {
  auto dir = temp_dir("plot");
  std::string out;
  ASSERT_EQ(train_seeds(dir, "0,1", &out), 0) << out;
  auto runs = runs_by_seed(dir);
  ASSERT_EQ(runs.size(), 2u);
  const auto png = dir / "curves.png";
  ASSERT_EQ(run_command(kCli + " plot " + runs.at(0).string() + " " + runs.at(1).string() + " --out " + png.string(),
                        &out),
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
  EXPECT_NE(out.find("gnuplot failed writing " + (dir / "no" / "x.png").string()), std::string::npos) << out.substr(0, 300);
  fs::remove_all(dir);
}

TEST(Plot, BadRunsAreNamedAndAFailedPlotLeavesTheOldFileIntact) {
  auto dir = temp_dir("plot_errors");
  std::string out;
  // A folder without metrics.csv: exit 1, one line naming it.
  fs::create_directories(dir / "not-a-run");
  EXPECT_EQ(run_command(kCli + " plot " + (dir / "not-a-run").string(), &out), 1);
  EXPECT_NE(out.find((dir / "not-a-run").string() + ": no metrics.csv"), std::string::npos) << out;
  EXPECT_TRUE(one_line(out)) << out;
  // No runs at all: a usage error.
  EXPECT_EQ(run_command(kCli + " plot", &out), 2);
  EXPECT_TRUE(one_line(out)) << out;
  // A run whose metrics.csv has no rows yet: gnuplot fails; the previous PNG is untouched and no
  // temporary file remains.
  fs::create_directories(dir / "empty-run");
  write_text(dir / "empty-run" / "metrics.csv", "step,wall_s,loss,lr,samples_per_s,eval_target,eval_return,eval_normalized\n");
  const auto png = dir / "empty-run" / "curves.png";
  write_text(png, "previous plot");
  EXPECT_EQ(run_command(kCli + " plot " + (dir / "empty-run").string(), &out), 1);
  EXPECT_NE(out.find("gnuplot failed writing " + png.string()), std::string::npos) << out;
  EXPECT_TRUE(one_line(out)) << out;
  EXPECT_EQ(read_file(png.string()), "previous plot");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "empty-run"), fs::directory_iterator{}), 2)
      << "a temporary file was left behind";
  fs::remove_all(dir);
}

}  // namespace
