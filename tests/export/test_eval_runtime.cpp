// `seqrl eval --runtime`: the same episodes acted through the runtime score what LibTorch's
// recurrent acting scores.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>
#include <cmath>

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
  // float16 weights are their own mode in the report; --dtype without --runtime is a usage error.
  ASSERT_EQ(run_command(std::string(SEQRL_CLI) + " eval " + run.string() +
                            " --runtime --dtype float16 --episodes 1 --out " + json,
                        &out),
            0)
      << out;
  results = YAML::LoadFile(json)["final"];
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["mode"].as<std::string>(), "runtime-float16");
  EXPECT_TRUE(std::isfinite(results[0]["return_mean"].as<double>()));
  EXPECT_EQ(run_command(std::string(SEQRL_CLI) + " eval " + run.string() + " --dtype float16 --episodes 1", &out), 2)
      << out;
  EXPECT_NE(out.find("--dtype applies to --runtime only"), std::string::npos) << out;
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
