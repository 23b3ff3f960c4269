// S4D step (models/s4.cpp): per channel d and mode m, h = Ā h + B̄ u_d (complex, zero-order
// hold computed once at load as the model computes it each step), y_d = 2·Re[Σ_m C h] + D u_d,
// out = W·GELU(y) + b.
#include <cmath>

#include "runtime/mixer.h"

namespace sqp {
namespace {

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
    for (int t = 0; t < n; ++t) {
      for (int d = 0; d < dim_; ++d) {
        const float ud = u[t * dim_ + d];
        float sum = 0;
        for (int m = 0; m < modes_; ++m) {
          size_t i = size_t(d) * modes_ + m;
          float re = abar_re_[i] * h_re_[i] - abar_im_[i] * h_im_[i] + bbar_re_[i] * ud;
          float im = abar_re_[i] * h_im_[i] + abar_im_[i] * h_re_[i] + bbar_im_[i] * ud;
          h_re_[i] = re;
          h_im_[i] = im;
          sum += re * c_re_[i] - im * c_im_[i];
        }
        y_[t * dim_ + d] = gelu(2.0f * sum + skip_[d] * ud);
      }
    }
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
