// libFuzzer target: the LibTorch-free runtime (runtime/sqp.h) on arbitrary bytes as a .sqp
// policy file. A file must either load, or come back as NULL with a one-line message naming its
// source; a loaded policy must act for a few steps, each either an action in [-1, 1] or
// SQP_ERROR with a message. Anything else (a crash, a hang, a sanitizer report, memory beyond
// -rss_limit_mb) is a finding.
//
// Seed files (small exports of every backbone, float32 and float16) are written by
// scripts/policy_seeds.sh; this target links only the runtime, so it is instrumented alone.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/sqp.h"

namespace {

// A message as the API promises it: non-empty, one line, starting with `prefix`.
void check_message(const char* message, const char* prefix) {
  if (!message || !*message || std::strchr(message, '\n') || std::strncmp(message, prefix, std::strlen(prefix)) != 0)
    std::abort();
}

// Loads the bytes with `flags` and acts for a few steps (see the top of this file).
void load_and_act(const uint8_t* data, size_t size, unsigned flags) {
  char err[512];
  sqp_policy* p = sqp_load_memory_ex(data, size, "fuzz.sqp", flags, err, sizeof err);
  if (!p) {
    check_message(err, "fuzz.sqp: ");
    return;
  }
  const sqp_info_t* info = sqp_info(p);
  std::vector<double> obs(size_t(info->state_dim)), action(size_t(info->act_dim));
  if (sqp_reset(p, info->target_return) != SQP_OK) std::abort();
  for (int t = 0; t < 4; ++t) {
    for (size_t i = 0; i < obs.size(); ++i) obs[i] = 0.5 * double(t) - 0.25 * double(i % 5);
    if (sqp_act(p, obs.data(), action.data()) != SQP_OK) {
      check_message(sqp_error(p), "sqp_act: ");
      break;
    }
    for (double a : action)
      if (!(a >= -1.0 && a <= 1.0)) std::abort();
    if (sqp_observe(p, action.data(), 1.0) != SQP_OK) std::abort();
  }
  sqp_free(p);
}

}  // namespace

// Every file twice: as it loads, and with the backbone's matrices in int8 (SQP_LOAD_INT8).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  load_and_act(data, size, 0);
  load_and_act(data, size, SQP_LOAD_INT8);
  return 0;
}
