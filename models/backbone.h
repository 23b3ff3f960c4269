// A sequence backbone: [B, T, D] -> [B, T, D], causal, trainable in parallel over T
// (`forward`) and runnable one step at a time with carried state (`step`), O(1) per step
// for the recurrent family (the transformer carries a KV cache instead).
//
// Every backbone is the same residual stack (models/block.h):
//   x += mixer(norm(x)); x += mlp(norm(x))   per layer, then a final norm,
// and differs only in its mixer. Adding one = one file defining its mixer and registering it
// with a namespace-scope `const BackboneRegistrar` (see models/block.h: stack_backbone); no
// other file changes. Out of tree, the same registrar in a program linked against seqrl
// (examples/custom_backbone/).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace seqrl {

// One layer's recurrent state: the tensors its mixer's initial_state returns, opaque to callers.
using LayerState = std::vector<torch::Tensor>;
// A backbone's recurrent state: one LayerState per layer, in layer order.
using BackboneState = std::vector<LayerState>;

// A per-backbone option (config key `model.<backbone>.<name>`), a number with a range.
struct BackboneOption {
  std::string name;
  double value;  // default
  double lo, hi;
  std::string help;
};

struct BackboneConfig {
  int64_t dim = 128;  // model width D
  int64_t layers = 3;
  int64_t heads = 1;  // model.heads: heads of every head-wise mixer (transformer, mlstm, slstm, aaren)
  double dropout = 0.1;
  int64_t max_tokens = 60;                       // longest token sequence seen in training (3 * K): sizes KV caches
  std::map<std::string, double> options;         // this backbone's BackboneOption values by name
  double option(const std::string& name) const;  // throws std::out_of_range naming it
};

class BackboneImpl : public torch::nn::Module {
 public:
  // x: [B, T, D] -> [B, T, D]; output t depends only on inputs <= t.
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // State for `batch` fresh sequences, on the module's device and dtype.
  virtual BackboneState initial_state(int64_t batch) = 0;
  // x_t: [B, D] -> y_t: [B, D]; advances `state`. Equal to forward() on the whole prefix.
  virtual torch::Tensor step(const torch::Tensor& x_t, BackboneState& state) = 0;
};
using Backbone = std::shared_ptr<BackboneImpl>;

struct BackboneInfo {
  std::string name;
  std::string help;  // one line: what it is, the paper
  std::vector<BackboneOption> options;
  std::function<Backbone(const BackboneConfig&)> make;
  // Parameters of the recurrence itself (decay, frequency, step size) that `seqrl export --dtype
  // float16` keeps in float32: rounding them moves the dynamics for a whole episode (a rounded
  // LRU phase drifts by a radian over 1000 steps), where rounding a weight matrix does not.
  // Names as the mixer registers them ("A_log"); rank-1 parameters stay float32 anyway.
  std::vector<std::string> float32_parameters = {};
};

// Registers a backbone when the program starts. Define one at namespace scope in the
// backbone's file:   const BackboneRegistrar registrar(BackboneInfo{...});
// A duplicate or empty name prints one line naming it and exits with code 1 (it is found
// before main, where an exception could not be reported).
struct BackboneRegistrar {
  explicit BackboneRegistrar(BackboneInfo info);
};

// Every registered backbone, sorted by name.
const std::vector<BackboneInfo>& backbone_registry();
// Their names, in the same order.
std::vector<std::string> backbone_names();
// Throws seqrl::Error listing the valid names when `name` is unknown.
const BackboneInfo& backbone_info(const std::string& name);
// Fills defaults for missing options, rejects unknown ones, builds the backbone.
Backbone make_backbone(const std::string& name, BackboneConfig config);

}  // namespace seqrl
