// mLSTM — the matrix-memory cell of xLSTM (Beck et al. 2024), as the mixer of the residual
// stack. Per head (H heads of width d = D/H): q, k = W_k u / √d, v; scalar input and forget
// gate pre-activations ĩ, f̃; output gate o = σ(W_o u) over the full width.
// Recurrent form, exponential input gate with stabilizer m:
//   m_t = max(log σ(f̃_t) + m_{t-1}, ĩ_t)          m_0 = −∞ ("no history")
//   C_t = e^{log σ(f̃_t) + m_{t-1} − m_t} C_{t-1} + e^{ĩ_t − m_t} v_t k_tᵀ   (n_t likewise with k_t)
//   h̃_t = C_t q_t / max(|n_tᵀ q_t|, e^{−m_t}),   out = W_out (o_t ⊙ h̃_t)
// Parallel form (training): with F_t = Σ_{j≤t} log σ(f̃_j) and log D_ts = F_t − F_s + ĩ_s (s ≤ t),
//   m_t = max_s log D_ts,  S_ts = (q_tᵀ k_s) e^{log D_ts − m_t},  h̃_t = Σ_s S_ts v_s / max(|Σ_s S_ts|, e^{−m_t}).
// The two agree exactly: by induction the recurrent m_t equals the row max max_s log D_ts when
// m_0 = −∞, and the stabilized C_t, n_t are the unstabilized ones times e^{−m_t}, so numerator,
// |n_tᵀ q_t| and the e^{−m_t} floor are the same numbers in both forms.
// The parallel form costs O(T²) memory per head (as in the paper).
#include <cmath>
#include <limits>

#include "core/error.h"
#include "models/block.h"

namespace seqrl {
namespace {

class MlstmMixerImpl : public MixerImpl {
 public:
  MlstmMixerImpl(int64_t dim, int64_t heads) : heads_(heads), head_dim_(dim / heads) {
    auto no_bias = [](int64_t in, int64_t out) { return torch::nn::LinearOptions(in, out).bias(false); };
    q_ = register_module("q", torch::nn::Linear(no_bias(dim, dim)));
    k_ = register_module("k", torch::nn::Linear(no_bias(dim, dim)));
    v_ = register_module("v", torch::nn::Linear(no_bias(dim, dim)));
    input_gate_ = register_module("input_gate", torch::nn::Linear(dim, heads));
    forget_gate_ = register_module("forget_gate", torch::nn::Linear(dim, heads));
    output_gate_ = register_module("output_gate", torch::nn::Linear(dim, dim));
    out_ = register_module("out", torch::nn::Linear(no_bias(dim, dim)));
    torch::NoGradGuard no_grad;
    // xLSTM init: forget gates start open (σ(3..6) ≈ 0.95..0.998), input gates near e^0.
    forget_gate_->bias.copy_(torch::linspace(3.0, 6.0, heads));
    input_gate_->bias.normal_(0.0, 0.1);
  }

  torch::Tensor forward(const torch::Tensor& u) override {
    int64_t batch = u.size(0), steps = u.size(1);
    auto heads = [&](const torch::Tensor& t) {  // [B, T, D] -> [B, H, T, d]
      return t.view({batch, steps, heads_, head_dim_}).transpose(1, 2);
    };
    auto q = heads(q_->forward(u)), k = heads(k_->forward(u)) / std::sqrt(double(head_dim_)), v = heads(v_->forward(u));
    auto log_i = input_gate_->forward(u).transpose(1, 2);  // [B, H, T]
    auto cum_log_f = torch::cumsum(torch::log_sigmoid(forget_gate_->forward(u).transpose(1, 2)), -1);
    auto future = torch::ones({steps, steps}, u.options().dtype(torch::kBool)).triu(1);
    auto log_d = (cum_log_f.unsqueeze(-1) - cum_log_f.unsqueeze(-2) + log_i.unsqueeze(-2))
                     .masked_fill(future, -std::numeric_limits<double>::infinity());  // [B, H, T, T]
    auto m = std::get<0>(log_d.max(-1, true));                                         // [B, H, T, 1]
    auto scores = torch::matmul(q, k.transpose(-1, -2)) * torch::exp(log_d - m);
    auto norm = torch::maximum(scores.sum(-1, true).abs(), torch::exp(-m));
    auto h = (torch::matmul(scores, v) / norm).transpose(1, 2).reshape({batch, steps, heads_ * head_dim_});
    return out_->forward(torch::sigmoid(output_gate_->forward(u)) * h);
  }

  BackboneState initial_state(int64_t batch) override {
    auto opts = out_->weight.options();
    return {torch::zeros({batch, heads_, head_dim_, head_dim_}, opts),  // C: [B, H, d(v), d(k)]
            torch::zeros({batch, heads_, head_dim_}, opts),             // n
            torch::full({batch, heads_}, -std::numeric_limits<double>::infinity(), opts)};  // m
  }

  torch::Tensor step(const torch::Tensor& u, BackboneState& state) override {
    int64_t batch = u.size(0);
    auto heads = [&](const torch::Tensor& t) { return t.view({batch, heads_, head_dim_}); };
    auto q = heads(q_->forward(u)), k = heads(k_->forward(u)) / std::sqrt(double(head_dim_)), v = heads(v_->forward(u));
    auto log_i = input_gate_->forward(u);  // [B, H]
    auto log_f = torch::log_sigmoid(forget_gate_->forward(u));
    const auto& m_prev = state[2];
    auto m = torch::maximum(log_f + m_prev, log_i);
    auto keep = torch::exp(log_f + m_prev - m).unsqueeze(-1), write = torch::exp(log_i - m).unsqueeze(-1);
    auto c = keep.unsqueeze(-1) * state[0] + write.unsqueeze(-1) * v.unsqueeze(-1) * k.unsqueeze(-2);
    auto n = keep * state[1] + write * k;
    auto norm = torch::maximum((n * q).sum(-1, true).abs(), torch::exp(-m).unsqueeze(-1));
    auto h = (torch::matmul(c, q.unsqueeze(-1)).squeeze(-1) / norm).reshape({batch, heads_ * head_dim_});
    state = {c, n, m};
    return out_->forward(torch::sigmoid(output_gate_->forward(u)) * h);
  }

 private:
  int64_t heads_, head_dim_;
  torch::nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, input_gate_{nullptr}, forget_gate_{nullptr},
      output_gate_{nullptr}, out_{nullptr};
};

}  // namespace

BackboneInfo mlstm_backbone() {
  BackboneInfo info;
  info.name = "mlstm";
  info.help = "xLSTM mLSTM: matrix memory, exponential gating with stabilizer, parallel form for training (Beck et al. 2024)";
  info.options = {{"heads", 4, 1, 1024, "memory heads (model.dim must be divisible by it)"}};
  info.make = [](const BackboneConfig& config) {
    auto heads = heads_dividing_dim(config, "mlstm");
    return make_residual_stack(config, [heads](const BackboneConfig& c, int64_t) {
      return std::make_shared<MlstmMixerImpl>(c.dim, heads);
    });
  };
  return info;
}

}  // namespace seqrl
