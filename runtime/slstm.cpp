// sLSTM step (models/slstm.cpp): gates (z̃, ĩ, f̃, õ) = W u + b + R h_prev with R block-diagonal
// per head; m = max(log σ(f̃) + m, ĩ), c = e^{log σ(f̃) + m_prev − m} c + e^{ĩ − m} tanh(z̃),
// n likewise with 1, h = σ(õ) c / n (also the output). W u runs for all tokens at once; R h is
// sequential.
#include <cmath>
#include <limits>

#include "runtime/mixer.h"

namespace sqp {
namespace {

class Slstm : public Mixer {
 public:
  explicit Slstm(const MixerSource& src) : dim_(src.dim) {
    heads_ = static_cast<int>(src.shape("recurrent").at(0));
    if (heads_ < 1 || dim_ % heads_ != 0) throw LoadError(src.prefix + "recurrent: heads do not divide the width");
    head_dim_ = dim_ / heads_;
    input_ = src.linear("input", dim_, 4 * dim_);
    recurrent_ = src.get("recurrent", {heads_, head_dim_, 4 * head_dim_});
    for (auto* v : {&h_, &c_, &n_, &m_}) v->resize(dim_);
    projected_.resize(size_t(kMaxTokens) * 4 * dim_);
    mixed_.resize(4 * head_dim_);
  }
  void reset() override {
    for (auto* v : {&h_, &c_, &n_}) std::fill(v->begin(), v->end(), 0.0f);
    std::fill(m_.begin(), m_.end(), -std::numeric_limits<float>::infinity());
  }
  void step(const float* u, int n, int first_output, float* y) override {
    const int d = head_dim_;
    input_.apply(u, n, projected_.data());
    for (int t = 0; t < n; ++t) {
      const float* p = &projected_[size_t(t) * 4 * dim_];
      // R h_prev for every head first: h_ is overwritten below.
      for (int hh = 0; hh < heads_; ++hh) {
        std::fill(mixed_.begin(), mixed_.end(), 0.0f);
        for (int i = 0; i < d; ++i) {
          const float hv = h_[hh * d + i];
          const float* r = &recurrent_[(size_t(hh) * d + i) * 4 * d];
          for (int e = 0; e < 4 * d; ++e) mixed_[e] += hv * r[e];
        }
        for (int g = 0; g < 4; ++g)
          for (int j = 0; j < d; ++j) gates_[g][hh * d + j] = p[g * dim_ + hh * d + j] + mixed_[g * d + j];
      }
      for (int j = 0; j < dim_; ++j) {
        const float z = tanh_poly(gates_[0][j]), log_i = gates_[1][j];
        const float log_f = log_sigmoid(gates_[2][j]), o = sigmoid(gates_[3][j]);
        const float m = std::fmax(log_f + m_[j], log_i);
        const float keep = std::exp(log_f + m_[j] - m), write = std::exp(log_i - m);
        c_[j] = keep * c_[j] + write * z;
        n_[j] = keep * n_[j] + write;
        m_[j] = m;
        h_[j] = o * c_[j] / n_[j];
      }
      if (t >= first_output) std::copy(h_.begin(), h_.end(), y + size_t(t) * dim_);
    }
  }

 private:
  int dim_, heads_, head_dim_;
  Linear input_;
  std::vector<float> recurrent_, h_, c_, n_, m_, projected_, mixed_;
  std::vector<float> gates_[4] = {std::vector<float>(dim_), std::vector<float>(dim_), std::vector<float>(dim_),
                                  std::vector<float>(dim_)};
};

}  // namespace

std::unique_ptr<Mixer> load_slstm(const MixerSource& src) { return std::make_unique<Slstm>(src); }

}  // namespace sqp
