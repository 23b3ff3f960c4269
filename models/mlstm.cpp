// mLSTM — the matrix-memory cell of xLSTM (Beck et al. 2024), as the mixer of the residual
// stack. Per head (H heads of width d = D/H): q, k = W_k u / √d, v; scalar input and forget
// gate pre-activations ĩ, f̃; output gate o = σ(W_o u) over the full width.
// Recurrent form, exponential input gate with stabilizer m:
//   m_t = max(log σ(f̃_t) + m_{t-1}, ĩ_t)          m_0 = −∞ ("no history")
//   C_t = e^{log σ(f̃_t) + m_{t-1} − m_t} C_{t-1} + e^{ĩ_t − m_t} v_t k_tᵀ   (n_t likewise with k_t)
//   h̃_t = C_t q_t / max(|n_tᵀ q_t|, e^{−m_t}),   out = W_out (o_t ⊙ h̃_t)
// Chunkwise parallel form (training). Unrolled, the recurrence is C_t = e^{−m_t} Σ_{s≤t} e^{log D_ts} v_s k_sᵀ
// with log D_ts = Σ_{s<j≤t} log σ(f̃_j) + ĩ_s, and m_t = max_{s≤t} log D_ts (by induction from
// m_0 = −∞); the output does not depend on m: h̃_t = C̄_t q_t / max(|n̄_tᵀ q_t|, 1) for the
// unstabilized C̄ = e^{m} C, n̄ = e^{m} n. Split T into chunks of L steps; for t in a chunk that
// starts after step t0, with b_t = Σ_{t0<j≤t} log σ(f̃_j) and the carried state (C, n, m) at t0,
//   C̄_t = e^{b_t + m_{t0}} C_{t0} + Σ_{t0<s≤t} e^{b_t − b_s + ĩ_s} v_s k_sᵀ,
//   m_t = max(b_t + m_{t0}, max_{t0<s≤t} (b_t − b_s + ĩ_s))       (the max over s ≤ t0 is b_t + m_{t0}),
// so with a_t = e^{b_t + m_{t0} − m_t} and S_ts = (q_tᵀ k_s) e^{b_t − b_s + ĩ_s − m_t} (quadratic, in the chunk only):
//   h̃_t = [a_t C_{t0} q_t + Σ_s S_ts v_s] / max(|a_t n_{t0}ᵀ q_t + Σ_s S_ts|, e^{−m_t}),
// the same numbers as the recurrence up to round-off. The carry from chunk end to chunk end is the
// recurrent step with the chunk as one token: decay b_L, write Σ_s e^{b_L − b_s + ĩ_s} v_s k_sᵀ
// (stabilized by its own max). Memory O(T·L) per head instead of O(T²); L ≥ T is the fully
// parallel form of the paper, L = 1 the recurrence.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "models/block.h"

