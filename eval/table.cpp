#include "eval/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

#include "core/error.h"
#include "eval/evaluate.h"

namespace seqrl {
namespace {

bool is_axis_key(const std::string& key) { return key == "data.path" || key == "data.env" || key == "model.backbone"; }

std::string cell_text(const TableCell& c) {
  if (c.seeds == 0) return "–";
  char buf[64];
  if (c.seeds == 1)  // no spread over seeds from one: the one run's over its episodes, marked
    std::snprintf(buf, sizeof buf, "%.1f ± %.1f (1*)", c.mean, c.spread());
  else
    std::snprintf(buf, sizeof buf, "%.1f ± %.1f (%d)", c.mean, c.std, c.seeds);
  return buf;
}

std::string number_text(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

std::string join_values(const std::set<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

bool same_data(const DataScore& a, const DataScore& b) {
  return a.transitions == b.transitions && a.episodes == b.episodes && a.return_mean == b.return_mean;
}

// The training data of a dataset's runs. Runs under one label trained on different files (a
// suite file regenerated after a new expert, say) would be averaged as if they were one
// dataset's: that gets a note, and no data score.
std::optional<DataScore> common_data(const std::string& dataset, const std::map<std::string, const RunScore*>& chosen,
                                     std::vector<std::string>& notes) {
  auto describe = [](const DataScore& d, const std::string& dir) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%lld transitions, return %.1f in ", (long long)d.transitions, d.return_mean);
    return buf + dir;
  };
  std::optional<DataScore> data;
  std::string files;  // "; "-joined descriptions, the first run's first
  bool differ = false;
  for (const auto& [dir, s] : chosen) {
    if (s->dataset != dataset || !s->data) continue;
    if (!data) {
      data = s->data, files = describe(*data, dir);
    } else if (!same_data(*data, *s->data)) {
      differ = true, files += "; " + describe(*s->data, dir);
    }
  }
  if (!differ) return data;
  notes.push_back(dataset + ": the runs were trained on different files (" + files +
                  "); their scores are averaged as one dataset's");
  return std::nullopt;
}

std::string data_text(const std::optional<DataScore>& d) {
  if (!d || std::isnan(d->normalized_mean)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f ± %.1f", d->normalized_mean, d->normalized_std);
  return buf;
}

}  // namespace

std::vector<RunScore> read_run_scores(const std::vector<std::string>& paths) {
  std::vector<RunScore> out;
  for (const auto& dir : find_run_dirs(paths)) {
    auto run = read_run_info(dir);
    if (!run.evaluated) continue;
    RunScore base;
    base.run_dir = dir;
    base.dataset = run.dataset;
    base.backbone = run.backbone;
    base.seed = run.seed;
    base.data = run.eval.data;
    for (const auto& [k, v] : run.config)
      if (!is_bookkeeping_key(k) && !is_axis_key(k)) base.settings[k] = v;
    for (const auto& r : run.eval.final) {
      RunScore s = base;
      s.target = r.target;
      s.mode = r.mode;
      s.final_normalized = s.best_normalized = r.normalized_mean;
      s.final_episode_std = s.best_episode_std = r.normalized_std;
      for (const auto& b : run.eval.best_during_training)
        if (b.target == r.target && b.mode == r.mode) {
          s.best_normalized = b.normalized_mean;
          s.best_episode_std = b.normalized_std;
        }
      out.push_back(s);
    }
  }
  if (out.empty()) {
    std::string where;
    for (const auto& p : paths) where += (where.empty() ? "" : ", ") + p;
    throw Error(where + ": no finished runs (with eval.json) yet; `seqrl runs " + where + "` shows where they are");
  }
  return out;
}

ScoreTable aggregate_scores(const std::vector<RunScore>& scores, const std::string& mode, const std::string& target) {
  ScoreTable t;
  t.mode = mode;
  t.target_choice = target;
  double wanted = 0;
  if (target != "first") {
    try {
      size_t used = 0;
      wanted = std::stod(target, &used);
      if (used != target.size()) throw std::invalid_argument(target);
    } catch (const std::exception&) {
      throw UsageError("--target '" + target + "': expected 'first' or a number");
    }
  }
  // Pick one score per run: the requested mode, and the run's first target or the one asked for.
  std::set<std::string> modes_seen, targets_seen;
  std::map<std::string, const RunScore*> chosen;  // run_dir -> score
  for (const auto& s : scores) {
    modes_seen.insert(s.mode);
    if (s.mode != mode) continue;
    targets_seen.insert(number_text(s.target));
    if (target == "first" ? !chosen.count(s.run_dir) : s.target == wanted) chosen.emplace(s.run_dir, &s);
  }
  if (modes_seen.count(mode) == 0)
    throw Error("no run was evaluated in mode " + mode + " (the runs have: " + join_values(modes_seen) + ")");
  if (chosen.empty())
    throw Error("no run was evaluated at target " + target + " in mode " + mode +
                " (the runs have targets: " + join_values(targets_seen) + ")");

  // Settings that vary at all, and those that vary inside one (dataset, backbone) cell.
  std::map<std::string, std::set<std::string>> values;
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::set<std::string>>> cell_values;
  std::set<std::string> all_keys;
  for (const auto& [dir, s] : chosen)
    for (const auto& [k, v] : s->settings) all_keys.insert(k);
  for (const auto& [dir, s] : chosen)
    for (const auto& k : all_keys) {
      auto it = s->settings.find(k);
      const std::string v = it == s->settings.end() ? "(unset)" : it->second;
      values[k].insert(v);
      cell_values[{s->dataset, s->backbone}][k].insert(v);
    }
  std::set<std::string> split_keys, note_keys;
  for (const auto& [k, vs] : values) {
    if (vs.size() < 2) continue;
    bool inside = false;
    for (const auto& [cell, kv] : cell_values) inside = inside || kv.at(k).size() > 1;
    (inside ? split_keys : note_keys).insert(k);
  }

  // Columns: backbone plus the values of the splitting settings.
  auto column_of = [&](const RunScore& s) {
    TableColumn c{s.backbone, s.backbone, {}};
    std::string extra;
    for (const auto& k : split_keys) {
      auto it = s.settings.find(k);
      c.split[k] = it == s.settings.end() ? "(unset)" : it->second;
      extra += (extra.empty() ? "" : ", ") + k + "=" + c.split[k];
    }
    if (!extra.empty()) c.label += " (" + extra + ")";
    return c;
  };
  std::set<std::string> datasets;
  std::map<std::string, TableColumn> columns;  // label -> column (sorted by label)
  std::map<std::pair<std::string, std::string>, std::vector<const RunScore*>> groups;  // (dataset, label)
  for (const auto& [dir, s] : chosen) {
    auto c = column_of(*s);
    datasets.insert(s->dataset);
    groups[{s->dataset, c.label}].push_back(s);
    columns.emplace(c.label, c);
  }
  t.datasets.assign(datasets.begin(), datasets.end());
  for (const auto& [label, c] : columns) t.columns.push_back(c);
  t.final.assign(t.datasets.size(), std::vector<TableCell>(t.columns.size()));
  t.best = t.final;
  for (size_t i = 0; i < t.datasets.size(); ++i) {
    t.paper.push_back(paper_score(t.datasets[i]));
    t.data.push_back(common_data(t.datasets[i], chosen, t.notes));
    for (size_t j = 0; j < t.columns.size(); ++j) {
      auto it = groups.find({t.datasets[i], t.columns[j].label});
      if (it == groups.end()) continue;
      std::vector<double> final, best;
      std::set<int> seeds;
      for (const auto* s : it->second) {
        final.push_back(s->final_normalized), best.push_back(s->best_normalized);
        if (!seeds.insert(s->seed).second)
          t.notes.push_back(t.datasets[i] + " / " + t.columns[j].label + ": two runs with seed " +
                            std::to_string(s->seed) + " (" + s->run_dir + "); both counted");
      }
      auto [fm, fsd] = mean_std(final);
      auto [bm, bsd] = mean_std(best);
      const auto* first = it->second.front();
      t.final[i][j] = {fm, fsd, int(final.size()), first->final_episode_std};
      t.best[i][j] = {bm, bsd, int(best.size()), first->best_episode_std};
    }
  }
  for (const auto& k : note_keys)
    t.notes.push_back("runs in different cells also differ in " + k + ": " + join_values(values.at(k)));
  return t;
}

double paper_score(const std::string& dataset) {
  // Chen et al. 2021, "Decision Transformer", Table 2 (D4RL v2, normalized score).
  static const std::map<std::string, double> kDecisionTransformer = {
      {"halfcheetah-medium", 42.6},        {"hopper-medium", 67.6},         {"walker2d-medium", 74.0},
      {"halfcheetah-medium-replay", 36.6}, {"hopper-medium-replay", 82.7},  {"walker2d-medium-replay", 66.6},
      {"halfcheetah-medium-expert", 86.8}, {"hopper-medium-expert", 107.6}, {"walker2d-medium-expert", 108.1}};
  std::string key = dataset;
  std::replace(key.begin(), key.end(), '_', '-');
  for (const char* suffix : {"-v2", "-v1", "-v0"})
    if (key.size() > 3 && key.compare(key.size() - 3, 3, suffix) == 0) key.resize(key.size() - 3);
  auto it = kDecisionTransformer.find(key);
  return it == kDecisionTransformer.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

std::string table_markdown(const ScoreTable& t, bool show_paper) {
  std::ostringstream out;
  auto one = [&](const char* label, const std::vector<std::vector<TableCell>>& cells) {
    out << "### " << label << " (D4RL normalized score, mean ± std over seeds; mode " << t.mode << ", target "
        << t.target_choice << ")\n\n| dataset | data |";
    for (const auto& c : t.columns) out << " " << c.label << " |";
    if (show_paper) out << " DT paper |";
    out << "\n|---|---|";
    for (size_t j = 0; j < t.columns.size() + (show_paper ? 1 : 0); ++j) out << "---|";
    out << "\n";
    for (size_t i = 0; i < t.datasets.size(); ++i) {
      out << "| " << t.datasets[i] << " | " << data_text(t.data[i]) << " |";
      for (size_t j = 0; j < t.columns.size(); ++j) out << " " << cell_text(cells[i][j]) << " |";
      if (show_paper) out << " " << (std::isnan(t.paper[i]) ? std::string("–") : number_text(t.paper[i])) << " |";
      out << "\n";
    }
    out << "\n";
  };
  one("Final", t.final);
  one("Best during training", t.best);
  out << "(n) = number of seeds. data: the training file's own normalized return (its behaviour policy), mean ± std "
         "over its finished episodes.";
  bool one_seed = false;
  for (const auto& row : t.final)
    for (const auto& c : row) one_seed = one_seed || c.seeds == 1;
  if (one_seed) out << " (1*) = one seed: its ± is the std over that run's evaluation episodes, not over seeds.";
  if (show_paper) out << " DT paper: Chen et al. 2021, Table 2 (D4RL datasets only; – for other data).";
  out << "\n";
  for (const auto& n : t.notes) out << "Note: " << n << "\n";
  return out.str();
}

std::string table_csv(const ScoreTable& t) {
  std::ostringstream out;
  out << "dataset,backbone,column,mode,target,seeds,final_mean,final_std,best_mean,best_std,paper,data_mean,data_std,"
         "final_episode_std,best_episode_std\n";
  for (size_t i = 0; i < t.datasets.size(); ++i)
    for (size_t j = 0; j < t.columns.size(); ++j) {
      const auto &f = t.final[i][j], &b = t.best[i][j];
      if (!f.seeds) continue;
      std::string label = t.columns[j].label;
      if (label.find_first_of(",\"") != std::string::npos) {
        std::string q = "\"";
        for (char ch : label) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        label = q + "\"";
      }
      out << t.datasets[i] << "," << t.columns[j].backbone << "," << label << "," << t.mode << "," << t.target_choice
          << "," << f.seeds << "," << f.mean << "," << f.std << "," << b.mean << "," << b.std << ","
          << (std::isnan(t.paper[i]) ? std::string() : number_text(t.paper[i])) << ",";
      const auto& d = t.data[i];
      if (d && !std::isnan(d->normalized_mean))
        out << d->normalized_mean << "," << d->normalized_std;
      else
        out << ",";
      out << ",";  // the one run's spread over its episodes; empty for several seeds
      if (f.seeds == 1)
        out << f.episode_std << "," << b.episode_std;
      else
        out << ",";
      out << "\n";
    }
  return out.str();
}

}  // namespace seqrl
