// `seqrl dataset info|validate` through the built binary: exit codes and messages.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "datasets/d4rl_writer.h"
#include "datasets/dataset.h"
#include "tests/datasets/dataset_files.h"

namespace seqrl::test {
namespace {

using DatasetCli = DatasetFiles;

const std::string kCli = SEQRL_CLI;

TEST_F(DatasetCli, ValidateOkAndBroken) {
  write_d4rl(file("hopper-medium-v2.hdf5"), make_arrays(11, 3, {{30, End::Terminal}, {20, End::Unfinished}}, 1));
  auto ok = run_command(kCli + " dataset validate " + file("hopper-medium-v2.hdf5"));
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_NE(ok.output.find("hopper-medium-v2.hdf5: ok (50 transitions, 2 episodes)"), std::string::npos) << ok.output;

  std::ofstream(file("hopper-broken.hdf5")) << "garbage";
  auto bad = run_command(kCli + " dataset validate " + file("hopper-broken.hdf5"));
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("not an HDF5 file"), std::string::npos) << bad.output;
  EXPECT_EQ(std::count(bad.output.begin(), bad.output.end(), '\n'), 1) << "one line: " << bad.output;

  auto wrong_env = run_command(kCli + " dataset validate --env walker2d " + file("hopper-medium-v2.hdf5"));
  EXPECT_EQ(wrong_env.code, 1) << wrong_env.output;

  auto usage = run_command(kCli + " dataset validate");
  EXPECT_EQ(usage.code, 2) << usage.output;
  EXPECT_EQ(run_command(kCli + " dataset info --help").code, 0);
}

TEST_F(DatasetCli, InfoJsonAndTable) {
  // Three halfcheetah episodes, all ending by timeout, with known returns 100, 200, 600.
  auto a = make_arrays(17, 6, {{4, End::Timeout}, {4, End::Timeout}, {2, End::Timeout}}, 2);
  a.rewards = torch::tensor({25.f, 25.f, 25.f, 25.f, 50.f, 50.f, 50.f, 50.f, 300.f, 300.f});
  write_d4rl(file("halfcheetah-medium-v2.hdf5"), a);
  auto r = run_command(kCli + " dataset info --json " + file("halfcheetah-medium-v2.hdf5"));
  ASSERT_EQ(r.code, 0) << r.output;
  const auto begin = r.output.find('{'), end = r.output.rfind('}');  // stderr lines may share the capture
  ASSERT_NE(begin, std::string::npos) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(begin, end - begin + 1));
  EXPECT_EQ(j.at("transitions"), 10);
  EXPECT_EQ(j.at("episodes"), 3);
  EXPECT_EQ(j.at("obs_dim"), 17);
  EXPECT_EQ(j.at("act_dim"), 6);
  EXPECT_DOUBLE_EQ(j.at("return_mean").get<double>(), 300);
  EXPECT_DOUBLE_EQ(j.at("return_min").get<double>(), 100);
  EXPECT_DOUBLE_EQ(j.at("return_max").get<double>(), 600);
  EXPECT_EQ(j.at("timeout_episodes"), 3);
  EXPECT_EQ(j.at("terminal_episodes"), 0);
  EXPECT_EQ(j.at("env"), "halfcheetah");
  // normalized = 100 (300 + 280.178953) / (12135 + 280.178953) (d4rl/infos.py)
  EXPECT_NEAR(d4rl_normalized_score("halfcheetah", 300), 4.673142, 1e-6);
  EXPECT_NEAR(j.at("normalized_return_mean").get<double>(), 4.673142, 1e-5);

  auto t = run_command(kCli + " dataset info " + file("halfcheetah-medium-v2.hdf5"));
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_NE(t.output.find("ended by timeout"), std::string::npos) << t.output;
  EXPECT_NE(t.output.find("300.00"), std::string::npos) << t.output;
}

TEST_F(DatasetCli, MinariWarnsScoresNotComparable) {
  const std::vector<EpisodeSpec> eps = {{5, End::Terminal}, {3, End::Timeout}};
  write_minari(file("main_data.hdf5"), make_arrays(11, 3, eps, 3), eps, "Hopper-v5", true);
  auto r = run_command(kCli + " dataset info " + file("main_data.hdf5"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("not comparable"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("minari"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace seqrl::test
