// Aggregating runs into the paper-style table: rows datasets, columns backbones, cells the
// mean ± std over training seeds of each run's mean normalized score. Two tables: the score at
// the end of training ("final") and the best evaluation during training ("best"), labelled.
#pragma once
#include <string>
#include <vector>

namespace seqrl {

// One run's result for one (target, mode), read from its eval.json and config.yaml.
struct RunScore {
  std::string run_dir, dataset, backbone, mode;
  int seed = 0;
  double target = 0;
  double final_normalized = 0, best_normalized = 0;
};

// Finds every run folder (holding eval.json) at or below each path and reads its scores.
// Throws seqrl::Error naming a file that is not a readable eval.json/config.yaml.
std::vector<RunScore> read_run_scores(const std::vector<std::string>& paths);

struct TableCell {
  double mean = 0, std = 0;
  int seeds = 0;
};

struct ScoreTable {
  std::string mode, target_choice;
  std::vector<std::string> datasets, backbones;      // row and column labels, sorted
  std::vector<std::vector<TableCell>> final, best;  // [dataset][backbone]; seeds 0 = no runs
};

// mode: "window" or "recurrent". target: "first" (each run's first target, the DT paper's
// high target) or a number.
ScoreTable aggregate_scores(const std::vector<RunScore>& scores, const std::string& mode, const std::string& target);

std::string table_markdown(const ScoreTable& table);
std::string table_csv(const ScoreTable& table);

}  // namespace seqrl
