// examples/policy_loop: the C program acts with an exported policy for one MuJoCo episode and
// fails with the runtime's one-line message on a bad file.
#include <gtest/gtest.h>

#include "envs/assets/hopper_xml.h"
#include "tests/export/runtime_fixture.h"

using namespace seqrl::testing;

namespace {

TEST(PolicyLoopExample, ActsForOneEpisodeAndRejectsABadFile) {
  auto dir = temp_dir("policy_loop");
  std::string out;
  auto run = train_tiny_run(dir, "gru", &out);
  ASSERT_FALSE(run.empty()) << out;
  auto policy = export_tiny_run(dir, run, &out);
  ASSERT_FALSE(policy.empty()) << out;
  auto xml = write_text(dir / "hopper.xml", seqrl::assets::kHopperXml);
  ASSERT_EQ(run_command(std::string(SEQRL_POLICY_LOOP) + " " + policy + " " + xml + " 1", &out), 0) << out;
  EXPECT_NE(out.find("episode 0: hopper, "), std::string::npos) << out;
  EXPECT_NE(out.find(" return "), std::string::npos) << out;

  auto truncated = write_text(dir / "truncated.sqp", "SEQRLSQP\x01");
  EXPECT_EQ(run_command(std::string(SEQRL_POLICY_LOOP) + " " + truncated + " " + xml, &out), 1) << out;
  EXPECT_NE(out.find("policy_loop: " + truncated + ": truncated"), std::string::npos) << out;
}

}  // namespace
