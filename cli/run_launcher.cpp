#include "cli/run_launcher.h"

#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <map>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

extern char** environ;

namespace seqrl::cli {
namespace fs = std::filesystem;

ResolvedRun resolve_run_config(const std::string& config_path, const std::string& overlay,
                               const std::string& overlay_source, const std::string& overlay_dir,
                               const std::vector<std::string>& overrides) {
  ResolvedRun r;
  Config cfg;
  cfg.declare<DtConfig>();
  if (!config_path.empty()) cfg.load_yaml(config_path);
  if (!overlay.empty()) cfg.load_yaml_text(overlay, overlay_source, overlay_dir);
  cfg.apply_overrides(overrides);
  cfg.resolve();
  r.config = cfg.get<DtConfig>();
  r.yaml = cfg.to_yaml();
  return r;
}

void prepare_run_dir(const std::string& dir, const std::string& config_yaml) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "checkpoints", ec);
  if (ec) throw Error(dir + ": cannot create run folder: " + ec.message());
  write_file_atomic((fs::path(dir) / "config.yaml").string(), config_yaml);
}

int train_in_children(const std::vector<ChildRun>& runs, int jobs) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  jobs = std::max(1, std::min<int>(jobs, int(runs.size())));
  std::map<pid_t, size_t> running;
  int failures = 0;
  size_t next = 0;
  // The children's environment: ours plus SEQRL_RUN_TAG (replacing one we inherited).
  std::vector<std::string> env_base;
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("SEQRL_RUN_TAG=", 0) != 0) env_base.push_back(*e);
  while (next < runs.size() || !running.empty()) {
    if (next < runs.size() && int(running.size()) < jobs) {
      const auto& run = runs[next];
      std::vector<std::string> args{self, "train", "--run-dir", run.dir};
      std::vector<std::string> env = env_base;
      env.push_back("SEQRL_RUN_TAG=" + run.tag);
      std::vector<char*> argv, envp;
      for (auto& s : args) argv.push_back(s.data());
      for (auto& s : env) envp.push_back(s.data());
      argv.push_back(nullptr);
      envp.push_back(nullptr);
      pid_t pid;
      if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0)
        throw Error("cannot start a child process for " + run.dir);
      spdlog::info("started {} (pid {})", run.dir, pid);
      running[pid] = next++;
      continue;
    }
    int status = 0;
    const pid_t pid = ::wait(&status);
    if (pid < 0) break;
    const auto& run = runs[running.at(pid)];
    running.erase(pid);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0) {
      ++failures;
      spdlog::error("[{}] failed (exit {}); see {}/log.txt", run.tag, code, run.dir);
    } else {
      spdlog::info("[{}] done", run.tag);
    }
  }
  return failures;
}

}  // namespace seqrl::cli
