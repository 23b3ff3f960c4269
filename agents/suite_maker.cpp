#include "agents/suite_maker.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "agents/checkpoint.h"
#include "agents/collector.h"
#include "agents/sac.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/d4rl.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "datasets/dataset.h"
#include "envs/env.h"

namespace seqrl {
namespace fs = std::filesystem;
namespace {

std::string in_suite(const Suite& suite, const std::string& rel) { return (fs::path(suite.dir) / rel).string(); }

SuiteStats stats_of_file(const std::string& path, const std::string& env) {
  auto st = dataset_stats(load_dataset(path, env));
  SuiteStats s;
  s.transitions = st.transitions;
  s.episodes = st.terminal_episodes + st.timeout_episodes;
  s.return_mean = st.return_mean;
  s.return_std = st.return_std;
  s.normalized_mean = st.normalized_mean;
  s.normalized_std = st.normalized_std;
  return s;
}

// Same machine and binary reproduce a file bit for bit, so the record is matched exactly (up to
// the printed precision of the JSON numbers).
std::string compare_stats(const SuiteStats& got, const SuiteStats& want) {
  auto close = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); };
  std::string diff;
  auto add = [&](const std::string& what, double g, double w) {
    diff += fmt::format("{}{} {} (recorded {})", diff.empty() ? "" : ", ", what, g, w);
  };
  if (got.transitions != want.transitions) add("transitions", got.transitions, want.transitions);
  if (got.episodes != want.episodes) add("episodes", got.episodes, want.episodes);
  if (!close(got.return_mean, want.return_mean)) add("return mean", got.return_mean, want.return_mean);
  if (!close(got.return_std, want.return_std)) add("return std", got.return_std, want.return_std);
  return diff;
}

// Why a file may not reproduce here: OpenBLAS picks its kernels by CPU (0.3.21 takes some
// AVX-512 CPUs for Haswell), and other kernels round differently. "" when they are the same.
std::string blas_hint(const SuiteEntry& e) {
  const std::string here = blas_kernels();
  if (e.blas.empty() || here == e.blas) return "";
  return "; this machine's OpenBLAS kernels are " + (here.empty() ? std::string("not OpenBLAS's") : here) +
         ", the record's are " + e.blas + " (on a CPU with AVX-512, OPENBLAS_CORETYPE=SKYLAKEX selects " +
         "SkylakeX's, which Cooperlake's float kernels are)";
}

// The SAC re-run that medium-replay's buffer comes from: the adopted run's own config.yaml and
// seed, stopped at the medium policy's step, on one thread (the original ran on one; BLAS
// results may differ with the thread count). Returns the checkpoint at that step.
std::string rerun_sac(const Suite& suite, const SuiteEntry& e, const std::string& work_root) {
  Config cfg;
  cfg.declare<SacRunConfig>();
  cfg.load_yaml(in_suite(suite, e.sac_config));
  cfg.apply_overrides({"run.steps=" + std::to_string(e.policy_step), "run.out_dir=" + work_root,
                       "run.name=" + e.name + "-sac", "run.save_replay=true"});
  cfg.resolve();
  const auto run = cfg.get<SacRunConfig>();
  if (run.seed != e.sac_seed)
    throw Error(in_suite(suite, e.sac_config) + ": run.seed is " + std::to_string(run.seed) + ", the record says " +
                std::to_string(e.sac_seed));
  if (e.policy_step % run.checkpoint_every != 0)
    throw Error(e.name + ": policy_step " + std::to_string(e.policy_step) +
                " is not a multiple of run.checkpoint_every");
  struct OneThread {  // restored on every way out, a failed re-run included
    int before = torch::get_num_threads();
    OneThread() { torch::set_num_threads(1); }
    ~OneThread() { torch::set_num_threads(before); }
  } one_thread;
  auto result = run_sac(run, "");
  return (fs::path(result.dir) / "checkpoints" / ("step_" + std::to_string(e.policy_step) + ".pt")).string();
}

// Largest absolute difference between two actors' parameters (the re-run's medium policy vs the
// shipped one): 0 when the re-run reproduced the original run.
double actor_difference(const std::string& a_path, const std::string& b_path) {
  CheckpointReader ra(a_path), rb(b_path);
  auto a = Sac::load_actor(ra, torch::kCPU);
  auto b = Sac::load_actor(rb, torch::kCPU);
  auto pa = a->parameters(), pb = b->parameters();
  if (pa.size() != pb.size()) throw Error(a_path + ": actor differs in shape from " + b_path);
  double d = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!pa[i].sizes().equals(pb[i].sizes())) throw Error(a_path + ": actor differs in shape from " + b_path);
    d = std::max(d, (pa[i] - pb[i]).abs().max().item<double>());
  }
  return d;
}

