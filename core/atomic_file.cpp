#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace seqrl {
namespace {

FileFaultHook& fault_hook() {
  static FileFaultHook hook;
  return hook;
}

// errno of an injected fault for this call, or 0.
int injected(FileOp op, const std::string& path) { return fault_hook() ? fault_hook()(op, path) : 0; }

std::string folder_of(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? std::string(".") : dir.string();
}

// strerror, except that a full disk is called one: some filesystems report ENOSPC on a late
// write or fsync as EIO ("Input/output error").
std::string reason(int err, const std::string& path) {
  struct statvfs fs {};
  const bool full = err == ENOSPC || err == EDQUOT ||
                    (err == EIO && ::statvfs(folder_of(path).c_str(), &fs) == 0 && fs.f_bavail == 0);
  return full ? std::string("no space left on device") : std::strerror(err);
}

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw Error(path + ": " + what + ": " + reason(err, path));
}

void fsync_path(const std::string& path, const std::string& target) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(target, "cannot reopen for fsync", errno);
  int err = injected(FileOp::Fsync, path);
  if (!err && ::fsync(fd) != 0 && errno != EINVAL) err = errno;  // EINVAL: no fsync on this fs
  ::close(fd);
  if (err) fail(target, "cannot flush to disk", err);
}

void rename_into_place(const std::string& tmp, const std::string& path) {
  int err = injected(FileOp::Rename, tmp);
  if (!err && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) fail(path, "cannot rename temporary file into place", err);
}

void write_all(const std::string& tmp, const std::string& path, const std::string& content) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot open for writing", errno);
  const char* p = content.data();
  size_t left = content.size();
  int err = 0;
  while (left > 0 && !err) {
    // At most 1 MiB per call, so that faults can be injected part-way through a file.
    if ((err = injected(FileOp::Write, tmp))) break;
    ssize_t n = ::write(fd, p, std::min<size_t>(left, size_t(1) << 20));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      err = errno;
    else
      p += n, left -= size_t(n);
  }
  if (::close(fd) != 0 && !err) err = errno;
  if (err) fail(path, "write failed", err);
}

}  // namespace

void set_file_fault_hook(FileFaultHook hook) { fault_hook() = std::move(hook); }

void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    fsync_path(tmp, path);
    rename_into_place(tmp, path);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  // Make the rename itself durable.
  fsync_path(folder_of(path), path);
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic_with(path, [&](const std::string& tmp) { write_all(tmp, path, content); });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int remove_stale_temp_files(const std::string& dir) {
  namespace fs = std::filesystem;
  int removed = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 == name.size() || !e.is_regular_file(ec)) continue;
    if (name.find_first_not_of("0123456789", at + 5) != std::string::npos) continue;
    if (fs::remove(e.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace seqrl
