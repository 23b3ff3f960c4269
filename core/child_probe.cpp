#include "core/child_probe.h"

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/error.h"

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
}

[[noreturn]] void run_child(const std::function<void()>& body, int done_fd) {
  single_threaded_child();
  try {
    body();
  } catch (...) {
  }
  const char finished = 'F';
  ssize_t ignored = ::write(done_fd, &finished, 1);
  (void)ignored;
  ::_exit(0);  // no atexit handlers, no stdio flush: the parent owns those
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "signal " + std::to_string(sig) + ", " + ::strsignal(sig);
  }
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

ProbeResult probe_in_child(const std::function<void()>& body, double timeout_seconds) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error(std::string("cannot start a reader process: pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(std::string("cannot start a reader process: fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(body, fds[1]);
  }
  ::close(fds[1]);

  // The pipe ends when the child exits, however it exits; 'F' says body returned.
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_seconds);
  bool finished = false, ended = false;
  while (!ended) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    char c;
    const ssize_t n = ::read(fds[0], &c, 1);
    if (n == 1) finished = finished || c == 'F';
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) ended = true;
  }
  ::close(fds[0]);
  if (!ended) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!ended) return {ProbeOutcome::timed_out, ""};
  if (finished && WIFEXITED(status) && WEXITSTATUS(status) == 0) return {ProbeOutcome::finished, ""};
  return {ProbeOutcome::crashed, describe(status)};
}

}  // namespace seqrl
