// MuJoCo locomotion environments with Gym v3 semantics (HalfCheetah, Hopper, Walker2d),
// on the MuJoCo C API. Source: openai/gym 0.18.0, gym/envs/mujoco/*_v3.py and assets/*.xml.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/d4rl.h"

namespace seqrl {

struct EnvSpec {
  std::string name;  // "halfcheetah", "hopper", "walker2d"
  int obs_dim, act_dim;
  int nq, nv;
  int frame_skip;
  int max_episode_steps;  // 1000: reached -> truncated
};

std::vector<std::string> env_names();
// Accepts "hopper", "Hopper-v3", "hopper-medium-v2"...; throws seqrl::Error listing valid names.
const EnvSpec& env_spec(const std::string& name);

struct StepResult {
  std::vector<double> obs;
  double reward = 0;
  bool terminated = false;  // unhealthy (hopper, walker2d)
  bool truncated = false;   // time limit reached
};

// Everything the next step depends on: MuJoCo's integration state (the solver's warm start
// included, so a restored env steps bit for bit as the original) and the episode clock. SAC
// checkpoints carry it so a resumed run continues mid-episode exactly.
struct EnvState {
  std::vector<double> qpos, qvel, qacc_warmstart;
  double time = 0;
  int elapsed_steps = 0;
};

class Env {
 public:
  explicit Env(const std::string& name);
  ~Env();
  Env(Env&&) noexcept;
  Env& operator=(Env&&) noexcept;
  const EnvSpec& spec() const;
  // Seeded reset with Gym's noise; returns the first observation.
  std::vector<double> reset(uint64_t seed);
  // Reset to an exact state (no noise).
  std::vector<double> reset_to(const std::vector<double>& qpos, const std::vector<double>& qvel);
  // Actions are clipped to [-1, 1] first (as D4RL's wrapper does). Throws seqrl::Error on a
  // wrong action width.
  StepResult step(const std::vector<double>& action);
  EnvState state() const;
  // Restores a state() of an env of the same kind; returns its observation. Throws seqrl::Error
  // on wrong sizes or non-finite values.
  std::vector<double> set_state(const EnvState& state);
  std::vector<double> qpos() const;
  std::vector<double> qvel() const;
  int elapsed_steps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seqrl
