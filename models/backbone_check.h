// The checks every backbone must pass, on random float64 input (dropout 0, eval mode):
//   causality   changing inputs after step t leaves outputs <= t unchanged;
//   step        step() run token by token equals forward() on the whole sequence;
//   grad        gradients (w.r.t. the input and every parameter) of forward(), i.e. the
//               parallel scan, equal those of the step() loop, i.e. the naive sequential
//               recurrence, for the same random loss.
// Used by tests/models and by `seqrl backbones check` (for a user plugging in a backbone).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "models/backbone.h"

namespace seqrl {

struct CheckReport {
  std::string backbone;
  double causality_err = 0, step_err = 0, grad_err = 0;  // max abs error / max abs reference
  int64_t params = 0;
  bool pass = false;
  std::string failure;  // set when building or running the backbone threw (then pass = false)
};

// Relative tolerance of every check (float64 throughout).
constexpr double kCheckTolerance = 1e-9;

// Runs the checks on a batch of 2 sequences of config.max_tokens tokens of width config.dim.
CheckReport check_backbone(const std::string& name, const BackboneConfig& config, uint64_t seed);
// The same for a backbone not (yet) in the registry: `make` builds it from the config.
CheckReport check_backbone(const std::string& label, const std::function<Backbone(const BackboneConfig&)>& make,
                           const BackboneConfig& config, uint64_t seed);

// Number of scalar parameters of a module.
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace seqrl
