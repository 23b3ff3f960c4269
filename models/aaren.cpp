// Aaren — attention as an RNN (Feichtinger et al. 2024, "Attention as an RNN"). Per head a
// learned query q attends over the prefix: o_t = Σ_{s≤t} softmax_s(s_s) v_s with scores
// s_t = qᵀ k_t / √d. The softmax over a growing prefix is a many-to-many RNN over (m, u, w):
//   m_t = max(m_{t-1}, s_t)
//   u_t = u_{t-1} e^{m_{t-1} − m_t} + e^{s_t − m_t}          (denominator)
//   w_t = w_{t-1} e^{m_{t-1} − m_t} + e^{s_t − m_t} v_t      (numerator)
//   o_t = w_t / u_t,   out = W_out o
// Parallel: m is a prefix max (torch::cummax); given m, u and w are linear recurrences with
// a_t = e^{m_{t-1} − m_t}, run together by one kernels::linear_scan. step() carries (m, u, w).
#include <cmath>
#include <limits>

#include "core/error.h"
#include "kernels/scan.h"
#include "models/block.h"

namespace seqrl {
namespace {

class AarenMixerImpl : public MixerImpl {
 public:
  AarenMixerImpl(int64_t dim, int64_t heads) : heads_(heads), head_dim_(dim / heads) {
    auto no_bias = [](int64_t in, int64_t out) { return torch::nn::LinearOptions(in, out).bias(false); };
    query_ = register_parameter("query", torch::randn({heads, head_dim_}));
    k_ = register_module("k", torch::nn::Linear(no_bias(dim, dim)));
    v_ = register_module("v", torch::nn::Linear(no_bias(dim, dim)));
    out_ = register_module("out", torch::nn::Linear(dim, dim));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    int64_t batch = x.size(0), steps = x.size(1);
    auto v = v_->forward(x).view({batch, steps, heads_, head_dim_});
    auto s = scores(k_->forward(x).view({batch, steps, heads_, head_dim_}));  // [B, T, H]
    auto m = std::get<0>(torch::cummax(s, 1));
    // m_{t-1}; at t = 1 any finite value works since the carried sums start at zero.
    auto m_prev = torch::cat({m.narrow(1, 0, 1), m.narrow(1, 0, steps - 1)}, 1);
    auto a = torch::exp(m_prev - m).unsqueeze(-1), b = torch::exp(s - m).unsqueeze(-1);  // [B, T, H, 1]
    // One scan over (u, w) side by side: [B, T, H, 1 + d].
    auto sums = kernels::linear_scan(a.expand({batch, steps, heads_, 1 + head_dim_}).reshape({batch, steps, -1}),
                                     torch::cat({b, b * v}, -1).reshape({batch, steps, -1}))
                    .view({batch, steps, heads_, 1 + head_dim_});
    auto o = sums.narrow(-1, 1, head_dim_) / sums.narrow(-1, 0, 1);
    return out_->forward(o.reshape({batch, steps, heads_ * head_dim_}));
  }

  LayerState initial_state(int64_t batch) override {
    auto opts = query_.options();
    return {torch::full({batch, heads_}, -std::numeric_limits<double>::infinity(), opts),  // m
            torch::zeros({batch, heads_, 1}, opts),                                        // u
            torch::zeros({batch, heads_, head_dim_}, opts)};                               // w
  }

  torch::Tensor step(const torch::Tensor& x, LayerState& state) override {
    int64_t batch = x.size(0);
    auto v = v_->forward(x).view({batch, heads_, head_dim_});
    auto s = scores(k_->forward(x).view({batch, heads_, head_dim_}));  // [B, H]
    auto m = torch::maximum(state[0], s);
    auto a = torch::exp(state[0] - m).unsqueeze(-1), b = torch::exp(s - m).unsqueeze(-1);
    auto u = a * state[1] + b;
    auto w = a * state[2] + b * v;
    state = {m, u, w};
    return out_->forward((w / u).reshape({batch, heads_ * head_dim_}));
  }

 private:
  // qᵀ k / √d per head: k [..., H, d] -> [..., H].
  torch::Tensor scores(const torch::Tensor& k) const { return (k * query_).sum(-1) / std::sqrt(double(head_dim_)); }

  int64_t heads_, head_dim_;
  torch::Tensor query_;
  torch::nn::Linear k_{nullptr}, v_{nullptr}, out_{nullptr};
};

const BackboneRegistrar registrar(stack_backbone(
    "aaren",
    "Aaren: attention as an RNN, learned query, prefix scan of (max, numerator, denominator) (Feichtinger et al. 2024)",
    {}, [](const BackboneConfig& c, int64_t) -> Mixer {
      return std::make_shared<AarenMixerImpl>(c.dim, heads_dividing_dim(c));
    }));

}  // namespace
}  // namespace seqrl
