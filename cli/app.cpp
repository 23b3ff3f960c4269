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
