// What `seqrl train --seeds` and `seqrl sweep` share: resolving one run's config from a base
// file plus settings, and training prepared run folders in child processes (`seqrl train
// --run-dir DIR`), `jobs` at a time, each child's console lines tagged with its run's name.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "agents/dt.h"

namespace seqrl::cli {

struct ResolvedRun {
  DtConfig config;
  std::string yaml;  // the resolved config, as config.yaml holds it
};

// Precedence: built-in defaults < config_path (may be empty) < overlay (YAML text of nested
// settings; `overlay_source` names it in errors, its relative paths resolve against
// `overlay_dir`) < overrides ("key=value"). Throws seqrl::Error naming the bad key.
ResolvedRun resolve_run_config(const std::string& config_path, const std::string& overlay,
                               const std::string& overlay_source, const std::string& overlay_dir,
                               const std::vector<std::string>& overrides);

// Makes `dir` (and dir/checkpoints) and writes its config.yaml: a run ready for `train --run-dir`.
void prepare_run_dir(const std::string& dir, const std::string& config_yaml);

struct ChildRun {
  std::string dir, tag;  // tag: the name its log lines carry
};

// Trains each prepared folder in a child `seqrl train --run-dir`, at most `jobs` at once.
// Logs each failure (naming the folder's log.txt) and returns how many failed.
int train_in_children(const std::vector<ChildRun>& runs, int jobs);

}  // namespace seqrl::cli
