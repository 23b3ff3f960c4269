#include "agents/sac.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>

#include "agents/checkpoint.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/run_dir.h"
#include "core/stats.h"
#include "envs/env.h"

namespace seqrl {
namespace fs = std::filesystem;

void SacConfig::fields(Fields& f, const std::string& prefix) {
  const std::string p = prefix + ".";
  f.add(p + "hidden", hidden, 1, 4096, "hidden widths of the actor and critic MLPs");
  f.add(p + "actor_lr", actor_lr, 1e-7, 1.0, "Adam learning rate of the actor");
  f.add(p + "critic_lr", critic_lr, 1e-7, 1.0, "Adam learning rate of the twin critics");
  f.add(p + "alpha_lr", alpha_lr, 1e-7, 1.0, "Adam learning rate of log(alpha)");
  f.add(p + "gamma", gamma, 0.0, 1.0, "discount factor");
  f.add(p + "tau", tau, 0.0, 1.0, "Polyak rate of the target critics");
  f.add(p + "batch_size", batch_size, 1, 1 << 20, "transitions per gradient step");
  f.add(p + "init_alpha", init_alpha, 1e-6, 100.0, "initial entropy temperature");
  f.add(p + "auto_alpha", auto_alpha, "tune alpha towards the target entropy");
  f.add(p + "target_entropy_per_dim", target_entropy_per_dim, -10.0, 10.0,
        "target entropy per action dimension (SAC paper: -1)");
  f.add(p + "log_std_min", log_std_min, -30.0, 0.0, "lower clamp of the actor's log-std");
  f.add(p + "log_std_max", log_std_max, -5.0, 5.0, "upper clamp of the actor's log-std");
}

void SacRunConfig::fields(Fields& f) {
  f.add("run.env", env, {}, "environment: hopper, halfcheetah, walker2d");
  f.add("run.steps", steps, 1, 100'000'000, "environment steps");
  f.add("run.start_steps", start_steps, 0, 100'000'000, "uniform random actions before the policy acts");
  f.add("run.buffer_size", buffer_size, 1, 100'000'000, "replay capacity (transitions)");
  f.add("run.updates_per_step", updates_per_step, 0, 100, "gradient steps per environment step");
  f.add("run.seed", seed, 0, int64_t(1) << 40, "seed of torch, sampling and env resets");
  f.add("run.device", device, {}, "where the networks live: auto | cpu | cuda | cuda:N");
  f.add("run.log_every", log_every, 1, 100'000'000, "steps between metrics rows");
  f.add("run.eval_every", eval_every, 1, 100'000'000, "steps between deterministic evaluations");
  f.add("run.eval_episodes", eval_episodes, 1, 1000, "episodes per evaluation");
  f.add("run.checkpoint_every", checkpoint_every, 1, 100'000'000, "steps between checkpoints/step_N.pt");
  f.add("run.save_replay", save_replay, "save the replay buffer with each checkpoint (resume, medium-replay)");
  f.add_path("run.out_dir", out_dir, "folder that receives run folders");
  f.rename("run.root", "run.out_dir");  // before the sweep work (run folders of 2026-12-01)
  f.add("run.name", name, {}, "run folder name prefix");
  sac.fields(f, "sac");
}

// ---- networks ----

torch::Tensor squashed_gaussian_log_prob(const torch::Tensor& u, const torch::Tensor& mean,
                                         const torch::Tensor& log_std) {
  auto z = (u - mean) * torch::exp(-log_std);
  auto gaussian = -0.5 * z * z - log_std - 0.5 * std::log(2 * M_PI);
  auto log_det = 2.0 * (std::log(2.0) - u - torch::softplus(-2.0 * u));
  return (gaussian - log_det).sum(-1);
}

ActorImpl::ActorImpl(int obs_dim, int act_dim_, const std::vector<int>& hidden, double log_std_min_,
                     double log_std_max_)
    : act_dim(act_dim_), log_std_min(log_std_min_), log_std_max(log_std_max_) {
  trunk = torch::nn::Sequential();
  int in = obs_dim;
  for (int h : hidden) {
    trunk->push_back(torch::nn::Linear(in, h));
    trunk->push_back(torch::nn::ReLU());
    in = h;
  }
  register_module("trunk", trunk);
  head = register_module("head", torch::nn::Linear(in, 2 * act_dim));
}

std::pair<torch::Tensor, torch::Tensor> ActorImpl::forward(const torch::Tensor& obs) {
  auto out = head(trunk->forward(obs));
  auto parts = out.chunk(2, -1);
  return {parts[0], parts[1].clamp(log_std_min, log_std_max)};
}

std::pair<torch::Tensor, torch::Tensor> ActorImpl::sample(const torch::Tensor& obs) {
  auto [mean, log_std] = forward(obs);
  auto u = mean + torch::exp(log_std) * torch::randn_like(mean);
  return {torch::tanh(u), squashed_gaussian_log_prob(u, mean, log_std)};
}

EnsembleCriticImpl::EnsembleCriticImpl(int obs_dim, int act_dim, const std::vector<int>& hidden, int members) {
  std::vector<int> widths{obs_dim + act_dim};
  widths.insert(widths.end(), hidden.begin(), hidden.end());
  widths.push_back(1);
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    // nn.Linear's default init, member by member: U(-1/sqrt(in), 1/sqrt(in)).
    double bound = 1.0 / std::sqrt(static_cast<double>(widths[l]));
    auto w = torch::empty({members, widths[l], widths[l + 1]}).uniform_(-bound, bound);
    auto b = torch::empty({members, 1, widths[l + 1]}).uniform_(-bound, bound);
    weights.push_back(register_parameter("w" + std::to_string(l), w));
    biases.push_back(register_parameter("b" + std::to_string(l), b));
  }
}

