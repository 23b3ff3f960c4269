// Trying untrusted input where a crash or a hang costs nothing: a handler runs in a child process,
// and the caller learns whether it finished, died by a signal, or ran past a time limit. Used for
// libhdf5, which segfaults or loops on some corrupt files (fuzz/regressions): the parent reads a
// file only after a child has read the same bytes the same way.
//
// The child is long-lived and serves one request after another, so a read costs no fork (a fork
// copies the page tables of everything the parent has mapped: it was 3/4 of the fuzzer's time).
// A child that crashed or hung is replaced by a fresh one on the next request.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace seqrl {

enum class ProbeOutcome { finished, crashed, timed_out, out_of_memory };

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::finished;
  std::string detail;  // how it crashed ("signal 11, Segmentation fault", "exit status 1") or ""
};

class ProbeWorker {
 public:
  // handler(args) runs in the child. An exception thrown by it counts as finished: the caller
  // reruns the work itself to get it. The child runs single-threaded (libgomp's pool does not
  // survive a fork), logs nothing, never returns into the caller, and dies with its parent.
  using Handler = std::function<void(const std::vector<std::string>& args)>;
  explicit ProbeWorker(Handler handler);
  ~ProbeWorker();
  ProbeWorker(const ProbeWorker&) = delete;
  ProbeWorker& operator=(const ProbeWorker&) = delete;

  // One request, in the child. The child is killed when it runs past timeout_seconds
  // (timed_out) or grows by more than memory_limit_bytes of resident memory (out_of_memory;
  // checked every 50 ms). A verdict other than `finished` from a child that had served earlier
  // requests is checked again on a fresh child, so what an earlier input left behind in the
  // child cannot condemn this one; for the same reason a child that has grown by more than
  // kRecycleBytes over its requests is replaced after one. Thread-safe. Throws seqrl::Error if
  // no child can be started.
  ProbeResult run(const std::vector<std::string>& args, double timeout_seconds, int64_t memory_limit_bytes);
  static constexpr int64_t kRecycleBytes = int64_t(512) << 20;

  // The current child's process id, or -1 when none runs (it starts on the first request).
  pid_t child_pid() const;

 private:
  void start();
  ProbeResult end_child(ProbeOutcome outcome);  // reaps the child (killed first unless crashed)
  void forget_child();                          // closes this process's end without waiting

  Handler handler_;
  mutable std::mutex mutex_;
  pid_t owner_ = -1;  // the process that started the child: a fork of the owner starts its own
  pid_t pid_ = -1;
  int fd_ = -1;
  int served_ = 0;
  int64_t start_rss_ = 0;  // the child's resident bytes when it started (inherited from the fork)
};

}  // namespace seqrl
