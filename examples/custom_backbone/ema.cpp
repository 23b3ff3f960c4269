// ema: a per-channel exponential moving average as the mixer, the smallest recurrent backbone:
//   h_t = a * h_{t-1} + (1 - a) * W x_t,   y_t = U h_t,   a = sigmoid(decay logits) in (0, 1)
// forward() runs seqrl's parallel scan (kernels::linear_scan); step() is the same recurrence
// one token at a time. The registrar below is all it takes to appear in `backbones list`, pass
// `backbones check` and train with model.backbone=ema (option model.ema.init_decay).
#include <cmath>

#include "kernels/scan.h"
#include "models/block.h"

namespace {

using seqrl::BackboneConfig;
using seqrl::LayerState;

class EmaMixerImpl : public seqrl::MixerImpl {
 public:
  EmaMixerImpl(int64_t dim, double init_decay) {
    in_ = register_module("in", torch::nn::Linear(dim, dim));
    out_ = register_module("out", torch::nn::Linear(dim, dim));
    decay_logit_ = register_parameter("decay_logit", torch::full({dim}, std::log(init_decay / (1 - init_decay))));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    const auto a = torch::sigmoid(decay_logit_).expand_as(x);
    return out_(seqrl::kernels::linear_scan(a.contiguous(), (1 - a) * in_(x)));
  }

  LayerState initial_state(int64_t batch) override {
    return {torch::zeros({batch, decay_logit_.size(0)}, seqrl::module_options(*this))};
  }

  torch::Tensor step(const torch::Tensor& x_t, LayerState& state) override {
    const auto a = torch::sigmoid(decay_logit_);
    state[0] = a * state[0] + (1 - a) * in_(x_t);
    return out_(state[0]);
  }

 private:
  torch::nn::Linear in_{nullptr}, out_{nullptr};
  torch::Tensor decay_logit_;
};

const seqrl::BackboneRegistrar registrar(
    seqrl::stack_backbone("ema", "per-channel exponential moving average (examples/custom_backbone)",
                          {{"init_decay", 0.9, 0.01, 0.999, "decay a at initialization"}},
                          [](const BackboneConfig& c, int64_t) -> seqrl::Mixer {
                            return std::make_shared<EmaMixerImpl>(c.dim, c.option("init_decay"));
                          }));

}  // namespace
