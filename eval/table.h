// The paper-style table over many runs: rows datasets, columns backbones, cells the mean ± std
// over training seeds of each run's mean normalized score, for the end of training ("final")
// and the best evaluation during training ("best"), labelled. A cell of one seed gives that
// run's std over its evaluation episodes, marked (1*).
//
// Runs are grouped by their whole resolved config minus the seed (and bookkeeping keys, see
// is_bookkeeping_key), never by dataset and backbone alone: when runs of one (dataset,
// backbone) differ in another setting, each setting gets its own column ("gru (train.lr=0.001)");
// settings that differ only between cells are listed under the table.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eval/runs.h"

namespace seqrl {

// One run's result for one (target, mode).
struct RunScore {
  std::string run_dir, dataset, backbone, mode;
  int seed = 0;
  double target = 0;
  double final_normalized = 0, best_normalized = 0;
  double final_episode_std = 0, best_episode_std = 0;  // over this run's evaluation episodes
  std::map<std::string, std::string> settings;         // resolved config minus seed, bookkeeping and the axes
  std::optional<DataScore> data;                       // the training data's own score (eval.json "data")
};

// Reads every finished run (eval.json) at or below the paths; runs still going are skipped.
// Throws seqrl::Error naming a broken file, or when no run there has finished.
std::vector<RunScore> read_run_scores(const std::vector<std::string>& paths);

struct TableCell {
  double mean = 0, std = 0;  // over seeds
  int seeds = 0;             // 0: no runs
  // With one seed there is no spread over seeds; the cell shows the one run's spread over its
  // evaluation episodes instead, marked "(1*)", as a single-seed D4RL result is usually given.
  double episode_std = 0;
  double spread() const { return seeds == 1 ? episode_std : std; }  // the ± shown
};

struct TableColumn {
  std::string backbone, label;
  std::map<std::string, std::string> split;  // the settings that set this column apart ("" none)
};

struct ScoreTable {
  std::string mode, target_choice;
  std::vector<std::string> datasets;                // row labels, sorted
  std::vector<TableColumn> columns;                 // sorted by backbone, then settings
  std::vector<std::vector<TableCell>> final, best;  // [dataset][column]
  std::vector<double> paper;                        // [dataset]: the DT paper's score, NaN if none
  std::vector<std::optional<DataScore>> data;       // [dataset]: its runs' training data; none if unknown
                                                    // or if they were trained on different files (a note)
  std::vector<std::string> notes;                   // e.g. settings that differ between cells
};

// mode: "window" or "recurrent". target: "first" (each run's first target, the DT paper's
// high target) or a number. Throws seqrl::Error when no run matches the mode or the target
// (naming what the runs have), seqrl::UsageError when the target is neither.
ScoreTable aggregate_scores(const std::vector<RunScore>& scores, const std::string& mode, const std::string& target);

// The Decision Transformer paper's normalized score for a D4RL dataset label such as
// "hopper_medium-v2" or "hopper-medium" (Chen et al. 2021, Table 2); NaN for any other data.
double paper_score(const std::string& dataset);

// show_paper: add the DT paper's score as the last column.
std::string table_markdown(const ScoreTable& table, bool show_paper = false);
std::string table_csv(const ScoreTable& table);

}  // namespace seqrl
