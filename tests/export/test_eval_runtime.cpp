// `seqrl eval --runtime`: the same episodes acted through the runtime score what LibTorch's
// recurrent acting scores. `seqrl eval --trace`: episode 0 step by step, consistent with the
// report and with the env.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "core/atomic_file.h"
#include "tests/export/runtime_fixture.h"

using namespace seqrl::testing;

namespace {

TEST(EvalRuntime, ScoresEqualRecurrentMode) {
  auto dir = temp_dir("eval_runtime");
  std::string out;
  auto run = train_tiny_run(dir, "mingru", &out);
  ASSERT_FALSE(run.empty()) << out;
  auto json = (dir / "eval.json").string();
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " eval " + run.string() +
                            " --mode recurrent --runtime --episodes 3 --target 1800,3600 --out " + json,
                        &out),
            0)
      << out;
  auto results = YAML::LoadFile(json)["final"];
  ASSERT_EQ(results.size(), 4u) << out;
  for (size_t i = 0; i < 4; i += 2) {
    ASSERT_EQ(results[i]["mode"].as<std::string>(), "recurrent");
    ASSERT_EQ(results[i + 1]["mode"].as<std::string>(), "runtime");
    EXPECT_EQ(results[i]["target"].as<double>(), results[i + 1]["target"].as<double>());
    for (const char* key : {"return_mean", "return_std", "normalized_mean"}) {
      double recurrent = results[i][key].as<double>(), runtime = results[i + 1][key].as<double>();
      EXPECT_NEAR(runtime, recurrent, 1e-6 * (1 + std::abs(recurrent))) << key << "\n" << out;
    }
  }
  // --runtime alone evaluates only through the runtime.
  ASSERT_EQ(
      run_command(std::string(SEQRL_CLI) + " eval " + run.string() + " --runtime --episodes 1 --out " + json, &out), 0)
      << out;
  results = YAML::LoadFile(json)["final"];
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["mode"].as<std::string>(), "runtime");
  // float16 weights and int8 matrices (a float32 export loaded with SQP_LOAD_INT8) are their own
  // modes in the report; --dtype without --runtime is a usage error.
  for (const std::string dtype : {"float16", "int8"}) {
    ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " eval " + run.string() + " --runtime --dtype " + dtype +
                              " --episodes 1 --out " + json,
                          &out),
              0)
        << out;
    results = YAML::LoadFile(json)["final"];
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0]["mode"].as<std::string>(), "runtime-" + dtype);
    EXPECT_TRUE(std::isfinite(results[0]["return_mean"].as<double>()));
  }
  EXPECT_EQ(run_command(std::string(SEQRL_CLI) + " eval " + run.string() + " --dtype float16 --episodes 1", &out), 2)
      << out;
  EXPECT_NE(out.find("--dtype applies to --runtime only"), std::string::npos) << out;
}

