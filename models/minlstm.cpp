// minlstm: minimal LSTM (Feng et al. 2024). Forget and input gates depend on the input only
// and are normalized to sum to one (time-independent output scale):
//   f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t),  h_t = f'_t h_{t-1} + i'_t g(p_t),  h_0 = 0
// with f = sigmoid(k_f), i = sigmoid(k_i). In log space, with d = softplus(-k_f) - softplus(-k_i)
// = log(i / f): log f' = -softplus(d), log i' = -softplus(-d); the parallel mode runs
// kernels::log_linear_scan, step() the normal-space recurrence. Hidden = expand * dim.
#include <algorithm>
#include <cmath>

#include "kernels/scan.h"
#include "models/block.h"
#include "models/min_rnn.h"

namespace seqrl {
namespace {

class MinLstmMixerImpl : public MixerImpl {
 public:
  MinLstmMixerImpl(int64_t dim, int64_t hidden) : hidden_(hidden) {
    in_ = register_module("in_proj", torch::nn::Linear(dim, 3 * hidden));  // k_f, k_i, candidate p
    out_ = register_module("out", torch::nn::Linear(hidden, dim));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    auto fip = in_(x).chunk(3, -1);
    auto d = torch::softplus(-fip[0]) - torch::softplus(-fip[1]);
    auto log_forget = -torch::softplus(d);
    auto log_write = -torch::softplus(-d) + min_rnn::log_g(fip[2]);
    return out_(kernels::log_linear_scan(log_forget, log_write));  // h_0 = 0
  }

  LayerState initial_state(int64_t batch) override { return {torch::zeros({batch, hidden_}, module_options(*this))}; }

  torch::Tensor step(const torch::Tensor& x_t, LayerState& state) override {
    auto fip = in_(x_t).chunk(3, -1);
    auto f = torch::sigmoid(fip[0]), i = torch::sigmoid(fip[1]);
    state[0] = (f * state[0] + i * min_rnn::g(fip[2])) / (f + i);
    return out_(state[0]);
  }

 private:
  int64_t hidden_;
  torch::nn::Linear in_{nullptr}, out_{nullptr};
};

const BackboneRegistrar registrar(stack_backbone(
    "minlstm", "minimal LSTM, normalized input-only gates, parallel log-space scan (Feng et al. 2024)",
    {{"expand", 1, 0.25, 16, "hidden width as a multiple of dim"}}, [](const BackboneConfig& c, int64_t) -> Mixer {
      return std::make_shared<MinLstmMixerImpl>(c.dim, std::max<int64_t>(1, std::llround(c.option("expand") * c.dim)));
    }));

}  // namespace
}  // namespace seqrl
