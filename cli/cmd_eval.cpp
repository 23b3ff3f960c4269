// seqrl eval: evaluate a trained run (or one of its checkpoints) in its MuJoCo env.
#include <ctime>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "agents/checkpoint.h"
#include "agents/dt.h"
#include "cli/command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/report.h"

namespace seqrl::cli {
namespace {
namespace fs = std::filesystem;

// Episode 0 of every (target, mode), one CSV row per step:
//   target,mode,step,rtg,obs_0..obs_{n-1},action_0..action_{m-1},reward
// rtg is the scaled return-to-go the policy was conditioned on; obs the raw observation it saw.
std::string trace_csv(const std::vector<EvalResult>& results) {
  std::string csv = "target,mode,step,rtg";
  const auto& first = results.front();
  for (size_t i = 0; i < first.trace_obs.front().size(); ++i) csv += fmt::format(",obs_{}", i);
  for (size_t i = 0; i < first.trace_action.front().size(); ++i) csv += fmt::format(",action_{}", i);
  csv += ",reward\n";
  for (const auto& r : results)
    for (size_t t = 0; t < r.trace_reward.size(); ++t) {
      csv += fmt::format("{:.17g},{},{},{:.17g}", r.target, r.mode, t, r.trace_rtg[t]);
      for (double v : r.trace_obs[t]) csv += fmt::format(",{:.17g}", v);
      for (double v : r.trace_action[t]) csv += fmt::format(",{:.17g}", v);
      csv += fmt::format(",{:.17g}\n", r.trace_reward[t]);
    }
  return csv;
}

struct EvalArgs {
  std::string path;
  int episodes = 0;  // 0: the run's eval.episodes
  std::string mode = "both";
  std::vector<double> targets;
  int seed = -1;  // -1: the run's eval.seed
  std::string device = "auto";
  std::string out, trace;
  bool runtime = false;
  std::string dtype = "float32";
};

void add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a trained run: returns and D4RL normalized scores");
  cmd->add_option("run", a->path, "Run folder, or a checkpoint (RUN/checkpoints/step_N)")->required();
  cmd->add_option("--episodes", a->episodes, "Episodes per target and mode (default: the run's eval.episodes)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--mode", a->mode, "window | recurrent | both")
      ->check(CLI::IsMember({"window", "recurrent", "both"}));
  cmd->add_option("--target", a->targets, "Target return(s) (default: the run's)")->delimiter(',');
  cmd->add_option("--seed", a->seed, "First episode seed (default: the run's eval.seed)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", a->device, "auto | cpu | cuda | cuda:N");
  cmd->add_flag("--runtime", a->runtime,
                "Act through the LibTorch-free runtime (runtime/sqp.h); alone, instead of --mode's modes");
  cmd->add_option("--dtype", a->dtype,
                  "With --runtime: float32 or float16 (the exported weights, as `seqrl export`), or int8 (a "
                  "float32 export acted with the backbone's matrices in int8: SQP_LOAD_INT8)")
      ->check(CLI::IsMember({"float32", "float16", "int8"}));
  cmd->add_option("--out", a->out, "Write the results as JSON here (default: RUN/eval-step<N>.json)");
  cmd->add_option("--trace", a->trace,
                  "Also write episode 0 of each target and mode step by step as CSV here "
                  "(target,mode,step,rtg,obs_*,action_*,reward)");
  cmd->callback([a, cmd] {
    auto policy = load_trained_policy(a->path, a->device);
    const auto& c = policy.config;
    auto targets = !a->targets.empty() ? a->targets : !c.targets.empty() ? c.targets : default_targets(policy.env);
    auto modes = eval_mode_list(a->mode);
    if (a->runtime && !cmd->count("--mode")) modes.clear();
    if (cmd->count("--dtype") && !a->runtime) throw UsageError("eval: --dtype applies to --runtime only");
    if (a->runtime) modes.push_back(a->dtype == "float32" ? "runtime" : "runtime-" + a->dtype);
    auto results = evaluate_targets(policy, targets, modes, a->episodes ? a->episodes : c.episodes,
                                    a->seed >= 0 ? a->seed : c.eval_seed, c.threads);
    std::cout << "| target | mode | return | normalized | seconds |\n|---|---|---|---|---|\n";
    for (const auto& r : results) {
      char line[512];
      std::snprintf(line, sizeof line, "| %.0f | %s | %.1f ± %.1f | %.1f ± %.1f | %.2f |\n", r.target, r.mode.c_str(),
                    r.return_mean, r.return_std, r.normalized_mean, r.normalized_std, r.seconds);
      std::cout << line;
    }
    EvalReport report;  // eval.json's schema (eval/report.h), without best-during-training
    report.env = policy.env;
    report.dataset = c.dataset;
    report.backbone = c.backbone;
    report.train_context = c.train_context;
    report.checkpoint = resolve_checkpoint(a->path);
    report.seed = c.seed;
    report.eval_seed = a->seed >= 0 ? a->seed : c.eval_seed;
    report.step = policy.step;
    report.final = results;
    fs::path run = fs::is_directory(a->path) ? fs::path(a->path)
                                             : fs::path(resolve_checkpoint(a->path)).parent_path().parent_path();
    auto out = !a->out.empty() ? a->out : (run / ("eval-step" + std::to_string(policy.step) + ".json")).string();
    write_eval_report(out, report);
    std::cout << "wrote " << out << "\n";
    if (!a->trace.empty()) {
      write_file_atomic(a->trace, trace_csv(results));
      std::cout << "wrote " << a->trace << "\n";
    }
  });
}

SEQRL_COMMAND("", 20, add_eval);

}  // namespace
}  // namespace seqrl::cli
