// `seqrl rollout`: output equals Env stepped directly; errors exit with one line naming the
// problem (unknown env: exit 2 with valid names; bad CSV: exit 1 with the line number).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "envs/env.h"
#include "tests/envs/fixtures.h"

namespace seqrl {
namespace {

namespace fs = std::filesystem;

struct Run {
  int code;
  std::string out;
};

Run run_cli(const std::string& args) {
  const std::string cmd = std::string(SEQRL_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class RolloutCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seqrl_rollout_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

std::string join(const std::vector<double>& v) {
  std::ostringstream s;
  s.precision(17);
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  return s.str();
}

TEST_F(RolloutCli, ReplaysActionsExactlyAsEnv) {
  const auto ref = testing::read_trajectory("hopper", 3, 11);
  std::string csv = "a0,a1,a2\n";  // header line allowed
  for (int k = 0; k < 40; ++k) csv += join(ref.steps[k].action) + "\n";
  const auto path = write("actions.csv", csv);
  const auto r = run_cli("rollout --env Hopper-v3 --actions " + path + " --qpos " + join(ref.qpos0) + " --qvel " +
                         join(ref.qvel0) + " --ignore-done");
  ASSERT_EQ(r.code, 0) << r.out;

  Env env("hopper");
  std::vector<std::vector<double>> expected{env.reset_to(ref.qpos0, ref.qvel0)};
  std::vector<double> rewards{0.0};
  for (int k = 0; k < 40; ++k) {
    const auto s = env.step(ref.steps[k].action);
    expected.push_back(s.obs);
    rewards.push_back(s.reward);
  }
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line.substr(0, 17), "step,obs_0,obs_1,");
  const std::string tail = ",obs_10,reward,terminated,truncated";
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail);
  int row = 0;
  while (std::getline(lines, line)) {
    std::vector<double> cells;
    std::istringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(std::stod(c));
    ASSERT_EQ(cells.size(), 1u + 11 + 3) << line;
    EXPECT_EQ(cells[0], row);
    for (int j = 0; j < 11; ++j) EXPECT_EQ(cells[1 + j], expected[row][j]) << "row " << row;
    EXPECT_EQ(cells[12], rewards[row]);
    ++row;
  }
  EXPECT_EQ(row, 41);
}

TEST_F(RolloutCli, StopsAtEpisodeEndUnlessIgnoreDone) {
  std::string csv;
  for (int k = 0; k < 200; ++k) csv += "1,1,1\n";  // full torque: the hopper falls within 200 steps
  const auto path = write("push.csv", csv);
  const auto r = run_cli("rollout --env hopper --actions " + path + " --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  EXPECT_EQ(last.substr(last.size() - 5), ",1,0\n") << last;  // terminated, not truncated
  const auto all = run_cli("rollout --env hopper --actions " + path + " --seed 3 --ignore-done");
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 202);
}

TEST_F(RolloutCli, RandomPolicy) {
  const auto r = run_cli("rollout --env halfcheetah --policy random --steps 5 --seed 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 7);  // header, reset row, 5 steps
  EXPECT_EQ(run_cli("rollout --env halfcheetah --policy random --steps 5 --seed 1").out, r.out);
  EXPECT_NE(run_cli("rollout --env halfcheetah --policy random --steps 5 --seed 2").out, r.out);
}

TEST_F(RolloutCli, Errors) {
  const auto path = write("ok.csv", "0,0,0\n");
  auto r = run_cli("rollout --env ant --actions " + path);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("halfcheetah, hopper, walker2d"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;

  r = run_cli("rollout --env hopper --actions " + write("wide.csv", "0,0,0\n0.1,0.2,0.3\n0,0,0,0\n"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("wide.csv:3: expected 3 actions per line, got 4"), std::string::npos) << r.out;

  r = run_cli("rollout --env hopper --actions " + write("bad.csv", "0,0,0\n0,x1,0\n"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("bad.csv:2: 'x1' is not a finite number"), std::string::npos) << r.out;

  r = run_cli("rollout --env hopper --actions " + (dir_ / "missing.csv").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("missing.csv"), std::string::npos) << r.out;

  EXPECT_EQ(run_cli("rollout --env hopper").code, 2);  // neither --actions nor --policy
  EXPECT_EQ(run_cli("rollout --env hopper --policy greedy").code, 2);
  EXPECT_EQ(run_cli("rollout --env hopper --policy random --qpos 1,2,3 --qvel 0,0,0").code, 1);  // wrong qpos size
  EXPECT_EQ(run_cli("rollout --help").code, 0);
}

}  // namespace
}  // namespace seqrl
