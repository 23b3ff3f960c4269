#include "agents/dt.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <limits>

#include "agents/checkpoint.h"
#include "core/atomic_file.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/run_dir.h"
#include "datasets/dataset.h"
#include "datasets/sampler.h"
#include "envs/env.h"
#include "eval/report.h"
#include "models/backbone.h"

namespace seqrl {
namespace fs = std::filesystem;

void DtConfig::fields(Fields& f) {
  f.add("run.name", name, {}, "run folder prefix");
  f.add("run.seed", seed, 0, 1 << 30, "training seed (sampler, initialization, dropout)");
  f.add("run.device", device, {}, "where to train: auto | cpu | cuda | cuda:N");
  f.add("run.threads", threads, 0, 1024, "LibTorch intra-op threads (0: default)");
  f.add_path("run.out_dir", out_dir, "folder that receives run folders");
  f.add_path("data.path", dataset, "D4RL .hdf5 file or Minari dataset");
  f.add("data.env", env, {}, "hopper | halfcheetah | walker2d (empty: from the file)");
  f.add("model.backbone", backbone, backbone_names(), "sequence backbone");
  f.add("model.context", context, 1, 4096, "K: steps per training window");
  f.add("model.embed_dim", embed_dim, 1, 65536, "model width");
  f.add("model.layers", layers, 1, 256, "residual blocks");
  f.add("model.heads", heads, 1, 256, "heads of every head-wise backbone (transformer, mlstm, slstm, aaren)");
  f.add("model.dropout", dropout, 0.0, 0.99, "dropout");
  f.add("model.max_ep_len", max_ep_len, 1, 1000000, "timestep embedding size");
  for (const auto& info : backbone_registry())
    for (const auto& opt : info.options) {
      // The option's default, unless this config already holds a value for it.
      double& slot = backbone_options[info.name].emplace(opt.name, opt.value).first->second;
      // Options are stored as doubles; one whose default and range are whole numbers is a count.
      const bool whole =
          opt.value == std::floor(opt.value) && opt.lo == std::floor(opt.lo) && opt.hi == std::floor(opt.hi);
      if (whole)
        f.add_integer_valued("model." + info.name + "." + opt.name, slot, opt.lo, opt.hi, opt.help);
      else
        f.add("model." + info.name + "." + opt.name, slot, opt.lo, opt.hi, opt.help);
    }
  f.add("train.context", train_context, {"window", "episode"},
        "training sequences: window (model.context steps from a zero state; in-distribution for window "
        "acting) | episode (whole episodes from their first step; recurrent acting is then the trained "
        "policy; not for the transformer)");
  f.add("train.steps", steps, 1, int64_t(1) << 40, "optimizer steps");
  f.add("train.batch_size", batch_size, 1, 1 << 20, "sequences (windows or episodes) per batch");
  f.add("train.lr", lr, 0.0, 10.0, "AdamW learning rate");
  f.add("train.weight_decay", weight_decay, 0.0, 10.0, "AdamW weight decay");
  f.add("train.warmup_steps", warmup_steps, 0, int64_t(1) << 40, "linear warmup steps");
  f.add("train.grad_clip", grad_clip, 0.0, 1e6, "gradient-norm clip (0: off)");
  f.add("train.reward_scale", reward_scale, 1e-6, 1e9, "returns-to-go are divided by this");
  f.add("train.log_every", log_every, 1, int64_t(1) << 40, "steps between metrics rows");
  f.add("train.checkpoint_every", checkpoint_every, 1, int64_t(1) << 40, "steps between checkpoints");
  f.rename("train.ckpt_every", "train.checkpoint_every");  // before the sweep work
  f.add("train.eval_every", eval_every, 0, int64_t(1) << 40, "steps between evaluations (0: end only)");
  f.add("eval.targets", targets, -1e9, 1e9, "target returns (empty: the DT paper's for the env)");
  f.add("eval.episodes", episodes, 1, 100000, "episodes per target and mode, final evaluation");
  f.add("eval.during_training_episodes", eval_during_episodes, 1, 100000, "episodes per evaluation while training");
  f.add("eval.modes", eval_modes, {"window", "recurrent", "both"}, "acting modes to evaluate");
  f.add("eval.seed", eval_seed, 0, 1 << 30, "first episode seed (kept apart from run.seed)");
}

std::vector<std::string> eval_mode_list(const std::string& modes) {
  if (modes == "both") return {"window", "recurrent"};
  return {modes};
}

namespace {

std::atomic<bool> g_interrupted{false};
// The first Ctrl-C asks for a clean stop; a second one ends the process at once (every file
// it writes is atomic, so that loses at most the work since the last checkpoint).
void on_sigint(int) {
  if (g_interrupted.exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

// Lower bounds on training memory: weights, gradients and AdamW moments of the MLPs and the
// timestep embedding; the MLP activations of one batch. Sizes no machine here can hold are one
// error naming the keys, instead of the allocator's text or the OOM killer.
void check_fits_in_memory(const DtConfig& c) {
  const double memory = double(physical_memory_bytes());
  const double d = c.embed_dim;
  const double weights = 4.0 * 4.0 * (double(c.layers) * 8.0 * d * d + double(c.max_ep_len) * d);
  if (weights > memory)
    throw Error("model.embed_dim = " + std::to_string(c.embed_dim) +
                " (with model.layers = " + std::to_string(c.layers) +
                ", model.max_ep_len = " + std::to_string(c.max_ep_len) + "): training needs at least " +
                gib_text(weights) + " for weights and optimizer state, more than this machine's " + gib_text(memory));
  const double activations = 4.0 * 3.0 * double(c.context) * double(c.batch_size) * double(c.layers) * 4.0 * d;
  if (activations > memory)
    throw Error("train.batch_size = " + std::to_string(c.batch_size) +
                " (with model.context = " + std::to_string(c.context) +
                ", model.embed_dim = " + std::to_string(c.embed_dim) + "): one batch needs at least " +
                gib_text(activations) + " of activations, more than this machine's " + gib_text(memory));
}

bool all_finite(torch::nn::Module& model) {
  for (const auto& p : model.parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

DecisionModel make_model(const DtConfig& c, int64_t obs_dim, int64_t act_dim) {
  DecisionModelConfig m;
  m.state_dim = obs_dim;
  m.act_dim = act_dim;
  m.context = c.context;
  m.max_ep_len = c.max_ep_len;
  m.backbone = c.backbone;
  m.backbone_config.dim = c.embed_dim;
  m.backbone_config.layers = c.layers;
  m.backbone_config.heads = c.heads;
  m.backbone_config.dropout = c.dropout;
  m.backbone_config.options =
      c.backbone_options.count(c.backbone) ? c.backbone_options.at(c.backbone) : std::map<std::string, double>{};
  return DecisionModel(m);
}

}  // namespace

std::vector<EvalResult> evaluate_targets(TrainedPolicy& policy, const std::vector<double>& targets,
                                         const std::vector<std::string>& modes, int episodes, int seed, int threads,
                                         const std::atomic<bool>* stop) {
  std::vector<EvalResult> results;
  for (double target : targets)
    for (const auto& mode : modes) {
      EvalSettings s;
      s.env = policy.env;
      s.target = target;
      s.mode = mode;
      s.episodes = episodes;
      s.seed = static_cast<uint64_t>(seed);
      s.stop = stop;
      s.threads = threads;
      results.push_back(evaluate_policy(policy.model, policy.scaling, s));
      const auto& r = results.back();
      spdlog::info("eval {} target {} {}: return {:.1f} ± {:.1f}, normalized {:.1f} ± {:.1f} ({} episodes)", r.env,
                   target, mode, r.return_mean, r.return_std, r.normalized_mean, r.normalized_std, episodes);
    }
  return results;
}

torch::Tensor masked_action_loss(const torch::Tensor& predicted, const torch::Tensor& target,
                                 const torch::Tensor& mask) {
  auto per_step = (predicted - target).pow(2).mean(-1);
  return (per_step * mask).sum() / mask.sum().clamp_min(1.0);
}

void check_train_context(const DtConfig& c) {
  if (c.train_context != "episode" || make_model(c, 1, 1)->backbone_state_is_constant()) return;
  throw Error("train.context = episode: model.backbone " + c.backbone +
              " carries a state that grows with the sequence (a KV cache), so it cannot train on whole episodes "
              "in linear memory; use train.context: window, or a recurrent backbone");
}

int train_decision_model(const DtConfig& c, const std::string& run_dir, bool resume) {
  check_train_context(c);
  const auto device = resolve_device(c.device);
  if (c.threads > 0) torch::set_num_threads(c.threads);
  torch::manual_seed(static_cast<uint64_t>(c.seed));

  check_fits_in_memory(c);
  const std::string config_yaml = Config::yaml_of(c);  // what checkpoints store: this run's own config
  // Data: the whole dataset in memory, windows drawn by the DT sampler.
  Dataset data = load_dataset(c.dataset, c.env, "data.env");
  SamplerConfig sampler_cfg;
  sampler_cfg.context = c.context;
  sampler_cfg.reward_scale = c.reward_scale;
  sampler_cfg.max_ep_len = c.max_ep_len;
  SequenceSampler sampler(data, sampler_cfg, static_cast<uint64_t>(c.seed));
  auto targets = c.targets.empty() ? default_targets(data.env) : c.targets;
  const auto modes = eval_mode_list(c.eval_modes);

  // Model and optimizer.
  TrainedPolicy policy;
  policy.config = c;
  policy.env = data.env;
  policy.model = make_model(c, data.obs_dim, data.act_dim);
  policy.model->to(device);
  policy.scaling = {sampler.state_mean(), sampler.state_std(), c.reward_scale};
  auto& model = policy.model;
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(c.lr).weight_decay(c.weight_decay));
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();

  const std::string ckpt_dir = (fs::path(run_dir) / "checkpoints").string();
  // Training rows (loss, lr, ...) every log_every steps; one evaluation row per (target, mode).
  MetricsCsv metrics(
      (fs::path(run_dir) / "metrics.csv").string(),
      {"step", "wall_s", "loss", "lr", "samples_per_s", "eval_target", "eval_mode", "eval_return", "eval_normalized"});
  std::vector<BestScore> best;
  int64_t step = 0;
  int64_t saved_step = -1;  // the step last.pt holds; -1: none written
  double wall_offset = 0;
  auto last_checkpoint = [&] {
    return saved_step < 0
               ? std::string("no checkpoint was written")
               : "the last checkpoint (" + ckpt_dir + "/last.pt, step " + std::to_string(saved_step) + ") is intact";
  };

  auto save = [&](int64_t at_step, double wall) {
    // Never save weights that are already broken: last.pt must stay a state worth resuming.
    if (!all_finite(*model))
      throw Error("step " + std::to_string(at_step) + ": model weights are NaN/Inf; not saved; " + last_checkpoint());
    CheckpointWriter w;
    w.module("model", *model);
    w.optimizer("optimizer", optimizer);
    w.number("step", double(at_step));
    w.number("wall_s", wall);
    w.text("sampler_rng", sampler.rng_state());
    w.torch_rng();
    w.tensor("state_mean", sampler.state_mean());
    w.tensor("state_std", sampler.state_std());
    w.number("reward_scale", c.reward_scale);
    w.text("env", data.env);
    w.text("config", config_yaml);
    w.text("best", to_json(best).dump());
    w.save((fs::path(ckpt_dir) / ("step_" + std::to_string(at_step) + ".pt")).string());
    w.save((fs::path(ckpt_dir) / "last.pt").string());
    saved_step = at_step;
  };

  if (resume) {
    CheckpointReader r = open_checkpoint(run_dir);
    r.module("model", *model);
    r.optimizer("optimizer", optimizer);
    step = static_cast<int64_t>(r.number("step"));
    wall_offset = r.number("wall_s");
    sampler.set_rng_state(r.text("sampler_rng"));
    r.torch_rng();
    const auto best_text = r.text("best");
    const auto best_json = nlohmann::json::parse(best_text, nullptr, /*allow_exceptions=*/false);
    if (best_json.is_discarded()) throw Error(r.path() + ": best-during-training scores are not valid JSON");
    best = best_scores_from_json(best_json, r.path());
    metrics.open(step + 1);
    saved_step = step;
    spdlog::info("resumed {} at step {}", run_dir, step);
  }
  if (!resume) metrics.open();
  spdlog::info("training {} ({} context) on {} ({} transitions, {} episodes), {} parameters, device {}", c.backbone,
               c.train_context, c.dataset, data.size(), data.episodes.size(), params, device.str());

  g_interrupted = false;
  auto previous_handler = std::signal(SIGINT, on_sigint);
  struct RestoreHandler {
    void (*handler)(int);
    ~RestoreHandler() { std::signal(SIGINT, handler); }
  } restore{previous_handler};

  // Every (target, mode) of an evaluation: a metrics row each.
  auto append_eval_rows = [&](const std::vector<EvalResult>& results, int64_t at_step, double wall) {
    for (const auto& r : results) {
      metrics.append({{"step", double(at_step)},
                      {"wall_s", wall},
                      {"eval_target", r.target},
                      {"eval_return", r.return_mean},
                      {"eval_normalized", r.normalized_mean}},
                     {{"eval_mode", r.mode}});
    }
  };

  model->train();
  Progress progress("train", c.steps);
  auto start = std::chrono::steady_clock::now();
  auto last_log = start;
  int64_t last_log_step = step;
  // The loss is summed on the device and read back at log/checkpoint steps only: a read is a
  // device sync, and one per step would stall a GPU. A NaN/Inf is therefore caught at the next
  // read, always before a checkpoint could save the broken weights.
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  int64_t loss_count = 0;
  while (step < c.steps) {
    // Linear warmup, then constant (DT's LambdaLR): derived from the step, so resume needs no state.
    const double lr = c.lr * std::min(1.0, double(step + 1) / double(std::max<int64_t>(1, c.warmup_steps)));
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);

    auto batch = c.train_context == "episode" ? sampler.sample_episodes(c.batch_size) : sampler.sample(c.batch_size);
    auto states = batch.states.to(device), actions = batch.actions.to(device), rtg = batch.rtg.to(device);
    auto timesteps = batch.timesteps.to(device), mask = batch.mask.to(device);
    auto predicted = model->forward(states, actions, rtg, timesteps, mask);
    auto loss = masked_action_loss(predicted, actions, mask);
    optimizer.zero_grad();
    loss.backward();
    if (c.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), c.grad_clip);
    optimizer.step();
    ++step;
    loss_sum += loss.detach().to(torch::kFloat64);
    ++loss_count;

    const double wall = wall_offset + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool do_eval = c.eval_every > 0 && step % c.eval_every == 0 && step < c.steps;
    const bool do_save = step % c.checkpoint_every == 0 || step == c.steps || g_interrupted;
    if (step % c.log_every == 0 || do_eval || do_save) {
      const double mean_loss = loss_sum.item<double>() / double(loss_count);
      if (!std::isfinite(mean_loss))
        throw Error("steps " + std::to_string(last_log_step + 1) + "-" + std::to_string(step) + ": training loss is " +
                    (std::isnan(mean_loss) ? "NaN" : "Inf") + "; stopped; " + last_checkpoint());
      auto now = std::chrono::steady_clock::now();
      double dt = std::chrono::duration<double>(now - last_log).count();
      metrics.append({{"step", double(step)},
                      {"wall_s", wall},
                      {"loss", mean_loss},
                      {"lr", lr},
                      {"samples_per_s", dt > 0 ? double((step - last_log_step) * c.batch_size) / dt : 0}});
      if (do_eval) {
        try {
          auto results =
              evaluate_targets(policy, targets, modes, c.eval_during_episodes, c.eval_seed, c.threads, &g_interrupted);
          for (const auto& r : results) update_best(best, r, step);
          append_eval_rows(results, step, wall);
        } catch (const Interrupted&) {  // no evaluation rows for this step; saved below
        }
      }
      progress.update(step, "loss " + std::to_string(mean_loss));
      last_log = now;
      last_log_step = step;
      loss_sum.zero_();
      loss_count = 0;
    }
    if (do_save) save(step, wall);
    if (g_interrupted) {  // saved just above
      progress.finish();
      spdlog::warn("interrupted at step {}: checkpoint saved; continue with `seqrl train --resume {}`", step, run_dir);
      return 130;
    }
  }
  progress.finish();

  // Final evaluation; the last point also counts for best-during-training.
  std::vector<EvalResult> final;
  try {
    final = evaluate_targets(policy, targets, modes, c.episodes, c.eval_seed, c.threads, &g_interrupted);
  } catch (const Interrupted&) {
    spdlog::warn("interrupted during the final evaluation; {}; `seqrl train --resume {}` evaluates it",
                 last_checkpoint(), run_dir);
    return 130;
  }
  for (const auto& r : final) update_best(best, r, step);
  const double wall = wall_offset + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EvalReport report;
  report.env = data.env;
  report.dataset = c.dataset;
  report.backbone = c.backbone;
  report.train_context = c.train_context;
  report.checkpoint = (fs::path(ckpt_dir) / ("step_" + std::to_string(step) + ".pt")).string();
  report.seed = c.seed;
  report.eval_seed = c.eval_seed;
  report.step = step;
  report.final = final;
  report.best_during_training = best;
  const auto st = dataset_stats(data);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  report.data = DataScore{st.transitions,
                          st.return_episodes,
                          st.return_mean,
                          st.return_std,
                          st.has_normalized ? st.normalized_mean : nan,
                          st.has_normalized ? st.normalized_std : nan};
  write_eval_report((fs::path(run_dir) / "eval.json").string(), report);
  // After eval.json: a run that failed writing it redoes the final evaluation on resume, and its
  // rows must not be there twice.
  append_eval_rows(final, step, wall);
  return 0;
}

void check_resume_matches_checkpoint(const std::string& resolved_yaml, const std::string& run_dir) {
  Config resolved;
  resolved.declare<DtConfig>();
  resolved.load_yaml_text(resolved_yaml, run_dir + " (resolved config)");
  resolved.resolve();
  CheckpointReader r = open_checkpoint(run_dir);
  Config cfg;
  cfg.declare<DtConfig>();
  cfg.load_yaml_text(r.text("config"), r.path() + " (stored config)");
  cfg.resolve();
  const auto stored = cfg.get<DtConfig>();
  for (const auto& key : cfg.keys()) {
    if (key.rfind("model.", 0) != 0 || key == "model.dropout") continue;
    const auto dot = key.find('.', 6);  // model.<backbone>.<option>: only this run's backbone counts
    if (dot != std::string::npos && key.substr(6, dot - 6) != stored.backbone) continue;
    const auto now = resolved.value_text(key), then = cfg.value_text(key);
    if (now != then)
      throw Error(run_dir + ": " + key + " = " + now + " but the checkpoint " + r.path() + " was trained with " + key +
                  " = " + then + "; model keys cannot change on resume");
  }
}

TrainedPolicy load_trained_policy(const std::string& path, const std::string& device) {
  CheckpointReader r = open_checkpoint(path);
  TrainedPolicy p;
  Config cfg;
  cfg.declare<DtConfig>();
  cfg.load_yaml_text(r.text("config"), r.path() + " (stored config)");
  cfg.resolve();
  p.config = cfg.get<DtConfig>();
  p.env = r.text("env");
  p.step = static_cast<int64_t>(r.number("step"));
  p.scaling = {r.tensor("state_mean"), r.tensor("state_std"), r.number("reward_scale")};
  const auto& spec = env_spec(p.env);
  p.model = make_model(p.config, spec.obs_dim, spec.act_dim);
  r.module("model", *p.model);
  p.model->to(resolve_device(device, "--device"));
  p.model->eval();
  return p;
}

}  // namespace seqrl
