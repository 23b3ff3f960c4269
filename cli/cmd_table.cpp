// seqrl table: the paper-style score table over many runs; seqrl plot: learning curves.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/table.h"

namespace seqrl::cli {
namespace {
namespace fs = std::filesystem;

struct TableArgs {
  std::vector<std::string> paths;
  std::string mode = "window", target = "first", csv, md;
};

void add_table(CLI::App& app) {
  auto a = std::make_shared<TableArgs>();
  auto* cmd = app.add_subcommand("table", "Aggregate runs: rows datasets, columns backbones, mean ± std over seeds");
  cmd->add_option("runs", a->paths, "Run folders, or folders containing them")->required();
  cmd->add_option("--mode", a->mode, "window | recurrent")->check(CLI::IsMember({"window", "recurrent"}));
  cmd->add_option("--target", a->target, "'first' (each run's first target) or a target return");
  cmd->add_option("--csv", a->csv, "Also write the table as CSV here");
  cmd->add_option("--md", a->md, "Also write the Markdown here");
  cmd->callback([a] {
    auto scores = read_run_scores(a->paths);
    if (scores.empty()) throw Error("no finished runs (folders with eval.json) under the given paths");
    auto table = aggregate_scores(scores, a->mode, a->target);
    auto md = table_markdown(table);
    std::cout << md;
    if (!a->csv.empty()) write_file_atomic(a->csv, table_csv(table));
    if (!a->md.empty()) write_file_atomic(a->md, md);
  });
}

struct PlotArgs {
  std::vector<std::string> runs;
  std::string out;
};

// Quotes a path for a gnuplot string literal.
std::string gp_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("''") : std::string(1, ch);
  return q + "'";
}

// The last non-empty line of `text`, trimmed (gnuplot's error comes last).
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string last = "no message";
  for (std::string line; std::getline(in, line);) {
    const auto b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos) last = line.substr(b, e - b + 1);
  }
  return last;
}

void add_plot(CLI::App& app) {
  auto a = std::make_shared<PlotArgs>();
  auto* cmd = app.add_subcommand("plot", "Learning curves (loss, evaluation score) of runs as a PNG, via gnuplot");
  cmd->add_option("runs", a->runs, "Run folders (each with metrics.csv)")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->out, "PNG file (default: RUN/curves.png for one run, curves.png otherwise)");
  cmd->callback([a] {
    for (const auto& r : a->runs)
      if (!fs::is_regular_file(fs::path(r) / "metrics.csv")) throw Error(r + ": no metrics.csv (not a run folder?)");
    auto out = !a->out.empty() ? a->out : a->runs.size() == 1 ? (fs::path(a->runs[0]) / "curves.png").string() : "curves.png";
    const auto tmp = out + ".tmp.png";
    std::ostringstream gp;
    gp << "set terminal pngcairo size 1200,500 noenhanced\nset output " << gp_quote(tmp)
       << "\nset datafile separator ','\nset key autotitle columnhead\nset multiplot layout 1,2\n"
       << "set title 'training loss'\nset xlabel 'step'\nset logscale y\nplot ";
    for (size_t i = 0; i < a->runs.size(); ++i)
      gp << (i ? ", " : "") << gp_quote((fs::path(a->runs[i]) / "metrics.csv").string())
         << " using 1:3 with lines title " << gp_quote(fs::path(a->runs[i]).filename().string());
    gp << "\nunset logscale y\nset title 'D4RL normalized score (evaluation)'\nplot ";
    for (size_t i = 0; i < a->runs.size(); ++i)
      gp << (i ? ", " : "") << gp_quote((fs::path(a->runs[i]) / "metrics.csv").string())
         << " using 1:8 with linespoints title " << gp_quote(fs::path(a->runs[i]).filename().string());
    gp << "\nunset multiplot\n";
    // gnuplot reads the script from a file; its stdout (where it draws when the output file cannot be
    // opened) is dropped and its messages are read back, so a failure is one line, not a PNG on the terminal.
    char script[] = "/tmp/seqrl_plot_XXXXXX";
    int fd = ::mkstemp(script);
    if (fd < 0) throw Error("plot: cannot create a temporary gnuplot script in /tmp");
    const std::string text = gp.str();
    const bool written = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
    ::close(fd);
    std::string messages;
    int status = -1;
    if (FILE* pipe = written ? ::popen(("gnuplot " + std::string(script) + " 2>&1 >/dev/null").c_str(), "r") : nullptr) {
      char buf[4096];
      while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) messages.append(buf, n);
      status = ::pclose(pipe);
    }
    fs::remove(script);
    if (status != 0 || !fs::exists(tmp)) {
      std::error_code ec;
      fs::remove(tmp, ec);
      if (status == -1 || (WIFEXITED(status) && WEXITSTATUS(status) == 127))
        throw Error("plot: cannot run gnuplot (install gnuplot-nox; scripts/setup.sh does)");
      throw Error("plot: gnuplot failed writing " + out + ": " + last_line(messages));
    }
    fs::rename(tmp, out);
    std::cout << "wrote " << out << "\n";
  });
}

SEQRL_COMMAND("", 30, add_table);
SEQRL_COMMAND("", 35, add_plot);

}  // namespace
}  // namespace seqrl::cli