// The medium or expert file of the same env, made first if it is not there yet.
std::string ensure_part(Suite& suite, const std::string& env, const std::string& kind, bool accept_mismatch) {
  std::string name = env + "-" + kind;
  std::string path = suite_file(name);
  if (fs::is_regular_file(path)) {
    const auto& e = suite.find(name);
    if (e.recorded) {
      auto diff = compare_stats(stats_of_file(path, env), *e.recorded);
      if (!diff.empty() && !accept_mismatch)
        throw Error(path + ": differs from the record of " + name + " (" + diff +
                    "); remake it, or pass --accept-mismatch to use it as it is" + blas_hint(e));
      if (!diff.empty()) spdlog::warn("{}: differs from the record of {} ({}); used as it is", path, name, diff);
    }
    return path;
  }
  spdlog::info("{} needs {}: making it first", env + "-medium-expert", name);
  SuiteMakeOptions part;
  part.accept_mismatch = accept_mismatch;
  return make_suite_dataset(suite, name, part).path;
}

}  // namespace

SuiteMakeResult make_suite_dataset(Suite& suite, const std::string& name, const SuiteMakeOptions& options) {
  auto& e = suite.find(name);
  if (!options.replay_from.empty() && e.kind != "medium-replay")
    throw UsageError(name +
                     ": --replay-from applies to a medium-replay file only (it names the SAC run whose buffer "
                     "that file is cut from)");
  SuiteMakeResult result;
  result.path = options.out.empty() ? suite_file(name) : options.out;
  fs::path final_path = result.path;
  if (final_path.has_parent_path()) fs::create_directories(final_path.parent_path());
  const std::string staging = (final_path.parent_path() / (final_path.stem().string() + ".unverified.hdf5")).string();
  if (!e.recorded && !options.record)
    spdlog::warn("{}: no statistics recorded in {}/suite.json yet; the file cannot be checked", name, suite.dir);

  const auto t0 = std::chrono::steady_clock::now();
  CollectConfig c;
  c.kind = e.kind;
  c.env = e.env;
  c.out = staging;
  if (e.kind == "random" || e.kind == "medium" || e.kind == "expert") {
    if (e.steps <= 0) throw Error(suite.dir + "/suite.json: " + name + ": steps: expected a positive rollout length");
    c.steps = e.steps;
    c.seed = e.seed;
    if (e.kind != "random") {
      if (e.policy.empty()) throw Error(suite.dir + "/suite.json: " + name + ": policy: missing (adopt one first)");
      c.policy = in_suite(suite, e.policy);
    }
    if (fs::exists(staging + ".partial")) c.resume = true;  // an interrupted make continues
    collect(c);
  } else if (e.kind == "medium-replay") {
    const auto& medium = suite.find(e.env + "-medium");
    if (e.sac_config.empty() || medium.policy.empty())
      throw Error(suite.dir + "/suite.json: " + name + ": needs sac_config and the medium policy (adopt one first)");
    const std::string shipped = in_suite(suite, medium.policy);
    std::string ckpt, rerun_dir;  // rerun_dir: the re-run's folder, removed once its buffer is out
    if (!options.replay_from.empty()) {
      // The original run, still on disk: its buffer (replay.pt, never wrapped) starts with the
      // rows up to the medium step, so no re-run is needed. It must be the run the policy came from.
      ckpt =
          (fs::path(options.replay_from) / "checkpoints" / ("step_" + std::to_string(e.policy_step) + ".pt")).string();
      if (!fs::is_regular_file(ckpt))
        throw Error(ckpt + ": missing; --replay-from needs the SAC run " + medium.name + "'s policy was adopted from");
      if (double diff = actor_difference(ckpt, shipped); diff != 0)
        throw Error(ckpt + ": its actor differs from the shipped " + medium.name + " policy by up to " +
                    fmt::format("{:.3g}", diff) + "; --replay-from needs the run that policy was adopted from");
    } else {
      ckpt = rerun_sac(suite, e, (final_path.parent_path() / "work").string());
      rerun_dir = fs::path(ckpt).parent_path().parent_path().string();
      if (double diff = actor_difference(ckpt, shipped); diff != 0)
        spdlog::warn(
            "{}: the SAC re-run's step-{} actor differs from the shipped medium policy by up to {:.3g} "
            "(another CPU or BLAS?{})",
            name, e.policy_step, diff, blas_hint(suite.find(e.env + "-medium")));
      else
        spdlog::info("{}: the SAC re-run reproduced the shipped medium policy exactly", name);
    }
    c.policy = ckpt;
    collect(c);
    if (!rerun_dir.empty()) fs::remove_all(rerun_dir);
  } else {  // medium-expert
    c.inputs = {ensure_part(suite, e.env, "medium", options.accept_mismatch),
                ensure_part(suite, e.env, "expert", options.accept_mismatch)};
    collect(c);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.stats = stats_of_file(staging, e.env);

  if (options.record) {
    update_suite(suite, [&](Suite& fresh) {
      auto& f = fresh.find(name);
      f.recorded = result.stats;
      f.make_seconds = result.seconds;
      f.made_on = host_name();
      f.blas = e.kind == "random" ? "" : blas_kernels();  // random actions use no matmul
    });
    result.check = "recorded";
  } else if (e.recorded) {
    auto diff = compare_stats(result.stats, *e.recorded);
    if (!diff.empty() && !options.accept_mismatch)
      throw Error(staging + ": " + name + " differs from its record in " + suite.dir + "/suite.json: " + diff +
                  " (left unverified there; another CPU or BLAS can change rollouts" + blas_hint(e) +
                  "; --accept-mismatch keeps it as " + final_path.filename().string() + ")");
    if (!diff.empty()) spdlog::warn("{}: differs from its record, kept as asked: {}{}", name, diff, blas_hint(e));
    result.check = diff.empty() ? "identical to the record" : "differs from the record: " + diff;
  } else {
    result.check = "no record to check against";
  }
  fs::rename(staging, final_path);
  return result;
}

void adopt_suite_policy(Suite& suite, const std::string& name, const std::string& checkpoint, int episodes) {
  auto& e = suite.find(name);
  if (e.kind != "medium" && e.kind != "expert")
    throw UsageError(name + ": only medium and expert files come from an adopted policy");
  const std::string ckpt = resolve_checkpoint(checkpoint);
  CheckpointReader r(ckpt);
  if (r.text("env") != e.env) throw Error(ckpt + ": a policy for " + r.text("env") + ", not " + e.env);
  const auto step = static_cast<int64_t>(r.number("step"));
  auto actor = Sac::load_actor(r, torch::kCPU);

  // The run's resolved config.yaml, which a medium-replay re-run starts from.
  const fs::path run_dir = fs::path(ckpt).parent_path().parent_path();
  Config cfg;
  cfg.declare<SacRunConfig>();
  cfg.load_yaml((run_dir / "config.yaml").string());
  cfg.resolve();
  const auto run = cfg.get<SacRunConfig>();
  const std::string sac_config = "sac/" + e.env + "-s" + std::to_string(run.seed) + ".yaml";
  fs::create_directories(fs::path(suite.dir) / "sac");
  write_file_atomic(in_suite(suite, sac_config), cfg.to_yaml());

  // Only what the collector needs: sizes, env, step and the actor's weights.
  CheckpointWriter w;
  w.module("actor", *actor);
  for (const char* k : {"obs_dim", "act_dim", "log_std_min", "log_std_max"}) w.number(k, r.number(k));
  w.text("hidden", r.text("hidden"));
  w.text("env", e.env);
  w.number("step", static_cast<double>(step));
  const std::string policy = "policies/" + name + ".pt";
  fs::create_directories(fs::path(suite.dir) / "policies");
  w.save(in_suite(suite, policy));

  Env env(e.env);
  auto [mean, sd] = evaluate_actor(env, actor, episodes, /*seed=*/0, torch::kCPU);
  const std::string env_name = e.env, kind = e.kind;  // `e` is replaced by the update below
  update_suite(suite, [&](Suite& fresh) {
    auto& f = fresh.find(name);
    f.policy = policy;
    f.policy_step = step;
    f.policy_eval_episodes = episodes;
    f.policy_eval_return = mean;
    f.policy_eval_return_std = sd;
    f.sac_config = sac_config;
    f.sac_seed = run.seed;
    f.recorded.reset();
    if (kind == "medium") {
      auto& replay = fresh.find(env_name + "-medium-replay");
      replay.policy = policy;
      replay.policy_step = step;
      replay.sac_config = sac_config;
      replay.sac_seed = run.seed;
      replay.recorded.reset();
    }
    fresh.find(env_name + "-medium-expert").recorded.reset();
  });
  spdlog::info("{}: adopted {} (step {}): deterministic return {:.1f} +- {:.1f} over {} episodes (normalized {:.1f})",
               name, ckpt, step, mean, sd, episodes, d4rl_normalized_score(env_name, mean));
}

}  // namespace seqrl
