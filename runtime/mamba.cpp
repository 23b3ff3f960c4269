// Mamba step (models/mamba.cpp): x, z = in_proj(u); x = SiLU(causal depthwise conv over the
// last d_conv inputs); Δ, B, C from x; h = exp(Δ A) h + Δ x B; y = C·h + D x;
// out = out_proj(y ⊙ SiLU(z)). The projections run for all tokens at once; the conv window and
// the scan advance token by token.
#include <cmath>

#include "runtime/mixer.h"

namespace sqp {
namespace {

class Mamba : public Mixer {
 public:
  explicit Mamba(const MixerSource& src) {
    const auto a_shape = src.shape("A_log");
    inner_ = static_cast<int>(a_shape.at(0));
    n_ = static_cast<int>(a_shape.at(1));
    d_conv_ = static_cast<int>(src.shape("conv.weight").at(2));
    rank_ = static_cast<int>(src.shape("dt_proj.weight").at(1));
    in_proj_ = src.linear("in_proj", src.dim, 2 * inner_, false);
    conv_weight_ = src.get("conv.weight", {inner_, 1, d_conv_});
    conv_bias_ = src.get("conv.bias", {inner_});
    x_proj_ = src.linear("x_proj", inner_, rank_ + 2 * n_, false);
    dt_proj_ = src.linear("dt_proj", rank_, inner_);
    out_proj_ = src.linear("out_proj", inner_, src.dim, false);
    for (float a : src.get("A_log", {inner_, n_})) a_.push_back(-std::exp(a));
    skip_ = src.get("D", {inner_});
    window_.resize(size_t(inner_) * d_conv_);
    h_.resize(size_t(inner_) * n_);
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
    for (int t = 0; t < n; ++t)  // the conv window: oldest input first, as conv1d sees it
      for (int e = 0; e < E; ++e) {
        float* w = &window_[size_t(e) * d_conv_];
        std::copy(w + 1, w + d_conv_, w);
        w[d_conv_ - 1] = xz_[size_t(t) * 2 * E + e];
        float sum = 0;
        for (int k = 0; k < d_conv_; ++k) sum += w[k] * conv_weight_[size_t(e) * d_conv_ + k];
        x_[size_t(t) * E + e] = silu(sum + conv_bias_[e]);
      }
    x_proj_.apply(x_.data(), n, selection_.data());
    dt_proj_.apply(selection_.data(), n, delta_.data(), S, E);
    for (int t = 0; t < n; ++t) {
      const float *b = &selection_[size_t(t) * S + rank_], *c = b + n_;
      const float *x = &x_[size_t(t) * E], *z = &xz_[size_t(t) * 2 * E + E];
      for (int e = 0; e < E; ++e) {
        const float delta = softplus(delta_[size_t(t) * E + e]), dx = delta * x[e];
        float* h = &h_[size_t(e) * n_];
        float sum = 0;
        for (int j = 0; j < n_; ++j) {
          h[j] = std::exp(delta * a_[size_t(e) * n_ + j]) * h[j] + dx * b[j];
          sum += h[j] * c[j];
        }
        gated_[size_t(t) * E + e] = (sum + skip_[e] * x[e]) * silu(z[e]);
      }
    }
    out_proj_.apply(gated_.data() + size_t(first_output) * E, n - first_output,
                    y + size_t(first_output) * out_proj_.out);
  }

 private:
  int inner_, n_, d_conv_, rank_;
  Linear in_proj_, x_proj_, dt_proj_, out_proj_;
  std::vector<float> conv_weight_, conv_bias_, a_, skip_, window_, h_, xz_, x_, selection_, delta_, gated_;
};

}  // namespace

std::unique_ptr<Mixer> load_mamba(const MixerSource& src) { return std::make_unique<Mamba>(src); }

}  // namespace sqp
