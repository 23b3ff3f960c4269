// seqrl export: a trained run's policy as a .sqp file for the LibTorch-free runtime (runtime/).
#include <cmath>
#include <filesystem>
#include <iostream>

#include "agents/checkpoint.h"
#include "agents/dt.h"
#include "cli/command.h"
#include "eval/policy_export.h"

namespace seqrl::cli {
namespace {

struct ExportArgs {
  std::string run, checkpoint, out, dtype = "float32";
  double target = std::nan("");
};

void add_export(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "Write a trained policy as a .sqp file for the runtime (runtime/sqp.h)");
  cmd->add_option("run", a->run, "Run folder")->required();
  cmd->add_option("--checkpoint", a->checkpoint, "Checkpoint in RUN/checkpoints (step_N or last; default: last)");
  cmd->add_option("-o,--out", a->out, "Policy file to write (.sqp)")->required();
  cmd->add_option("--target", a->target, "Default target return stored in the file (default: the run's first)");
  cmd->add_option("--dtype", a->dtype,
                  "Weights as float32 (acts exactly like LibTorch) or float16 (half the bytes per step; acts like "
                  "the model rounded to float16)")
      ->check(CLI::IsMember({"float32", "float16"}));
  cmd->callback([a] {
    auto path =
        a->checkpoint.empty() ? a->run : (std::filesystem::path(a->run) / "checkpoints" / a->checkpoint).string();
    auto policy = load_trained_policy(path, "cpu");
    const auto& targets = policy.config.targets.empty() ? default_targets(policy.env) : policy.config.targets;
    double target = std::isnan(a->target) ? targets.front() : a->target;
    export_policy(a->out, policy.model, policy.scaling, policy.env, target,
                  a->dtype == "float16" ? PolicyDtype::float16 : PolicyDtype::float32);
    std::cout << "wrote " << a->out << " (" << policy.config.backbone << ", step " << policy.step << ", target "
              << target << ", " << a->dtype << ")\n";
  });
}

SEQRL_COMMAND("", 22, add_export);

}  // namespace
}  // namespace seqrl::cli