torch::Tensor EnsembleCriticImpl::forward(const torch::Tensor& obs, const torch::Tensor& action) {
  auto x = torch::cat({obs, action}, -1).unsqueeze(0).expand({weights[0].size(0), -1, -1});
  for (size_t l = 0; l < weights.size(); ++l) {
    x = torch::baddbmm(biases[l], x, weights[l]);
    if (l + 1 < weights.size()) x = torch::relu(x);
  }
  return x.squeeze(-1);
}

void polyak_update(torch::nn::Module& target, torch::nn::Module& source, double tau) {
  torch::NoGradGuard no_grad;
  auto t = target.parameters();
  auto s = source.parameters();
  for (size_t i = 0; i < t.size(); ++i) t[i].mul_(1.0 - tau).add_(s[i], tau);
}

torch::Tensor alpha_loss(const torch::Tensor& log_alpha, const torch::Tensor& log_prob, double target_entropy) {
  return (-log_alpha * (log_prob.detach() + target_entropy)).mean();
}

// ---- agent ----

std::vector<double> policy_action(Actor& actor, const std::vector<double>& obs, bool deterministic, double* log_prob,
                                  torch::Device device) {
  torch::NoGradGuard no_grad;
  auto o = torch::tensor(obs, torch::kFloat64).to(torch::kFloat32).unsqueeze(0).to(device);
  torch::Tensor a;
  if (deterministic) {
    a = actor->deterministic(o);
    if (log_prob) *log_prob = 0;
  } else {
    auto [sample, lp] = actor->sample(o);
    a = sample;
    if (log_prob) *log_prob = lp.item<double>();
  }
  a = a.squeeze(0).to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(a.data_ptr<double>(), a.data_ptr<double>() + a.numel());
}

Sac::Sac(int obs_dim, int act_dim, const SacConfig& cfg, torch::Device device)
    : cfg_(cfg),
      device_(device),
      obs_dim_(obs_dim),
      act_dim_(act_dim),
      target_entropy_(cfg.target_entropy_per_dim * act_dim) {
  actor = Actor(obs_dim, act_dim, cfg.hidden, cfg.log_std_min, cfg.log_std_max);
  critic = EnsembleCritic(obs_dim, act_dim, cfg.hidden);
  critic_target = EnsembleCritic(obs_dim, act_dim, cfg.hidden);
  actor->to(device);
  critic->to(device);
  critic_target->to(device);
  polyak_update(*critic_target, *critic, 1.0);
  for (auto& p : critic_target->parameters()) p.set_requires_grad(false);
  log_alpha = torch::full({1}, std::log(cfg.init_alpha), torch::TensorOptions().device(device)).requires_grad_(true);
  actor_opt_ = std::make_unique<torch::optim::Adam>(actor->parameters(), torch::optim::AdamOptions(cfg.actor_lr));
  critic_opt_ = std::make_unique<torch::optim::Adam>(critic->parameters(), torch::optim::AdamOptions(cfg.critic_lr));
  alpha_opt_ = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{log_alpha},
                                                    torch::optim::AdamOptions(cfg.alpha_lr));
}

