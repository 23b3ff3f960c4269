// S4D step (models/s4.cpp): per channel d and mode m, h = Ā h + B̄ u_d (complex, zero-order
// hold computed once at load as the model computes it each step), y_d = 2·Re[Σ_m C h] + D u_d,
// out = W·GELU(y) + b.
#include <cmath>

#include "runtime/mixer.h"

namespace sqp {
namespace {

// One token over D channels and M modes, the arrays [mode][channel] so that the loops run over
// the channels: h = Ā h + B̄ u, y = GELU(2·Σ_m Re(C h) + D u), the sum in mode order.
SQP_ELEMENTWISE_CLONES void scan_token(int D, int M, const float* __restrict u, const float* __restrict abar_re,
                                       const float* __restrict abar_im, const float* __restrict bbar_re,
                                       const float* __restrict bbar_im, const float* __restrict c_re,
                                       const float* __restrict c_im, const float* __restrict skip,
                                       float* __restrict h_re, float* __restrict h_im, float* __restrict y) {
  for (int d = 0; d < D; ++d) y[d] = 0.0f;
  for (int m = 0; m < M; ++m)
    for (int d = 0; d < D; ++d) {
      const size_t i = size_t(m) * D + d;
      const float re = abar_re[i] * h_re[i] - abar_im[i] * h_im[i] + bbar_re[i] * u[d];
      const float im = abar_re[i] * h_im[i] + abar_im[i] * h_re[i] + bbar_im[i] * u[d];
      h_re[i] = re;
      h_im[i] = im;
      y[d] += re * c_re[i] - im * c_im[i];
    }
  for (int d = 0; d < D; ++d) y[d] = gelu(2.0f * y[d] + skip[d] * u[d]);
}

class S4 : public Mixer {
 public:
  explicit S4(const MixerSource& src) : dim_(src.dim) {
    modes_ = static_cast<int>(src.shape("A_log_re").at(1));
    const std::vector<int64_t> dm{dim_, modes_};
    const auto &a_log_re = src.get("A_log_re", dm), &a_im = src.get("A_im", dm), &log_dt = src.get("log_dt", {dim_});
    c_re_ = src.get("C_re", dm);
    c_im_ = src.get("C_im", dm);
    skip_ = src.get("D", {dim_});
    for (int d = 0; d < dim_; ++d) {  // Ā and B̄ as models/s4.cpp computes them, in float64
      double dt = std::exp(double(log_dt[d]));
      for (int m = 0; m < modes_; ++m) {
        size_t i = size_t(d) * modes_ + m;
        double a_re = -std::exp(double(a_log_re[i])), a_im_i = a_im[i];
        double decay = std::exp(dt * a_re), angle = dt * a_im_i;
        double abar_re = decay * std::cos(angle), abar_im = decay * std::sin(angle);
        double norm = a_re * a_re + a_im_i * a_im_i, num_re = abar_re - 1.0;
        abar_re_.push_back(float(abar_re));
        abar_im_.push_back(float(abar_im));
        bbar_re_.push_back(float((num_re * a_re + abar_im * a_im_i) / norm));
        bbar_im_.push_back(float((abar_im * a_re - num_re * a_im_i) / norm));
      }
    }
    // [channel][mode] (the model's layout) to [mode][channel], for scan_token.
    for (auto* v : {&abar_re_, &abar_im_, &bbar_re_, &bbar_im_, &c_re_, &c_im_})
      *v = transposed(v->data(), dim_, modes_);
    out_ = src.linear("out", dim_, dim_);
    h_re_.resize(abar_re_.size());
    h_im_.resize(abar_re_.size());
    y_.resize(size_t(kMaxTokens) * dim_);
  }
  void reset() override {
    std::fill(h_re_.begin(), h_re_.end(), 0.0f);
    std::fill(h_im_.begin(), h_im_.end(), 0.0f);
  }
  void step(const float* u, int n, int first_output, float* y) override {
    for (int t = 0; t < n; ++t)
      scan_token(dim_, modes_, u + t * dim_, abar_re_.data(), abar_im_.data(), bbar_re_.data(), bbar_im_.data(),
                 c_re_.data(), c_im_.data(), skip_.data(), h_re_.data(), h_im_.data(), y_.data() + t * dim_);
    out_.apply(y_.data() + first_output * dim_, n - first_output, y + first_output * dim_);
  }

 private:
  int dim_, modes_;
  std::vector<float> abar_re_, abar_im_, bbar_re_, bbar_im_, c_re_, c_im_, skip_, h_re_, h_im_, y_;
  Linear out_;
};

}  // namespace

std::unique_ptr<Mixer> load_s4(const MixerSource& src) { return std::make_unique<S4>(src); }

}  // namespace sqp
