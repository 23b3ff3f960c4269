// sLSTM step (models/slstm.cpp): gates (z̃, ĩ, f̃, õ) = W u + b + R h_prev with R block-diagonal
// per head; m = max(log σ(f̃) + m, ĩ), c = e^{log σ(f̃) + m_prev − m} c + e^{ĩ − m} tanh(z̃),
// n likewise with 1, h = σ(õ) c / n (also the output). W u runs for all tokens at once; R h is
// sequential.
#include <cmath>
#include <limits>

#include "runtime/mixer.h"

namespace sqp {
namespace {

// The cell over the hidden units, from z̃, ĩ (= log i), log σ(f̃) (libm's, as log_sigmoid says
// why) and õ. One vectorized pass; the exponentials are exp_poly's.
SQP_ELEMENTWISE_CLONES void slstm_cell(int H, const float* __restrict z_pre, const float* __restrict log_i,
                                       const float* __restrict log_f, const float* __restrict o_pre,
                                       float* __restrict h, float* __restrict c, float* __restrict n,
                                       float* __restrict m) {
  for (int j = 0; j < H; ++j) {
    const float z = tanh_poly(z_pre[j]), o = sigmoid(o_pre[j]);
    const float kept = log_f[j] + m[j], m_new = kept > log_i[j] ? kept : log_i[j];
    const float keep = exp_poly(kept - m_new), write = exp_poly(log_i[j] - m_new);
    c[j] = keep * c[j] + write * z;
    n[j] = keep * n[j] + write;
    m[j] = m_new;
    h[j] = o * c[j] / n[j];
  }
}

class Slstm : public Mixer {
 public:
  explicit Slstm(const MixerSource& src) : dim_(src.dim) {
    heads_ = static_cast<int>(src.shape("recurrent").at(0));
    if (heads_ < 1 || dim_ % heads_ != 0) throw LoadError(src.prefix + "recurrent: heads do not divide the width");
    head_dim_ = dim_ / heads_;
    input_ = src.linear("input", dim_, 4 * dim_);
    // R's block of head hh, [d][4d] in the model, as a [4d, d] matrix: its product runs in the
    // Linear kernels (and in int8 when the file is loaded so).
    const auto& r = src.get("recurrent", {heads_, head_dim_, 4 * head_dim_});
    for (int hh = 0; hh < heads_; ++hh) {
      const auto block = transposed(&r[size_t(hh) * head_dim_ * 4 * head_dim_], head_dim_, 4 * head_dim_);
      recurrent_.push_back(src.matrix(block.data(), nullptr, head_dim_, 4 * head_dim_));
    }
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
        recurrent_[hh].apply(&h_[size_t(hh) * d], 1, mixed_.data());
        for (int g = 0; g < 4; ++g)
          for (int j = 0; j < d; ++j) gates_[g][hh * d + j] = p[g * dim_ + hh * d + j] + mixed_[g * d + j];
      }
      for (float& f : gates_[2]) f = log_sigmoid(f);
      slstm_cell(dim_, gates_[0].data(), gates_[1].data(), gates_[2].data(), gates_[3].data(), h_.data(), c_.data(),
                 n_.data(), m_.data());
      if (t >= first_output) std::copy(h_.begin(), h_.end(), y + size_t(t) * dim_);
    }
  }

 private:
  int dim_, heads_, head_dim_;
  Linear input_;
  std::vector<Linear> recurrent_;  // one per head
  std::vector<float> h_, c_, n_, m_, projected_, mixed_;
  std::vector<float> gates_[4] = {std::vector<float>(dim_), std::vector<float>(dim_), std::vector<float>(dim_),
                                  std::vector<float>(dim_)};
};

}  // namespace

std::unique_ptr<Mixer> load_slstm(const MixerSource& src) { return std::make_unique<Slstm>(src); }

}  // namespace sqp