double Sac::alpha() const { return std::exp(log_alpha.item<double>()); }

SacStats Sac::update(const ReplayBatch& b) {
  SacStats stats;
  auto alpha = log_alpha.detach().exp();

  // Critics: soft Bellman target from the smaller target Q.
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    auto [next_a, next_logp] = actor->sample(b.next_obs);
    auto q_next = std::get<0>(critic_target->forward(b.next_obs, next_a).min(0)) - alpha * next_logp;
    target = b.rewards + cfg_.gamma * (1.0 - b.terminals) * q_next;
  }
  auto q = critic->forward(b.obs, b.actions);
  auto critic_loss = (q - target.unsqueeze(0)).pow(2).mean(1).sum();
  critic_opt_->zero_grad();
  critic_loss.backward();
  critic_opt_->step();

  // Actor: gradients flow through the critics to the action only.
  for (auto& p : critic->parameters()) p.set_requires_grad(false);
  auto [a, logp] = actor->sample(b.obs);
  auto q_pi = std::get<0>(critic->forward(b.obs, a).min(0));
  auto actor_loss = (alpha * logp - q_pi).mean();
  actor_opt_->zero_grad();
  actor_loss.backward();
  actor_opt_->step();
  for (auto& p : critic->parameters()) p.set_requires_grad(true);

  if (cfg_.auto_alpha) {
    auto a_loss = alpha_loss(log_alpha, logp, target_entropy_);
    alpha_opt_->zero_grad();
    a_loss.backward();
    alpha_opt_->step();
    stats.alpha_loss = a_loss.item<double>();
  }
  polyak_update(*critic_target, *critic, cfg_.tau);

  stats.critic_loss = critic_loss.item<double>();
  stats.actor_loss = actor_loss.item<double>();
  stats.alpha = alpha.item<double>();
  stats.entropy = -logp.detach().mean().item<double>();
  stats.q_mean = q.detach().mean().item<double>();
  return stats;
}

std::vector<double> Sac::act(const std::vector<double>& obs, bool deterministic, double* log_prob) {
  return policy_action(actor, obs, deterministic, log_prob, device_);
}

namespace {

std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

std::vector<int> split_ints(const std::string& s, const std::string& what) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');) {
    try {
      out.push_back(std::stoi(part));
    } catch (const std::exception&) {
      throw Error(what + ": bad hidden sizes '" + s + "'");
    }
  }
  return out;
}

// Checkpoints are read onto the CPU; move the Adam moments to where the parameters live.
void move_adam_state(torch::optim::Adam& opt, torch::Device device) {
  for (auto& [key, state] : opt.state()) {
    auto& s = static_cast<torch::optim::AdamParamState&>(*state);
    s.exp_avg(s.exp_avg().to(device));
    s.exp_avg_sq(s.exp_avg_sq().to(device));
    if (s.max_exp_avg_sq().defined()) s.max_exp_avg_sq(s.max_exp_avg_sq().to(device));
  }
}

}  // namespace

void Sac::save(CheckpointWriter& w) {
  w.module("actor", *actor);
  w.module("critic", *critic);
  w.module("critic_target", *critic_target);
  w.tensor("log_alpha", log_alpha);
  w.optimizer("actor_opt", *actor_opt_);
  w.optimizer("critic_opt", *critic_opt_);
  w.optimizer("alpha_opt", *alpha_opt_);
  w.number("obs_dim", obs_dim_);
  w.number("act_dim", act_dim_);
  w.number("log_std_min", cfg_.log_std_min);
  w.number("log_std_max", cfg_.log_std_max);
  w.text("hidden", join_ints(cfg_.hidden));
}

