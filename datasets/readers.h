// The layout readers behind load_dataset(). Each fills path, layout, the three float32 arrays
// and the episodes (returns left at 0), checks what is specific to its layout (keys, ranks,
// lengths, flags), and appends the file's metadata strings that name the env (D4RL metadata/env,
// Minari env_spec and dataset_id).
// load_dataset() then does the checks common to all layouts.
#pragma once
#include <hdf5.h>

#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace seqrl {

// A metadata string that may name the env, and the key it came from (for error messages).
struct EnvHint {
  std::string key, text;
};

Dataset read_d4rl(hid_t file, const std::string& path, std::vector<EnvHint>& env_hints);
Dataset read_minari(hid_t file, const std::string& path, std::vector<EnvHint>& env_hints);

// Episodes of the D4RL flat layout: one ends at a terminal or a timeout; without a timeouts
// key (v0/v1 files) also after `max_steps` steps. Rows after the last end form an unfinished
// episode. terminals/timeouts: bool [N].
std::vector<Episode> split_episodes(const torch::Tensor& terminals, const torch::Tensor& timeouts, bool have_timeouts,
                                    int64_t max_steps);

}  // namespace seqrl
