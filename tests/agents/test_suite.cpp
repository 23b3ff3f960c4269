// The seqrl locomotion suite (datasets/suite.h, agents/suite_maker.h) through the CLI: a file is
// made from its record and checked against the recorded statistics, tampering is caught,
// medium-replay is a deterministic SAC re-run equal to the original run's buffer, medium-expert
// is medium cut after its last finished episode followed by expert (D4RL v2's recipe,
// Farama-Foundation/D4RL scripts/generation/mujoco/stitch_dataset.py), and dataset names resolve.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/device.h"
#include "core/error.h"
#include "datasets/dataset.h"
#include "datasets/hdf5_io.h"
#include "datasets/suite.h"
#include "sac_test_util.h"

namespace seqrl {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class SuiteCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("seqrl_suite_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "suite");
  }
  void TearDown() override { fs::remove_all(dir); }

  void write_suite(const json& datasets) {
    std::ofstream((dir / "suite" / "suite.json").string()) << json{{"version", 1}, {"datasets", datasets}}.dump(2);
  }
  json read_suite() {
    std::ifstream in((dir / "suite" / "suite.json").string());
    return json::parse(in);
  }
  json entry(const std::string& name) {
    auto doc = read_suite();
    for (const auto& d : doc["datasets"])
      if (d["name"] == name) return d;
    ADD_FAILURE() << name << " not in suite.json";
    return {};
  }
  testing::CmdResult run(const std::string& args) {
    testing::CmdResult r;
    r.code = testing::run_command("SEQRL_SUITE_DIR=" + (dir / "suite").string() + " SEQRL_DATA_DIR=" +
                                      (dir / "data").string() + " " + SEQRL_CLI + " --threads 1 " + args,
                                  &r.out);
    return r;
  }
  std::string data(const std::string& name) { return (dir / "data" / "seqrl" / (name + ".hdf5")).string(); }

  // A tiny SAC run (2000 env steps, checkpoints every 1000) whose step-1000 and step-2000
  // actors serve as the "medium" and "expert" policies.
  fs::path tiny_sac_run() {
    auto root = dir / "runs";
    auto r = run("sac -c " + std::string(SEQRL_SOURCE_DIR) +
                 "/configs/sac/hopper.yaml run.steps=2000 run.out_dir=" + root.string() +
                 " sac.hidden=[16,16] sac.batch_size=32 run.start_steps=500 run.log_every=500"
                 " run.eval_every=1000 run.eval_episodes=1 run.checkpoint_every=1000");
    EXPECT_EQ(r.code, 0) << r.out;
    std::vector<fs::path> runs{fs::directory_iterator(root), fs::directory_iterator()};
    EXPECT_EQ(runs.size(), 1u);
    return runs.at(0);
  }

  fs::path dir;
};

json all_hopper_entries(int64_t steps) {
  return json::array({{{"name", "hopper-random"}, {"steps", steps}, {"seed", 0}, {"recorded", nullptr}},
                      {{"name", "hopper-medium"}, {"steps", steps}, {"seed", 1}, {"recorded", nullptr}},
                      {{"name", "hopper-medium-replay"}, {"recorded", nullptr}},
                      {{"name", "hopper-expert"}, {"steps", steps}, {"seed", 2}, {"recorded", nullptr}},
                      {{"name", "hopper-medium-expert"}, {"recorded", nullptr}}});
}

