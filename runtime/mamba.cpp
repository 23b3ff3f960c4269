// Mamba step (models/mamba.cpp): x, z = in_proj(u); x = SiLU(causal depthwise conv over the
// last d_conv inputs); Δ, B, C from x; h = exp(Δ A) h + Δ x B; y = C·h + D x;
// out = out_proj(y ⊙ SiLU(z)). The projections run for all tokens at once; the conv window and
// the scan advance token by token.
#include <cmath>

#include "runtime/mixer.h"

namespace sqp {
namespace {

// The conv window advances by one input (rows of E channels, oldest first, as conv1d sees them);
// x = SiLU(Σ_k window_k · w_k + bias), summed over k in conv1d's order.
SQP_ELEMENTWISE_CLONES void conv_token(int E, int K, float* __restrict window, const float* __restrict weight,
                                       const float* __restrict bias, const float* __restrict input,
                                       float* __restrict x) {
  for (int k = 0; k + 1 < K; ++k)
    for (int e = 0; e < E; ++e) window[size_t(k) * E + e] = window[size_t(k + 1) * E + e];
  for (int e = 0; e < E; ++e) window[size_t(K - 1) * E + e] = input[e];
  for (int e = 0; e < E; ++e) x[e] = 0.0f;
  for (int k = 0; k < K; ++k)  // k outermost: each loop over the channels vectorizes
    for (int e = 0; e < E; ++e) x[e] += window[size_t(k) * E + e] * weight[size_t(k) * E + e];
  for (int e = 0; e < E; ++e) x[e] = silu(x[e] + bias[e]);
}

// One token of the selective scan over E channels and n states (h and A as [n][E]): Δ = softplus(dt)
// (in place), h = exp(Δ A) h + (Δ x) B, y = Σ_j C_j h_j in state order, out = (y + D x) ⊙ SiLU(z).
SQP_ELEMENTWISE_CLONES void scan_token(int E, int N, float* __restrict delta, const float* __restrict x,
                                       const float* __restrict b, const float* __restrict c, const float* __restrict a,
                                       const float* __restrict skip, const float* __restrict z, float* __restrict h,
                                       float* __restrict sum, float* __restrict out) {
  for (int e = 0; e < E; ++e) {
    delta[e] = softplus(delta[e]);
    sum[e] = 0.0f;
  }
  for (int j = 0; j < N; ++j) {
    float* hj = h + size_t(j) * E;
    const float* aj = a + size_t(j) * E;
    for (int e = 0; e < E; ++e) {
      hj[e] = exp_poly(delta[e] * aj[e]) * hj[e] + delta[e] * x[e] * b[j];
      sum[e] += hj[e] * c[j];
    }
  }
  for (int e = 0; e < E; ++e) out[e] = (sum[e] + skip[e] * x[e]) * silu(z[e]);
}

class Mamba : public Mixer {
 public:
  explicit Mamba(const MixerSource& src) {
    const auto a_shape = src.shape("A_log");
    inner_ = static_cast<int>(a_shape.at(0));
    n_ = static_cast<int>(a_shape.at(1));
    d_conv_ = static_cast<int>(src.shape("conv.weight").at(2));
    rank_ = static_cast<int>(src.shape("dt_proj.weight").at(1));
    in_proj_ = src.linear("in_proj", src.dim, 2 * inner_, false);
    conv_bias_ = src.get("conv.bias", {inner_});
    x_proj_ = src.linear("x_proj", inner_, rank_ + 2 * n_, false);
    dt_proj_ = src.linear("dt_proj", rank_, inner_);
    out_proj_ = src.linear("out_proj", inner_, src.dim, false);
    // Channel-last copies ([k][e], [j][e]) so that the per-token loops run over the channels.
    conv_weight_ = transposed(src.get("conv.weight", {inner_, 1, d_conv_}).data(), inner_, d_conv_);
    a_ = transposed(src.get("A_log", {inner_, n_}).data(), inner_, n_);
    for (float& a : a_) a = -std::exp(a);
    skip_ = src.get("D", {inner_});
    window_.resize(size_t(d_conv_) * inner_);
    h_.resize(size_t(n_) * inner_);
    sum_.resize(inner_);
    xz_.resize(size_t(kMaxTokens) * 2 * inner_);
    x_.resize(size_t(kMaxTokens) * inner_);
    selection_.resize(size_t(kMaxTokens) * (rank_ + 2 * n_));
    delta_.resize(size_t(kMaxTokens) * inner_);
    gated_.resize(size_t(kMaxTokens) * inner_);
  }
  void reset() override {
    std::fill(window_.begin(), window_.end(), 0.0f);
    std::fill(h_.begin(), h_.end(), 0.0f);
  }
  void step(const float* u, int n, int first_output, float* y) override {
    const int E = inner_, S = rank_ + 2 * n_;
    in_proj_.apply(u, n, xz_.data());
    for (int t = 0; t < n; ++t)
      conv_token(E, d_conv_, window_.data(), conv_weight_.data(), conv_bias_.data(), &xz_[size_t(t) * 2 * E],
                 &x_[size_t(t) * E]);
    x_proj_.apply(x_.data(), n, selection_.data());
    dt_proj_.apply(selection_.data(), n, delta_.data(), S, E);
    for (int t = 0; t < n; ++t) {
      const float* b = &selection_[size_t(t) * S + rank_];
      scan_token(E, n_, &delta_[size_t(t) * E], &x_[size_t(t) * E], b, b + n_, a_.data(), skip_.data(),
                 &xz_[size_t(t) * 2 * E + E], h_.data(), sum_.data(), &gated_[size_t(t) * E]);
    }
    out_proj_.apply(gated_.data() + size_t(first_output) * E, n - first_output,
                    y + size_t(first_output) * out_proj_.out);
  }

 private:
  int inner_, n_, d_conv_, rank_;
  Linear in_proj_, x_proj_, dt_proj_, out_proj_;
  // conv_weight_ [d_conv][E], a_ = −exp(A_log) and h_ [n][E], window_ [d_conv][E] (oldest first).
  std::vector<float> conv_weight_, conv_bias_, a_, skip_, window_, h_, xz_, x_, selection_, delta_, gated_, sum_;
};

}  // namespace

std::unique_ptr<Mixer> load_mamba(const MixerSource& src) { return std::make_unique<Mamba>(src); }

}  // namespace sqp
