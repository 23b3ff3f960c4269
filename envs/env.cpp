#include "envs/env.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"
#include "envs/model.h"

namespace seqrl {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Gym v3 semantics of one env (openai/gym 0.18.0, gym/envs/mujoco/{half_cheetah,hopper,walker2d}_v3.py).
struct EnvRules {
  EnvSpec spec;
  double ctrl_cost_weight;
  double healthy_reward;  // paid every step, the terminal one included
  double reset_noise;     // qpos += U(-s, s); qvel += U(-s, s), or s * N(0, 1) below
  bool gaussian_qvel_noise;
  bool clip_qvel;  // observation clips qvel to [-10, 10]
  bool terminates;
  double z_lo, z_hi, angle_lo, angle_hi;  // healthy: strictly inside
  bool check_state;                       // hopper: qpos[2:] and qvel strictly inside (-100, 100)
};

const std::vector<EnvRules>& all_rules() {
  static const std::vector<EnvRules> rules = {
      {{"halfcheetah", 17, 6, 9, 9, 5, 1000}, 0.1, 0.0, 0.1, true, false, false, 0, 0, 0, 0, false},
      {{"hopper", 11, 3, 6, 6, 4, 1000}, 1e-3, 1.0, 5e-3, false, true, true, 0.7, kInf, -0.2, 0.2, true},
      {{"walker2d", 17, 6, 9, 9, 4, 1000}, 1e-3, 1.0, 5e-3, false, true, true, 0.8, 2.0, -1.0, 1.0, false},
  };
  return rules;
}

// "Hopper-v3", "hopper-medium-v2", "half_cheetah" -> "hopper", "hopper", "halfcheetah".
std::string canonical_name(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, name.find('-'))) {
    if (c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

const EnvRules& rules_for(const std::string& name) {
  const std::string key = canonical_name(name);
  for (const auto& r : all_rules()) {
    if (r.spec.name == key) return r;
  }
  std::string valid;
  for (const auto& n : env_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw Error("env '" + name + "': unknown environment; expected one of " + valid);
}

// Our own uniform/normal draws on mt19937_64 so that a seed gives the same reset on every
// standard library (std:: distributions are implementation-defined). Not numpy's stream:
// resets match Gym in distribution, not bit for bit.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }
double standard_normal(std::mt19937_64& rng) {  // Box-Muller
  const double u1 = 1.0 - uniform01(rng);       // (0, 1]
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

std::vector<std::string> env_names() {
  std::vector<std::string> names;
  for (const auto& r : all_rules()) names.push_back(r.spec.name);
  return names;
}

const EnvSpec& env_spec(const std::string& name) { return rules_for(name).spec; }

struct Env::Impl {
  const EnvRules* rules;
  std::shared_ptr<const mjModel> model;
  mjData* data = nullptr;
  std::mt19937_64 rng;
  int elapsed = 0;

  ~Impl() {
    if (data) mj_deleteData(data);
  }

  std::vector<double> observation() const {
    const int nq = model->nq, nv = model->nv;
    std::vector<double> obs(data->qpos + 1, data->qpos + nq);  // root x left out
    for (int i = 0; i < nv; ++i) {
      obs.push_back(rules->clip_qvel ? std::clamp(data->qvel[i], -10.0, 10.0) : data->qvel[i]);
    }
    return obs;
  }

  // Comparisons are written so that NaN counts as unhealthy, as in Gym.
  bool healthy() const {
    const double z = data->qpos[1], angle = data->qpos[2];
    if (!(z > rules->z_lo && z < rules->z_hi && angle > rules->angle_lo && angle < rules->angle_hi)) return false;
    if (!rules->check_state) return true;
    auto inside = [](double v) { return v > -100.0 && v < 100.0; };
    return std::all_of(data->qpos + 2, data->qpos + model->nq, inside) &&
           std::all_of(data->qvel, data->qvel + model->nv, inside);
  }
};

Env::Env(const std::string& name) : impl_(std::make_unique<Impl>()) {
  impl_->rules = &rules_for(name);
  impl_->model = env_model(name);
  impl_->data = mj_makeData(impl_->model.get());
  if (!impl_->data) throw Error("env '" + name + "': MuJoCo could not allocate its data");
  reset(0);
}
Env::~Env() = default;
Env::Env(Env&&) noexcept = default;
Env& Env::operator=(Env&&) noexcept = default;

const EnvSpec& Env::spec() const { return impl_->rules->spec; }

std::vector<double> Env::reset(uint64_t seed) {
  Impl& s = *impl_;
  const mjModel* m = s.model.get();
  s.rng.seed(seed);
  const double scale = s.rules->reset_noise;
  std::vector<double> qpos(m->qpos0, m->qpos0 + m->nq), qvel(m->nv, 0.0);
  for (double& q : qpos) q += uniform(s.rng, -scale, scale);
  for (double& v : qvel)
    v += s.rules->gaussian_qvel_noise ? scale * standard_normal(s.rng) : uniform(s.rng, -scale, scale);
  return reset_to(qpos, qvel);
}

namespace {
void check_state_vector(const char* what, const std::vector<double>& v, int n, const std::string& env) {
  if (static_cast<int>(v.size()) != n) {
    throw Error(std::string(what) + ": expected " + std::to_string(n) + " values for " + env + ", got " +
                std::to_string(v.size()));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) throw Error(std::string(what) + ": value " + std::to_string(i) + " is not finite");
  }
}
}  // namespace

std::vector<double> Env::reset_to(const std::vector<double>& qpos, const std::vector<double>& qvel) {
  Impl& s = *impl_;
  const mjModel* m = s.model.get();
  check_state_vector("qpos", qpos, m->nq, spec().name);
  check_state_vector("qvel", qvel, m->nv, spec().name);
  mj_resetData(m, s.data);
  std::copy(qpos.begin(), qpos.end(), s.data->qpos);
  std::copy(qvel.begin(), qvel.end(), s.data->qvel);
  mj_forward(m, s.data);
  s.elapsed = 0;
  return s.observation();
}

StepResult Env::step(const std::vector<double>& action) {
  Impl& s = *impl_;
  const mjModel* m = s.model.get();
  const EnvRules& r = *s.rules;
  if (static_cast<int>(action.size()) != m->nu) {
    throw Error("action: expected " + std::to_string(m->nu) + " values for " + r.spec.name + ", got " +
                std::to_string(action.size()));
  }
  double sq = 0;
  for (int i = 0; i < m->nu; ++i) {
    if (!std::isfinite(action[i])) throw Error("action: element " + std::to_string(i) + " is not finite");
    const double a = std::clamp(action[i], -1.0, 1.0);  // D4RL's wrapper clips before the env
    s.data->ctrl[i] = a;
    sq += a * a;
  }
  const double x_before = s.data->qpos[0];
  for (int k = 0; k < r.spec.frame_skip; ++k) mj_step(m, s.data);
  const double dt = m->opt.timestep * r.spec.frame_skip;
  const double x_velocity = (s.data->qpos[0] - x_before) / dt;

  StepResult out;
  out.obs = s.observation();
  out.reward = x_velocity + r.healthy_reward - r.ctrl_cost_weight * sq;
  out.terminated = r.terminates && !s.healthy();
  s.elapsed += 1;
  out.truncated = s.elapsed >= r.spec.max_episode_steps;
  return out;
}

EnvState Env::state() const {
  const mjModel* m = impl_->model.get();
  const mjData* d = impl_->data;
  return {{d->qpos, d->qpos + m->nq},
          {d->qvel, d->qvel + m->nv},
          {d->qacc_warmstart, d->qacc_warmstart + m->nv},
          d->time,
          impl_->elapsed};
}

std::vector<double> Env::set_state(const EnvState& state) {
  Impl& s = *impl_;
  const mjModel* m = s.model.get();
  check_state_vector("qpos", state.qpos, m->nq, spec().name);
  check_state_vector("qvel", state.qvel, m->nv, spec().name);
  check_state_vector("qacc_warmstart", state.qacc_warmstart, m->nv, spec().name);
  if (!std::isfinite(state.time) || state.elapsed_steps < 0 || state.elapsed_steps >= s.rules->spec.max_episode_steps)
    throw Error("env state: time " + std::to_string(state.time) + ", elapsed steps " +
                std::to_string(state.elapsed_steps) + ": expected a finite time and 0 <= steps < " +
                std::to_string(s.rules->spec.max_episode_steps));
  mj_resetData(m, s.data);
  std::copy(state.qpos.begin(), state.qpos.end(), s.data->qpos);
  std::copy(state.qvel.begin(), state.qvel.end(), s.data->qvel);
  s.data->time = state.time;
  mj_forward(m, s.data);  // derived quantities; the next mj_step recomputes them from the same inputs
  // After mj_forward: it leaves its own solution as the warm start, which moves the next step
  // by an ulp (the original's warm start is the last integrator stage's).
  std::copy(state.qacc_warmstart.begin(), state.qacc_warmstart.end(), s.data->qacc_warmstart);
  s.elapsed = state.elapsed_steps;
  return s.observation();
}

std::vector<double> Env::qpos() const { return {impl_->data->qpos, impl_->data->qpos + impl_->model->nq}; }
std::vector<double> Env::qvel() const { return {impl_->data->qvel, impl_->data->qvel + impl_->model->nv}; }
int Env::elapsed_steps() const { return impl_->elapsed; }

}  // namespace seqrl
