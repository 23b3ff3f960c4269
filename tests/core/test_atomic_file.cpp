// Atomic writes: the target holds the old or the new content, never a torn file, and a failed
// writer leaves neither a changed target nor a stray temp file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/run_dir.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& tag) {
  auto d = fs::temp_directory_path() / ("seqrl_atomic_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

size_t count_files(const fs::path& d) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(d)) n += e.is_regular_file();
  return n;
}

TEST(AtomicFile, WritesAndReplacesContent) {
  auto d = fresh_dir("replace");
  auto p = (d / "a.txt").string();
  seqrl::write_file_atomic(p, "first");
  EXPECT_EQ(seqrl::read_file(p), "first");
  seqrl::write_file_atomic(p, "second, longer");
  EXPECT_EQ(seqrl::read_file(p), "second, longer");
  EXPECT_EQ(count_files(d), 1u);  // no temp file left behind
  fs::remove_all(d);
}

TEST(AtomicFile, FailingWriterKeepsOldContentAndRemovesTemp) {
  auto d = fresh_dir("fail");
  auto p = (d / "ckpt.bin").string();
  seqrl::write_file_atomic(p, "good");
  EXPECT_THROW(seqrl::write_atomic_with(p,
                                        [](const std::string& tmp) {
                                          std::ofstream(tmp) << "half a checkp";
                                          throw seqrl::Error("disk full (simulated)");
                                        }),
               seqrl::Error);
  EXPECT_EQ(seqrl::read_file(p), "good");
  EXPECT_EQ(count_files(d), 1u);
  fs::remove_all(d);
}

TEST(AtomicFile, UnwritableDirectoryIsANamedError) {
  try {
    seqrl::write_file_atomic("/nonexistent-dir/x.txt", "x");
    FAIL();
  } catch (const seqrl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.txt"), std::string::npos);
  }
}

TEST(RunDir, CreatesUniqueFoldersWithCheckpoints) {
  auto d = fresh_dir("runs");
  auto a = seqrl::create_run_dir(d.string(), "hopper");
  auto b = seqrl::create_run_dir(d.string(), "hopper");  // same second: must not collide
  EXPECT_NE(a, b);
  EXPECT_TRUE(fs::is_directory(fs::path(a) / "checkpoints"));
  EXPECT_EQ(fs::path(a).filename().string().rfind("hopper-", 0), 0u);
  fs::remove_all(d);
}

TEST(MetricsCsv, AppendsEachRowAtOnceAndResumeDropsRowsAtOrAfterStep) {
  auto d = fresh_dir("metrics");
  auto p = (d / "metrics.csv").string();
  seqrl::MetricsCsv m(p, {"step", "loss", "mode"});
  m.open();
  EXPECT_EQ(seqrl::read_file(p), "step,loss,mode\n");
  m.append({{"step", 10}, {"loss", 0.5}});
  EXPECT_EQ(seqrl::read_file(p), "step,loss,mode\n10,0.5,\n");  // on disk before the next row
  m.append({{"step", 20}, {"loss", 0.25}}, {{"mode", "window"}});
  m.append({{"step", 30}});
  EXPECT_EQ(seqrl::read_file(p), "step,loss,mode\n10,0.5,\n20,0.25,window\n30,,\n");
  EXPECT_THROW(m.append({{"nope", 1}}), std::logic_error);

  // A killed run left a torn line; resuming from step 20's checkpoint redoes rows 20 and later.
  { std::ofstream(p, std::ios::app) << "40,0.1"; }
  seqrl::MetricsCsv resumed(p, {"step", "loss", "mode"});
  resumed.open(20);
  EXPECT_EQ(seqrl::read_file(p), "step,loss,mode\n10,0.5,\n");
  resumed.append({{"step", 20}, {"loss", 0.3}});
  EXPECT_EQ(seqrl::read_file(p), "step,loss,mode\n10,0.5,\n20,0.3,\n");
  fs::remove_all(d);
}

TEST(AtomicFile, InjectedFaultsKeepTheOldFileAndNameAFullDisk) {
  auto dir = fresh_dir("faults");
  const auto path = (dir / "x.txt").string();
  seqrl::write_file_atomic(path, "old");
  const std::vector<std::pair<seqrl::FileOp, int>> faults = {
      {seqrl::FileOp::Write, ENOSPC}, {seqrl::FileOp::Fsync, EIO}, {seqrl::FileOp::Rename, EIO}};
  for (const auto& [op, err] : faults) {
    seqrl::set_file_fault_hook([op = op, err = err](seqrl::FileOp o, const std::string& p) {
      return o == op && p.find(".tmp.") != std::string::npos ? err : 0;
    });
    try {
      seqrl::write_file_atomic(path, std::string(3 << 20, 'n'));  // three write calls
      ADD_FAILURE() << "fault not reported";
    } catch (const seqrl::Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
      if (err == ENOSPC) EXPECT_NE(msg.find("no space left on device"), std::string::npos) << msg;
    }
    seqrl::set_file_fault_hook(nullptr);
    EXPECT_EQ(seqrl::read_file(path), "old");
    EXPECT_EQ(count_files(dir), 1u) << "temp file left behind";
  }
  fs::remove_all(dir);
}

TEST(AtomicFile, StaleTempFilesOfKilledWritersAreRemoved) {
  auto dir = fresh_dir("stale");
  for (const char* name : {"last.pt.tmp.123", "metrics.csv.tmp.9", "keep.tmp.x", "keep.csv", "keep.tmp."})
    std::ofstream(dir / name) << "x";
  EXPECT_EQ(seqrl::remove_stale_temp_files(dir.string()), 2);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"keep.csv", "keep.tmp.", "keep.tmp.x"}));
  fs::remove_all(dir);
}

}  // namespace
