// Run folders: runs/<name>-<timestamp>/ holding config.yaml, log.txt, metrics.csv,
// checkpoints/, status.json and eval.json. Every file but log.txt is written atomically.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace seqrl {

// This machine's name (gethostname), as run records and status.json store it.
std::string host_name();

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

// status.json: where a run stands, written by `seqrl train` when it starts and when it stops,
// and by `seqrl sweep` when it queues the run on Slurm.
//   {"state": "queued|running|done|failed|interrupted", "host": "node1", "pid": 4242,
//    "slurm_job": "1234_5", "message": "the error, for failed", "updated": "2026-12-01T22:00:00Z"}
struct RunStatus {
  std::string state;  // "" when the folder has no status.json
  std::string host, slurm_job, message, updated;
  long pid = 0;
};
// Writes state with this process's host and pid (and SLURM_ARRAY_JOB_ID_TASK_ID when set).
void write_run_status(const std::string& run_dir, const std::string& state, const std::string& message = "",
                      const std::string& slurm_job = "");
RunStatus read_run_status(const std::string& run_dir);
// What a run is now, for `seqrl runs` and `seqrl sweep status`: "done" (eval.json), "running",
// "queued", "failed", "interrupted" (stopped, or killed: a "running" pid on this host that is
// gone) or "pending" (folder prepared, never started).
std::string run_state(const std::string& run_dir);

// metrics.csv with a fixed header. Every row is appended and flushed when it is logged, so a
// live run can be followed (`tail -f`, `seqrl plot`); a run killed mid-write leaves at most a
// torn last line, which open() drops on resume. Missing values stay empty.
class MetricsCsv {
 public:
  MetricsCsv(std::string path, std::vector<std::string> columns);
  // Starts the file. Fresh (resume_from_step < 0): only the header. Resume: the existing rows
  // at or after `resume_from_step` (column "step") are dropped, as the run redoes those steps;
  // columns are matched by name. Both rewrite the file atomically.
  void open(long resume_from_step = -1);
  // Appends one row: numeric and text cells by column name. Throws std::logic_error on a column
  // that is not in the header (a programming error), seqrl::Error when the file cannot be written.
  void append(const std::map<std::string, double>& numbers, const std::map<std::string, std::string>& text = {});

 private:
  std::string path_;
  std::vector<std::string> columns_;
};

// Splits one CSV line at commas (metrics.csv holds no quoted cells).
std::vector<std::string> split_csv_line(const std::string& line);

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
