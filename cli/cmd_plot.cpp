// seqrl plot: learning curves of runs as one PNG (via gnuplot). A panel for the training loss,
// and one per (mode, target) the runs were evaluated at; a run not evaluated yet has the loss
// panel only. Runs that differ only in their seed form one curve: the mean, and a band from the
// lowest to the highest seed.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/gnuplot.h"
#include "core/error.h"
#include "core/run_dir.h"
#include "eval/runs.h"

namespace seqrl::cli {
namespace {
namespace fs = std::filesystem;

struct Panel {
  std::string mode;  // "" for the loss panel
  double target = 0;
  bool operator<(const Panel& o) const { return std::tie(mode, target) < std::tie(o.mode, o.target); }
};

// One run's series: panel -> step -> value.
using Series = std::map<Panel, std::map<long, double>>;

Series read_series(const std::string& dir) {
  const auto path = (fs::path(dir) / "metrics.csv").string();
  std::ifstream in(path);
  if (!in) throw Error(path + ": missing (not a run folder?)");
  std::string line;
  std::getline(in, line);
  const auto columns = split_csv_line(line);
  auto col = [&](const char* name) {
    return size_t(std::find(columns.begin(), columns.end(), name) - columns.begin());
  };
  const size_t step = col("step"), loss = col("loss"), target = col("eval_target"), mode = col("eval_mode"),
               score = col("eval_normalized");
  if (step != 0 || loss == columns.size()) throw Error(path + ": expected a header starting step,...,loss");
  Series s;
  while (std::getline(in, line)) {
    const auto cells = split_csv_line(line);
    auto cell = [&](size_t i) { return i < cells.size() ? cells[i] : std::string(); };
    if (cell(step).empty()) continue;
    const long at = std::atol(cell(step).c_str());
    if (!cell(loss).empty()) s[Panel{"", 0}][at] = std::atof(cell(loss).c_str());
    if (!cell(score).empty() && !cell(target).empty())
      s[Panel{cell(mode), std::atof(cell(target).c_str())}][at] = std::atof(cell(score).c_str());
  }
  return s;
}

struct Curve {
  std::string label;
  std::vector<Series> runs;
};

// Curves: runs grouped by everything but the seed; labels name what sets each apart.
std::vector<Curve> group_runs(const std::vector<std::string>& dirs) {
  std::vector<RunInfo> infos;
  for (const auto& d : dirs) infos.push_back(read_run_info(d));
  auto settings_of = [](const RunInfo& r) {
    std::map<std::string, std::string> s;
    for (const auto& [k, v] : r.config)
      if (!is_bookkeeping_key(k)) s[k] = v;
    return s;
  };
  std::map<std::map<std::string, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < infos.size(); ++i) groups[settings_of(infos[i])].push_back(i);
  // The keys whose value differs between groups make the labels.
  std::map<std::string, std::set<std::string>> values;
  for (const auto& [settings, members] : groups)
    for (const auto& [k, v] : settings) values[k].insert(v);
  std::vector<Curve> curves;
  for (const auto& [settings, members] : groups) {
    Curve c;
    const auto& first = infos[members.front()];
    if (groups.size() == 1 && members.size() == 1) {
      c.label = fs::path(first.dir).filename().string();
    } else {
      c.label = (values["data.path"].size() > 1 ? first.dataset + " " : "") + first.backbone;
      std::string extra;
      for (const auto& [k, vs] : values)
        if (vs.size() > 1 && k != "data.path" && k != "data.env" && k != "model.backbone")
          extra += (extra.empty() ? "" : ", ") + k + "=" + (settings.count(k) ? settings.at(k) : "(unset)");
      if (!extra.empty()) c.label += " (" + extra + ")";
      c.label += members.size() > 1 ? " (" + std::to_string(members.size()) + " seeds)"
                                    : " (seed " + std::to_string(first.seed) + ")";
    }
    for (size_t m : members) c.runs.push_back(read_series(infos[m].dir));
    curves.push_back(std::move(c));
  }
  return curves;
}

struct PlotArgs {
  std::vector<std::string> paths;
  std::string out;
};

void plot(const PlotArgs& a) {
  const auto dirs = find_run_dirs(a.paths);
  const auto curves = group_runs(dirs);
  std::set<Panel> panels;
  long max_step = 1;
  for (const auto& c : curves)
    for (const auto& run : c.runs)
      for (const auto& [panel, points] : run)
        if (!points.empty()) panels.insert(panel), max_step = std::max(max_step, points.rbegin()->first);
  if (panels.empty()) throw Error(a.paths.front() + ": no metrics rows yet (a run that just started); nothing to plot");
  const std::string out = !a.out.empty()        ? a.out
                          : a.paths.size() == 1 ? (fs::path(a.paths[0]) / "curves.png").string()
                                                : std::string("curves.png");

  PlotScratch scratch;
  const int ncols = std::min<int>(3, int(panels.size())), nrows = (int(panels.size()) + ncols - 1) / ncols;
  const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  std::ostringstream gp;
  gp << "set terminal pngcairo size " << 520 * ncols << "," << 420 * nrows << " noenhanced\nset output {OUTPUT}\n"
     << "set datafile separator ','\nset grid\nset key top left font ',9'\nset multiplot layout " << nrows << ","
     << ncols << "\nset xrange [0:" << max_step << "]\nset xlabel 'training step (optimizer updates)'\n";
  int file_no = 0;
  for (const auto& panel : panels) {
    const bool loss = panel.mode.empty();
    if (loss)
      gp << "set title 'training loss (mean over each log interval)'\nset ylabel 'action MSE (squared action units)'\n"
            "set logscale y\n";
    else
      gp << "unset logscale y\nset title 'evaluation: mode " << (panel.mode.empty() ? "?" : panel.mode)
         << ", target return " << fmt::format("{:g}", panel.target)
         << "'\nset ylabel 'D4RL normalized score (0 random, 100 expert)'\n";
    std::vector<std::string> items;
    for (size_t ci = 0; ci < curves.size(); ++ci) {
      // step -> values over this curve's seeds
      std::map<long, std::vector<double>> at;
      for (const auto& run : curves[ci].runs) {
        auto it = run.find(panel);
        if (it == run.end()) continue;
        for (const auto& [step, v] : it->second) at[step].push_back(v);
      }
      if (at.empty()) continue;
      std::ostringstream data;
      bool band = false;
      for (const auto& [step, vs] : at) {
        double mean = 0;
        for (double v : vs) mean += v / double(vs.size());
        band = band || vs.size() > 1;
        data << step << "," << mean << "," << *std::min_element(vs.begin(), vs.end()) << ","
             << *std::max_element(vs.begin(), vs.end()) << "\n";
      }
      const auto file = gp_quote(scratch.write("series" + std::to_string(file_no++) + ".csv", data.str()));
      const std::string color = colors[ci % 8];
      if (band)
        items.push_back(file + " using 1:3:4 with filledcurves fc rgb '" + color +
                        "' fs transparent solid 0.2 noborder notitle");
      items.push_back(file + " using 1:2 with " + (loss ? "lines" : "linespoints pt 7 ps 0.8") + " lw 2 lc rgb '" +
                      color + "' title " + gp_quote(curves[ci].label + (band ? ", mean; band min-max" : "")));
    }
    gp << "plot ";
    for (size_t i = 0; i < items.size(); ++i) gp << (i ? ", \\\n     " : "") << items[i];
    gp << "\n";
  }
  gp << "unset multiplot\n";
  render_png(gp.str(), out);
  std::cout << "wrote " << out << "\n";
}

void add_plot(CLI::App& app) {
  auto a = std::make_shared<PlotArgs>();
  auto* cmd = app.add_subcommand("plot", "Learning curves (loss, evaluation scores) of runs as a PNG, via gnuplot");
  cmd->add_option("runs", a->paths, "Run folders, or folders containing them (a sweep)")->required();
  cmd->add_option("--out", a->out, "PNG file (default: PATH/curves.png for one path, curves.png otherwise)");
  cmd->callback([a] { plot(*a); });
}

SEQRL_COMMAND("", 35, add_plot);

}  // namespace
}  // namespace seqrl::cli
