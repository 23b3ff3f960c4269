// Writes the D4RL v2 flat layout exactly as h5py would (bools as the int8 enum FALSE/TRUE,
// metadata strings as scalar variable-length UTF-8 datasets), gzip-compressed and chunked,
// atomically. Used by `seqrl collect` and by the tests to make dataset files.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

namespace seqrl {

// Each tensor is written with its own dtype: float32 normally, float64 to mimic the
// medium-replay files; kBool becomes h5py's bool enum (uint8/int/float flags are written
// as-is, to mimic odd encodings). Undefined tensors are skipped (e.g. no timeouts, as in v0/v1).
struct D4rlArrays {
  torch::Tensor observations;       // [N, obs]
  torch::Tensor actions;            // [N, act]
  torch::Tensor rewards;            // [N] (or [N, 1], as some files have)
  torch::Tensor terminals;          // [N] bool
  torch::Tensor timeouts;           // [N] bool
  torch::Tensor next_observations;  // [N, obs]       -> next_observations
  torch::Tensor qpos, qvel;         // [N, nq], [N, nv] -> infos/qpos, infos/qvel
  torch::Tensor action_log_probs;   // [N]            -> infos/action_log_probs
};

struct D4rlWriteOptions {
  int gzip_level = 4;  // h5py's compression="gzip" default; 0 writes contiguous, uncompressed
};

// metadata_strings: {"algorithm", "SAC"} -> dataset metadata/algorithm = "SAC"; keys may
// contain '/' ("policy/name"). Throws seqrl::Error naming the path on failure.
void write_d4rl(const std::string& path, const D4rlArrays& data,
                const std::map<std::string, std::string>& metadata_strings = {}, const D4rlWriteOptions& options = {});

}  // namespace seqrl
