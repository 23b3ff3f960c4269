// Shared fixture for the offline-training tests: a small generated hopper-shaped dataset whose
// actions are a fixed smooth function of the state (so a policy can learn it), and a temp dir.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/d4rl_writer.h"

namespace seqrl::testing {

inline std::filesystem::path temp_dir(const std::string& tag) {
  auto d = std::filesystem::temp_directory_path() / ("seqrl_" + tag + "_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Hopper dims (obs 11, act 3; gym/envs/mujoco/hopper_v3.py). Episodes of varying length, the
// last one unfinished; reward per row `reward` (large values make returns overflow float32).
inline std::string write_hopper_like(const std::filesystem::path& dir, int64_t rows = 600, float reward = 1.0f,
                                     const std::string& name = "hopper-synthetic.hdf5") {
  torch::manual_seed(1234);
  D4rlArrays a;
  a.observations = torch::randn({rows, 11});
  auto w = torch::randn({11, 3}) * 0.5;
  a.actions = torch::tanh(a.observations.matmul(w));
  a.rewards = torch::full({rows}, reward) + 0.1f * a.observations.select(1, 0);
  a.terminals = torch::zeros({rows}, torch::kBool);
  a.timeouts = torch::zeros({rows}, torch::kBool);
  for (int64_t end = 37, len = 37; end < rows - 10; len = 20 + (len * 7) % 50, end += len) a.terminals[end] = true;
  a.next_observations = torch::roll(a.observations, -1, 0);
  auto path = (dir / name).string();
  write_d4rl(path, a);
  return path;
}

// A tiny run as a config file for `seqrl train -c` (mingru, K 8, width 16, batch 8; final
// evaluation: one window-mode episode per default target).
inline std::string tiny_yaml(const std::string& data, int64_t steps, int64_t checkpoint_every) {
  return "data:\n  path: " + data +
         "\nmodel:\n  backbone: mingru\n  context: 8\n  embed_dim: 16\n  layers: 1\n  dropout: 0.1\n"
         "train:\n  steps: " +
         std::to_string(steps) +
         "\n  batch_size: 8\n  lr: 0.003\n  warmup_steps: 5\n"
         "  log_every: 5\n  checkpoint_every: " +
         std::to_string(checkpoint_every) +
         "\n  eval_every: 0\neval:\n  episodes: 1\n  modes: window\nrun:\n  threads: 1\n";
}

// "a,b,c" -> cells (CSV without quoting, as seqrl writes it).
inline std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
  return cells;
}

inline std::string write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

// Runs a shell command; returns its exit status, stdout+stderr in `output`.
inline int run_command(const std::string& cmd, std::string* output = nullptr) {
  std::string full = cmd + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = ::pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace seqrl::testing
