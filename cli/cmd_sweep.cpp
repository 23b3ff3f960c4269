// seqrl sweep: a grid of training runs (datasets × backbones × seeds × any setting) from one
// sweep file, run here (-j N child processes) or on Slurm (one job array), resumable.
//
//   config: ../configs/quickstart.yaml   # the base config (paths here: relative to this file)
//   out_dir: ../runs/backbones           # one run folder per grid point (default runs/<file stem>)
//   set: {train.steps: 200}              # settings for every run
//   grid:                                # every combination of these values
//     config: [../hopper-medium.yaml, ../walker2d-medium.yaml]   # the datasets axis: one base
//                                        # config per dataset (instead of the top-level config)
//     model.backbone: [gru, mingru, transformer]
//     run.seed: [0, 1]
//   local: {jobs: 2, threads: 1}         # seqrl sweep FILE
//   slurm: {cpus: 1, gpus: 0, time: "00:30:00", partition: debug, mem: 2G}   # seqrl sweep FILE --slurm
//
// Run folders are named by their grid point ("backbone-gru_seed-0"), so a second invocation
// finds them: finished runs are skipped, interrupted or failed ones resumed from their last
// checkpoint, runs still going or queued left alone.
#include <sys/wait.h>

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "cli/run_launcher.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "eval/runs.h"
#include "eval/table.h"

namespace seqrl::cli {
namespace {
namespace fs = std::filesystem;

struct SlurmResources {
  int cpus = 1, gpus = 0;
  std::string time = "01:00:00", partition, mem;
};

struct SweepFile {
  std::string path, config, out_dir;
  std::vector<std::pair<std::string, YAML::Node>> set;                // "dotted.key" -> value, for every run
  std::vector<std::pair<std::string, std::vector<YAML::Node>>> grid;  // axis key -> values, file order
  int jobs = 1, threads = 0;
  SlurmResources slurm;
};

struct SweepRun {
  std::string name, dir;
  std::vector<std::pair<std::string, YAML::Node>> point;  // this run's axis values
};

[[noreturn]] void bad(const SweepFile& s, const std::string& what) { throw Error(s.path + ": " + what); }

void check_keys(const SweepFile& s, const YAML::Node& node, const std::string& where,
                const std::vector<std::string>& known) {
  for (const auto& kv : node) {
    const auto k = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    const auto hint = closest_match(k, known);
    bad(s,
        "unknown key '" + where + k + "'" + (hint.empty() ? std::string() : " (did you mean '" + where + hint + "'?)"));
  }
}

template <typename T>
T scalar(const SweepFile& s, const YAML::Node& node, const std::string& key) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    bad(s, key + ": expected a " + (std::is_same<T, std::string>::value ? "string" : "number"));
  }
}

// Nests dotted keys, later ones winning: {"a.b": v} -> {a: {b: v}} (a config file's shape).
YAML::Node nest_dotted(const std::vector<std::pair<std::string, YAML::Node>>& settings) {
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& [key, value] : settings) {
    YAML::Node node = root;  // a handle: reset() below moves it down, root stays the root
    size_t begin = 0;
    for (size_t dot; (dot = key.find('.', begin)) != std::string::npos; begin = dot + 1) {
      const auto part = key.substr(begin, dot - begin);
      if (!node[part].IsMap()) node[part] = YAML::Node(YAML::NodeType::Map);
      node.reset(node[part]);
    }
    node[key.substr(begin)] = value;
  }
  return root;
}

