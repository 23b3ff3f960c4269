// core/child_probe.h: what the parent learns about a body run in a child process.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include <torch/torch.h>

#include "core/child_probe.h"

namespace seqrl {
namespace {

TEST(ChildProbe, ABodyThatReturnsOrThrowsFinishedAndLeavesTheParentUntouched) {
  int touched = 0;
  EXPECT_EQ(probe_in_child([&] { touched = 1; }, 30).outcome, ProbeOutcome::finished);
  EXPECT_EQ(touched, 0);  // the child's memory is its own
  EXPECT_EQ(probe_in_child([] { throw std::runtime_error("bad file"); }, 30).outcome, ProbeOutcome::finished);
}

TEST(ChildProbe, ASignalOrAnExitIsACrashThatSaysWhich) {
  auto segv = probe_in_child([] { ::raise(SIGSEGV); }, 30);
  EXPECT_EQ(segv.outcome, ProbeOutcome::crashed);
  // signal 11 itself; 6 where a sanitizer's abort_on_error handles the fault first.
  EXPECT_EQ(segv.detail.rfind("signal ", 0), 0u) << segv.detail;
  auto exited = probe_in_child([] { ::_exit(3); }, 30);
  EXPECT_EQ(exited.outcome, ProbeOutcome::crashed);
  EXPECT_EQ(exited.detail, "exit status 3");
}

TEST(ChildProbe, ABodyThatNeverEndsIsStoppedAtTheLimit) {
  const auto t0 = std::chrono::steady_clock::now();
  auto hang = probe_in_child(
      [] {
        for (;;) ::pause();
      },
      0.5);
  EXPECT_EQ(hang.outcome, ProbeOutcome::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
}

TEST(ChildProbe, ATorchParallelOpInTheChildDoesNotWaitForTheParentsThreads) {
  // The parent's OpenMP pool exists (set up by a parallel op here); the child must not use it.
  torch::set_num_threads(2);
  auto big = torch::rand({1 << 20});
  (void)big.sum().item<float>();
  EXPECT_EQ(probe_in_child([&] { (void)(big * 2).isfinite().all().item<bool>(); }, 60).outcome, ProbeOutcome::finished);
}

}  // namespace
}  // namespace seqrl
