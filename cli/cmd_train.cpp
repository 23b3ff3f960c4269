// seqrl train: offline training of a decision model (agents/dt.h), one seed in-process or
// several seeds as parallel child processes, each in its own run folder.
#include <filesystem>
#include <iostream>
#include <thread>

#include "agents/dt.h"
#include "cli/command.h"
#include "cli/run_launcher.h"
#include "core/atomic_file.h"
#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "datasets/dataset.h"
#include "eval/table.h"

namespace seqrl::cli {
namespace {
namespace fs = std::filesystem;

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::vector<int> seeds;
  int jobs = 1;
  std::string resume;
  std::string run_dir;  // a prepared folder (sweep, --seeds children, tests)
  bool print_config = false;
};

std::string default_run_name(const DtConfig& c) {
  return (c.name != "dt" ? c.name : fs::path(c.dataset).stem().string()) + "-" + c.backbone + "-s" +
         std::to_string(c.seed);
}

void print_tables(const std::vector<std::string>& run_dirs, const DtConfig& c) {
  auto scores = read_run_scores(run_dirs);
  for (const auto& mode : eval_mode_list(c.eval_modes))
    std::cout << table_markdown(aggregate_scores(scores, mode, "first")) << "\n";
}

// One run folder per seed, trained by child processes `jobs` at a time. Every seed's config is
// resolved and the dataset read first, so a bad setting or file fails the start before any
// folder exists.
void train_seeds(const TrainArgs& a, const DtConfig& c) {
  const int jobs = std::max(1, std::min<int>(a.jobs, int(a.seeds.size())));
  const int threads = c.threads > 0 ? c.threads : std::max(1, int(std::thread::hardware_concurrency()) / jobs);
  std::vector<ResolvedRun> runs;
  for (int seed : a.seeds) {
    auto overrides = a.overrides;
    overrides.push_back("run.seed=" + std::to_string(seed));
    overrides.push_back("run.threads=" + std::to_string(threads));
    runs.push_back(resolve_run_config(a.config, "", "", "", overrides));
  }
  // A dataset that cannot be read fails here, once, not as one failed run folder per seed.
  load_dataset(c.dataset, c.env, "data.env");
  std::vector<ChildRun> children;
  std::vector<std::string> dirs;
  for (const auto& r : runs) {
    const auto dir = create_run_dir(r.config.out_dir, default_run_name(r.config));
    write_file_atomic((fs::path(dir) / "config.yaml").string(), r.yaml);
    children.push_back({dir, fs::path(dir).filename().string()});
    dirs.push_back(dir);
  }
  const int failures = train_in_children(children, jobs);
  if (failures) throw Error(std::to_string(failures) + " of " + std::to_string(a.seeds.size()) + " seeds failed");
  print_tables(dirs, c);
}

void add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a decision model on an offline dataset, then evaluate it");
  cmd->add_option("-c,--config", a->config, "Experiment YAML (configs/*.yaml)")->check(CLI::ExistingFile);
  cmd->add_option("overrides", a->overrides, "Dotted overrides, e.g. model.backbone=mingru train.steps=2000");
  cmd->add_option("--seeds", a->seeds, "Train one run per seed (comma-separated), in child processes")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-j,--jobs", a->jobs, "Seeds run in parallel")->check(CLI::PositiveNumber);
  cmd->add_option("--resume", a->resume, "Continue the run in this folder from its last checkpoint")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--run-dir", a->run_dir,
                  "Train in this prepared folder: with -c a fresh run; without, the folder's config.yaml "
                  "(resumed from its last checkpoint if it has one; nothing to do once it has eval.json)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--print-config", a->print_config, "Print the resolved config and exit");
  cmd->callback([a] {
    if (!a->resume.empty() && (!a->config.empty() || !a->seeds.empty() || !a->run_dir.empty()))
      throw UsageError("train: --resume takes the run's own config; drop -c/--seeds/--run-dir");
    if (!a->run_dir.empty() && !a->seeds.empty()) throw UsageError("train: --run-dir is one run; drop --seeds");
    // A folder whose own config.yaml is the run's: --resume, or --run-dir without -c.
    const std::string own_dir = !a->resume.empty() ? a->resume : a->config.empty() ? a->run_dir : "";
    const std::string own_config = own_dir.empty() ? "" : (fs::path(own_dir) / "config.yaml").string();
    if (!own_config.empty() && !fs::is_regular_file(own_config))
      throw Error(own_config + ": missing (not a run folder)");
    auto run = resolve_run_config(own_dir.empty() ? a->config : own_config, "", "", "", a->overrides);
    const DtConfig& c = run.config;
    if (a->print_config) {
      std::cout << run.yaml;
      return;
    }
    check_train_context(c);
    resolve_device(c.device);  // a device that is not there fails before any folder is made
    if (!a->seeds.empty()) {
      train_seeds(*a, c);
      return;
    }
    const bool prepared = !a->run_dir.empty() && a->config.empty();
    if (prepared && fs::exists(fs::path(own_dir) / "eval.json")) {
      spdlog::info("{}: already finished (eval.json); nothing to do", own_dir);
      return;
    }
    const bool resume = !a->resume.empty() || (prepared && fs::exists(fs::path(own_dir) / "checkpoints" / "last.pt"));
    const bool created_here = own_dir.empty() && a->run_dir.empty();
    // A resumed folder must be a run whose checkpoint matches before anything is written to it.
    if (resume) check_resume_matches_checkpoint(run.yaml, own_dir);
    const std::string dir = !own_dir.empty()      ? own_dir
                            : !a->run_dir.empty() ? a->run_dir
                                                  : create_run_dir(c.out_dir, default_run_name(c));
    // Held until training ends: a second process on this folder fails here, before it writes.
    RunLock lock(dir);
    for (const auto& folder : {dir, (fs::path(dir) / "checkpoints").string()})
      if (int n = remove_stale_temp_files(folder))
        spdlog::info("{}: removed {} temp files left by a killed run", folder, n);
    int code = 0;
    try {
      write_file_atomic((fs::path(dir) / "config.yaml").string(), run.yaml);
      log_to_file((fs::path(dir) / "log.txt").string());
      spdlog::info("run folder {}", dir);
      write_run_status(dir, "running");
      code = train_decision_model(c, dir, resume);
    } catch (const std::exception& e) {
      // A run that failed before its first checkpoint leaves no folder of its own behind.
      if (created_here && !fs::exists(fs::path(dir) / "checkpoints" / "last.pt")) {
        std::error_code ec;
        fs::remove_all(dir, ec);
      } else {
        write_run_status(dir, "failed", e.what());
      }
      throw;
    }
    if (code != 0) {
      write_run_status(dir, "interrupted");
      throw Interrupted("interrupted; resume with: seqrl train --resume " + dir);
    }
    write_run_status(dir, "done");
    if (!prepared) print_tables({dir}, c);
  });
}

SEQRL_COMMAND("", 10, add_train);

}  // namespace
}  // namespace seqrl::cli
