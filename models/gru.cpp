// gru: the classic GRU (Cho et al. 2014) as the mixer, one torch::nn::GRU layer per block
// (hidden size = dim); a sequential baseline for the runtime comparison.
// State per layer: h [1, B, D] (torch's layout).
#include "models/block.h"

namespace seqrl {
namespace {

class GruMixerImpl : public MixerImpl {
 public:
  explicit GruMixerImpl(int64_t dim)
      : dim_(dim), gru_(register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(dim, dim).batch_first(true)))) {}

  torch::Tensor forward(const torch::Tensor& x) override { return std::get<0>(gru_->forward(x)); }

  LayerState initial_state(int64_t batch) override { return {torch::zeros({1, batch, dim_}, module_options(*this))}; }

  torch::Tensor step(const torch::Tensor& x_t, LayerState& state) override {
    auto [y, h] = gru_->forward(x_t.unsqueeze(1), state[0]);
    state[0] = h;
    return y.squeeze(1);
  }

 private:
  int64_t dim_;
  torch::nn::GRU gru_;
};

const BackboneRegistrar registrar(stack_backbone("gru", "classic GRU, torch::nn::GRU per block (Cho et al. 2014)", {},
                                                 [](const BackboneConfig& c, int64_t) -> Mixer {
                                                   return std::make_shared<GruMixerImpl>(c.dim);
                                                 }));

}  // namespace
}  // namespace seqrl
