// The seqrl locomotion suite (datasets/suite.h):
//   seqrl dataset list [--json]                   the suite's table beside D4RL's published one
//   seqrl dataset make NAME... [--out F] [--record] [--replay-from RUN]  regenerate files and check them
//   seqrl dataset adopt NAME --checkpoint CKPT    ship a SAC policy as NAME's source (maintainers)
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agents/suite_maker.h"
#include "cli/command.h"
#include "core/error.h"
#include "datasets/dataset.h"
#include "datasets/suite.h"

namespace seqrl::cli {
namespace {

std::string mean_std(double mean, double sd, int digits) {
  if (std::isnan(sd)) return fmt::format("{:.{}f}", mean, digits);
  return fmt::format("{:.{}f} ± {:.{}f}", mean, digits, sd, digits);
}

void print_table(const Suite& suite) {
  std::string out =
      "| dataset | policy (SAC step, eval return, normalized) | transitions | episodes | return | normalized | "
      "D4RL transitions | D4RL episodes | D4RL return | D4RL normalized | file |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& e : suite.entries) {
    std::string policy = "uniform random actions";
    if (e.kind == "medium-expert") policy = "medium + expert";
    if (e.kind == "medium-replay") policy = fmt::format("SAC buffer up to step {}", e.policy_step);
    if (e.kind == "medium" || e.kind == "expert")
      policy = fmt::format("step {}, {:.1f}, {:.1f}", e.policy_step, e.policy_eval_return,
                           d4rl_normalized_score(e.env, e.policy_eval_return));
    if (e.kind != "random" && e.kind != "medium-expert" && e.policy.empty()) policy = "not adopted yet";
    std::string ours = "| – | – | – | – ";
    if (e.recorded)
      ours = fmt::format("| {} | {} | {} | {} ", e.recorded->transitions, e.recorded->episodes,
                         mean_std(e.recorded->return_mean, e.recorded->return_std, 1),
                         mean_std(e.recorded->normalized_mean, e.recorded->normalized_std, 1));
    std::string theirs = "| – | – | – | – ";
    if (auto d = d4rl_published_stats(e.name))
      theirs =
          fmt::format("| {} | {} | {} | {} ", d->transitions, d->episodes, mean_std(d->return_mean, d->return_std, 1),
                      mean_std(d->normalized_mean, d->normalized_std, 1));
    bool present = std::filesystem::is_regular_file(suite_file(e.name));
    out += fmt::format("| {} | {} {}{}| {} |\n", e.name, policy, ours, theirs, present ? "made" : "–");
  }
  std::fputs(out.c_str(), stdout);
}

void print_json(const Suite& suite) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& e : suite.entries) {
    nlohmann::ordered_json d = {{"name", e.name},
                                {"env", e.env},
                                {"kind", e.kind},
                                {"file", suite_file(e.name)},
                                {"made", std::filesystem::is_regular_file(suite_file(e.name))}};
    if (!e.policy.empty()) {
      d["policy_step"] = e.policy_step;
      d["policy_eval_return"] = e.policy_eval_return;
      d["policy_eval_normalized"] = d4rl_normalized_score(e.env, e.policy_eval_return);
    }
    d["recorded"] = e.recorded ? suite_stats_json(*e.recorded) : nlohmann::ordered_json(nullptr);
    auto pub = d4rl_published_stats(e.name);
    d["d4rl"] = pub ? suite_stats_json(*pub) : nlohmann::ordered_json(nullptr);
    list.push_back(d);
  }
  std::printf("%s\n", list.dump(2).c_str());
}

void add_list(CLI::App& parent) {
  auto json = std::make_shared<bool>(false);
  auto* cmd =
      parent.add_subcommand("list", "The seqrl locomotion suite: each file's source and statistics, beside D4RL's");
  cmd->add_flag("--json", *json, "Print JSON instead of a Markdown table");
  cmd->callback([json] {
    auto suite = load_suite();
    *json ? print_json(suite) : print_table(suite);
  });
}

struct MakeArgs {
  std::vector<std::string> names;
  std::string out, replay_from;
  bool record = false, accept_mismatch = false;
};

void add_make(CLI::App& parent) {
  auto args = std::make_shared<MakeArgs>();
  auto* cmd = parent.add_subcommand(
      "make", "Regenerate suite files (NAME: <env>-<kind>, or 'all') and check them against the record");
  cmd->add_option("names", args->names, "e.g. hopper-medium walker2d-medium-expert, or all")->required();
  cmd->add_option("--out", args->out, "output file (one NAME only; default $SEQRL_DATA_DIR/seqrl/NAME.hdf5)");
  cmd->add_flag("--record", args->record, "store the statistics in suite.json instead of checking them (maintainers)");
  cmd->add_flag("--accept-mismatch", args->accept_mismatch,
                "keep a file whose statistics differ from the record (another CPU's BLAS), with a warning");
  cmd->add_option(
      "--replay-from", args->replay_from,
      "medium-replay: cut the buffer from this SAC run folder (the medium policy's own run) instead of re-running SAC");
  cmd->callback([args] {
    auto suite = load_suite();
    std::vector<std::string> names = args->names;
    if (names.size() == 1 && names[0] == "all") {
      names.clear();
      for (const auto& e : suite.entries) names.push_back(e.name);
    }
    if (!args->out.empty() && names.size() != 1) throw UsageError("--out needs exactly one NAME");
    if (!args->replay_from.empty() && names.size() != 1)
      throw UsageError("--replay-from needs exactly one medium-replay NAME");
    for (const auto& n : names) suite.find(n);  // every name known before anything runs
    for (const auto& n : names) {
      auto r = make_suite_dataset(suite, n, {args->out, args->record, args->replay_from, args->accept_mismatch});
      std::printf("%s: %s: %lld transitions, %lld episodes, return %.1f ± %.1f (normalized %.1f), %.0f s: %s\n",
                  n.c_str(), r.path.c_str(), (long long)r.stats.transitions, (long long)r.stats.episodes,
                  r.stats.return_mean, r.stats.return_std, r.stats.normalized_mean, r.seconds, r.check.c_str());
    }
  });
}

struct AdoptArgs {
  std::string name, checkpoint;
  int episodes = 10;
};

void add_adopt(CLI::App& parent) {
  auto args = std::make_shared<AdoptArgs>();
  auto* cmd = parent.add_subcommand(
      "adopt", "Ship a SAC checkpoint's actor as the source of a medium or expert file (maintainers)");
  cmd->add_option("name", args->name, "e.g. hopper-medium, hopper-expert")->required();
  cmd->add_option("--checkpoint", args->checkpoint, "RUN_DIR/checkpoints/step_N")->required();
  cmd->add_option("--episodes", args->episodes, "deterministic evaluation episodes")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->callback([args] {
    auto suite = load_suite();
    adopt_suite_policy(suite, args->name, args->checkpoint, args->episodes);
  });
}

}  // namespace

SEQRL_COMMAND("dataset", 30, add_list);
SEQRL_COMMAND("dataset", 40, add_make);
SEQRL_COMMAND("dataset", 50, add_adopt);

}  // namespace seqrl::cli
