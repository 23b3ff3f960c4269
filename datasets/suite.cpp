#include "datasets/suite.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "datasets/dataset.h"

namespace seqrl {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // suite.json keeps "name" first

namespace {

const std::vector<std::string> kKinds = {"random", "medium", "medium-replay", "expert", "medium-expert"};

// Splits "<env>-<kind>" where env is one of the three locomotion envs.
bool split_name(const std::string& name, std::string* env, std::string* kind) {
  for (const auto& e : d4rl_envs()) {
    std::string prefix = std::string(e.name) + "-";
    if (name.rfind(prefix, 0) != 0) continue;
    std::string k = name.substr(prefix.size());
    for (const auto& known : kKinds)
      if (k == known) {
        *env = e.name;
        *kind = k;
        return true;
      }
  }
  return false;
}

}  // namespace

json suite_stats_json(const SuiteStats& s) {
  auto number_or_null = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };  // NaN: not published
  return {{"transitions", s.transitions},         {"episodes", s.episodes},
          {"return_mean", s.return_mean},         {"return_std", number_or_null(s.return_std)},
          {"normalized_mean", s.normalized_mean}, {"normalized_std", number_or_null(s.normalized_std)}};
}

const SuiteEntry& Suite::find(const std::string& name) const {
  for (const auto& e : entries)
    if (e.name == name) return e;
  std::string known;
  for (const auto& e : entries) known += (known.empty() ? "" : ", ") + e.name;
  throw UsageError("unknown suite dataset '" + name + "' (known: " + known + ")");
}

SuiteEntry& Suite::find(const std::string& name) {
  return const_cast<SuiteEntry&>(static_cast<const Suite&>(*this).find(name));
}

std::string suite_dir() {
  if (const char* d = std::getenv("SEQRL_SUITE_DIR"); d && *d) return d;
  return SEQRL_SOURCE_SUITE_DIR;
}

Suite load_suite(const std::string& dir) {
  const std::string path = (fs::path(dir) / "suite.json").string();
  std::ifstream in(path);
  if (!in)
    throw Error(path + ": cannot read the suite's record (set SEQRL_SUITE_DIR to the folder holding suite.json)");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(path + ": not valid JSON (" + e.what() + ")");
  }
  Suite suite;
  suite.dir = dir;
  std::string where;
  try {
    where = "version";
    if (doc.at("version").get<int>() != 1) throw Error(path + ": version: expected 1");
    where = "datasets";
    for (const auto& d : doc.at("datasets")) {
      SuiteEntry e;
      where = "datasets[].name";
      e.name = d.at("name").get<std::string>();
      where = e.name;
      if (!split_name(e.name, &e.env, &e.kind))
        throw Error(path + ": " + e.name +
                    ": expected <env>-<kind> with env hopper|halfcheetah|walker2d and kind "
                    "random|medium|medium-replay|expert|medium-expert");
      e.sac_config = d.value("sac_config", "");
      e.sac_seed = d.value("sac_seed", int64_t(0));
      e.policy = d.value("policy", "");
      e.policy_step = d.value("policy_step", int64_t(0));
      e.policy_eval_episodes = d.value("policy_eval_episodes", 0);
      e.policy_eval_return = d.value("policy_eval_return", 0.0);
      e.policy_eval_return_std = d.value("policy_eval_return_std", 0.0);
      e.steps = d.value("steps", int64_t(0));
      e.seed = d.value("seed", int64_t(0));
      e.make_seconds = d.value("make_seconds", 0.0);
      e.made_on = d.value("made_on", "");
      e.blas = d.value("blas", "");
      if (d.contains("recorded") && !d["recorded"].is_null()) {
        const auto& r = d["recorded"];
        SuiteStats s;
        s.transitions = r.at("transitions").get<int64_t>();
        s.episodes = r.at("episodes").get<int64_t>();
        s.return_mean = r.at("return_mean").get<double>();
        auto number_or_nan = [](const json& v) { return v.is_null() ? NAN : v.get<double>(); };
        s.return_std = number_or_nan(r.at("return_std"));  // null: a file of one episode
        s.normalized_mean = r.at("normalized_mean").get<double>();
        s.normalized_std = number_or_nan(r.at("normalized_std"));
        e.recorded = s;
      }
      suite.entries.push_back(e);
    }
  } catch (const json::exception& ex) {
    throw Error(path + ": " + where + ": " + ex.what());
  }
  return suite;
}