SweepFile load_sweep(const std::string& path) {
  SweepFile s;
  s.path = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw Error(path + ": not valid YAML (line " + std::to_string(e.mark.line + 1) + "): " + e.msg);
  }
  if (!root.IsMap()) bad(s, "expected a mapping with config, grid, ...");
  check_keys(s, root, "", {"config", "out_dir", "set", "grid", "local", "slurm"});
  const fs::path here = fs::absolute(path).parent_path();
  auto relative_to_file = [&](const std::string& p) { return (here / p).lexically_normal().string(); };
  // A base config (top-level `config` or a `grid.config` value), relative to this file; it must exist.
  auto base_config = [&](const YAML::Node& node, const std::string& what) {
    const auto p = relative_to_file(scalar<std::string>(s, node, what));
    if (!fs::is_regular_file(p)) bad(s, what + ": " + p + ": no such file");
    return p;
  };
  if (root["config"]) s.config = base_config(root["config"], "config");
  s.out_dir = root["out_dir"] ? relative_to_file(scalar<std::string>(s, root["out_dir"], "out_dir"))
                              : (fs::absolute("runs") / fs::path(path).stem()).lexically_normal().string();
  if (auto set = root["set"]) {
    if (!set.IsMap()) bad(s, "set: expected a mapping of settings (key: value)");
    for (const auto& [k, v] : flatten_yaml(set)) s.set.emplace_back(k, YAML::Load(v));
  }
  if (!root["grid"] || !root["grid"].IsMap() || root["grid"].size() == 0)
    bad(s, "grid: expected a mapping of settings to lists of values (e.g. run.seed: [0, 1])");
  for (const auto& kv : root["grid"]) {
    const auto key = kv.first.as<std::string>();
    if (!kv.second.IsSequence() || kv.second.size() == 0)
      bad(s, "grid." + key + ": expected a non-empty list of values");
    std::vector<YAML::Node> values(kv.second.begin(), kv.second.end());
    if (key == "config") {
      if (root["config"])
        bad(s, "config: give the base config either at the top or as the grid axis grid.config, not both");
      for (auto& v : values) v = YAML::Node(base_config(v, "grid.config"));
    }
    s.grid.emplace_back(key, values);
  }
  if (auto local = root["local"]) {
    if (!local.IsMap()) bad(s, "local: expected a mapping (jobs, threads)");
    check_keys(s, local, "local.", {"jobs", "threads"});
    if (local["jobs"]) s.jobs = scalar<int>(s, local["jobs"], "local.jobs");
    if (local["threads"]) s.threads = scalar<int>(s, local["threads"], "local.threads");
    if (s.jobs < 1 || s.threads < 0) bad(s, "local: expected jobs >= 1 and threads >= 0");
  }
  if (auto slurm = root["slurm"]) {
    if (!slurm.IsMap()) bad(s, "slurm: expected a mapping (cpus, gpus, time, partition, mem)");
    check_keys(s, slurm, "slurm.", {"cpus", "gpus", "time", "partition", "mem"});
    if (slurm["cpus"]) s.slurm.cpus = scalar<int>(s, slurm["cpus"], "slurm.cpus");
    if (slurm["gpus"]) s.slurm.gpus = scalar<int>(s, slurm["gpus"], "slurm.gpus");
    if (slurm["time"]) s.slurm.time = scalar<std::string>(s, slurm["time"], "slurm.time");
    if (slurm["partition"]) s.slurm.partition = scalar<std::string>(s, slurm["partition"], "slurm.partition");
    if (slurm["mem"]) s.slurm.mem = scalar<std::string>(s, slurm["mem"], "slurm.mem");
    if (s.slurm.cpus < 1 || s.slurm.gpus < 0) bad(s, "slurm: expected cpus >= 1 and gpus >= 0");
  }
  return s;
}

// A folder-name piece for an axis value: a path by its file stem, anything else as written.
std::string name_piece(const std::string& key, const YAML::Node& value) {
  std::string text = value.IsScalar() ? value.as<std::string>() : YAML::Dump(value);
  if (key == "data.path" || key == "config") text = fs::path(text).stem().string();
  for (auto& ch : text)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-' && ch != '_') ch = '-';
  if (key == "config") return text;  // "hopper-medium": the dataset its config trains on
  return key.substr(key.rfind('.') + 1) + "-" + text;
}

std::vector<SweepRun> expand_grid(const SweepFile& s) {
  std::vector<SweepRun> runs(1);
  for (const auto& [key, values] : s.grid) {
    std::vector<SweepRun> next;
    for (const auto& r : runs)
      for (const auto& v : values) {
        SweepRun n = r;
        n.point.emplace_back(key, v);
        n.name += (n.name.empty() ? "" : "_") + name_piece(key, v);
        next.push_back(n);
      }
    runs = next;
  }
  std::set<std::string> names;
  for (auto& r : runs) {
    r.dir = (fs::path(s.out_dir) / r.name).string();
    if (!names.insert(r.name).second)
      bad(s, "grid: two points share the folder name " + r.name + " (repeated values?)");
  }
  return runs;
}