TEST_F(SuiteCli, MakeRecordsStatisticsThenReproducesThemAndCatchesAChangedRecord) {
  write_suite(all_hopper_entries(400));
  auto r = run("dataset make hopper-random --record");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("recorded"), std::string::npos) << r.out;

  // The record is the file's own statistics, as `dataset info` computes them independently.
  auto rec = entry("hopper-random")["recorded"];
  auto ds = load_dataset(data("hopper-random"));
  auto st = dataset_stats(ds);
  EXPECT_EQ(rec["transitions"].get<int64_t>(), 400);
  EXPECT_EQ(rec["episodes"].get<int64_t>(), st.terminal_episodes + st.timeout_episodes);
  EXPECT_DOUBLE_EQ(rec["return_mean"].get<double>(), st.return_mean);
  EXPECT_DOUBLE_EQ(rec["return_std"].get<double>(), st.return_std);
  EXPECT_GT(entry("hopper-random")["make_seconds"].get<double>(), 0);

  // Regenerating gives the same file.
  fs::remove(data("hopper-random"));
  r = run("dataset make hopper-random");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("identical to the record"), std::string::npos) << r.out;
  EXPECT_EQ(dataset_stats(load_dataset(data("hopper-random"))).return_mean, st.return_mean);

  // A record that the file does not match: exit 1 naming the statistic; nothing replaces the file.
  auto doc = read_suite();
  for (auto& d : doc["datasets"])
    if (d["name"] == "hopper-random") d["recorded"]["return_mean"] = st.return_mean + 1.0;
  write_suite(doc["datasets"]);
  fs::remove(data("hopper-random"));
  r = run("dataset make hopper-random");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("return mean"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(data("hopper-random")));
  EXPECT_TRUE(fs::exists((dir / "data" / "seqrl" / "hopper-random.unverified.hdf5")));
  EXPECT_EQ(r.out.find("OpenBLAS kernels"), std::string::npos) << "no record of kernels, no hint: " << r.out;

  // A record made with other BLAS kernels: the message names both, and how to select them.
  for (const std::string& kernels : {std::string("SomeOtherKernels"), blas_kernels()}) {
    doc = read_suite();
    for (auto& d : doc["datasets"])
      if (d["name"] == "hopper-random") d["blas"] = kernels;
    write_suite(doc["datasets"]);
    r = run("dataset make hopper-random");
    EXPECT_EQ(r.code, 1) << r.out;
    const bool other = kernels == "SomeOtherKernels";
    EXPECT_EQ(r.out.find("the record's are SomeOtherKernels") != std::string::npos, other) << r.out;
    EXPECT_EQ(r.out.find("OPENBLAS_CORETYPE") != std::string::npos, other) << r.out;
    EXPECT_NE(r.out.find("--accept-mismatch keeps it as hopper-random.hdf5"), std::string::npos) << r.out;
  }

  // --accept-mismatch (a CPU whose kernels cannot reproduce the record): the file is kept under
  // its name, and the output says how it differs.
  r = run("dataset make hopper-random --accept-mismatch");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("differs from the record: return mean"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(data("hopper-random")));
  EXPECT_FALSE(fs::exists((dir / "data" / "seqrl" / "hopper-random.unverified.hdf5")));
  EXPECT_EQ(dataset_stats(load_dataset(data("hopper-random"))).return_mean, st.return_mean);
}

