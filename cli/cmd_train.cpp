// seqrl train: offline training of a decision model (agents/dt.h), one seed in-process or
// several seeds as parallel child processes, each in its own run folder.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "agents/dt.h"
#include "cli/command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "eval/table.h"

extern char** environ;

namespace seqrl::cli {
namespace {
namespace fs = std::filesystem;

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::vector<int> seeds;
  int jobs = 1;
  std::string resume;
  std::string run_dir;  // internal: the folder a parent prepared for this child
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

// Runs `seqrl train` for each seed as a child process, `jobs` at a time.
int train_seeds(const TrainArgs& a, DtConfig c) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const int jobs = std::max(1, std::min<int>(a.jobs, int(a.seeds.size())));
  const int threads = c.threads > 0 ? c.threads : std::max(1, int(std::thread::hardware_concurrency()) / jobs);
  std::vector<std::string> dirs;
  std::map<pid_t, size_t> running;
  int failures = 0;
  size_t next = 0;
  auto wait_one = [&] {
    int status = 0;
    pid_t pid = ::wait(&status);
    auto i = running.at(pid);
    running.erase(pid);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0) {
      ++failures;
      spdlog::error("seed {} failed (exit {}); see {}/log.txt", a.seeds[i], code, dirs[i]);
    }
  };
  for (; next < a.seeds.size() || !running.empty();) {
    if (next < a.seeds.size() && int(running.size()) < jobs) {
      c.seed = a.seeds[next];
      dirs.push_back(create_run_dir(c.out_dir, default_run_name(c)));
      std::vector<std::string> args{self, "train", "--run-dir", dirs.back()};
      if (!a.config.empty()) args.insert(args.end(), {"-c", a.config});
      for (const auto& o : a.overrides) args.push_back(o);
      args.push_back("run.seed=" + std::to_string(a.seeds[next]));
      args.push_back("run.threads=" + std::to_string(threads));
      std::vector<char*> argv;
      for (auto& s : args) argv.push_back(s.data());
      argv.push_back(nullptr);
      pid_t pid;
      if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
        throw Error("cannot start a child process for seed " + std::to_string(a.seeds[next]));
      spdlog::info("seed {} -> {}", a.seeds[next], dirs.back());
      running[pid] = next++;
    } else {
      wait_one();
    }
  }
  if (failures) throw Error(std::to_string(failures) + " of " + std::to_string(a.seeds.size()) + " seeds failed");
  print_tables(dirs, c);
  return 0;
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
  cmd->add_option("--run-dir", a->run_dir, "Use this (prepared, empty) run folder")->group("");
  cmd->add_flag("--print-config", a->print_config, "Print the resolved config and exit");
  cmd->callback([a] {
    if (!a->resume.empty() && (!a->config.empty() || !a->seeds.empty()))
      throw UsageError("train: --resume takes the run's own config; drop -c/--seeds");
    DtConfig c;
    Config cfg;
    c.bind(cfg);
    const std::string run_config = a->resume.empty() ? "" : (fs::path(a->resume) / "config.yaml").string();
    if (!run_config.empty()) cfg.load_yaml(run_config);
    if (!a->config.empty()) cfg.load_yaml(a->config);
    cfg.apply_overrides(a->overrides);
    cfg.resolve();
    if (a->print_config) {
      std::cout << cfg.to_yaml();
      return;
    }
    check_train_context(c);
    if (!a->seeds.empty()) {
      train_seeds(*a, c);
      return;
    }
    // A resumed folder must be a run whose checkpoint matches before anything is written to it.
    if (!a->resume.empty()) check_resume_matches_checkpoint(cfg, a->resume);
    std::string dir = !a->resume.empty() ? a->resume : !a->run_dir.empty() ? a->run_dir
                                                                            : create_run_dir(c.out_dir, default_run_name(c));
    RunLock lock(dir);
    for (const auto& folder : {dir, (fs::path(dir) / "checkpoints").string()})
      if (int n = remove_stale_temp_files(folder)) spdlog::info("{}: removed {} temp files left by a killed run", folder, n);
    write_file_atomic((fs::path(dir) / "config.yaml").string(), cfg.to_yaml());
    log_to_file((fs::path(dir) / "log.txt").string());
    spdlog::info("run folder {}", dir);
    int code = train_decision_model(c, dir, !a->resume.empty());
    if (code != 0) throw Interrupted("resume with: seqrl train --resume " + dir);
    print_tables({dir}, c);
  });
}

SEQRL_COMMAND("", 10, add_train);

}  // namespace
}  // namespace seqrl::cli