// The run's resolved config.yaml text with `threads` per process.
ResolvedRun resolve_point(const SweepFile& s, const SweepRun& r, int threads) {
  auto settings = s.set;
  std::string config = s.config;
  for (const auto& [key, value] : r.point)
    if (key == "config")
      config = value.as<std::string>();
    else
      settings.emplace_back(key, value);
  settings.emplace_back("run.threads", YAML::Node(threads));
  YAML::Emitter out;
  out << nest_dotted(settings);
  return resolve_run_config(config, out.c_str(), s.path, fs::absolute(s.path).parent_path().string(), {});
}

// A run folder from an earlier invocation must hold the same experiment (bookkeeping aside).
void check_same_config(const SweepRun& r, const std::string& yaml) {
  const auto path = (fs::path(r.dir) / "config.yaml").string();
  YAML::Node old_config;
  try {
    old_config = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw Error(path + ": unreadable (" + e.msg + ")");
  }
  const auto old_settings = flatten_yaml(old_config), new_settings = flatten_yaml(YAML::Load(yaml));
  std::set<std::string> keys;
  for (const auto& [k, v] : old_settings) keys.insert(k);
  for (const auto& [k, v] : new_settings) keys.insert(k);
  for (const auto& k : keys) {
    if (is_bookkeeping_key(k)) continue;
    auto o = old_settings.find(k), n = new_settings.find(k);
    const std::string ov = o == old_settings.end() ? "(unset)" : o->second,
                      nv = n == new_settings.end() ? "(unset)" : n->second;
    if (ov != nv)
      throw Error(path + ": this run was started with " + k + " = " + ov + ", the sweep file now says " + nv +
                  "; give the changed sweep its own out_dir (or remove the folder)");
  }
}

std::string run_and_read(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw Error("cannot run: " + cmd);
  char buf[4096];
  while (size_t k = std::fread(buf, 1, sizeof buf, p)) out.append(buf, k);
  *status = ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// The lines squeue prints for `job` ("1234" or "1234_5") as "<id> <state> <reason>"; empty when
// Slurm no longer knows it or squeue is missing.
std::string squeue_lines(const std::string& job) {
  if (job.empty()) return "";
  int status = 0;
  const auto out = run_and_read("squeue -h -o '%i %T %r' -j " + job, &status);
  return status == 0 ? out : "";
}

bool slurm_job_alive(const std::string& job) { return !squeue_lines(job).empty(); }

// While Slurm still runs or queues the array: true. A task Slurm holds (a launch that failed is
// requeued held, and would never start) is an error, not a wait without end.
bool slurm_array_running(const std::string& job) {
  const auto out = squeue_lines(job);
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.find("held") != std::string::npos || line.find("Held") != std::string::npos)
      throw Error("Slurm job " + job + ": task " + line + ", so it will not run; see slurmd's log, `scancel " + job +
                  "`, then run the sweep again");
  return !out.empty();
}

// What a grid point's folder is now; "queued" decays to "pending" once Slurm forgot the job.
std::string point_state(const SweepRun& r) {
  if (!fs::exists(r.dir)) return "pending";
  auto state = run_state(r.dir);
  if (state == "queued" && !slurm_job_alive(read_run_status(r.dir).slurm_job)) return "pending";
  return state;
}

struct Counts {
  std::map<std::string, int> by_state;
  std::vector<std::string> failed;
};

Counts count_states(const std::vector<SweepRun>& runs) {
  Counts c;
  for (const auto& r : runs) {
    const auto state = point_state(r);
    ++c.by_state[state];
    if (state == "failed" || state == "interrupted") {
      const auto msg = read_run_status(r.dir).message;
      c.failed.push_back(r.name + ": " + state + (msg.empty() ? "" : " (" + msg + ")"));
    }
  }
  return c;
}

