// Trying untrusted input where a crash or a hang costs nothing: `body` runs first in a forked
// child process, and the caller learns whether it finished, died by a signal, or ran past a
// time limit. Used for libhdf5, which segfaults or loops on some corrupt files (fuzz/regressions):
// the parent reads a file only after a child has read the same bytes the same way.
#pragma once
#include <functional>
#include <string>

namespace seqrl {

enum class ProbeOutcome { finished, crashed, timed_out };

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::finished;
  std::string detail;  // how it crashed ("signal 11, Segmentation fault", "exit status 1") or ""
};

// Runs body() in a child. An exception thrown by body counts as finished: the caller reruns
// body itself to get it. The child runs single-threaded (libgomp's pool does not survive a
// fork), logs nothing and never returns into the caller. Throws seqrl::Error if no child can
// be started.
ProbeResult probe_in_child(const std::function<void()>& body, double timeout_seconds);

}  // namespace seqrl
