#include "core/child_probe.h"

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

// Set by sanitizer runtimes, which a fuzzer uses to save the input that killed the process.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace seqrl {
namespace {

// After fork only the forking thread exists, but libgomp still believes its pool is there and
// would wait for it in the next parallel region. With one OpenMP thread, ATen never opens one.
// Looked up at run time: libgomp comes in with libtorch, not as our own dependency.
void single_threaded_child() {
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) set(1);
  spdlog::set_level(spdlog::level::off);  // the parent logs what it reads itself
  // A fault ends the child plainly: no crash handler of the parent's (a sanitizer's, a
  // fuzzer's) reports it as the parent's own.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, SIG_DFL);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(nullptr);
}

// Whole-buffer socket I/O; false when the other side is gone. MSG_NOSIGNAL: a dead peer is an
// answer, not a SIGPIPE.
bool send_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= size_t(n);
  }
  return true;
}

bool recv_all(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::recv(fd, p, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= size_t(n);
  }
  return true;
}

// A request is a count and then each argument, length first.
bool send_request(int fd, const std::vector<std::string>& args) {
  const uint64_t count = args.size();
  if (!send_all(fd, &count, sizeof count)) return false;
  for (const auto& a : args) {
    const uint64_t size = a.size();
    if (!send_all(fd, &size, sizeof size) || !send_all(fd, a.data(), a.size())) return false;
  }
  return true;
}

bool recv_request(int fd, std::vector<std::string>& args) {
  uint64_t count = 0;
  if (!recv_all(fd, &count, sizeof count)) return false;
  args.assign(count, {});
  for (auto& a : args) {
    uint64_t size = 0;
    if (!recv_all(fd, &size, sizeof size)) return false;
    a.resize(size);
    if (!recv_all(fd, a.data(), size)) return false;
  }
  return true;
}

[[noreturn]] void serve(const ProbeWorker::Handler& handler, int fd, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // an orphaned worker would hold the parent's stdout open
  if (::getppid() != parent) ::_exit(0);
  single_threaded_child();
  std::vector<std::string> args;
  while (recv_request(fd, args)) {
    try {
      // Relative paths mean the same as in the parent, which may have changed folder since (the
      // last argument is the parent's folder, or "" where it has none).
      const std::string folder = args.empty() ? "" : args.back();
      if (!args.empty()) args.pop_back();
      // Should that fail, the parent's own read of a relative path fails and says so.
      if (!folder.empty()) (void)!::chdir(folder.c_str());
      handler(args);
    } catch (...) {
    }
    const char finished = 'F';
    if (!send_all(fd, &finished, 1)) break;
  }
  ::_exit(0);  // no atexit handlers, no stdio flush: the parent owns those
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "signal " + std::to_string(sig) + ", " + ::strsignal(sig);
  }
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

// Resident bytes of process `pid` (0 if it cannot be read).
int64_t resident_bytes(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * int64_t(::sysconf(_SC_PAGESIZE));
}

// Waits for the reply byte: 'F' is finished, the end of the socket is a child that died. The
// child's memory is looked at between waits of 50 ms: some corrupt files make libhdf5
// allocate until the machine runs out (fuzz/regressions).
ProbeOutcome await_reply(int fd, pid_t pid, double timeout_seconds, int64_t rss_limit) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_seconds);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return ProbeOutcome::timed_out;
    if (resident_bytes(pid) > rss_limit) return ProbeOutcome::out_of_memory;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 50)));
    if (ready < 0 && errno != EINTR)
      throw Error(std::string("cannot wait for the reader process: poll: ") + std::strerror(errno));
    if (ready <= 0) continue;
    char c = 0;
    const ssize_t n = ::recv(fd, &c, 1, 0);
    if (n == 1 && c == 'F') return ProbeOutcome::finished;
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return ProbeOutcome::crashed;
  }
}

}  // namespace

ProbeWorker::ProbeWorker(Handler handler) : handler_(std::move(handler)) {}

ProbeWorker::~ProbeWorker() {
  if (pid_ < 0) return;
  if (owner_ != ::getpid()) {
    forget_child();
    return;
  }
  ::close(fd_);  // the child reads the end of its requests and exits
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

pid_t ProbeWorker::child_pid() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pid_;
}

void ProbeWorker::forget_child() {
  ::close(fd_);
  pid_ = fd_ = -1;
  served_ = 0;
}

void ProbeWorker::start() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw Error(std::string("cannot start a reader process: socketpair: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    throw Error(std::string("cannot start a reader process: fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::close(sv[0]);
    serve(handler_, sv[1], parent);
  }
  ::close(sv[1]);
  owner_ = parent;
  pid_ = pid;
  fd_ = sv[0];
  served_ = 0;
  start_rss_ = resident_bytes(parent);  // what the child shares from the fork
}

ProbeResult ProbeWorker::end_child(ProbeOutcome outcome) {
  if (outcome != ProbeOutcome::crashed) ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  forget_child();
  if (outcome != ProbeOutcome::crashed) return {outcome, ""};
  return {outcome, describe(status)};
}

ProbeResult ProbeWorker::run(const std::vector<std::string>& args, double timeout_seconds, int64_t memory_limit_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pid_ >= 0 && owner_ != ::getpid()) forget_child();  // the parent's child, inherited by a fork
  for (;;) {
    if (pid_ < 0) start();
    const bool fresh = served_ == 0;
    auto request = args;
    std::error_code ec;
    request.push_back(std::filesystem::current_path(ec).string());
    if (!send_request(fd_, request)) {     // died between requests: not this input's doing
      end_child(ProbeOutcome::timed_out);  // killed first, in case it is somehow still there
      if (fresh) throw Error("cannot start a reader process: it ended before its first request");
      continue;
    }
    ProbeOutcome outcome;
    try {
      outcome = await_reply(fd_, pid_, timeout_seconds, start_rss_ + memory_limit_bytes);
    } catch (const Error&) {
      end_child(ProbeOutcome::timed_out);  // killed: nothing waits for it any more
      throw;
    }
    if (outcome == ProbeOutcome::finished) {
      ++served_;
      if (resident_bytes(pid_) > start_rss_ + kRecycleBytes) end_child(ProbeOutcome::timed_out);  // leaks: retire it
      return {outcome, ""};
    }
    ProbeResult result = end_child(outcome);
    if (fresh) return result;
  }
}

}  // namespace seqrl