TEST(EvalCli, TraceIsEpisodeZeroStepByStep) {
  auto dir = temp_dir("eval_trace");
  std::string out;
  auto run = train_tiny_run(dir, "mingru", &out);
  ASSERT_FALSE(run.empty()) << out;
  auto json = (dir / "eval.json").string(), trace = (dir / "trace.csv").string();
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " eval " + run.string() +
                            " --mode both --episodes 2 --seed 7 --target 1800 --out " + json + " --trace " + trace,
                        &out),
            0)
      << out;
  const double scale = YAML::LoadFile((run / "config.yaml").string())["train"]["reward_scale"].as<double>();
  std::ifstream in(trace);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto header = csv_cells(line);
  ASSERT_EQ(header.size(), 4u + 11 + 3 + 1) << line;  // Hopper: 11 observations, 3 actions
  EXPECT_EQ(header[3], "rtg");
  EXPECT_EQ(header[4], "obs_0");
  EXPECT_EQ(header[15], "action_0");
  EXPECT_EQ(header.back(), "reward");
  std::map<std::string, std::vector<std::vector<double>>> rows;  // mode -> rows after the mode cell
  while (std::getline(in, line)) {
    auto cells = csv_cells(line);
    ASSERT_EQ(cells.size(), header.size()) << line;
    EXPECT_EQ(std::stod(cells[0]), 1800.0);
    auto& r = rows[cells[1]];
    EXPECT_EQ(std::stoul(cells[2]), r.size()) << line;
    std::vector<double> values;
    for (size_t i = 3; i < cells.size(); ++i) values.push_back(std::stod(cells[i]));
    r.push_back(values);
  }
  ASSERT_EQ(rows.size(), 2u);
  // The reset observation episode 0 saw is the env's own for seed 7 (`seqrl rollout`'s row 0).
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " rollout --env hopper --policy random --seed 7 --steps 1", &out), 0)
      << out;
  std::stringstream rollout(out);
  std::getline(rollout, line);  // header
  std::getline(rollout, line);
  const auto reset = csv_cells(line);
  for (const auto& result : YAML::LoadFile(json)["final"]) {
    const auto& r = rows[result["mode"].as<std::string>()];
    ASSERT_EQ(double(r.size()), result["lengths"][0].as<double>()) << result["mode"];
    for (int i = 0; i < 11; ++i)  // the VecEnv hands the policy float32 observations
      EXPECT_NEAR(r[0][1 + i], std::stod(reset[1 + i]), 1e-6 * (1 + std::abs(std::stod(reset[1 + i])))) << "obs_" << i;
    double received = 0, rtg = 1800 / scale;
    for (size_t t = 0; t < r.size(); ++t) {
      EXPECT_NEAR(r[t][0], rtg, 1e-5) << "rtg at step " << t;  // the policy's float32 return-to-go
      for (int i = 0; i < 3; ++i) EXPECT_LE(std::abs(r[t][12 + i]), 1.0);
      received += r[t].back();
      rtg -= r[t].back() / scale;
    }
    EXPECT_NEAR(received, result["returns"][0].as<double>(), 1e-9 * (1 + std::abs(received)));
  }
  // A trace that cannot be written is one error naming it.
  auto bad = (dir / "no-such-folder" / "trace.csv").string();
  EXPECT_EQ(
      run_command(std::string(SEQRL_CLI) + " eval " + run.string() + " --episodes 1 --out " + json + " --trace " + bad,
                  &out),
      1)
      << out;
  EXPECT_NE(out.find(bad), std::string::npos) << out;
}

TEST(ExportCli, CheckpointOptionPicksThatCheckpoint) {
  auto dir = temp_dir("export_checkpoint");
  std::string out;
  auto run = train_tiny_run(dir, "lru", &out);
  ASSERT_FALSE(run.empty()) << out;
  auto last = export_tiny_run(dir, run, &out);
  ASSERT_FALSE(last.empty()) << out;
  auto step = (dir / "step3.sqp").string();
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " export " + run.string() + " --checkpoint step_3 -o " + step, &out),
            0)
      << out;
  EXPECT_EQ(seqrl::read_file(step), seqrl::read_file(last));  // the run's last checkpoint is step 3
  EXPECT_EQ(run_command(std::string(SEQRL_CLI) + " export " + run.string() + " --checkpoint step_9 -o " + step, &out),
            1)
      << out;
  EXPECT_NE(out.find("step_9"), std::string::npos) << out;
}

}  // namespace

// `seqrl bench act` on a small model: a row per backbone with every column a number (speed
// itself is measured, never asserted).
TEST(BenchAct, PrintsEveryModeForEachBackbone) {
  std::string out;
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) +
                            " --threads 1 bench act --backbones mingru,gru --dim 16 --layers 1 --context 4 --steps 20 "
                            "--window-steps 4 --repeats 2",
                        &out),
            0)
      << out;
  EXPECT_NE(out.find("fastest of 2 runs"), std::string::npos) << out;
  for (const std::string backbone : {"mingru", "gru"}) {
    std::istringstream lines(out);
    std::string line;
    bool found = false;
    while (std::getline(lines, line)) {
      std::istringstream cells(line);
      std::string name;
      cells >> name;
      if (name != backbone) continue;
      found = true;
      // runtime, runtime-f16, runtime-int8, libtorch-recurrent, libtorch-window: "cpu (wall)"
      for (int column = 0; column < 5; ++column) {
        double cpu = -1;
        std::string wall;
        cells >> cpu >> wall;
        EXPECT_GT(cpu, 0) << line;
        EXPECT_EQ(wall.front(), '(') << line;
      }
    }
    EXPECT_TRUE(found) << backbone << "\n" << out;
  }
}
