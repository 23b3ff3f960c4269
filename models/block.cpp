// The residual stack shared by every backbone (see models/block.h).
#include "models/block.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "models/dropout.h"

namespace seqrl {

torch::TensorOptions module_options(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.options();
  return torch::TensorOptions().dtype(torch::kFloat32);
}

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

namespace {

// One layer: pre-norm mixer branch and pre-norm MLP branch, each added back to the stream.
struct LayerImpl : torch::nn::Module {
  LayerImpl(const BackboneConfig& config, Mixer mixer_in, int64_t hidden)
      : norm1(register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.dim})))),
        mixer(register_module("mixer", std::move(mixer_in))),
        norm2(register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.dim})))),
        fc1(register_module("fc1", torch::nn::Linear(config.dim, hidden))),
        fc2(register_module("fc2", torch::nn::Linear(hidden, config.dim))),
        dropout(register_module("dropout", HashedDropout(config.dropout))) {}

  torch::Tensor mlp(const torch::Tensor& x) { return dropout(fc2(torch::gelu(fc1(norm2(x))))); }

  torch::nn::LayerNorm norm1;
  Mixer mixer;
  torch::nn::LayerNorm norm2;
  torch::nn::Linear fc1, fc2;
  HashedDropout dropout;
};

class ResidualStackImpl : public BackboneImpl {
 public:
  ResidualStackImpl(const BackboneConfig& config, const MixerFactory& make_mixer, double mlp_ratio) : dim_(config.dim) {
    const auto hidden = static_cast<int64_t>(std::llround(mlp_ratio * static_cast<double>(config.dim)));
    layers_ = register_module("layers", torch::nn::ModuleList());
    for (int64_t l = 0; l < config.layers; ++l) {
      auto layer = std::make_shared<LayerImpl>(config, make_mixer(config, l), hidden);
      layers_->push_back(layer);
      layer_ptrs_.push_back(layer);
    }
    final_norm_ = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.dim})));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    if (x.dim() != 3 || x.size(2) != dim_)
      throw Error("backbone input: expected [B, T, " + std::to_string(dim_) + "], got " + shape_string(x));
    auto h = x;
    for (auto& layer : layer_ptrs_) {
      h = h + layer->dropout(layer->mixer->forward(layer->norm1(h)));
      h = h + layer->mlp(h);
    }
    return final_norm_(h);
  }

  BackboneState initial_state(int64_t batch) override {
    BackboneState state;
    for (auto& layer : layer_ptrs_) state.push_back(layer->mixer->initial_state(batch));
    return state;
  }

  torch::Tensor step(const torch::Tensor& x_t, BackboneState& state) override {
    if (x_t.dim() != 2 || x_t.size(1) != dim_)
      throw Error("backbone step input: expected [B, " + std::to_string(dim_) + "], got " + shape_string(x_t));
    if (state.size() != layer_ptrs_.size())
      throw Error("backbone state: expected one entry per layer (" + std::to_string(layer_ptrs_.size()) +
                  ", from initial_state), got " + std::to_string(state.size()));
    auto h = x_t;
    for (size_t l = 0; l < layer_ptrs_.size(); ++l) {
      auto& layer = layer_ptrs_[l];
      h = h + layer->dropout(layer->mixer->step(layer->norm1(h), state[l]));
      h = h + layer->mlp(h);
    }
    return final_norm_(h);
  }

 private:
  int64_t dim_;
  torch::nn::ModuleList layers_{nullptr};
  std::vector<std::shared_ptr<LayerImpl>> layer_ptrs_;
  torch::nn::LayerNorm final_norm_{nullptr};
};

}  // namespace

Backbone make_residual_stack(const BackboneConfig& config, const MixerFactory& make_mixer, double mlp_ratio) {
  return std::make_shared<ResidualStackImpl>(config, make_mixer, mlp_ratio);
}

BackboneInfo stack_backbone(std::string name, std::string help, std::vector<BackboneOption> options,
                            MixerFactory make_mixer, std::vector<std::string> float32_parameters) {
  return {std::move(name), std::move(help), std::move(options),
          [make_mixer = std::move(make_mixer)](const BackboneConfig& config) {
            return make_residual_stack(config, make_mixer);
          },
          std::move(float32_parameters)};
}

int64_t heads_dividing_dim(const BackboneConfig& config) {
  if (config.dim % config.heads != 0)
    throw Error("model.heads: " + std::to_string(config.heads) + " does not divide the model width " +
                std::to_string(config.dim) + "; expected a divisor of the width");
  return config.heads;
}

}  // namespace seqrl
