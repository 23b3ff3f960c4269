#include "eval/runs.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "core/run_dir.h"

namespace seqrl {
namespace fs = std::filesystem;

std::vector<std::string> find_run_dirs(const std::vector<std::string>& paths) {
  std::vector<std::string> dirs;
  for (const auto& p : paths) {
    if (!fs::exists(p)) throw Error(p + ": no such run folder");
    const size_t before = dirs.size();
    if (fs::is_regular_file(fs::path(p) / "config.yaml"))
      dirs.push_back(fs::path(p).lexically_normal().string());
    else if (fs::is_directory(p))
      for (const auto& e : fs::recursive_directory_iterator(p))
        // A run folder, or a finished run's records kept without checkpoints (bench/suite-sweep).
        if (e.is_regular_file() && e.path().filename() == "config.yaml" &&
            (fs::is_directory(e.path().parent_path() / "checkpoints") ||
             fs::is_regular_file(e.path().parent_path() / "eval.json")))
          dirs.push_back(e.path().parent_path().lexically_normal().string());
    if (dirs.size() == before) throw Error(p + ": no run folders (with config.yaml) in it");
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  return dirs;
}

bool is_bookkeeping_key(const std::string& key) {
  return key == "run.seed" || key == "run.name" || key == "run.out_dir" || key == "run.threads" || key == "run.device";
}

std::string dataset_label(const std::string& data_path) { return fs::path(data_path).stem().string(); }

RunInfo read_run_info(const std::string& dir) {
  RunInfo r;
  r.dir = dir;
  const auto config_path = (fs::path(dir) / "config.yaml").string();
  try {
    r.config = flatten_yaml(YAML::LoadFile(config_path));
  } catch (const YAML::Exception& e) {
    throw Error(config_path + ": unreadable (" + e.msg + ")");
  }
  auto need = [&](const std::string& key) {
    auto it = r.config.find(key);
    if (it == r.config.end()) throw Error(config_path + ": missing key '" + key + "'");
    return it->second;
  };
  // A SAC run (online, no dataset or backbone) is listed by its env.
  const bool online = !r.config.count("data.path") && r.config.count("run.env");
  r.dataset = online ? r.config.at("run.env") + " (online)" : dataset_label(need("data.path"));
  r.backbone = online ? "sac" : need("model.backbone");
  try {
    r.seed = std::stoi(need("run.seed"));
    const char* steps_key = online ? "run.steps" : "train.steps";
    if (r.config.count(steps_key)) r.steps = std::stol(r.config.at(steps_key));
  } catch (const std::logic_error&) {
    throw Error(config_path + ": run.seed / steps: expected integers");
  }
  r.state = run_state(dir);
  // The last training row of metrics.csv (one with a loss, if it has that column) says how far the run got.
  std::ifstream metrics(fs::path(dir) / "metrics.csv");
  std::string line;
  std::getline(metrics, line);
  const auto columns = split_csv_line(line);
  const auto loss_col = size_t(std::find(columns.begin(), columns.end(), "loss") - columns.begin());
  while (std::getline(metrics, line)) {
    const auto cells = split_csv_line(line);
    const bool training_row = loss_col == columns.size() || (cells.size() > loss_col && !cells[loss_col].empty());
    if (training_row && !cells[0].empty()) r.step = std::atol(cells[0].c_str());
  }
  if (fs::exists(fs::path(dir) / "eval.json")) {
    r.eval = read_eval_report((fs::path(dir) / "eval.json").string());
    r.evaluated = true;
    r.step = r.eval.step;
  }
  return r;
}

}  // namespace seqrl
