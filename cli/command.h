// Subcommand registry. Each cli/cmd_*.cpp (or bench/bench_*.cpp) registers itself with one
// line, so adding a command touches no other file:
//
//   static void add_rollout(CLI::App& parent) { auto* cmd = parent.add_subcommand(...); ... }
//   SEQRL_COMMAND("", 40, add_rollout);          // top-level `seqrl rollout`
//   SEQRL_COMMAND("bench", 10, add_bench_scan);  // `seqrl bench scan`
//
// A command's callback does the work and throws seqrl::Error (exit 1) or seqrl::UsageError
// (exit 2) on failure; main() prints the one-line message. Only implemented commands are
// registered, so `seqrl --help` never lists a stub.
#pragma once
#include <CLI/CLI.hpp>

namespace seqrl::cli {

using AddCommand = void (*)(CLI::App& parent);

// parent: "" for a top-level command, or the name of a top-level group ("bench", "dataset", ...)
// that main() creates when at least one command registers under it. order sorts --help.
bool register_command(const char* parent, int order, AddCommand add);

// Parses argv and runs the chosen command; returns the exit code (errors print one line).
// The whole `seqrl` program; a program with extra backbones calls it from its main().
int run(int argc, char** argv);

}  // namespace seqrl::cli

#define SEQRL_CONCAT_INNER(a, b) a##b
#define SEQRL_CONCAT(a, b) SEQRL_CONCAT_INNER(a, b)
#define SEQRL_COMMAND(parent, order, fn) \
  static const bool SEQRL_CONCAT(seqrl_command_, __LINE__) = seqrl::cli::register_command(parent, order, fn)
