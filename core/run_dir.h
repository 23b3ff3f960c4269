// Run folders: runs/<name>-<timestamp>/ holding config.yaml, log.txt, metrics.csv,
// checkpoints/ and eval.json. Every file but log.txt is written atomically.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace seqrl {

// Creates "<root>/<name>-<YYYYmmdd-HHMMSS>" (with a numeric suffix if that exists already)
// and its checkpoints/ folder; returns its path.
std::string create_run_dir(const std::string& root, const std::string& name);

// An exclusive lock on a run folder (flock on RUN/.lock) held while this object lives, so two
// `train --resume` of one run cannot both write it. Taking a held lock fails at once with an
// Error naming the folder. The kernel drops the lock when the process dies, kill -9 included.
class RunLock {
 public:
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// metrics.csv with a fixed header. Rows accumulate in memory and the whole file is rewritten
// atomically on flush(), so a killed run leaves a complete CSV. Missing values stay empty.
class MetricsCsv {
 public:
  MetricsCsv(std::string path, std::vector<std::string> columns);
  // Loads existing rows (for resume); rows at or after `from_step` (column "step") are dropped.
  void load_existing(long from_step);
  void append(const std::map<std::string, double>& row);
  // Sets columns of the last row (e.g. an evaluation made at the step just logged).
  void update_last(const std::map<std::string, double>& values);
  void flush() const;
  const std::vector<std::vector<std::string>>& rows() const { return rows_; }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Progress on long work: a redrawn bar with rate and ETA when stderr is a terminal,
// otherwise an info log line every `log_every` seconds.
class Progress {
 public:
  Progress(std::string label, long total, double log_every_seconds = 30.0);
  void update(long done, const std::string& extra = "");
  void finish();

 private:
  std::string label_;
  long total_;
  double log_every_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
  long start_done_ = -1;
};

}  // namespace seqrl
