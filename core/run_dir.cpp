#include "core/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cstdio>
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
      throw Error(run_dir + ": another seqrl process is using this run folder (it holds " + path + "); wait for it to finish");
    throw Error(run_dir + ": cannot lock " + path + ": " + std::strerror(err));
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

MetricsCsv::MetricsCsv(std::string path, std::vector<std::string> columns)
    : path_(std::move(path)), columns_(std::move(columns)) {}

void MetricsCsv::load_existing(long from_step) {
  rows_.clear();
  if (!fs::exists(path_)) return;
  std::istringstream in(read_file(path_));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    cells.resize(columns_.size());
    if (!cells.empty() && !cells[0].empty() && std::stol(cells[0]) >= from_step) continue;
    rows_.push_back(cells);
  }
}

void MetricsCsv::append(const std::map<std::string, double>& row) {
  rows_.emplace_back(columns_.size());
  update_last(row);
}

void MetricsCsv::update_last(const std::map<std::string, double>& values) {
  if (rows_.empty()) throw std::logic_error("metrics.csv: no row to update");
  for (const auto& [k, v] : values) {
    auto it = std::find(columns_.begin(), columns_.end(), k);
    if (it == columns_.end()) throw std::logic_error("metrics.csv: unknown column " + k);
    std::ostringstream ss;
    ss.precision(8);
    ss << v;
    rows_.back()[static_cast<size_t>(it - columns_.begin())] = ss.str();
  }
}

void MetricsCsv::flush() const {
  std::ostringstream out;
  for (size_t i = 0; i < columns_.size(); ++i) out << (i ? "," : "") << columns_[i];
  out << "\n";
  for (const auto& r : rows_) {
    for (size_t i = 0; i < r.size(); ++i) out << (i ? "," : "") << r[i];
    out << "\n";
  }
  write_file_atomic(path_, out.str());
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
    std::snprintf(buf, sizeof buf, "\r%s [%s] %ld/%ld %.1f/s ETA %.0fs %s", label_.c_str(), bar.c_str(), done,
                  total_, rate, eta, extra.c_str());
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