TEST_F(SuiteCli, MediumReplayIsADeterministicRerunOfTheAdoptedSacRun) {
  write_suite(all_hopper_entries(300));
  auto run_dir = tiny_sac_run();
  auto r = run("dataset adopt hopper-medium --episodes 1 --checkpoint " + (run_dir / "checkpoints/step_1000").string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto medium = entry("hopper-medium");
  EXPECT_EQ(medium["policy_step"].get<int64_t>(), 1000);
  EXPECT_TRUE(fs::is_regular_file(dir / "suite" / medium["policy"].get<std::string>()));
  auto replay_rec = entry("hopper-medium-replay");
  EXPECT_EQ(replay_rec["policy_step"].get<int64_t>(), 1000);
  EXPECT_TRUE(fs::is_regular_file(dir / "suite" / replay_rec["sac_config"].get<std::string>()));

  r = run("dataset make hopper-medium-replay --record");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("reproduced the shipped medium policy exactly"), std::string::npos) << r.out;

  // The re-run's buffer equals the original run's first 1000 transitions, key by key.
  auto ref = (dir / "ref.hdf5").string();
  r = run("collect --kind medium-replay --policy " + (run_dir / "checkpoints/step_1000").string() + " --out " + ref);
  ASSERT_EQ(r.code, 0) << r.out;
  auto a = h5::open_file(ref), b = h5::open_file(data("hopper-medium-replay"));
  for (const char* k : {"observations", "actions", "rewards", "next_observations", "infos/qpos"}) {
    auto da = h5::open_dataset(a.get(), k, k), db = h5::open_dataset(b.get(), k, k);
    auto ta = h5::read_tensor(da.get(), torch::kFloat64, k), tb = h5::read_tensor(db.get(), torch::kFloat64, k);
    ASSERT_EQ(ta.size(0), 1000) << k;
    EXPECT_TRUE(torch::equal(ta, tb)) << k;
  }
  EXPECT_FALSE(fs::exists(dir / "data" / "seqrl" / "work" / "hopper-medium-replay-sac")) << "the re-run is removed";

  // --replay-from: the same file cut from the original run's buffer, which has grown to step
  // 2000 since the medium checkpoint, matches the re-run's record.
  fs::remove(data("hopper-medium-replay"));
  r = run("dataset make hopper-medium-replay --replay-from " + run_dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("identical to the record"), std::string::npos) << r.out;

  // Another run (here: one whose step-1000 actor is a later one) is refused, nothing written.
  auto other = dir / "other-run";
  fs::copy(run_dir, other, fs::copy_options::recursive);
  fs::copy_file(other / "checkpoints/step_2000.pt", other / "checkpoints/step_1000.pt",
                fs::copy_options::overwrite_existing);
  fs::remove(data("hopper-medium-replay"));
  r = run("dataset make hopper-medium-replay --replay-from " + other.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("differs from the shipped hopper-medium policy"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(data("hopper-medium-replay")));
  r = run("dataset make hopper-medium-replay --replay-from " + (dir / "no-such-run").string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("step_1000.pt: missing"), std::string::npos) << r.out;
  r = run("dataset make hopper-random --replay-from " + run_dir.string());
  EXPECT_EQ(r.code, 2) << "a usage error: " << r.out;
  EXPECT_NE(r.out.find("hopper-random: --replay-from applies to a medium-replay file only"), std::string::npos)
      << r.out;
}

TEST_F(SuiteCli, MediumExpertIsMediumCutAfterItsLastEpisodeThenExpert) {
  write_suite(all_hopper_entries(300));
  auto run_dir = tiny_sac_run();
  ASSERT_EQ(
      run("dataset adopt hopper-medium --episodes 1 --checkpoint " + (run_dir / "checkpoints/step_1000").string()).code,
      0);
  ASSERT_EQ(
      run("dataset adopt hopper-expert --episodes 1 --checkpoint " + (run_dir / "checkpoints/step_2000").string()).code,
      0);
  auto r = run("dataset make hopper-medium-expert");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_TRUE(fs::exists(data("hopper-medium"))) << "the parts are made first";
  ASSERT_TRUE(fs::exists(data("hopper-expert")));

  auto medium = load_dataset(data("hopper-medium"));
  auto expert = load_dataset(data("hopper-expert"));
  auto both = load_dataset(data("hopper-medium-expert"));
  int64_t cut = 0;
  for (const auto& e : medium.episodes)
    if (e.terminal || e.timeout) cut = e.start + e.length;
  ASSERT_GT(cut, 0);
  EXPECT_EQ(both.size(), cut + expert.size());
  EXPECT_TRUE(torch::equal(both.observations.slice(0, 0, cut), medium.observations.slice(0, 0, cut)));
  EXPECT_TRUE(torch::equal(both.observations.slice(0, cut), expert.observations));

  auto list = run("dataset list --json");
  ASSERT_EQ(list.code, 0) << list.out;
  auto doc = json::parse(list.out);
  int made = 0;
  for (const auto& d : doc) made += d["made"].get<bool>();
  EXPECT_EQ(made, 3);
}

// A part whose statistics differ from its record stops a medium-expert, unless the user accepts it.
TEST_F(SuiteCli, MediumExpertUsesAMismatchedPartOnlyWhenAccepted) {
  write_suite(all_hopper_entries(300));
  auto run_dir = tiny_sac_run();
  for (const auto& [name, step] : {std::pair{"hopper-medium", 1000}, std::pair{"hopper-expert", 2000}})
    ASSERT_EQ(run("dataset adopt " + std::string(name) + " --episodes 1 --checkpoint " +
                  (run_dir / "checkpoints" / ("step_" + std::to_string(step))).string())
                  .code,
              0);
  ASSERT_EQ(run("dataset make hopper-medium hopper-expert --record").code, 0);
  auto doc = read_suite();
  for (auto& d : doc["datasets"])
    if (d["name"] == "hopper-medium") d["recorded"]["episodes"] = d["recorded"]["episodes"].get<int64_t>() + 1;
  write_suite(doc["datasets"]);

  auto r = run("dataset make hopper-medium-expert");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("differs from the record of hopper-medium (episodes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--accept-mismatch"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(data("hopper-medium-expert")));

  r = run("dataset make hopper-medium-expert --accept-mismatch");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("hopper-medium.hdf5: differs from the record of hopper-medium (episodes"), std::string::npos)
      << r.out;
  EXPECT_EQ(load_dataset(data("hopper-medium-expert")).size(),
            load_dataset(data("hopper-medium")).size() + load_dataset(data("hopper-expert")).size() -
                dataset_stats(load_dataset(data("hopper-medium"))).tail_length);
}