namespace {

// Writes dir/suite.json atomically (callers go through update_suite).
void save_suite(const Suite& suite) {
  json list = json::array();
  for (const auto& e : suite.entries) {
    json d = {{"name", e.name}};
    if (!e.sac_config.empty()) d["sac_config"] = e.sac_config, d["sac_seed"] = e.sac_seed;
    if (!e.policy.empty()) d["policy"] = e.policy;
    if (e.policy_step) d["policy_step"] = e.policy_step;
    if (e.policy_eval_episodes) {
      d["policy_eval_episodes"] = e.policy_eval_episodes;
      d["policy_eval_return"] = e.policy_eval_return;
      d["policy_eval_return_std"] = e.policy_eval_return_std;
    }
    if (e.steps) d["steps"] = e.steps, d["seed"] = e.seed;
    d["recorded"] = e.recorded ? suite_stats_json(*e.recorded) : json(nullptr);
    if (e.recorded) d["make_seconds"] = e.make_seconds, d["made_on"] = e.made_on;
    if (e.recorded && !e.blas.empty()) d["blas"] = e.blas;
    list.push_back(d);
  }
  json doc = {{"version", 1}, {"datasets", list}};
  write_file_atomic((fs::path(suite.dir) / "suite.json").string(), doc.dump(2) + "\n");
}

}  // namespace

void update_suite(Suite& suite, const std::function<void(Suite&)>& change) {
  const auto lock_path = (fs::path(suite.dir) / "suite.json.lock").string();
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(lock_path + ": cannot open the suite's lock file: " + std::strerror(errno));
  struct Close {
    int fd;
    ~Close() { ::close(fd); }  // releases the lock
  } close_fd{fd};
  if (::flock(fd, LOCK_EX) != 0) throw Error(lock_path + ": cannot lock: " + std::strerror(errno));
  Suite fresh = load_suite(suite.dir);
  change(fresh);
  save_suite(fresh);
  suite = std::move(fresh);
}

std::optional<SuiteStats> d4rl_published_stats(const std::string& name) {
  // D4RL v2 files (rows, complete episodes, mean and std return), as tabulated from the
  // D4RL datasets by the TFDS d4rl catalog and the D4RL paper; medium-expert's std is not
  // published (NaN).
  struct Row {
    const char* name;
    int64_t rows, episodes;
    double mean, std;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  static const Row rows[] = {
      {"halfcheetah-medium", 1000000, 1000, 4770.3, 355.8},
      {"hopper-medium", 1000000, 2186, 1422.1, 379.0},
      {"walker2d-medium", 1000000, 1190, 2852.1, 1095.4},
      {"halfcheetah-medium-replay", 202000, 202, 3093.3, 1680.7},
      {"hopper-medium-replay", 402000, 2041, 467.3, 511.0},
      {"walker2d-medium-replay", 302000, 1093, 682.7, 896.0},
      {"halfcheetah-medium-expert", 2000000, 2000, 7713.0, nan},
      {"hopper-medium-expert", 1999906, 3213, 2090.0, nan},
      {"walker2d-medium-expert", 1999995, 2190, 3797.0, nan},
  };
  std::string env, kind;
  for (const auto& r : rows) {
    if (name != r.name) continue;
    split_name(name, &env, &kind);
    SuiteStats s;
    s.transitions = r.rows;
    s.episodes = r.episodes;
    s.return_mean = r.mean;
    s.return_std = r.std;
    s.normalized_mean = d4rl_normalized_score(env, r.mean);
    s.normalized_std = d4rl_normalized_score(env, r.std) - d4rl_normalized_score(env, 0.0);
    return s;
  }
  return std::nullopt;
}

std::string data_dir() {
  if (const char* d = std::getenv("SEQRL_DATA_DIR"); d && *d) return d;
  return "data";
}

std::string suite_file(const std::string& name) { return (fs::path(data_dir()) / "seqrl" / (name + ".hdf5")).string(); }

std::string resolve_dataset_spec(const std::string& spec) {
  if (!is_dataset_name(spec)) return spec;
  const bool ours = spec.rfind("seqrl:", 0) == 0;
  const std::string name = spec.substr(ours ? 6 : 5);
  std::string env, kind;
  if (!split_name(name, &env, &kind))
    throw Error(
        spec + ": expected " + (ours ? "seqrl:" : "d4rl:") +
        "<env>-<kind> with env hopper|halfcheetah|walker2d and kind random|medium|medium-replay|expert|medium-expert");
  if (ours) return suite_file(name);
  // D4RL's own file names: hopper_medium_replay-v2.hdf5 (gym_mujoco_v2 download URLs).
  std::string file = env + "_" + kind + "-v2.hdf5";
  std::replace(file.begin(), file.end() - 8, '-', '_');
  return (fs::path(data_dir()) / "d4rl" / file).string();
}

}  // namespace seqrl
