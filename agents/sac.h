// Soft Actor-Critic (Haarnoja et al. 2018, with automatic entropy tuning): a tanh-squashed
// Gaussian actor, twin Q critics with Polyak-averaged targets, a learned temperature alpha.
// Used to train the online agents whose policies the collector records as D4RL-style datasets.
//
//   seqrl sac -c configs/sac/hopper.yaml      (run_sac below: run folder, checkpoints, resume)
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "agents/replay_buffer.h"

namespace seqrl {

class Fields;
class Env;
class CheckpointWriter;
class CheckpointReader;

// ---- config (CORL-style defaults, from the SAC paper) ----
struct SacConfig {
  std::vector<int> hidden{256, 256};
  double actor_lr = 3e-4, critic_lr = 3e-4, alpha_lr = 3e-4;
  double gamma = 0.99;
  double tau = 0.005;  // Polyak rate of the target critics
  int batch_size = 256;
  double init_alpha = 1.0;
  bool auto_alpha = true;
  double target_entropy_per_dim = -1.0;  // target entropy = this * act_dim
  double log_std_min = -20.0, log_std_max = 2.0;
  void fields(Fields& f, const std::string& prefix = "sac");
};

struct SacRunConfig {
  std::string env = "hopper";
  int64_t steps = 1'000'000;   // environment steps
  int64_t start_steps = 5000;  // uniform random actions before the policy acts
  int64_t buffer_size = 1'000'000;
  int updates_per_step = 1;
  int64_t seed = 0;
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
  int64_t log_every = 1000;
  int64_t eval_every = 10'000;
  int eval_episodes = 5;
  int64_t checkpoint_every = 10'000;
  bool save_replay = true;  // replay buffer beside the checkpoints (resume, medium-replay)
  std::string out_dir = "runs";
  std::string name = "sac-hopper";
  SacConfig sac;
  void fields(Fields& f);
};

// ---- networks ----

// log-density of a = tanh(u), u ~ N(mean, exp(log_std)^2), summed over the last dimension:
// the Gaussian log-density of u minus log|d tanh(u)/du| = log(1 - tanh(u)^2), computed as
// 2 (log 2 - u - softplus(-2u)) to stay finite where tanh saturates.
torch::Tensor squashed_gaussian_log_prob(const torch::Tensor& u, const torch::Tensor& mean,
                                         const torch::Tensor& log_std);

struct ActorImpl : torch::nn::Module {
  ActorImpl(int obs_dim, int act_dim, const std::vector<int>& hidden, double log_std_min, double log_std_max);
  // Mean and clamped log-std of the pre-squash Gaussian.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& obs);
  // Reparameterised sample: action in (-1, 1) and its log-prob [B].
  std::pair<torch::Tensor, torch::Tensor> sample(const torch::Tensor& obs);
  torch::Tensor deterministic(const torch::Tensor& obs) { return torch::tanh(forward(obs).first); }

  torch::nn::Sequential trunk{nullptr};
  torch::nn::Linear head{nullptr};  // -> [mean, log_std]
  int act_dim;
  double log_std_min, log_std_max;
};
TORCH_MODULE(Actor);

// An ensemble of `members` MLP critics Q(s, a) evaluated together: each layer's weights are
// [members, in, out] and applied with one batched matmul, so twin Q costs one pass.
struct EnsembleCriticImpl : torch::nn::Module {
  EnsembleCriticImpl(int obs_dim, int act_dim, const std::vector<int>& hidden, int members = 2);
  torch::Tensor forward(const torch::Tensor& obs, const torch::Tensor& action);  // [members, B]
  std::vector<torch::Tensor> weights, biases;
};
TORCH_MODULE(EnsembleCritic);

// target <- (1 - tau) target + tau source, parameter by parameter.
void polyak_update(torch::nn::Module& target, torch::nn::Module& source, double tau);
// Temperature loss: -log_alpha * (log_prob + target_entropy), with log_prob detached. Its
// gradient raises alpha when the policy's entropy (-log_prob) is below the target.
torch::Tensor alpha_loss(const torch::Tensor& log_alpha, const torch::Tensor& log_prob, double target_entropy);

// ---- agent ----

struct SacStats {
  double critic_loss = 0, actor_loss = 0, alpha_loss = 0, alpha = 0, entropy = 0, q_mean = 0;
};

class Sac {
 public:
  Sac(int obs_dim, int act_dim, const SacConfig& cfg, torch::Device device);
  // One gradient step on critics, actor and alpha, then the target update.
  SacStats update(const ReplayBatch& batch);
  // Action for one observation (on the CPU side of the loop); `log_prob` gets the action's
  // log-density under the stochastic policy when sampling.
  std::vector<double> act(const std::vector<double>& obs, bool deterministic, double* log_prob = nullptr);
  double alpha() const;

  void save(CheckpointWriter& w);
  void load(CheckpointReader& r);
  // Only the actor (and the sizes it needs), for the collector.
  static Actor load_actor(CheckpointReader& r, torch::Device device);

  Actor actor{nullptr};
  EnsembleCritic critic{nullptr}, critic_target{nullptr};
  torch::Tensor log_alpha;

 private:
  SacConfig cfg_;
  torch::Device device_;
  int obs_dim_, act_dim_;
  double target_entropy_;
  std::unique_ptr<torch::optim::Adam> actor_opt_, critic_opt_, alpha_opt_;
};

// One action from an actor for one observation (the env loop and the collector).
std::vector<double> policy_action(Actor& actor, const std::vector<double>& obs, bool deterministic, double* log_prob,
                                  torch::Device device);

// Deterministic policy on fixed seeds (the same for every call), so that evaluations at
// different steps are comparable: mean and std of the episode returns.
std::pair<double, double> evaluate_actor(Env& env, Actor& actor, int episodes, int64_t seed, torch::Device device);

// A run's saved replay buffer (RUN/checkpoints/replay.pt): rows oldest first, keyed like
// ReplayBuffer::rows_in_order(); `total_added` gets the transitions ever added.
std::map<std::string, torch::Tensor> load_replay_rows(const std::string& path, int64_t* total_added);

struct SacRunResult {
  std::string dir;
  double final_eval_return = 0;  // deterministic evaluation at the last step
};

// The full online loop: creates (or, with `resume_dir`, continues) a run folder with
// config.yaml, log.txt, metrics.csv and checkpoints/{step_N,last}.pt (+ replay.pt).
// config.yaml and the checkpoints' stored config are `run` itself, written as YAML.
SacRunResult run_sac(const SacRunConfig& run, const std::string& resume_dir);

}  // namespace seqrl
