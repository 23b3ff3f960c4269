// eval.json: one schema for every evaluation written to disk, by `seqrl train` (the final
// evaluation of a run, and its best during training) and by `seqrl eval` (a checkpoint
// evaluated again). Written and read with nlohmann-json.
//
//   {
//     "schema": "seqrl-eval/1",
//     "env": "hopper", "dataset": "/abs/path.hdf5", "backbone": "gru",
//     "train_context": "window",  // train.context of the training run (window | episode)
//     "seed": 0,              // run.seed of the training run
//     "eval_seed": 100000,    // episode i reset with eval_seed + i
//     "checkpoint": "/abs/run/checkpoints/step_2000.pt",  // the weights evaluated
//     "step": 2000,           // their optimizer step
//     "final": [              // one entry per (target, mode) evaluated at `step`
//       {"target": 1800, "mode": "window", "episodes": 10,
//        "return_mean": .., "return_std": .., "normalized_mean": .., "normalized_std": ..,
//        "returns": [..], "normalized": [..], "lengths": [..],
//        "seconds": 1.5},   // wall time of the episodes (acting and env steps)
//       ...],
//     "best_during_training": [  // per (target, mode): the best evaluation while training
//       {"target": 1800, "mode": "window", "step": 1000,              // (empty for `seqrl eval`)
//        "normalized_mean": .., "normalized_std": .., "return_mean": ..}, ...],
//     "data": {"transitions": 1000000, "episodes": 2186,   // the training data's own score: its
//              "return_mean": .., "return_std": ..,       // finished episodes (`seqrl train` only;
//              "normalized_mean": .., "normalized_std": ..}  // null normalized for Minari data)
//   }
//
// Scores are D4RL normalized (0 random, 100 expert); std is the population std over episodes.
// A non-finite number is written as null and read back as NaN.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "eval/evaluate.h"

namespace seqrl {

struct BestScore {
  double target = 0;
  std::string mode;
  int64_t step = -1;
  double normalized_mean = 0, normalized_std = 0, return_mean = 0;
};

// The behaviour data's own return, which D4RL papers print beside an agent's score: over the
// training file's finished episodes. normalized_* are NaN where the data has no D4RL reference.
struct DataScore {
  int64_t transitions = 0, episodes = 0;
  double return_mean = 0, return_std = 0, normalized_mean = 0, normalized_std = 0;
};

struct EvalReport {
  std::string env, dataset, backbone, train_context, checkpoint;
  int seed = 0, eval_seed = 0;
  int64_t step = 0;
  std::vector<EvalResult> final;
  std::vector<BestScore> best_during_training;
  std::optional<DataScore> data;  // absent in `seqrl eval` reports and in runs from before 2026-12-03
};

// Keeps, per (target, mode), the evaluation with the highest normalized mean.
void update_best(std::vector<BestScore>& best, const EvalResult& result, int64_t step);

nlohmann::json to_json(const EvalReport& report);
nlohmann::json to_json(const std::vector<BestScore>& best);
// Throw seqrl::Error naming `source` and the key that is missing or of the wrong type.
EvalReport eval_report_from_json(const nlohmann::json& j, const std::string& source);
std::vector<BestScore> best_scores_from_json(const nlohmann::json& j, const std::string& source);

// File form (pretty-printed, written atomically / read with errors naming the file).
void write_eval_report(const std::string& path, const EvalReport& report);
EvalReport read_eval_report(const std::string& path);

}  // namespace seqrl