void Sac::load(CheckpointReader& r) {
  if (r.number("obs_dim") != obs_dim_ || r.number("act_dim") != act_dim_ ||
      split_ints(r.text("hidden"), r.path()) != cfg_.hidden)
    throw Error(r.path() + ": SAC checkpoint sizes do not match the configuration (env or sac.hidden changed?)");
  r.module("actor", *actor);
  r.module("critic", *critic);
  r.module("critic_target", *critic_target);
  actor->to(device_);
  critic->to(device_);
  critic_target->to(device_);
  {
    torch::NoGradGuard no_grad;
    log_alpha.copy_(r.tensor("log_alpha"));
  }
  r.optimizer("actor_opt", *actor_opt_);
  r.optimizer("critic_opt", *critic_opt_);
  r.optimizer("alpha_opt", *alpha_opt_);
  for (auto* opt : {actor_opt_.get(), critic_opt_.get(), alpha_opt_.get()}) move_adam_state(*opt, device_);
}

Actor Sac::load_actor(CheckpointReader& r, torch::Device device) {
  Actor actor(static_cast<int>(r.number("obs_dim")), static_cast<int>(r.number("act_dim")),
              split_ints(r.text("hidden"), r.path()), r.number("log_std_min"), r.number("log_std_max"));
  r.module("actor", *actor);
  actor->to(device);
  actor->eval();
  return actor;
}

// ---- the online loop ----