// Two `dataset make --record` at once each hold a suite loaded before the other wrote (found
// making walker2d's and halfcheetah's experts in parallel): the second save dropped the first
// record. An update starts from the file, under its lock.
TEST_F(SuiteCli, UpdatesStartFromTheFileSoRecordsMadeInParallelAreKept) {
  write_suite(all_hopper_entries(300));
  Suite a = load_suite((dir / "suite").string()), b = load_suite((dir / "suite").string());
  SuiteStats first, second;
  first.transitions = 300;
  second.transitions = 301;
  update_suite(a, [&](Suite& s) { s.find("hopper-random").recorded = first; });
  update_suite(b, [&](Suite& s) { s.find("hopper-medium").recorded = second; });  // b is stale
  EXPECT_EQ(entry("hopper-random")["recorded"]["transitions"], 300) << "the first record survived";
  EXPECT_EQ(entry("hopper-medium")["recorded"]["transitions"], 301);
  ASSERT_TRUE(b.find("hopper-random").recorded.has_value()) << "b now holds the file's state";
  EXPECT_EQ(b.find("hopper-random").recorded->transitions, 300);
}

TEST_F(SuiteCli, ListShowsD4rlsPublishedFiguresBesideTheRecord) {
  std::string out;
  ASSERT_EQ(testing::run_command(std::string(SEQRL_CLI) + " dataset list --json 2>/dev/null", &out), 0);
  auto doc = json::parse(out);
  ASSERT_EQ(doc.size(), 15u) << "3 envs x random, medium, medium-replay, expert, medium-expert";
  for (const auto& d : doc) {
    if (d["name"] != "hopper-medium") continue;
    // D4RL hopper-medium-v2: 1422.1 mean return; normalized with d4rl/infos.py's references.
    EXPECT_DOUBLE_EQ(d["d4rl"]["return_mean"].get<double>(), 1422.1);
    EXPECT_NEAR(d["d4rl"]["normalized_mean"].get<double>(), 100 * (1422.1 + 20.272305) / (3234.3 + 20.272305), 1e-9);
    EXPECT_EQ(d["d4rl"]["transitions"].get<int64_t>(), 1000000);
  }
  auto md = testing::run_command(std::string(SEQRL_CLI) + " dataset list 2>/dev/null", &out);
  EXPECT_EQ(md, 0);
  EXPECT_NE(out.find("| walker2d-medium-expert |"), std::string::npos) << out;
}

TEST_F(SuiteCli, BadNamesAndRecordsAreClearErrors) {
  write_suite(all_hopper_entries(300));
  auto r = run("dataset make hopper-mediumm");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("hopper-medium-replay"), std::string::npos) << "lists the known names: " << r.out;

  r = run("dataset make hopper-medium");  // no policy adopted
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("policy"), std::string::npos) << r.out;

  std::ofstream((dir / "suite" / "suite.json").string()) << "{\"version\": 1, \"datasets\": [{\"nam";
  r = run("dataset list");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("suite.json"), std::string::npos) << r.out;

  write_suite(json::array({{{"name", "mars-medium"}}}));
  r = run("dataset list");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("mars-medium"), std::string::npos) << r.out;

  // A named dataset that has not been made says how to make it.
  r = run("dataset info seqrl:hopper-expert");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("seqrl dataset make hopper-expert"), std::string::npos) << r.out;
}

TEST(DatasetNames, ResolveUnderTheDataDirAndPathsStayVerbatim) {
  ::setenv("SEQRL_DATA_DIR", "/tmp/seqrl-data", 1);
  EXPECT_EQ(resolve_dataset_spec("seqrl:hopper-medium"), "/tmp/seqrl-data/seqrl/hopper-medium.hdf5");
  EXPECT_EQ(resolve_dataset_spec("d4rl:walker2d-medium-replay"), "/tmp/seqrl-data/d4rl/walker2d_medium_replay-v2.hdf5");
  EXPECT_EQ(resolve_dataset_spec("d4rl:halfcheetah-medium-expert"),
            "/tmp/seqrl-data/d4rl/halfcheetah_medium_expert-v2.hdf5");
  EXPECT_EQ(resolve_dataset_spec("runs/seqrl:x.hdf5"), "runs/seqrl:x.hdf5");
  EXPECT_THROW(resolve_dataset_spec("seqrl:mars-medium"), Error);
  EXPECT_THROW(resolve_dataset_spec("d4rl:hopper-mediocre"), Error);
  ::unsetenv("SEQRL_DATA_DIR");
  EXPECT_EQ(resolve_dataset_spec("seqrl:hopper-random"), "data/seqrl/hopper-random.hdf5");
}

}  // namespace
}  // namespace seqrl
