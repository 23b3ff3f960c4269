#include "core/run_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"

namespace seqrl {
namespace fs = std::filesystem;

std::string create_run_dir(const std::string& root, const std::string& name) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw Error(root + ": cannot create runs folder: " + ec.message());
  std::string base = (fs::path(root) / (name + "-" + stamp)).string();
  std::string dir = base;
  // create_directory is atomic: two parallel seeds never share a folder.
  for (int i = 1; !fs::create_directory(dir, ec); ++i) {
    if (ec) throw Error(dir + ": cannot create run folder: " + ec.message());
    dir = base + "-" + std::to_string(i);
  }
  fs::create_directories(fs::path(dir) / "checkpoints");
  return dir;
}

RunLock::RunLock(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(run_dir + ": cannot create the run lock " + path + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw Error(run_dir + ": another seqrl process is using this run folder (it holds " + path +
                  "); wait for it to finish");
    throw Error(run_dir + ": cannot lock " + path + ": " + std::strerror(err));
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

namespace {

std::string slurm_task() {
  const char* job = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
  if (job && task) return std::string(job) + "_" + task;
  const char* plain = std::getenv("SLURM_JOB_ID");
  return plain ? plain : "";
}

}  // namespace

void write_run_status(const std::string& run_dir, const std::string& state, const std::string& message,
                      const std::string& slurm_job) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  nlohmann::json j{{"state", state},          {"host", host_name()},
                   {"pid", long(::getpid())}, {"slurm_job", slurm_job.empty() ? slurm_task() : slurm_job},
                   {"message", message},      {"updated", stamp}};
  write_file_atomic((fs::path(run_dir) / "status.json").string(), j.dump(2) + "\n");
}

RunStatus read_run_status(const std::string& run_dir) {
  RunStatus s;
  const auto path = (fs::path(run_dir) / "status.json").string();
  if (!fs::exists(path)) return s;
  const auto j = nlohmann::json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  auto text = [&](const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  if (!j.is_object() || text("state").empty())
    throw Error(path + ": not a run status (expected a JSON object with 'state')");
  s.state = text("state");
  s.host = text("host");
  s.slurm_job = text("slurm_job");
  s.message = text("message");
  s.updated = text("updated");
  s.pid = j.contains("pid") && j["pid"].is_number_integer() ? j["pid"].get<long>() : 0;
  return s;
}

std::string run_state(const std::string& run_dir) {
  if (fs::exists(fs::path(run_dir) / "eval.json")) return "done";
  const auto s = read_run_status(run_dir);
  if (s.state.empty()) return fs::exists(fs::path(run_dir) / "checkpoints" / "last.pt") ? "interrupted" : "pending";
  if (s.state == "running" && s.host == host_name() && s.pid > 0 && ::kill(pid_t(s.pid), 0) != 0 && errno == ESRCH)
    return "interrupted";                  // killed without a word (SIGKILL, power loss)
  if (s.state == "done") return "failed";  // said done but wrote no eval.json
  return s.state;
}

MetricsCsv::MetricsCsv(std::string path, std::vector<std::string> columns)
    : path_(std::move(path)), columns_(std::move(columns)) {}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  size_t begin = 0;
  for (;;) {
    const auto comma = line.find(',', begin);
    cells.push_back(line.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  if (!cells.empty() && !cells.back().empty() && cells.back().back() == '\r') cells.back().pop_back();
  return cells;
}

void MetricsCsv::open(long resume_from_step) {
  std::ostringstream out;
  for (size_t i = 0; i < columns_.size(); ++i) out << (i ? "," : "") << columns_[i];
  out << "\n";
  if (resume_from_step >= 0 && fs::exists(path_)) {
    std::string text = read_file(path_);
    text.erase(text.find_last_of('\n') == std::string::npos ? 0 : text.find_last_of('\n') + 1);  // a torn last line
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);
    const auto old_columns = split_csv_line(line);
    while (std::getline(in, line)) {
      const auto cells = split_csv_line(line);
      std::vector<std::string> row(columns_.size());
      for (size_t i = 0; i < cells.size() && i < old_columns.size(); ++i) {
        auto it = std::find(columns_.begin(), columns_.end(), old_columns[i]);
        if (it != columns_.end()) row[size_t(it - columns_.begin())] = cells[i];
      }
      char* end = nullptr;
      const long step = std::strtol(row[0].c_str(), &end, 10);
      if (row[0].empty() || *end != '\0' || step >= resume_from_step) continue;
      for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << row[i];
      out << "\n";
    }
  }
  write_file_atomic(path_, out.str());
}

void MetricsCsv::append(const std::map<std::string, double>& numbers, const std::map<std::string, std::string>& text) {
  std::vector<std::string> row(columns_.size());
  auto slot = [&](const std::string& k) -> std::string& {
    auto it = std::find(columns_.begin(), columns_.end(), k);
    if (it == columns_.end()) throw std::logic_error("metrics.csv: unknown column " + k);
    return row[static_cast<size_t>(it - columns_.begin())];
  };
  for (const auto& [k, v] : numbers) {
    std::ostringstream ss;
    ss.precision(8);
    ss << v;
    slot(k) = ss.str();
  }
  for (const auto& [k, v] : text) slot(k) = v;
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) line += (i ? "," : "") + row[i];
  line += "\n";
  // One write of the whole line, then a flush: readers see whole rows except after a crash.
  std::FILE* f = std::fopen(path_.c_str(), "a");
  if (!f) throw Error(path_ + ": cannot append a metrics row");
  const bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size() && std::fflush(f) == 0;
  std::fclose(f);
  if (!ok) throw Error(path_ + ": cannot append a metrics row (disk full?)");
}

Progress::Progress(std::string label, long total, double log_every_seconds)
    : label_(std::move(label)), total_(total), log_every_(log_every_seconds), tty_(::isatty(2) == 1) {
  start_ = last_print_ = std::chrono::steady_clock::now();
}

void Progress::update(long done, const std::string& extra) {
  auto now = std::chrono::steady_clock::now();
  if (start_done_ < 0) {
    start_done_ = done;
    start_ = now;
  }
  double since = std::chrono::duration<double>(now - last_print_).count();
  if (done < total_ && since < (tty_ ? 0.2 : log_every_)) return;
  last_print_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? double(done - start_done_) / elapsed : 0.0;
  double eta = rate > 0 ? double(total_ - done) / rate : 0.0;
  char buf[256];
  if (tty_) {
    int width = 30, filled = total_ > 0 ? int(width * double(done) / double(total_)) : width;
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::snprintf(buf, sizeof buf, "\r%s [%s] %ld/%ld %.1f/s ETA %.0fs %s", label_.c_str(), bar.c_str(), done, total_,
                  rate, eta, extra.c_str());
    std::fputs(buf, stderr);
    std::fflush(stderr);
  } else {
    std::snprintf(buf, sizeof buf, "%s %ld/%ld (%.1f/s, ETA %.0fs) %s", label_.c_str(), done, total_, rate, eta,
                  extra.c_str());
    spdlog::info("{}", buf);
  }
}

void Progress::finish() {
  if (tty_) std::fputs("\n", stderr);
}

}  // namespace seqrl
