// mingru: minimal GRU (Feng et al. 2024). Gates depend on the input only, so the recurrence
//   z_t = sigmoid(k_t),  h~_t = g(p_t),  h_t = (1 - z_t) h_{t-1} + z_t h~_t,   h_0 = 0
// is linear in h and trains in parallel: in log space log(1 - z) = -softplus(k),
// log z = -softplus(-k), through kernels::log_linear_scan. step() is the same recurrence in
// normal space. Hidden width = expand * dim, projected back to dim by a Linear.
#include <algorithm>
#include <cmath>

#include "kernels/scan.h"
#include "models/block.h"
#include "models/min_rnn.h"

namespace seqrl {
namespace {

class MinGruMixerImpl : public MixerImpl {
 public:
  MinGruMixerImpl(int64_t dim, int64_t hidden) : hidden_(hidden) {
    in_ = register_module("in_proj", torch::nn::Linear(dim, 2 * hidden));  // gate k and candidate p
    out_ = register_module("out", torch::nn::Linear(hidden, dim));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    auto kp = in_(x).chunk(2, -1);
    const auto& k = kp[0];
    auto log_keep = -torch::softplus(k);                            // log(1 - z)
    auto log_write = -torch::softplus(-k) + min_rnn::log_g(kp[1]);  // log(z * h~)
    return out_(kernels::log_linear_scan(log_keep, log_write));     // h_0 = 0
  }

  LayerState initial_state(int64_t batch) override { return {torch::zeros({batch, hidden_}, module_options(*this))}; }

  torch::Tensor step(const torch::Tensor& x_t, LayerState& state) override {
    auto kp = in_(x_t).chunk(2, -1);
    auto z = torch::sigmoid(kp[0]);
    state[0] = (1 - z) * state[0] + z * min_rnn::g(kp[1]);
    return out_(state[0]);
  }

 private:
  int64_t hidden_;
  torch::nn::Linear in_{nullptr}, out_{nullptr};
};

const BackboneRegistrar registrar(stack_backbone(
    "mingru", "minimal GRU, input-only gates, parallel log-space scan (Feng et al. 2024, Were RNNs All We Needed?)",
    {{"expand", 1, 0.25, 16, "hidden width as a multiple of dim"}}, [](const BackboneConfig& c, int64_t) -> Mixer {
      return std::make_shared<MinGruMixerImpl>(c.dim, std::max<int64_t>(1, std::llround(c.option("expand") * c.dim)));
    }));

}  // namespace
}  // namespace seqrl
