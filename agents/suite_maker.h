// Making the seqrl locomotion suite's files (datasets/suite.h) from their records:
//   random, medium, expert   rollouts (agents/collector.h) of uniform actions or a shipped actor
//   medium-replay            a deterministic re-run of the SAC run up to the medium policy's step,
//                            then its replay buffer (too large to ship: 100k+ float64 rows); or
//                            the original run's buffer when that run is at hand (replay_from)
//   medium-expert            the medium file cut after its last finished episode, then expert
// and checking what came out against the recorded statistics.
#pragma once
#include <string>

#include "datasets/suite.h"

namespace seqrl {

struct SuiteMakeOptions {
  std::string out;      // "" : suite_file(name)
  bool record = false;  // store the statistics (and time) in suite.json instead of checking them
  // medium-replay only: cut the buffer from this SAC run folder (the one the medium policy was
  // adopted from) instead of re-running SAC; its step-N actor must equal the shipped policy.
  std::string replay_from;
  // Keep a file whose statistics differ from the record (another CPU's BLAS kernels change the
  // rollouts) as NAME.hdf5, with a warning naming the differences, instead of failing; a
  // medium-expert then also accepts such parts.
  bool accept_mismatch = false;
};

struct SuiteMakeResult {
  std::string path;
  SuiteStats stats;
  double seconds = 0;
  // "identical to the record", "recorded", "no record to check against", or (accept_mismatch)
  // "differs from the record: ..."
  std::string check;
};

// Throws seqrl::Error when the file's statistics differ from the record (unless
// accept_mismatch); the file is then left at "<out>.unverified.hdf5" and nothing is written at `out`.
SuiteMakeResult make_suite_dataset(Suite& suite, const std::string& name, const SuiteMakeOptions& options);

// Copies the actor of SAC checkpoint `checkpoint` into the suite as policies/<name>.pt, copies
// the run's config.yaml as sac/<env>-s<seed>.yaml, evaluates the deterministic policy over
// `episodes` episodes and updates the record of `name` (medium or expert) and, for medium, of
// <env>-medium-replay. The statistics recorded for the files are cleared (the files change).
void adopt_suite_policy(Suite& suite, const std::string& name, const std::string& checkpoint, int episodes);

}  // namespace seqrl
