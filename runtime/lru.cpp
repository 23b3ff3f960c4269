// LRU step (models/lru.cpp): x = λ ⊙ x + γ ⊙ (B u) in complex numbers, y = Re[C x] + D ⊙ u.
// B's real and imaginary parts run as one [2N, D] projection, C as one [D, 2N] one on (x_re, x_im).
#include <cmath>

#include "runtime/mixer.h"

namespace sqp {
namespace {

class Lru : public Mixer {
 public:
  explicit Lru(const MixerSource& src) : dim_(src.dim) {
    n_ = static_cast<int>(src.shape("nu_log").at(0));
    const auto &nu = src.get("nu_log", {n_}), &theta = src.get("theta_log", {n_}), &gamma = src.get("gamma_log", {n_});
    for (int j = 0; j < n_; ++j) {  // λ and γ as models/lru.cpp computes them: λ in float64, γ in float32
      double modulus = std::exp(-std::exp(double(nu[j]))), phase = std::exp(double(theta[j]));
      lambda_re_.push_back(float(modulus * std::cos(phase)));
      lambda_im_.push_back(float(modulus * std::sin(phase)));
      gamma_.push_back(std::exp(gamma[j]));
    }
    const auto &b_re = src.get("B_re", {n_, dim_}), &b_im = src.get("B_im", {n_, dim_});
    std::vector<float> b(b_re);
    b.insert(b.end(), b_im.begin(), b_im.end());
    input_ = src.matrix(b.data(), nullptr, dim_, 2 * n_);
    const auto &c_re = src.get("C_re", {dim_, n_}), &c_im = src.get("C_im", {dim_, n_});
    std::vector<float> c(size_t(dim_) * 2 * n_);
    for (int d = 0; d < dim_; ++d)
      for (int j = 0; j < n_; ++j) {
        c[size_t(d) * 2 * n_ + j] = c_re[size_t(d) * n_ + j];
        c[size_t(d) * 2 * n_ + n_ + j] = -c_im[size_t(d) * n_ + j];
      }
    readout_ = src.matrix(c.data(), nullptr, 2 * n_, dim_);
    skip_ = src.get("D", {dim_});
    x_.resize(2 * n_);
    drive_.resize(kMaxTokens * 2 * n_);
    states_.resize(kMaxTokens * 2 * n_);
  }
  void reset() override { std::fill(x_.begin(), x_.end(), 0.0f); }
  // x = λ x + γ (B u) for one token's drive (re, im), the new x also copied to `out`. The
  // arguments are distinct buffers: __restrict lets GCC vectorize the loop.
  static void recur_n(int n, const float* __restrict l_re, const float* __restrict l_im, const float* __restrict gamma,
                      const float* __restrict drive, float* __restrict x, float* __restrict out) {
    for (int j = 0; j < n; ++j) {
      const float re = x[j], im = x[n + j];
      x[j] = l_re[j] * re - l_im[j] * im + drive[j] * gamma[j];
      x[n + j] = l_re[j] * im + l_im[j] * re + drive[n + j] * gamma[j];
      out[j] = x[j];
      out[n + j] = x[n + j];
    }
  }
  void recur(const float* drive, float* out) {
    recur_n(n_, lambda_re_.data(), lambda_im_.data(), gamma_.data(), drive, x_.data(), out);
  }
  void step(const float* u, int n, int first_output, float* y) override {
    input_.apply(u, n, drive_.data());
    for (int t = 0; t < n; ++t) recur(drive_.data() + t * 2 * n_, states_.data() + t * 2 * n_);
    readout_.apply(states_.data() + first_output * 2 * n_, n - first_output, y + first_output * dim_);
    for (int t = first_output; t < n; ++t)
      for (int d = 0; d < dim_; ++d) y[t * dim_ + d] += skip_[d] * u[t * dim_ + d];
  }

 private:
  int dim_, n_;
  std::vector<float> lambda_re_, lambda_im_, gamma_, skip_, x_, drive_, states_;
  Linear input_, readout_;
};

}  // namespace

std::unique_ptr<Mixer> load_lru(const MixerSource& src) { return std::make_unique<Lru>(src); }

}  // namespace sqp
