// `seqrl sac -c configs/sac/hopper.yaml [key=value ...]`: train an online SAC agent.
// `seqrl sac --resume RUN_DIR [key=value ...]` continues a run from its last checkpoint with
// the run's own config.yaml (overrides such as run.steps=... still apply).
#include <filesystem>

#include "agents/sac.h"
#include "cli/command.h"
#include "core/config.h"
#include "core/error.h"

namespace seqrl::cli {
namespace {

struct SacArgs {
  std::string config_path, resume;
  std::vector<std::string> overrides;
  bool show_keys = false;
};

void run(const SacArgs& args) {
  Config cfg;
  cfg.declare<SacRunConfig>();
  if (args.show_keys) {
    std::printf("%s", cfg.describe().c_str());
    return;
  }
  if (!args.resume.empty() && !args.config_path.empty())
    throw UsageError("--resume uses the run's own config.yaml; drop -c (pass key=value overrides instead)");
  std::string path =
      args.resume.empty() ? args.config_path : (std::filesystem::path(args.resume) / "config.yaml").string();
  if (!args.resume.empty() && !std::filesystem::is_regular_file(path))
    throw Error(args.resume + ": not a run folder (no config.yaml)");
  if (!path.empty()) cfg.load_yaml(path);
  cfg.apply_overrides(args.overrides);
  cfg.resolve();
  run_sac(cfg.get<SacRunConfig>(), args.resume);
}

void add_sac(CLI::App& parent) {
  auto args = std::make_shared<SacArgs>();
  auto* cmd = parent.add_subcommand("sac", "Train an online Soft Actor-Critic agent (source of D4RL-style datasets)");
  cmd->add_option("-c,--config", args->config_path, "YAML config (e.g. configs/sac/hopper.yaml)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--resume", args->resume, "continue the run in this folder from its last checkpoint")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--keys", args->show_keys, "list every config key with its default and range, then exit");
  cmd->add_option("overrides", args->overrides, "key=value overrides, e.g. run.steps=100000 sac.batch_size=256");
  cmd->callback([args] { run(*args); });
}

}  // namespace

SEQRL_COMMAND("", 25, add_sac);

}  // namespace seqrl::cli
