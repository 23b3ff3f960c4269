// mLSTM step (models/mlstm.cpp), per head: m = max(log σ(f̃) + m, ĩ),
// C = e^{log σ(f̃) + m_prev − m} C + e^{ĩ − m} v kᵀ (n likewise with k), h = C q / max(|nᵀq|, e^{−m}),
// out = W_out (σ(W_o u) ⊙ h). Every projection depends on the input only: all tokens at once.
#include <cmath>
#include <limits>

#include "runtime/mixer.h"

namespace sqp {
namespace {

// One head's memory: C = keep·C + write·v (k/√d)ᵀ and cq = C q, with C stored transposed ([j][r])
// so that the loops run over the rows r; each cq_r sums over j in the model's order. Contraction
// into fused multiply-adds is off: the exponential gates amplify rounding differences, and this
// way the vector code rounds as the scalar loop it replaced did.
SQP_ELEMENTWISE_CLONES __attribute__((optimize("fp-contract=off"))) void update_memory(
    int d, float keep, float write, float root, const float* __restrict k, const float* __restrict v,
    const float* __restrict q, float* __restrict c, float* __restrict cq) {
  for (int r = 0; r < d; ++r) cq[r] = 0.0f;
  for (int j = 0; j < d; ++j) {
    const float kj = k[j] / root, qj = q[j];
    float* cj = c + size_t(j) * d;
    for (int r = 0; r < d; ++r) {
      cj[r] = keep * cj[r] + write * v[r] * kj;
      cq[r] += cj[r] * qj;
    }
  }
}

class Mlstm : public Mixer {
 public:
  explicit Mlstm(const MixerSource& src) : dim_(src.dim) {
    heads_ = static_cast<int>(src.shape("input_gate.weight").at(0));
    if (heads_ < 1 || dim_ % heads_ != 0) throw LoadError(src.prefix + "input_gate: heads do not divide the width");
    head_dim_ = dim_ / heads_;
    // One projection u -> (q, k, v, ĩ, f̃, õ): rows in that order.
    std::vector<float> w, b;
    auto append = [&](const std::string& name, int out, bool bias) {
      const auto& m = src.get(name + ".weight", {out, dim_});
      w.insert(w.end(), m.begin(), m.end());
      if (bias) {
        const auto& v = src.get(name + ".bias", {out});
        b.insert(b.end(), v.begin(), v.end());
      } else {
        b.insert(b.end(), out, 0.0f);
      }
    };
    append("q", dim_, false);
    append("k", dim_, false);
    append("v", dim_, false);
    append("input_gate", heads_, true);
    append("forget_gate", heads_, true);
    append("output_gate", dim_, true);
    width_ = 4 * dim_ + 2 * heads_;
    // Exact even under SQP_LOAD_INT8: the exponential gates and the memory amplify the rounding
    // of any of these rows. Over a recorded episode (test_runtime_equality), int8 actions moved by
    // 0.18 with this projection in int8, by 0.17 with only q, k, v and õ in int8, and by 0.048 with
    // it exact; the other backbones move by at most 0.03.
    project_ = Linear::from(w.data(), b.data(), dim_, width_);
    out_ = src.linear("out", dim_, dim_, false);
    c_.resize(size_t(heads_) * head_dim_ * head_dim_);
    n_.resize(dim_);
    m_.resize(heads_);
    projected_.resize(size_t(kMaxTokens) * width_);
    h_.resize(size_t(kMaxTokens) * dim_);
    cq_.resize(head_dim_);
  }
  void reset() override {
    std::fill(c_.begin(), c_.end(), 0.0f);
    std::fill(n_.begin(), n_.end(), 0.0f);
    std::fill(m_.begin(), m_.end(), -std::numeric_limits<float>::infinity());
  }
  void step(const float* u, int n, int first_output, float* y) override {
    const int d = head_dim_;
    const float root = std::sqrt(float(d));  // k / √d as the model divides it
    project_.apply(u, n, projected_.data());
    for (int t = 0; t < n; ++t) {
      const float* p = &projected_[size_t(t) * width_];
      const float *q = p, *k = p + dim_, *v = p + 2 * dim_, *gate_i = p + 3 * dim_, *gate_f = gate_i + heads_;
      const float* gate_o = gate_f + heads_;
      float* h = &h_[size_t(t) * dim_];
      for (int hh = 0; hh < heads_; ++hh) {
        const float log_f = log_sigmoid(gate_f[hh]), log_i = gate_i[hh];
        const float m = std::fmax(log_f + m_[hh], log_i);
        const float keep = std::exp(log_f + m_[hh] - m), write = std::exp(log_i - m);
        m_[hh] = m;
        const float *qh = q + hh * d, *kh = k + hh * d, *vh = v + hh * d;
        float* nh = &n_[size_t(hh) * d];
        float nq = 0;
        for (int j = 0; j < d; ++j) {
          nh[j] = keep * nh[j] + write * (kh[j] / root);
          nq += nh[j] * qh[j];
        }
        const float norm = std::fmax(std::fabs(nq), std::exp(-m));
        update_memory(d, keep, write, root, kh, vh, qh, &c_[size_t(hh) * d * d], cq_.data());
        for (int r = 0; r < d; ++r) h[hh * d + r] = sigmoid(gate_o[hh * d + r]) * (cq_[r] / norm);
      }
    }
    out_.apply(h_.data() + size_t(first_output) * dim_, n - first_output, y + size_t(first_output) * dim_);
  }

 private:
  int dim_, heads_, head_dim_, width_;
  Linear project_, out_;
  std::vector<float> c_, n_, m_, projected_, h_, cq_;  // c_: per head [j][r] (C transposed)
};

}  // namespace

std::unique_ptr<Mixer> load_mlstm(const MixerSource& src) { return std::make_unique<Mlstm>(src); }

}  // namespace sqp
