// seqrl table: the paper-style score table over many runs (eval/table.h), as Markdown, CSV and
// a PNG bar chart with error bars.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/gnuplot.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/table.h"

namespace seqrl::cli {
namespace {

struct TableArgs {
  std::vector<std::string> paths;
  std::string mode = "window", target = "first", csv, md, png;
  bool paper = false;
};

// Bars: one cluster per dataset, one bar per column (mean of the final scores, error bar the
// std over seeds, or over the episodes of a cell's one seed); the DT paper's score as a last bar
// when asked.
void table_png(const ScoreTable& t, bool paper, const std::string& out) {
  PlotScratch scratch;
  std::ostringstream data;
  double lo = 0, hi = 1;  // the y range holds every bar and error bar (gnuplot's autoscale clips them)
  for (size_t i = 0; i < t.datasets.size(); ++i) {
    data << t.datasets[i];
    for (size_t j = 0; j < t.columns.size(); ++j) {
      const auto& c = t.final[i][j];
      if (c.seeds) {
        const double sd = std::isnan(c.spread()) ? 0 : c.spread();
        data << "\t" << c.mean << "\t" << sd;
        lo = std::min(lo, c.mean - sd), hi = std::max(hi, c.mean + sd);
      } else {
        data << "\tNaN\tNaN";
      }
    }
    if (paper) data << "\t" << (std::isnan(t.paper[i]) ? std::string("NaN") : std::to_string(t.paper[i])) << "\t0";
    if (paper && !std::isnan(t.paper[i])) hi = std::max(hi, t.paper[i]);
    data << "\n";
  }
  const auto file = gp_quote(scratch.write("bars.tsv", data.str()));
  const size_t bars = t.columns.size() + (paper ? 1 : 0);
  std::ostringstream gp;
  gp << "set terminal pngcairo size " << std::max<size_t>(700, 160 * t.datasets.size() * std::max<size_t>(1, bars / 2))
     << ",480 noenhanced\nset output {OUTPUT}\nset datafile separator '\\t'\nset datafile missing 'NaN'\n"
     << "set style data histograms\nset style histogram errorbars gap 2 lw 1\nset style fill solid 0.7 border -1\n"
     << "set boxwidth 0.9\nset grid ytics\nset key outside top center horizontal font ',9'\n"
     << "set yrange [" << lo - 0.05 * (hi - lo) << ":" << hi + 0.1 * (hi - lo) << "]\n"
     << "set title " << gp_quote("Final D4RL normalized score, mean ± std over seeds (one seed: over its episodes)")
     << " . \"\\n\" . " << gp_quote("mode " + t.mode + ", target " + t.target_choice)
     << "\nset ylabel 'D4RL normalized score (0 random, 100 expert)'\nset xlabel 'dataset'\nplot ";
  for (size_t j = 0; j < bars; ++j) {
    const std::string title = j < t.columns.size() ? t.columns[j].label : "DT paper";
    gp << (j ? ", " : "") << (j ? std::string("''") : file) << " using " << 2 + 2 * j << ":" << 3 + 2 * j
       << (j ? "" : ":xtic(1)") << " title " << gp_quote(title);
  }
  gp << "\n";
  render_png(gp.str(), out);
}

void add_table(CLI::App& app) {
  auto a = std::make_shared<TableArgs>();
  auto* cmd = app.add_subcommand("table", "Aggregate runs: rows datasets, columns backbones, mean ± std over seeds");
  cmd->add_option("runs", a->paths, "Run folders, or folders containing them")->required();
  cmd->add_option("--mode", a->mode, "window | recurrent")->check(CLI::IsMember({"window", "recurrent"}));
  cmd->add_option("--target", a->target, "'first' (each run's first target) or a target return");
  cmd->add_option("--csv", a->csv, "Also write the table as CSV here");
  cmd->add_option("--md", a->md, "Also write the Markdown here");
  cmd->add_option("--png", a->png, "Also draw the final scores as a bar chart with error bars (PNG) here");
  cmd->add_flag("--paper", a->paper, "Show the Decision Transformer paper's scores beside ours (D4RL datasets)");
  cmd->callback([a] {
    auto table = aggregate_scores(read_run_scores(a->paths), a->mode, a->target);
    auto md = table_markdown(table, a->paper);
    std::cout << md;
    if (!a->csv.empty()) write_file_atomic(a->csv, table_csv(table));
    if (!a->md.empty()) write_file_atomic(a->md, md);
    if (!a->png.empty()) {
      table_png(table, a->paper, a->png);
      std::cout << "wrote " << a->png << "\n";
    }
  });
}

SEQRL_COMMAND("", 30, add_table);

}  // namespace
}  // namespace seqrl::cli
