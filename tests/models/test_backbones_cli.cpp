// `seqrl backbones list|check`: the user-facing face of the registry and the backbone checks.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "models/backbone.h"

namespace {

int run(const std::string& args, std::string& out) {
  FILE* p = ::popen((std::string(SEQRL_CLI) + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  out.clear();
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(BackbonesCli, ListJsonNamesEveryRegisteredBackbone) {
  std::string out;
  ASSERT_EQ(run("backbones list --json --dim 32 --layers 1", out), 0) << out;
  for (const auto& info : seqrl::backbone_registry())
    EXPECT_NE(out.find("\"name\": \"" + info.name + "\""), std::string::npos) << info.name;
  EXPECT_NE(out.find("\"dim\": 32"), std::string::npos);
}

TEST(BackbonesCli, CheckPassesForRealBackbonesAndPrintsErrors) {
  std::string out;
  ASSERT_EQ(run("backbones check mingru lru", out), 0) << out;
  EXPECT_NE(out.find("mingru"), std::string::npos);
  EXPECT_NE(out.find("PASS"), std::string::npos);
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
}

TEST(BackbonesCli, UnknownBackboneIsAUsageErrorListingValidNames) {
  std::string out;
  EXPECT_EQ(run("backbones check rnn", out), 2) << out;
  EXPECT_NE(out.find("mingru"), std::string::npos) << out;
}

}  // namespace
