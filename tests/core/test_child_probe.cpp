// core/child_probe.h: what the parent learns about requests run in a long-lived child process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <torch/torch.h>

#include "core/child_probe.h"

namespace seqrl {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMemory = int64_t(1) << 30;  // the growth a request may cause

// Allocates and touches `bytes` and keeps them.
void leak(int64_t bytes) {
  for (int64_t done = 0; done < bytes; done += 64 << 20) {
    auto* block = static_cast<char*>(std::malloc(64 << 20));
    if (!block) ::_exit(9);
    std::memset(block, 1, 64 << 20);
  }
}

// Runs the test's own code for each request: args[0] names what to do.
ProbeWorker::Handler acting() {
  return [](const std::vector<std::string>& args) {
    static int served = 0;  // in the child: the parent never runs the handler
    ++served;
    const std::string& what = args.at(0);
    if (what == "throw") throw std::runtime_error("bad file");
    if (what == "segv") ::raise(SIGSEGV);
    if (what == "exit3") ::_exit(3);
    if (what == "hang")
      for (;;) ::pause();
    if (what == "segv-unless-first" && served > 1) ::raise(SIGSEGV);
    if (what == "file-exists" && !fs::exists(args.at(1))) ::raise(SIGSEGV);
    if (what == "grow") {  // until stopped, as libhdf5 did on a 21 KB file
      leak(int64_t(8) << 30);
      for (;;) ::pause();
    }
    if (what == "leak-600MB") leak(int64_t(600) << 20);
  };
}

TEST(ProbeWorker, RequestsFinishInOneChildAndLeaveTheParentUntouched) {
  int touched = 0;
  ProbeWorker worker([&](const std::vector<std::string>&) { touched = 1; });
  EXPECT_EQ(worker.child_pid(), -1);  // started by the first request
  EXPECT_EQ(worker.run({"a"}, 30, kMemory).outcome, ProbeOutcome::finished);
  const pid_t child = worker.child_pid();
  EXPECT_GT(child, 0);
  EXPECT_EQ(worker.run({"b"}, 30, kMemory).outcome, ProbeOutcome::finished);
  EXPECT_EQ(worker.child_pid(), child);  // no fork per request
  EXPECT_EQ(touched, 0);                 // the child's memory is its own

  ProbeWorker thrower(acting());
  EXPECT_EQ(thrower.run({"throw"}, 30, kMemory).outcome, ProbeOutcome::finished);
}

TEST(ProbeWorker, ASignalOrAnExitIsACrashThatSaysWhichAndTheNextRequestGetsANewChild) {
  ProbeWorker worker(acting());
  auto segv = worker.run({"segv"}, 30, kMemory);
  EXPECT_EQ(segv.outcome, ProbeOutcome::crashed);
  // signal 11 itself; 6 where a sanitizer's abort_on_error handles the fault first.
  EXPECT_EQ(segv.detail.rfind("signal ", 0), 0u) << segv.detail;
  EXPECT_EQ(worker.child_pid(), -1);
  auto exited = worker.run({"exit3"}, 30, kMemory);
  EXPECT_EQ(exited.outcome, ProbeOutcome::crashed);
  EXPECT_EQ(exited.detail, "exit status 3");
  EXPECT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
}

TEST(ProbeWorker, ARequestThatNeverEndsIsStoppedAtTheLimit) {
  ProbeWorker worker(acting());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(worker.run({"hang"}, 0.5, kMemory).outcome, ProbeOutcome::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(worker.child_pid(), -1);  // killed and reaped
  EXPECT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
}

TEST(ProbeWorker, AVerdictFromAUsedChildIsCheckedOnAFreshOne) {
  // "segv-unless-first" crashes any child that served a request before it, as a heap left
  // corrupt by an earlier file would: the verdict must be the input's, not the child's history.
  ProbeWorker worker(acting());
  ASSERT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
  const pid_t used = worker.child_pid();
  EXPECT_EQ(worker.run({"segv-unless-first"}, 30, kMemory).outcome, ProbeOutcome::finished);
  EXPECT_NE(worker.child_pid(), used);
  // An input that crashes a fresh child too is a crash.
  ASSERT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
  EXPECT_EQ(worker.run({"segv"}, 30, kMemory).outcome, ProbeOutcome::crashed);
}

TEST(ProbeWorker, AChildKilledBetweenRequestsIsReplaced) {
  ProbeWorker worker(acting());
  ASSERT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
  const pid_t first = worker.child_pid();
  ::kill(first, SIGKILL);
  EXPECT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
  EXPECT_NE(worker.child_pid(), first);
}

TEST(ProbeWorker, RelativePathsMeanWhatTheyMeanInTheParentNow) {
  const auto before = fs::current_path();
  const auto dir = fs::temp_directory_path() / ("seqrl_probe_cwd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "there.txt") << "x";
  ProbeWorker worker(acting());
  ASSERT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);  // the child starts in `before`
  fs::current_path(dir);
  const auto found = worker.run({"file-exists", "there.txt"}, 30, kMemory);
  fs::current_path(before);
  EXPECT_EQ(found.outcome, ProbeOutcome::finished);
  fs::remove_all(dir);
}

TEST(ProbeWorker, AForkOfTheOwnerStartsItsOwnChild) {
  ProbeWorker worker(acting());
  ASSERT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
  const pid_t child = worker.child_pid();
  const pid_t forked = ::fork();
  ASSERT_GE(forked, 0);
  if (forked == 0) {
    const bool ok = worker.run({"fine"}, 30, kMemory).outcome == ProbeOutcome::finished && worker.child_pid() != child;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(forked, &status, 0), forked);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);  // the parent's child is untouched
  EXPECT_EQ(worker.child_pid(), child);
}

TEST(ProbeWorker, ATorchParallelOpInTheChildDoesNotWaitForTheParentsThreads) {
  // The parent's OpenMP pool exists (set up by a parallel op here); the child must not use it.
  torch::set_num_threads(2);
  auto big = torch::rand({1 << 20});
  (void)big.sum().item<float>();
  ProbeWorker worker([&](const std::vector<std::string>&) { (void)(big * 2).isfinite().all().item<bool>(); });
  EXPECT_EQ(worker.run({}, 60, kMemory).outcome, ProbeOutcome::finished);
}

TEST(ProbeWorker, AChildThatGrowsPastTheMemoryLimitIsStoppedAndReplaced) {
  ProbeWorker worker(acting());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(worker.run({"grow"}, 60, int64_t(256) << 20).outcome, ProbeOutcome::out_of_memory);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20)) << "stopped near the limit, not at 8 GB";
  EXPECT_EQ(worker.child_pid(), -1);
  EXPECT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
}

// What corrupt inputs leak in the child adds up over requests: past kRecycleBytes the child is
// retired after its request, so the next one starts fresh.
TEST(ProbeWorker, AChildThatLeakedPastTheRecycleSizeIsReplacedAfterItsRequest) {
  ProbeWorker worker(acting());
  ASSERT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
  EXPECT_GT(worker.child_pid(), 0) << "a small request keeps its child";
  ASSERT_EQ(worker.run({"leak-600MB"}, 30, kMemory).outcome, ProbeOutcome::finished);
  EXPECT_EQ(worker.child_pid(), -1);
  EXPECT_EQ(worker.run({"fine"}, 30, kMemory).outcome, ProbeOutcome::finished);
  EXPECT_GT(worker.child_pid(), 0);
}

}  // namespace
}  // namespace seqrl
