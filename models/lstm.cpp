// lstm: the classic LSTM (Hochreiter & Schmidhuber 1997) as the mixer, one torch::nn::LSTM
// layer per block (hidden size = dim); a sequential baseline for the runtime comparison.
// State per layer: h and c, each [1, B, D] (torch's layout).
#include "models/block.h"

namespace seqrl {
namespace {

class LstmMixerImpl : public MixerImpl {
 public:
  explicit LstmMixerImpl(int64_t dim)
      : dim_(dim),
        lstm_(register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(dim, dim).batch_first(true)))) {}

  torch::Tensor forward(const torch::Tensor& x) override { return std::get<0>(lstm_->forward(x)); }

  LayerState initial_state(int64_t batch) override {
    auto zeros = torch::zeros({1, batch, dim_}, module_options(*this));
    return {zeros, zeros.clone()};
  }

  torch::Tensor step(const torch::Tensor& x_t, LayerState& state) override {
    auto [y, hc] = lstm_->forward(x_t.unsqueeze(1), std::make_tuple(state[0], state[1]));
    state[0] = std::get<0>(hc);
    state[1] = std::get<1>(hc);
    return y.squeeze(1);
  }

 private:
  int64_t dim_;
  torch::nn::LSTM lstm_;
};

const BackboneRegistrar registrar(
    stack_backbone("lstm", "classic LSTM, torch::nn::LSTM per block (Hochreiter & Schmidhuber 1997)", {},
                   [](const BackboneConfig& c, int64_t) -> Mixer { return std::make_shared<LstmMixerImpl>(c.dim); }));

}  // namespace
}  // namespace seqrl
