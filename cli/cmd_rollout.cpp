// `seqrl rollout --env hopper --actions FILE.csv | --policy random [--seed S] [--qpos .. --qvel ..]`
// Replays actions in one env and prints a CSV row per step:
//   step,obs_0..obs_{n-1},reward,terminated,truncated
// Row 0 is the reset observation (reward 0). Stops after the step that ends the episode
// (terminated or truncated) unless --ignore-done.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "envs/env.h"

namespace seqrl::cli {
namespace {

struct RolloutArgs {
  std::string env, actions, policy, qpos, qvel;
  uint64_t seed = 0;
  int steps = 1000;
  bool ignore_done = false;
};

// Parses "v0,v1,..." into finite doubles; returns false on the first cell that is not one
// and names it in `bad`.
bool parse_floats(const std::string& text, std::vector<double>& out, std::string& bad) {
  out.clear();
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(',', start);
    std::string cell = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const size_t b = cell.find_first_not_of(" \t\r"), e = cell.find_last_not_of(" \t\r");
    cell = b == std::string::npos ? "" : cell.substr(b, e - b + 1);
    char* stop = nullptr;
    const double v = std::strtod(cell.c_str(), &stop);
    if (cell.empty() || *stop != '\0' || !std::isfinite(v)) {
      bad = cell;
      return false;
    }
    out.push_back(v);
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

// One action row per non-empty line; a first line that is not numeric is a header.
std::vector<std::vector<double>> read_actions(const std::string& path, int act_dim) {
  const std::string text = read_file(path);
  std::vector<std::vector<double>> rows;
  size_t start = 0;
  for (int line_no = 1; start < text.size(); ++line_no) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::vector<double> row;
    std::string bad;
    if (!parse_floats(line, row, bad)) {
      if (line_no == 1) continue;  // header
      throw Error(fmt::format("{}:{}: '{}' is not a finite number; expected {} comma-separated floats", path, line_no,
                              bad, act_dim));
    }
    if (static_cast<int>(row.size()) != act_dim) {
      throw Error(fmt::format("{}:{}: expected {} actions per line, got {}", path, line_no, act_dim, row.size()));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<double> parse_state(const std::string& flag, const std::string& text) {
  std::vector<double> values;
  std::string bad;
  if (!parse_floats(text, values, bad)) {
    throw UsageError(fmt::format("{}: '{}' is not a finite number; expected comma-separated floats", flag, bad));
  }
  return values;
}

void print_row(int step, const std::vector<double>& obs, double reward, bool terminated, bool truncated) {
  std::string row = std::to_string(step);
  for (double v : obs) row += fmt::format(",{:.17g}", v);
  row += fmt::format(",{:.17g},{},{}\n", reward, int(terminated), int(truncated));
  std::fputs(row.c_str(), stdout);
}

// An unknown --env is a command-line mistake: exit 2, with the valid names.
const EnvSpec& spec_for_flag(const std::string& env) {
  try {
    return env_spec(env);
  } catch (const Error& e) {
    throw UsageError(std::string("--env ") + e.what());
  }
}

void run(const RolloutArgs& args) {
  const EnvSpec& spec = spec_for_flag(args.env);
  const bool random_policy = !args.policy.empty();
  const auto actions = random_policy ? std::vector<std::vector<double>>() : read_actions(args.actions, spec.act_dim);
  const int steps = random_policy ? args.steps : static_cast<int>(actions.size());

  Env env(spec.name);
  std::vector<double> obs;
  if (!args.qpos.empty()) {
    obs = env.reset_to(parse_state("--qpos", args.qpos), parse_state("--qvel", args.qvel));
  } else {
    obs = env.reset(args.seed);
  }
  std::string header = "step";
  for (int j = 0; j < spec.obs_dim; ++j) header += ",obs_" + std::to_string(j);
  std::fputs((header + ",reward,terminated,truncated\n").c_str(), stdout);
  print_row(0, obs, 0.0, false, false);

  std::mt19937_64 rng(args.seed ^ 0x9e3779b97f4a7c15ULL);  // policy stream apart from the reset stream
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> action(spec.act_dim);
  for (int k = 0; k < steps; ++k) {
    if (random_policy) {
      for (double& a : action) a = uniform(rng);
    } else {
      action = actions[k];
    }
    const StepResult r = env.step(action);
    print_row(k + 1, r.obs, r.reward, r.terminated, r.truncated);
    if ((r.terminated || r.truncated) && !args.ignore_done) break;
  }
}

void add_rollout(CLI::App& parent) {
  auto args = std::make_shared<RolloutArgs>();
  auto* cmd = parent.add_subcommand(
      "rollout",
      "Replay an action sequence (or random actions) in one env; prints step,obs_*,reward,terminated,truncated as "
      "CSV (row 0: the reset observation)");
  std::string names;
  for (const auto& n : env_names()) names += (names.empty() ? "" : ", ") + n;
  cmd->add_option("--env", args->env, "Environment: " + names + " (Gym/D4RL ids like Hopper-v3 are accepted)")
      ->required();
  auto* actions =
      cmd->add_option("--actions", args->actions,
                      "CSV file, one step per line: act_dim comma-separated floats (a header line is allowed)");
  auto* policy = cmd->add_option("--policy", args->policy, "random: uniform actions in [-1, 1]")
                     ->check(CLI::IsMember({"random"}))
                     ->excludes(actions);
  actions->excludes(policy);
  cmd->add_option("--seed", args->seed, "Seed of the reset noise and of the random policy");
  cmd->add_option("--steps", args->steps, "Steps of the random policy")->check(CLI::PositiveNumber);
  auto* qpos = cmd->add_option("--qpos", args->qpos, "Initial qpos, comma-separated (no reset noise)");
  auto* qvel = cmd->add_option("--qvel", args->qvel, "Initial qvel, comma-separated (with --qpos)");
  qpos->needs(qvel);
  qvel->needs(qpos);
  cmd->add_flag("--ignore-done", args->ignore_done, "Keep stepping after the episode ends");
  cmd->callback([args] {
    if (args->actions.empty() && args->policy.empty())
      throw UsageError("rollout: give --actions FILE.csv or --policy random");
    run(*args);
  });
}

}  // namespace

SEQRL_COMMAND("", 50, add_rollout);

}  // namespace seqrl::cli
