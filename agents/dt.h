// Offline training of a decision model (Decision-Transformer protocol) on a D4RL-style
// dataset, with any backbone. CORL style: the whole config on top, one training loop below
// (agents/dt.cpp) readable top to bottom.
#pragma once
#include <atomic>
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
  std::string env = "";                                                // "" : from the file name or metadata
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
  // What one training sequence is. window: K steps from a random start, from a zero state (DT;
  // every backbone). episode: a whole episode from its first step, as recurrent acting sees it
  // (backbones with a constant-size state only, i.e. not the transformer).
  std::string train_context = "window";
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
  std::vector<double> targets;      // empty: the DT paper's targets for the env
  int episodes = 10;                // final evaluation, per target and mode
  int eval_during_episodes = 5;     // evaluation during training (best-during-training)
  std::string eval_modes = "both";  // window | recurrent | both
  int eval_seed = 100000;           // episode i of an evaluation resets with eval_seed + i

  // Every key (model.<backbone>.<option> for every registered backbone).
  void fields(Fields& f);
};

// Mean squared action error over real (mask 1) steps only: predicted, target [B,K,act], mask [B,K].
torch::Tensor masked_action_loss(const torch::Tensor& predicted, const torch::Tensor& target,
                                 const torch::Tensor& mask);

// Throws seqrl::Error when train.context = episode is asked of a backbone whose state grows
// with the sequence (the transformer). train_decision_model checks it too; the CLI checks it
// before it creates a run folder.
void check_train_context(const DtConfig& config);

// Trains in `run_dir` (created by the caller, with config.yaml already written), evaluates,
// writes eval.json. resume: continue from run_dir/checkpoints/last.pt (or the newest intact
// step_N.pt). Returns 0, or 130 when stopped by SIGINT (after saving; during the final
// evaluation, at the next env step). Throws seqrl::Error on bad input, sizes that cannot fit
// in memory, a NaN/Inf loss or weights, or a failed checkpoint write (the previous one intact).
int train_decision_model(const DtConfig& config, const std::string& run_dir, bool resume);

// Before a resume writes anything: `run_dir` must hold a readable checkpoint, and every model
// key that sizes the weights (model.*, but model.dropout) must be equal in `resolved_yaml` (the
// run's resolved config, as config.yaml holds it) and in the checkpoint's stored config.
// Throws seqrl::Error naming the key and both values.
void check_resume_matches_checkpoint(const std::string& resolved_yaml, const std::string& run_dir);

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
// (0: all cores; training passes run.threads). `stop` set: seqrl::Interrupted at the next env step.
std::vector<EvalResult> evaluate_targets(TrainedPolicy& policy, const std::vector<double>& targets,
                                         const std::vector<std::string>& modes, int episodes, int seed, int threads,
                                         const std::atomic<bool>* stop = nullptr);
// "both" -> {window, recurrent}.
std::vector<std::string> eval_mode_list(const std::string& modes);

}  // namespace seqrl
