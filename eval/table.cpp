#include "eval/table.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "eval/evaluate.h"

namespace seqrl {
namespace fs = std::filesystem;
namespace {

YAML::Node load(const fs::path& path) {
  try {
    return YAML::LoadFile(path.string());  // JSON is YAML: one parser for both files
  } catch (const YAML::Exception& e) {
    throw Error(path.string() + ": unreadable (" + e.msg + ")");
  }
}

template <typename T>
T field(const YAML::Node& node, const std::string& key, const fs::path& file) {
  if (!node[key]) throw Error(file.string() + ": missing key '" + key + "'");
  try {
    return node[key].as<T>();
  } catch (const YAML::Exception&) {
    throw Error(file.string() + ": key '" + key + "' has the wrong type");
  }
}

void read_run(const fs::path& dir, std::vector<RunScore>& out) {
  const auto eval_path = dir / "eval.json", config_path = dir / "config.yaml";
  auto eval = load(eval_path);
  auto config = load(config_path);
  RunScore base;
  base.run_dir = dir.string();
  base.dataset = fs::path(field<std::string>(config["data"], "path", config_path)).stem().string();
  base.backbone = field<std::string>(config["model"], "backbone", config_path);
  base.seed = field<int>(config["run"], "seed", config_path);
  auto final = eval["final"];
  if (!final.IsSequence()) throw Error(eval_path.string() + ": missing list 'final'");
  for (const auto& r : final) {
    RunScore s = base;
    s.target = field<double>(r, "target", eval_path);
    s.mode = field<std::string>(r, "mode", eval_path);
    s.final_normalized = field<double>(r, "normalized_mean", eval_path);
    s.best_normalized = s.final_normalized;
    for (const auto& b : eval["best_during_training"])
      if (field<double>(b, "target", eval_path) == s.target && field<std::string>(b, "mode", eval_path) == s.mode)
        s.best_normalized = field<double>(b, "normalized_mean", eval_path);
    out.push_back(s);
  }
}

std::string cell_text(const TableCell& c) {
  if (c.seeds == 0) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f ± %.1f", c.mean, c.std);
  return buf;
}

}  // namespace

std::vector<RunScore> read_run_scores(const std::vector<std::string>& paths) {
  std::vector<RunScore> out;
  for (const auto& p : paths) {
    if (!fs::exists(p)) throw Error(p + ": no such run folder");
    std::vector<fs::path> dirs;
    if (fs::exists(fs::path(p) / "eval.json")) dirs.push_back(p);
    if (fs::is_directory(p))
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file() && e.path().filename() == "eval.json" && e.path().parent_path() != fs::path(p))
          dirs.push_back(e.path().parent_path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) read_run(d, out);
  }
  return out;
}

ScoreTable aggregate_scores(const std::vector<RunScore>& scores, const std::string& mode, const std::string& target) {
  ScoreTable t;
  t.mode = mode;
  t.target_choice = target;
  // A run's first listed target (in eval.json order) when target == "first".
  std::map<std::string, double> first_target;
  for (const auto& s : scores)
    if (s.mode == mode && !first_target.count(s.run_dir)) first_target[s.run_dir] = s.target;
  double wanted = 0;
  if (target != "first") {
    try {
      wanted = std::stod(target);
    } catch (const std::exception&) {
      throw UsageError("--target '" + target + "': expected 'first' or a number");
    }
  }
  std::map<std::pair<std::string, std::string>, std::vector<const RunScore*>> groups;
  std::set<std::string> datasets, backbones;
  for (const auto& s : scores) {
    if (s.mode != mode) continue;
    if (s.target != (target == "first" ? first_target[s.run_dir] : wanted)) continue;
    groups[{s.dataset, s.backbone}].push_back(&s);
    datasets.insert(s.dataset);
    backbones.insert(s.backbone);
  }
  t.datasets.assign(datasets.begin(), datasets.end());
  t.backbones.assign(backbones.begin(), backbones.end());
  t.final.assign(t.datasets.size(), std::vector<TableCell>(t.backbones.size()));
  t.best = t.final;
  for (size_t i = 0; i < t.datasets.size(); ++i)
    for (size_t j = 0; j < t.backbones.size(); ++j) {
      auto it = groups.find({t.datasets[i], t.backbones[j]});
      if (it == groups.end()) continue;
      std::vector<double> final, best;
      for (const auto* s : it->second) final.push_back(s->final_normalized), best.push_back(s->best_normalized);
      auto [fm, fs_] = mean_std(final);
      auto [bm, bs] = mean_std(best);
      t.final[i][j] = {fm, fs_, int(final.size())};
      t.best[i][j] = {bm, bs, int(best.size())};
    }
  return t;
}

std::string table_markdown(const ScoreTable& t) {
  std::ostringstream out;
  auto one = [&](const char* label, const std::vector<std::vector<TableCell>>& cells) {
    out << "### " << label << " (D4RL normalized score, mean ± std over seeds; mode " << t.mode << ", target "
        << t.target_choice << ")\n\n| dataset |";
    for (const auto& b : t.backbones) out << " " << b << " |";
    out << "\n|---|";
    for (size_t j = 0; j < t.backbones.size(); ++j) out << "---|";
    out << "\n";
    for (size_t i = 0; i < t.datasets.size(); ++i) {
      out << "| " << t.datasets[i] << " |";
      for (size_t j = 0; j < t.backbones.size(); ++j)
        out << " " << cell_text(cells[i][j]) << (cells[i][j].seeds ? " (" + std::to_string(cells[i][j].seeds) + ")" : "")
            << " |";
      out << "\n";
    }
    out << "\n";
  };
  one("Final", t.final);
  one("Best during training", t.best);
  out << "(n) = number of seeds.\n";
  return out.str();
}

std::string table_csv(const ScoreTable& t) {
  std::ostringstream out;
  out << "dataset,backbone,mode,target,seeds,final_mean,final_std,best_mean,best_std\n";
  for (size_t i = 0; i < t.datasets.size(); ++i)
    for (size_t j = 0; j < t.backbones.size(); ++j) {
      const auto &f = t.final[i][j], &b = t.best[i][j];
      if (!f.seeds) continue;
      out << t.datasets[i] << "," << t.backbones[j] << "," << t.mode << "," << t.target_choice << "," << f.seeds << ","
          << f.mean << "," << f.std << "," << b.mean << "," << b.std << "\n";
    }
  return out.str();
}

}  // namespace seqrl
