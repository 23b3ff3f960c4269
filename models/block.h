// The residual stack shared by every backbone (DT / DMamba layout):
//   for each layer:  x = x + dropout(mixer(norm1(x)));  x = x + dropout(mlp(norm2(x)))
//   then a final LayerNorm.
// A backbone file only defines its mixer (the sequence-mixing part) and hands a factory to
// make_residual_stack; the stack routes forward/initial_state/step through every layer.
#pragma once
#include "models/backbone.h"

namespace seqrl {

class MixerImpl : public torch::nn::Module {
 public:
  // x: [B, T, D] -> [B, T, D], causal.
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // This mixer's state for `batch` fresh sequences (any number of tensors, may be empty).
  virtual BackboneState initial_state(int64_t batch) = 0;
  // x_t: [B, D] -> [B, D]; advances `state` (the tensors returned by initial_state).
  virtual torch::Tensor step(const torch::Tensor& x_t, BackboneState& state) = 0;
};
using Mixer = std::shared_ptr<MixerImpl>;
using MixerFactory = std::function<Mixer(const BackboneConfig& config, int64_t layer)>;

// The backbone's "heads" option, checked to divide config.dim; throws seqrl::Error naming
// model.<backbone>.heads otherwise. Shared by the head-wise mixers (mlstm, slstm, aaren).
int64_t heads_dividing_dim(const BackboneConfig& config, const std::string& backbone);

// mlp_ratio: hidden width of the per-layer MLP as a multiple of dim (4 as in GPT/DT).
Backbone make_residual_stack(const BackboneConfig& config, const MixerFactory& make_mixer, double mlp_ratio = 4.0);

// dtype and device of a module's parameters (float32 on CPU if it has none), for
// initial_state tensors that must follow module.to(...).
torch::TensorOptions module_options(const torch::nn::Module& module);
// "[2, 3, 4]", for error messages about shapes.
std::string shape_string(const torch::Tensor& t);

}  // namespace seqrl