namespace seqrl {
namespace {

class MlstmMixerImpl : public MixerImpl {
 public:
  MlstmMixerImpl(int64_t dim, int64_t heads, int64_t chunk) : heads_(heads), head_dim_(dim / heads), chunk_(chunk) {
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
    const int64_t batch = u.size(0), steps = u.size(1);
    const int64_t len = std::min(chunk_, steps), chunks = (steps + len - 1) / len, padded = chunks * len;
    // [B, T, X·H] -> [B, H, N, L, X]: heads, then N chunks of L steps. The tail is zero-padded;
    // padding comes after every real step, so causality keeps it out of the real outputs.
    auto split = [&](const torch::Tensor& t) {
      auto per_head = t.view({batch, steps, heads_, -1}).transpose(1, 2);
      return torch::constant_pad_nd(per_head, {0, 0, 0, padded - steps}).view({batch, heads_, chunks, len, -1});
    };
    auto q = split(q_->forward(u)), k = split(k_->forward(u)) / std::sqrt(double(head_dim_)), v = split(v_->forward(u));
    auto log_i = split(input_gate_->forward(u)).squeeze(-1);                                      // [B, H, N, L]
    auto cum_log_f = split(torch::log_sigmoid(forget_gate_->forward(u))).squeeze(-1).cumsum(-1);  // b_t

    // What each chunk writes into the memory by its end, scaled by e^{−(its max weight)}.
    auto chunk_log_f = cum_log_f.select(-1, len - 1);                // b_L: [B, H, N]
    auto log_write = chunk_log_f.unsqueeze(-1) - cum_log_f + log_i;  // b_L − b_s + ĩ_s
    auto write_max = std::get<0>(log_write.max(-1));                 // [B, H, N]
    auto write = torch::exp(log_write - write_max.unsqueeze(-1)).unsqueeze(-1);
    auto written_c = torch::matmul((write * v).transpose(-1, -2), k);  // [B, H, N, d(v), d(k)]
    auto written_n = (write * k).sum(-2);                              // [B, H, N, d]
    // The carry: the state entering each chunk, one recurrent step per chunk.
    auto state = initial_state(batch);
    std::vector<torch::Tensor> c_in{state[0]}, n_in{state[1]}, m_in{state[2]};
    for (int64_t j = 1; j < chunks; ++j) {
      auto decayed = chunk_log_f.select(2, j - 1) + m_in.back();
      auto m = torch::maximum(decayed, write_max.select(2, j - 1));
      auto keep = torch::exp(decayed - m).unsqueeze(-1);
      auto put = torch::exp(write_max.select(2, j - 1) - m).unsqueeze(-1);
      c_in.push_back(keep.unsqueeze(-1) * c_in.back() + put.unsqueeze(-1) * written_c.select(2, j - 1));
      n_in.push_back(keep * n_in.back() + put * written_n.select(2, j - 1));
      m_in.push_back(m);
    }
    auto c_prev = torch::stack(c_in, 2), n_prev = torch::stack(n_in, 2), m_prev = torch::stack(m_in, 2);

    // Inside each chunk: log D_ts = b_t − b_s + ĩ_s (s ≤ t), the carried memory at log weight b_t + m_{t0}.
    auto future = torch::ones({len, len}, u.options().dtype(torch::kBool)).triu(1);
    auto log_d = (cum_log_f.unsqueeze(-1) - cum_log_f.unsqueeze(-2) + log_i.unsqueeze(-2))
                     .masked_fill(future, -std::numeric_limits<double>::infinity());  // [B, H, N, L, L]
    auto log_carried = cum_log_f + m_prev.unsqueeze(-1);                              // [B, H, N, L]
    auto m = torch::maximum(log_carried, std::get<0>(log_d.max(-1))).unsqueeze(-1);
    auto scores = torch::matmul(q, k.transpose(-1, -2)) * torch::exp(log_d - m);
    auto carried = torch::exp(log_carried.unsqueeze(-1) - m);  // [B, H, N, L, 1]
    auto numerator = carried * torch::matmul(q, c_prev.transpose(-1, -2)) + torch::matmul(scores, v);
    auto denominator = carried * torch::matmul(q, n_prev.unsqueeze(-1)) + scores.sum(-1, true);
    auto h = numerator / torch::maximum(denominator.abs(), torch::exp(-m));  // [B, H, N, L, d]
    h = h.view({batch, heads_, padded, head_dim_}).narrow(2, 0, steps).transpose(1, 2);
    h = h.reshape({batch, steps, heads_ * head_dim_});
    return out_->forward(torch::sigmoid(output_gate_->forward(u)) * h);
  }

  LayerState initial_state(int64_t batch) override {
    auto opts = out_->weight.options();
    return {torch::zeros({batch, heads_, head_dim_, head_dim_}, opts),                      // C: [B, H, d(v), d(k)]
            torch::zeros({batch, heads_, head_dim_}, opts),                                 // n
            torch::full({batch, heads_}, -std::numeric_limits<double>::infinity(), opts)};  // m
  }

  torch::Tensor step(const torch::Tensor& u, LayerState& state) override {
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
  int64_t heads_, head_dim_, chunk_;
  torch::nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, input_gate_{nullptr}, forget_gate_{nullptr},
      output_gate_{nullptr}, out_{nullptr};
};

const BackboneRegistrar registrar(stack_backbone(
    "mlstm",
    "xLSTM mLSTM: matrix memory, exponential gating with stabilizer, chunkwise parallel training (Beck et al. 2024)",
    {{"chunk", 64, 1, 1 << 20, "steps per chunk of the parallel form (memory O(T·chunk) per head)"}},
    [](const BackboneConfig& c, int64_t) -> Mixer {
      return std::make_shared<MlstmMixerImpl>(c.dim, heads_dividing_dim(c), static_cast<int64_t>(c.option("chunk")));
    }));

}  // namespace
}  // namespace seqrl
