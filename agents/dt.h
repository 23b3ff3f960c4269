// Offline training of a decision model (Decision-Transformer protocol) on a D4RL-style
// dataset, with any backbone. CORL style: the whole config on top, one training loop below
// (agents/dt.cpp) readable top to bottom.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/config.h"

namespace seqrl {

struct DtConfig {
  // run
  std::string name = "dt";
  int seed = 0;
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
  int threads = 0;              // LibTorch intra-op threads (0: library default)
  std::string out_dir = "runs";
  // data
  std::string dataset = "datasets/embedded/hopper-medium-seqrl.hdf5";  // the embedded default (run from the repo root)
  std::string env = "";  // "" : from the file name or metadata
  // model (DT gym defaults)
  std::string backbone = "transformer";
  int context = 20;  // K
  int embed_dim = 128;
  int layers = 3;
  int heads = 1;
  double dropout = 0.1;
  int max_ep_len = 1000;
  std::map<std::string, std::map<std::string, double>> backbone_options;  // backbone -> option -> value
  // train
  int64_t steps = 100000;
  int batch_size = 64;
  double lr = 1e-4;
  double weight_decay = 1e-4;
  int64_t warmup_steps = 10000;
  double grad_clip = 0.25;
  double reward_scale = 1000;
  int64_t log_every = 100;
  int64_t checkpoint_every = 5000;
  int64_t eval_every = 10000;  // 0: only at the end
  // eval
  std::vector<double> targets;  // empty: the DT paper's targets for the env
  int episodes = 10;            // final evaluation, per target and mode
  int eval_during_episodes = 5; // evaluation during training (best-during-training)
  std::string eval_modes = "both";  // window | recurrent | both
  int eval_seed = 100000;       // episode i of an evaluation resets with eval_seed + i

  // Declares every key (model.<backbone>.<option> for every registered backbone).
  void bind(Config& config);
};

// Mean squared action error over real (mask 1) steps only: predicted, target [B,K,act], mask [B,K].
torch::Tensor masked_action_loss(const torch::Tensor& predicted, const torch::Tensor& target, const torch::Tensor& mask);

// Trains in `run_dir` (created by the caller, with config.yaml already written), evaluates,
// writes eval.json. resume: continue from run_dir/checkpoints/last.pt. Returns 0, or 130 when
// stopped by SIGINT (after saving). Throws seqrl::Error on bad input or a NaN/Inf loss.
int train_decision_model(const DtConfig& config, const std::string& run_dir, bool resume);

}  // namespace seqrl

#include "eval/evaluate.h"
#include "models/decision_model.h"

namespace seqrl {

// A trained policy as evaluation needs it, rebuilt from a run folder or checkpoint file.
struct TrainedPolicy {
  DtConfig config;
  std::string env;
  int64_t step = 0;
  DecisionModel model{nullptr};
  PolicyScaling scaling;
};
// `path`: a run folder (its last checkpoint) or a checkpoint file. Throws seqrl::Error.
TrainedPolicy load_trained_policy(const std::string& path, const std::string& device = "auto");

// Evaluation of every (target, mode) pair, as written to eval.json; threads: VecEnv threads
// (0: all cores; training passes run.threads).
std::vector<EvalResult> evaluate_targets(TrainedPolicy& policy, const std::vector<double>& targets,
                                         const std::vector<std::string>& modes, int episodes, int seed, int threads);
// "both" -> {window, recurrent}.
std::vector<std::string> eval_mode_list(const std::string& modes);

}  // namespace seqrl
