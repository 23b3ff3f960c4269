// `seqrl collect`: make a D4RL-style dataset file (see agents/collector.h).
//   seqrl collect --kind medium --env hopper --policy RUN/checkpoints/step_N --steps 1000000 --out FILE
//   seqrl collect --kind medium-replay --policy RUN/checkpoints/step_N --out FILE
//   seqrl collect --kind medium-expert --inputs MEDIUM.hdf5 EXPERT.hdf5 --out FILE
#include <cstdio>

#include "agents/collector.h"
#include "cli/command.h"
#include "envs/env.h"

namespace seqrl::cli {
namespace {

void add_collect(CLI::App& parent) {
  auto cfg = std::make_shared<CollectConfig>();
  auto* cmd = parent.add_subcommand(
      "collect", "Collect a D4RL-style dataset: policy rollouts, a replay buffer, or a concatenation");
  cmd->add_option("--kind", cfg->kind, "random | medium | expert | policy | medium-replay | medium-expert")
      ->check(CLI::IsMember({"random", "medium", "expert", "policy", "medium-replay", "medium-expert"}))
      ->capture_default_str();
  cmd->add_option("--env", cfg->env, "hopper, halfcheetah, walker2d")->capture_default_str();
  cmd->add_option("--policy", cfg->policy,
                  "SAC checkpoint RUN_DIR/checkpoints/step_N (medium, expert, policy, medium-replay)");
  cmd->add_option("--inputs", cfg->inputs, "medium-expert: MEDIUM_FILE EXPERT_FILE")->expected(2);
  cmd->add_option("--out", cfg->out, "output .hdf5 file (written atomically)")->required();
  cmd->add_option("--steps", cfg->steps, "transitions to roll out")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", cfg->seed, "seed of env resets and action sampling")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--deterministic", cfg->deterministic, "record tanh(mean) actions instead of sampling (D4RL sampled)");
  cmd->add_option("--chunk", cfg->chunk_steps, "rows per resumable chunk saved under OUT.partial/")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--resume", cfg->resume, "continue an interrupted collection from OUT.partial/");
  cmd->add_option("--stop-after-chunks", cfg->stop_after_chunks, "stop (resumably) after this many chunks")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--gzip", cfg->gzip_level, "gzip level 0-9 (0: uncompressed)")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  cmd->callback([cfg] {
    auto s = collect(*cfg);
    if (!s.complete) {
      std::printf("partial: %lld rows so far in %s.partial/ (continue with --resume)\n", (long long)s.rows,
                  cfg->out.c_str());
      return;
    }
    std::printf("%s: %lld rows, %lld finished episodes, return %.1f +- %.1f", cfg->out.c_str(), (long long)s.rows,
                (long long)s.episodes, s.return_mean, s.return_std);
    if (s.episodes > 0) std::printf(" (normalized %.1f)", d4rl_normalized_score(cfg->env, s.return_mean));
    std::printf("\n");
  });
}

}  // namespace

SEQRL_COMMAND("", 27, add_collect);

}  // namespace seqrl::cli
