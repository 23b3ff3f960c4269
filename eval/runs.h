// Run folders as the experiment commands see them (`seqrl runs`, `table`, `plot`, `sweep`):
// where they are, their resolved config, state, progress and final scores.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "eval/report.h"

namespace seqrl {

// Every run folder (one holding config.yaml) at or below each path, sorted. A path that does
// not exist is a seqrl::Error; so is one under which no run folder lies.
std::vector<std::string> find_run_dirs(const std::vector<std::string>& paths);

// Settings that do not change what a run computes: they are left out when runs are compared
// (table groups, plot bands): run.seed (the seeds are what is aggregated), run.name,
// run.out_dir, run.threads, run.device.
bool is_bookkeeping_key(const std::string& key);

struct RunInfo {
  std::string dir, state;                     // state: see run_state() in core/run_dir.h
  std::map<std::string, std::string> config;  // config.yaml flattened, "dotted.key" -> value
  std::string dataset, backbone;              // data.path's file stem, model.backbone
  int seed = 0;
  long step = 0, steps = 0;  // last logged training step, train.steps
  bool evaluated = false;    // eval.json present and readable
  EvalReport eval;
};

// Reads one run folder. Throws seqrl::Error naming a config.yaml or eval.json that is broken.
RunInfo read_run_info(const std::string& dir);

// The label of a dataset in tables: the data file's stem ("hopper_medium-v2").
std::string dataset_label(const std::string& data_path);

}  // namespace seqrl