namespace {

// Env state vectors in a checkpoint: float64 tensors, so they come back exactly.
torch::Tensor values_tensor(const std::vector<double>& v) {
  return torch::tensor(v, torch::TensorOptions().dtype(torch::kFloat64));
}
std::vector<double> tensor_values(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

const std::vector<std::string> kMetricColumns = {
    "step",           "wall_s",      "critic_loss",     "actor_loss",      "alpha_loss",
    "alpha",          "entropy",     "q_mean",          "episodes",        "episode_return",
    "episode_length", "eval_return", "eval_return_std", "eval_normalized", "env_steps_per_s"};

}  // namespace

std::pair<double, double> evaluate_actor(Env& env, Actor& actor, int episodes, int64_t seed, torch::Device device) {
  std::vector<double> returns;
  for (int e = 0; e < episodes; ++e) {
    auto obs = env.reset(static_cast<uint64_t>(seed) * 7919 + 1'000'000'007ull + e);
    double ret = 0;
    for (;;) {
      auto r = env.step(policy_action(actor, obs, true, nullptr, device));
      ret += r.reward;
      obs = r.obs;
      if (r.terminated || r.truncated) break;
    }
    returns.push_back(ret);
  }
  return mean_std(returns);
}

std::map<std::string, torch::Tensor> load_replay_rows(const std::string& path, int64_t* total_added) {
  CheckpointReader r(path);
  auto rows = read_rows(r);
  *total_added = static_cast<int64_t>(r.number("replay_total_added"));
  return rows;
}

SacRunResult run_sac(const SacRunConfig& run, const std::string& resume_dir) {
  const std::string config_yaml = Config::yaml_of(run);
  const auto& spec = env_spec(run.env);
  auto device = resolve_device(run.device);
  torch::manual_seed(static_cast<uint64_t>(run.seed));
  std::mt19937_64 rng(static_cast<uint64_t>(run.seed));
  Env env(run.env), eval_env(run.env);
  Sac agent(spec.obs_dim, spec.act_dim, run.sac, device);
  ReplayBuffer buffer(std::min(run.buffer_size, run.steps), spec.obs_dim, spec.act_dim, spec.nq, spec.nv);

  std::string dir = resume_dir.empty() ? create_run_dir(run.out_dir, run.name) : resume_dir;
  const std::string ckpt_dir = (fs::path(dir) / "checkpoints").string();
  const std::string replay_path = (fs::path(ckpt_dir) / "replay.pt").string();
  write_file_atomic((fs::path(dir) / "config.yaml").string(), config_yaml);
  log_to_file((fs::path(dir) / "log.txt").string());
  MetricsCsv metrics((fs::path(dir) / "metrics.csv").string(), kMetricColumns);

  int64_t step = 0, episode = 0;
  double wall_before = 0;             // wall time of earlier sessions of this run
  std::optional<EnvState> env_state;  // where the checkpoint's episode stood
  double ep_return = 0;
  int64_t ep_length = 0;
  if (!resume_dir.empty()) {
    CheckpointReader r(resolve_checkpoint(dir));
    agent.load(r);
    step = static_cast<int64_t>(r.number("step"));
    episode = static_cast<int64_t>(r.number("episode"));
    wall_before = r.number(r.has("wall_s") ? "wall_s" : "wall_time");  // "wall_time": checkpoints before the rename
    rng_from_text(rng, r.text("rng"), r.path());
    r.torch_rng();
    if (r.has("env_qpos")) {  // checkpoints before 2026-12-02 have none: a fresh episode then
      env_state = EnvState{tensor_values(r.tensor("env_qpos")), tensor_values(r.tensor("env_qvel")),
                           tensor_values(r.tensor("env_qacc_warmstart")), r.number("env_time"),
                           static_cast<int>(r.number("env_elapsed_steps"))};
      ep_return = r.number("episode_return_so_far");
      ep_length = static_cast<int64_t>(r.number("episode_length_so_far"));
    }
    if (!fs::exists(replay_path))
      throw Error(replay_path + ": missing; cannot resume a run saved with run.save_replay=false");
    int64_t total = 0;
    auto rows = load_replay_rows(replay_path, &total);
    // A run killed between saving replay.pt and last.pt has extra rows: drop the newest.
    int64_t extra = total - step;
    if (extra < 0 || extra > rows.at("observations").size(0))
      throw Error(replay_path + ": holds " + std::to_string(total) + " transitions, checkpoint is at step " +
                  std::to_string(step));
    for (auto& [k, v] : rows) v = v.slice(0, 0, v.size(0) - extra);
    buffer.restore(rows, step, replay_path);
    metrics.open(step + 1);
    spdlog::info("resuming {} at step {} (episode {})", dir, step, episode);
  } else {
    metrics.open();
    spdlog::info("run folder {}", dir);
  }
  SacRunResult result{dir, NAN};
  if (step >= run.steps) {
    spdlog::info("run already has {} of {} steps", step, run.steps);
    return result;
  }

  const auto t0 = std::chrono::steady_clock::now();
  auto wall = [&] {
    return wall_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto save_checkpoint = [&](bool numbered) {
    if (run.save_replay) {
      CheckpointWriter rw;
      write_rows(rw, buffer.rows_in_order());
      rw.number("replay_total_added", static_cast<double>(buffer.total_added()));
      rw.save(replay_path);
    }
    CheckpointWriter w;
    agent.save(w);
    w.number("step", static_cast<double>(step));
    w.number("episode", static_cast<double>(episode));
    w.text("rng", rng_to_text(rng));
    w.torch_rng();
    w.text("env", spec.name);
    w.text("config", config_yaml);
    w.number("replay_total_added", static_cast<double>(buffer.total_added()));
    w.number("wall_s", wall());
    const EnvState es = env.state();
    w.tensor("env_qpos", values_tensor(es.qpos));
    w.tensor("env_qvel", values_tensor(es.qvel));
    w.tensor("env_qacc_warmstart", values_tensor(es.qacc_warmstart));
    w.number("env_time", es.time);
    w.number("env_elapsed_steps", es.elapsed_steps);
    w.number("episode_return_so_far", ep_return);
    w.number("episode_length_so_far", static_cast<double>(ep_length));
    if (numbered) w.save((fs::path(ckpt_dir) / ("step_" + std::to_string(step) + ".pt")).string());
    w.save((fs::path(ckpt_dir) / "last.pt").string());
  };

  const double uniform_log_prob = -spec.act_dim * std::log(2.0);  // U(-1, 1)^act_dim
  // A resumed run continues the checkpoint's episode exactly, so it equals an uninterrupted run.
  std::vector<double> obs;
  if (env_state) {
    obs = env.set_state(*env_state);
  } else {
    if (!resume_dir.empty()) spdlog::warn("{}: the checkpoint holds no env state (older seqrl): a fresh episode", dir);
    obs = env.reset(static_cast<uint64_t>(run.seed) * 1'000'003ull + episode);
  }
  double last_return = NAN, last_length = NAN;
  SacStats sum;
  int64_t n_updates = 0, window_start = step;
  auto window_t = std::chrono::steady_clock::now();
  Progress progress("sac " + spec.name, run.steps);

  while (step < run.steps) {
    double log_prob = uniform_log_prob;
    std::vector<double> action(spec.act_dim);
    if (step < run.start_steps) {
      std::uniform_real_distribution<double> u(-1.0, 1.0);
      for (auto& a : action) a = u(rng);
    } else {
      action = agent.act(obs, false, &log_prob);
    }
    Transition t{obs, action, {}, env.qpos(), env.qvel(), 0, log_prob, false, false};
    auto r = env.step(action);
    t.next_obs = r.obs;
    t.reward = r.reward;
    t.terminal = r.terminated && !r.truncated;
    t.timeout = r.truncated;
    buffer.add(t);
    ++step;
    ep_return += r.reward;
    ++ep_length;
    if (r.terminated || r.truncated) {
      last_return = ep_return, last_length = ep_length;
      ep_return = 0, ep_length = 0;
      ++episode;
      obs = env.reset(static_cast<uint64_t>(run.seed) * 1'000'003ull + episode);
    } else {
      obs = r.obs;
    }

    if (step >= run.start_steps) {
      for (int u = 0; u < run.updates_per_step; ++u) {
        auto s = agent.update(buffer.sample(run.sac.batch_size, rng, device));
        sum.critic_loss += s.critic_loss, sum.actor_loss += s.actor_loss, sum.alpha_loss += s.alpha_loss;
        sum.alpha += s.alpha, sum.entropy += s.entropy, sum.q_mean += s.q_mean;
        ++n_updates;
      }
    }

    bool log_now = step % run.log_every == 0 || step == run.steps;
    bool eval_now = step % run.eval_every == 0 || step == run.steps;
    if (log_now || eval_now) {
      std::map<std::string, double> row{{"step", double(step)}, {"wall_s", wall()}, {"episodes", double(episode)}};
      auto now = std::chrono::steady_clock::now();
      row["env_steps_per_s"] = (step - window_start) / std::chrono::duration<double>(now - window_t).count();
      window_start = step, window_t = now;
      if (n_updates > 0) {
        row["critic_loss"] = sum.critic_loss / n_updates, row["actor_loss"] = sum.actor_loss / n_updates;
        row["alpha_loss"] = sum.alpha_loss / n_updates, row["alpha"] = sum.alpha / n_updates;
        row["entropy"] = sum.entropy / n_updates, row["q_mean"] = sum.q_mean / n_updates;
      }
      sum = SacStats{}, n_updates = 0;
      if (!std::isnan(last_return)) row["episode_return"] = last_return, row["episode_length"] = last_length;
      std::string extra = std::isnan(last_return) ? "" : fmt::format("return {:.1f}", last_return);
      if (eval_now) {
        auto [mean, sd] = evaluate_actor(eval_env, agent.actor, run.eval_episodes, run.seed, device);
        row["eval_return"] = mean, row["eval_return_std"] = sd;
        result.final_eval_return = mean;
        row["eval_normalized"] = d4rl_normalized_score(spec.name, mean);
        spdlog::info("step {}: eval return {:.1f} +- {:.1f} (normalized {:.1f}), alpha {:.3f}", step, mean, sd,
                     d4rl_normalized_score(spec.name, mean), agent.alpha());
      }
      metrics.append(row);
      progress.update(step, extra);
    }
    bool numbered = step % run.checkpoint_every == 0;
    if (numbered || step == run.steps) save_checkpoint(numbered);
  }
  progress.finish();
  spdlog::info("done: {} steps in {:.0f}s, run folder {}", step, wall(), dir);
  return result;
}

}  // namespace seqrl
