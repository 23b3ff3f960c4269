// The residual stack shared by every backbone (DT / DMamba layout):
//   for each layer:  x = x + dropout(mixer(norm1(x)));  x = x + dropout(mlp(norm2(x)))
//   then a final LayerNorm.
// A backbone file only defines its mixer (the sequence-mixing part) and registers it:
//   const BackboneRegistrar registrar(stack_backbone("name", "help", {options},
//       [](const BackboneConfig& c, int64_t layer) -> Mixer { return std::make_shared<...>(...); }));
// The stack routes forward/initial_state/step through every layer, each with its own state.
#pragma once
#include "models/backbone.h"

namespace seqrl {

class MixerImpl : public torch::nn::Module {
 public:
  // x: [B, T, D] -> [B, T, D], causal.
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // This mixer's state for `batch` fresh sequences (any number of tensors, may be empty).
  virtual LayerState initial_state(int64_t batch) = 0;
  // x_t: [B, D] -> [B, D]; advances `state` (the tensors returned by initial_state).
  virtual torch::Tensor step(const torch::Tensor& x_t, LayerState& state) = 0;
};
using Mixer = std::shared_ptr<MixerImpl>;
using MixerFactory = std::function<Mixer(const BackboneConfig& config, int64_t layer)>;

// model.heads, checked to divide config.dim; throws seqrl::Error naming model.heads otherwise.
// Shared by the head-wise mixers (transformer, mlstm, slstm, aaren).
int64_t heads_dividing_dim(const BackboneConfig& config);

// mlp_ratio: hidden width of the per-layer MLP as a multiple of dim (4 as in GPT/DT).
Backbone make_residual_stack(const BackboneConfig& config, const MixerFactory& make_mixer, double mlp_ratio = 4.0);

// The registry entry of a residual-stack backbone whose layer `l` mixes with make_mixer(config, l).
// make_mixer validates the backbone's options (throwing seqrl::Error naming model.<name>.<option>).
BackboneInfo stack_backbone(std::string name, std::string help, std::vector<BackboneOption> options,
                            MixerFactory make_mixer, std::vector<std::string> float32_parameters = {});

// dtype and device of a module's parameters (float32 on CPU if it has none), for
// initial_state tensors that must follow module.to(...).
torch::TensorOptions module_options(const torch::nn::Module& module);
// "[2, 3, 4]", for error messages about shapes.
std::string shape_string(const torch::Tensor& t);

}  // namespace seqrl
