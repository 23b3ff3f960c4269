// Shared by the export/runtime tests: a tiny run trained for a few steps through the CLI for
// any backbone, exported with `seqrl export`.
#pragma once
#include <filesystem>
#include <string>

#include "tests/agents/dt_fixture.h"

namespace seqrl::testing {

// Trains `backbone` (width 32, 2 layers, K 8, max_ep_len 500 so that 1000 steps run past the
// timestep table) for 3 steps into dir/runs; returns the run folder, "" on failure (output set).
inline std::filesystem::path train_tiny_run(const std::filesystem::path& dir, const std::string& backbone,
                                            std::string* output) {
  auto data = write_hopper_like(dir);
  auto yaml = "data:\n  path: " + data + "\nmodel:\n  backbone: " + backbone +
              "\n  context: 8\n  embed_dim: 32\n  layers: 2\n  heads: 2\n  max_ep_len: 500\n  dropout: 0.1\n"
              "train:\n  steps: 3\n  batch_size: 8\n  lr: 0.003\n  warmup_steps: 1\n  log_every: 1\n"
              "  checkpoint_every: 3\n  eval_every: 0\neval:\n  targets: [1800]\n  episodes: 1\n  modes: recurrent\n"
              "run:\n  threads: 1\n  out_dir: " +
              (dir / "runs").string() + "\n";
  auto cfg = write_text(dir / (backbone + ".yaml"), yaml);
  if (run_command(std::string(SEQRL_CLI) + " train -c " + cfg, output) != 0) return {};
  for (const auto& e : std::filesystem::directory_iterator(dir / "runs"))
    if (std::filesystem::exists(e.path() / "checkpoints")) return e.path();
  return {};
}

// train_tiny_run, then `seqrl export RUN -o dir/policy-<dtype>.sqp --dtype <dtype>`; returns the
// policy path, "" on failure.
inline std::string export_tiny_run(const std::filesystem::path& dir, const std::filesystem::path& run,
                                   std::string* output, const std::string& dtype = "float32") {
  auto policy = (dir / ("policy-" + dtype + ".sqp")).string();
  if (run_command(std::string(SEQRL_CLI) + " export " + run.string() + " -o " + policy + " --dtype " + dtype, output) !=
      0)
    return {};
  return policy;
}

}  // namespace seqrl::testing
