// Replay buffer of the online agent: a ring of the last `capacity` transitions, stored as
// float32 columns named like D4RL's keys, with everything a medium-replay file records
// (qpos/qvel before the step, the action's log-probability, terminal vs timeout).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace seqrl {

class CheckpointWriter;
class CheckpointReader;

// One environment step as D4RL records it.
struct Transition {
  std::vector<double> obs, action, next_obs;
  std::vector<double> qpos, qvel;  // simulator state at `obs`
  double reward = 0;
  double log_prob = 0;    // log-density of `action` under the behaviour policy
  bool terminal = false;  // real "done" (unhealthy), not a time limit
  bool timeout = false;   // time limit reached
};

struct ReplayBatch {
  torch::Tensor obs, actions, rewards, next_obs, terminals;  // float32 on the target device
};

class ReplayBuffer {
 public:
  ReplayBuffer(int64_t capacity, int obs_dim, int act_dim, int nq, int nv);

  void add(const Transition& t);
  // Uniform sample with replacement over the stored rows.
  ReplayBatch sample(int64_t batch_size, std::mt19937_64& rng, torch::Device device) const;

  int64_t size() const { return std::min(total_added_, capacity_); }
  int64_t capacity() const { return capacity_; }
  // Transitions ever added; row i of the insertion order sits at slot i % capacity.
  int64_t total_added() const { return total_added_; }

  // The stored rows, oldest first, one tensor per D4RL key ("observations", "actions",
  // "rewards", "terminals", "timeouts", "next_observations", "infos/qpos", "infos/qvel",
  // "infos/action_log_probs"). Only the filled part: a young buffer saves small.
  std::map<std::string, torch::Tensor> rows_in_order() const;
  // Inverse of rows_in_order(); `total_added` restores the insertion counter. Throws
  // seqrl::Error (naming `what`) on missing keys or wrong shapes.
  void restore(const std::map<std::string, torch::Tensor>& rows, int64_t total_added, const std::string& what);

  static const std::vector<std::string>& keys();

 private:
  int64_t capacity_;
  int64_t total_added_ = 0;
  std::map<std::string, torch::Tensor> columns_;  // [capacity, width] float32
};

// Rows keyed like ReplayBuffer::keys() inside a checkpoint file (replay.pt, collector chunks).
void write_rows(CheckpointWriter& w, const std::map<std::string, torch::Tensor>& rows);
// Throws seqrl::Error naming the file if a key is missing.
std::map<std::string, torch::Tensor> read_rows(CheckpointReader& r);

}  // namespace seqrl
