// The seqrl command line: subcommands registered by the files beside this one, parsed and run
// by seqrl::cli::run (called by cli/main.cpp and by programs that add their own backbones).
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

namespace seqrl::cli {
namespace {

struct Entry {
  std::string parent;
  int order;
  AddCommand add;
};

std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}

// Help texts of the groups that hold sub-subcommands.
const std::map<std::string, std::string> kGroupHelp = {
    {"bench", "Benchmarks: throughput and latency tables on the current device"},
    {"dataset", "Inspect and validate offline datasets"},
    {"backbones", "List and check the sequence backbones"},
};

// CLI11 calls an unknown command word "an argument not expected"; say what it is. Returns the
// message, or "" when every command word is known.
std::string unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return "";
    if (arg.rfind('-', 0) == 0) {
      if (level == &app && (arg == "--log-level" || arg == "--threads")) ++i;  // their value
      continue;
    }
    auto subs = level->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return "";  // a command's own positional arguments
    // A command with both (`sweep FILE`, `sweep status FILE`): the word may be its positional.
    if (!level->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty()) return "";
    std::vector<std::string> names;
    CLI::App* found = nullptr;
    for (auto* sub : subs) {
      names.push_back(sub->get_name());
      if (sub->check_name(arg)) found = sub;
    }
    if (!found) {
      std::string list, hint = closest_match(arg, names);
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      return "unknown command '" + arg + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
             "; expected one of: " + list;
    }
    level = found;
  }
  return "";
}

}  // namespace

bool register_command(const char* parent, int order, AddCommand add) {
  registry().push_back({parent, order, add});
  return true;
}

int run_main(int argc, char** argv) {
  CLI::App app{"seqrl: offline RL with sequence models (Decision-Transformer style)", "seqrl"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  std::string log_level = "info";
  int threads = 0;
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--threads", threads, "Intra-op threads for LibTorch (0: all cores)")->check(CLI::NonNegativeNumber);
  app.parse_complete_callback([&] {
    set_log_level(log_level);
    if (threads > 0) {
      torch::set_num_threads(threads);
      at::set_num_interop_threads(1);
    }
  });

  auto entries = registry();
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.order < b.order; });
  std::map<std::string, CLI::App*> groups;
  for (const auto& e : entries) {
    if (e.parent.empty()) {
      e.add(app);
      continue;
    }
    auto it = groups.find(e.parent);
    if (it == groups.end()) {
      auto help = kGroupHelp.count(e.parent) ? kGroupHelp.at(e.parent) : std::string();
      auto* group = app.add_subcommand(e.parent, help);
      group->require_subcommand(1);
      it = groups.emplace(e.parent, group).first;
    }
    e.add(*it->second);
  }

  if (auto unknown = unknown_command(app, argc, argv); !unknown.empty()) {
    std::fprintf(stderr, "seqrl: %s (see --help)\n", unknown.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line naming the problem, exit 2 (usage error).
    std::fprintf(stderr, "seqrl: %s (see --help)\n", e.what());
    return 2;
  }
  return 0;
}

int run(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "seqrl: interrupted: %s\n", e.what());
    return e.exit_code();
  } catch (const Error& e) {
    std::fprintf(stderr, "seqrl: error: %s\n", e.what());
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "seqrl: error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seqrl: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace seqrl::cli
