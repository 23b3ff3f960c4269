// seqrl runs: one line per run folder — state, progress, backbone, dataset, seed, final score.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "core/error.h"
#include "eval/runs.h"

namespace seqrl::cli {
namespace {
namespace fs = std::filesystem;

std::string score_text(const RunInfo& r, const std::string& mode) {
  if (!r.evaluated) return "–";
  for (const auto& e : r.eval.final)  // the first target evaluated in this mode (the table's default)
    if (e.mode == mode) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.1f ± %.1f @%g", e.normalized_mean, e.normalized_std, e.target);
      return buf;
    }
  return "–";
}

void add_runs(CLI::App& app) {
  auto paths = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand("runs", "List runs: state, step, backbone, dataset, seed, final score");
  cmd->add_option("paths", *paths, "Run folders or folders containing them (default: runs)");
  cmd->callback([paths] {
    const auto dirs = find_run_dirs(paths->empty() ? std::vector<std::string>{"runs"} : *paths);
    std::cout << "| run | state | step | backbone | dataset | seed | final window | final recurrent |\n"
              << "|---|---|---|---|---|---|---|---|\n";
    for (const auto& d : dirs) {
      const auto r = read_run_info(d);
      std::cout << "| " << fs::path(d).filename().string() << " | " << r.state << " | " << r.step << "/" << r.steps
                << " | " << r.backbone << " | " << r.dataset << " | " << r.seed << " | " << score_text(r, "window")
                << " | " << score_text(r, "recurrent") << " |\n";
    }
    std::cout << "(final: D4RL normalized score, mean ± std over episodes @ target return)\n";
  });
}

SEQRL_COMMAND("", 32, add_runs);

}  // namespace
}  // namespace seqrl::cli