void print_status(const std::vector<SweepRun>& runs, const std::string& out_dir) {
  auto c = count_states(runs);
  auto n = [&](const char* s) { return c.by_state.count(s) ? c.by_state.at(s) : 0; };
  std::cout << out_dir << ": " << runs.size() << " runs: done " << n("done") << ", running " << n("running")
            << ", failed " << n("failed") + n("interrupted") << ", pending " << n("pending") + n("queued");
  if (n("queued")) std::cout << " (" << n("queued") << " queued on Slurm)";
  std::cout << "\n";
  for (const auto& f : c.failed) std::cout << "  " << f << "\n";
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// One job array, one task per run: written, submitted held, the runs marked queued, released.
std::string submit_slurm(const SweepFile& s, const std::vector<const SweepRun*>& todo) {
  const auto slurm_dir = fs::path(s.out_dir) / "slurm";
  fs::create_directories(slurm_dir);
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::ostringstream sh;
  sh << "#!/bin/bash\n"
     << "# Written by `seqrl sweep " << s.path << " --slurm`: task i trains run i below.\n"
     << "#SBATCH --job-name=seqrl-" << fs::path(s.path).stem().string() << "\n"
     << "#SBATCH --array=0-" << todo.size() - 1 << "\n"
     << "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=" << s.slurm.cpus << "\n"
     << "#SBATCH --time=" << s.slurm.time << "\n"
     << "#SBATCH --output=" << (slurm_dir / "%A_%a.out").string() << "\n"
     << "#SBATCH --signal=B:INT@60\n";  // SIGINT a minute before the time limit: the run saves a checkpoint
  if (s.slurm.gpus > 0) sh << "#SBATCH --gres=gpu:" << s.slurm.gpus << "\n";
  if (!s.slurm.partition.empty()) sh << "#SBATCH --partition=" << s.slurm.partition << "\n";
  if (!s.slurm.mem.empty()) sh << "#SBATCH --mem=" << s.slurm.mem << "\n";
  sh << "runs=(\n";
  for (const auto* r : todo) sh << "  " << shell_quote(r->dir) << "\n";
  sh << ")\nrun=\"${runs[$SLURM_ARRAY_TASK_ID]}\"\n"
     << "export SEQRL_RUN_TAG=\"$(basename \"$run\")\"\n"
     << "exec " << shell_quote(self) << " train --run-dir \"$run\"\n";
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  const auto script = (slurm_dir / (std::string("sweep-") + stamp + ".sbatch")).string();
  write_file_atomic(script, sh.str());
  int status = 0;
  const auto job = run_and_read("sbatch --parsable --hold " + shell_quote(script), &status);
  if (status != 0 || job.empty() || job.find_first_not_of("0123456789;") != std::string::npos)
    throw Error("sbatch failed for " + script + ": " + (job.empty() ? "no output" : job));
  const auto job_id = job.substr(0, job.find(';'));
  for (size_t i = 0; i < todo.size(); ++i)
    write_run_status(todo[i]->dir, "queued", "", job_id + "_" + std::to_string(i));
  const auto released = run_and_read("scontrol release " + job_id, &status);
  if (status != 0) throw Error("scontrol release " + job_id + " failed: " + released);
  return job_id;
}

struct SweepArgs {
  std::string file, out_dir;
  int jobs = 0, threads = -1;
  bool slurm = false, wait = false, dry_run = false;
};

void print_table_if_any(const std::vector<SweepRun>& runs, const std::string& out_dir) {
  std::vector<std::string> done;
  for (const auto& r : runs)
    if (fs::exists(fs::path(r.dir) / "eval.json")) done.push_back(r.dir);
  if (done.empty()) return;
  auto scores = read_run_scores(done);
  std::set<std::string> modes;
  for (const auto& s : scores) modes.insert(s.mode);
  for (const auto& mode : modes) std::cout << "\n" << table_markdown(aggregate_scores(scores, mode, "first"));
}

void run_sweep(const SweepArgs& a) {
  auto s = load_sweep(a.file);
  if (!a.out_dir.empty()) s.out_dir = fs::absolute(a.out_dir).lexically_normal().string();
  const auto runs = expand_grid(s);
  const int jobs = a.jobs > 0 ? a.jobs : s.jobs;
  const int threads = a.slurm          ? s.slurm.cpus
                      : a.threads >= 0 ? a.threads
                      : s.threads > 0  ? s.threads
                                       : std::max(1, int(std::thread::hardware_concurrency()) / std::max(1, jobs));
  // Resolve every point first: a bad setting anywhere fails before any folder is made.
  std::vector<ResolvedRun> resolved;
  for (const auto& r : runs) resolved.push_back(resolve_point(s, r, threads));
  std::vector<const SweepRun*> todo;
  std::vector<ChildRun> children;
  std::map<std::string, int> skipped;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    if (fs::exists(fs::path(r.dir) / "config.yaml")) check_same_config(r, resolved[i].yaml);
    const auto state = point_state(r);
    if (state == "done" || state == "running" || state == "queued") {
      ++skipped[state];
      continue;
    }
    todo.push_back(&r);
    if (a.dry_run) {
      std::cout << r.dir << " (" << state << ")\n";
      continue;
    }
    prepare_run_dir(r.dir, resolved[i].yaml);  // fresh, or the same settings with this invocation's threads
    children.push_back({r.dir, r.name});
  }
  std::string skip_text;
  for (const auto& [state, n] : skipped) skip_text += (skip_text.empty() ? "" : ", ") + std::to_string(n) + " " + state;
  spdlog::info("sweep {}: {} runs, {} to {}{}", s.path, runs.size(), todo.size(), a.slurm ? "submit" : "train",
               skip_text.empty() ? "" : " (skipped: " + skip_text + ")");
  if (a.dry_run) return;
  fs::create_directories(s.out_dir);
  write_file_atomic((fs::path(s.out_dir) / "sweep.yaml").string(), read_file(s.path));  // what made this folder
  if (a.slurm) {
    if (!todo.empty()) {
      const auto job = submit_slurm(s, todo);
      spdlog::info("submitted Slurm job array {} ({} tasks, {} cpus each); follow with `seqrl sweep status {}`", job,
                   todo.size(), s.slurm.cpus, a.file);
      if (a.wait)
        while (slurm_array_running(job)) std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    if (!a.wait) {
      print_status(runs, s.out_dir);
      return;
    }
  } else if (!children.empty()) {
    train_in_children(children, jobs);
  }
  print_status(runs, s.out_dir);
  print_table_if_any(runs, s.out_dir);
  const auto counts = count_states(runs);
  if (!counts.failed.empty())
    throw Error(std::to_string(counts.failed.size()) + " of " + std::to_string(runs.size()) +
                " runs failed; run the sweep again to resume them");
}

void add_sweep(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd =
      app.add_subcommand("sweep", "Run a grid of trainings from a sweep file, here (-j N) or on Slurm (--slurm)");
  cmd->add_option("file", a->file, "Sweep file (YAML: config, out_dir, set, grid, local, slurm)")
      ->check(CLI::ExistingFile);
  cmd->add_option("-j,--jobs", a->jobs, "Runs in parallel here (default: the file's local.jobs)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->threads, "Threads per run (default: local.threads, else cores / jobs)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--slurm", a->slurm, "Submit one Slurm job array (sbatch) instead of running here");
  cmd->add_flag("--wait", a->wait, "With --slurm: wait for the array to finish, then print the table");
  cmd->add_option("--out-dir", a->out_dir, "Put the run folders here instead of the file's out_dir");
  cmd->add_flag("--dry-run", a->dry_run, "List the runs that would start, start nothing");
  auto status_args = std::make_shared<SweepArgs>();
  auto* status = cmd->add_subcommand("status", "Count the sweep's runs: done / running / failed / pending");
  status->add_option("file", status_args->file, "Sweep file")->required()->check(CLI::ExistingFile);
  status->add_option("--out-dir", status_args->out_dir, "The run folders' place, if not the file's out_dir");
  status->callback([status_args] {
    auto s = load_sweep(status_args->file);
    if (!status_args->out_dir.empty()) s.out_dir = fs::absolute(status_args->out_dir).lexically_normal().string();
    print_status(expand_grid(s), s.out_dir);
  });
  cmd->require_subcommand(0, 1);
  cmd->callback([a, cmd, status] {
    if (cmd->got_subcommand(status)) return;
    if (a->file.empty()) throw UsageError("sweep: give a sweep file (or `seqrl sweep status FILE`)");
    if (a->wait && !a->slurm) throw UsageError("sweep: --wait goes with --slurm (a local sweep always waits)");
    run_sweep(*a);
  });
}

SEQRL_COMMAND("", 15, add_sweep);

}  // namespace
}  // namespace seqrl::cli
