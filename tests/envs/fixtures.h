// Readers for the reference fixtures in tests/envs/fixtures/ (written by
// scripts/make_env_fixtures.py from Gymnasium's v4 envs; see its docstring for the format).
#pragma once
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace seqrl::testing {

inline std::string fixture_path(const std::string& file) {
  return std::string(SEQRL_SOURCE_DIR) + "/tests/envs/fixtures/" + file;
}

// Each non-comment line "key,v0,v1,..." as (key, values).
inline std::vector<std::pair<std::string, std::vector<double>>> read_rows(const std::string& file) {
  std::ifstream in(fixture_path(file));
  if (!in) throw std::runtime_error("cannot open fixture " + file);
  std::vector<std::pair<std::string, std::vector<double>>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string key, cell;
    std::getline(ss, key, ',');
    std::vector<double> values;
    while (std::getline(ss, cell, ',')) values.push_back(std::stod(cell));
    rows.emplace_back(key, values);
  }
  return rows;
}

inline std::map<std::string, std::vector<double>> read_model_constants(const std::string& env) {
  std::map<std::string, std::vector<double>> out;
  for (auto& [key, values] : read_rows(env + "_model.csv")) out[key] = values;
  return out;
}

struct ReferenceStep {
  std::vector<double> action, obs;
  double reward;
  bool terminated;
};

struct ReferenceTrajectory {
  std::vector<double> qpos0, qvel0, obs0;
  std::vector<ReferenceStep> steps;
};

inline ReferenceTrajectory read_trajectory(const std::string& env, int act_dim, int obs_dim) {
  ReferenceTrajectory t;
  for (auto& [key, v] : read_rows(env + "_trajectory.csv")) {
    if (key == "qpos0") t.qpos0 = v;
    if (key == "qvel0") t.qvel0 = v;
    if (key == "obs0") t.obs0 = v;
    if (key != "step") continue;
    if (static_cast<int>(v.size()) != 1 + act_dim + obs_dim + 2) throw std::runtime_error("bad step row in " + env);
    ReferenceStep s;
    s.action.assign(v.begin() + 1, v.begin() + 1 + act_dim);
    s.obs.assign(v.begin() + 1 + act_dim, v.begin() + 1 + act_dim + obs_dim);
    s.reward = v[1 + act_dim + obs_dim];
    s.terminated = v[2 + act_dim + obs_dim] != 0;
    t.steps.push_back(s);
  }
  return t;
}

}  // namespace seqrl::testing
