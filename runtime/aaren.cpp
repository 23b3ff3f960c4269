// Aaren step (models/aaren.cpp), per head with a learned query: s = qᵀk / √d, m = max(m, s),
// u = e^{m_prev − m} u + e^{s − m}, w = e^{m_prev − m} w + e^{s − m} v, out = W_out (w / u).
#include <cmath>
#include <limits>

#include "runtime/mixer.h"

namespace sqp {
namespace {

class Aaren : public Mixer {
 public:
  explicit Aaren(const MixerSource& src) : dim_(src.dim) {
    const auto q_shape = src.shape("query");
    heads_ = static_cast<int>(q_shape.at(0));
    if (q_shape.size() != 2 || heads_ * q_shape[1] != dim_)
      throw LoadError(src.prefix + "query: expected [heads, dim / heads]");
    head_dim_ = dim_ / heads_;
    query_ = src.get("query", {heads_, head_dim_});
    std::vector<float> kv(src.get("k.weight", {dim_, dim_}));
    const auto& v = src.get("v.weight", {dim_, dim_});
    kv.insert(kv.end(), v.begin(), v.end());
    kv_ = src.matrix(kv.data(), nullptr, dim_, 2 * dim_);  // (k, v) in one pass
    out_ = src.linear("out", dim_, dim_);
    m_.resize(heads_);
    u_.resize(heads_);
    w_.resize(dim_);
    kv_rows_.resize(size_t(kMaxTokens) * 2 * dim_);
    o_.resize(size_t(kMaxTokens) * dim_);
  }
  void reset() override {
    std::fill(m_.begin(), m_.end(), -std::numeric_limits<float>::infinity());
    std::fill(u_.begin(), u_.end(), 0.0f);
    std::fill(w_.begin(), w_.end(), 0.0f);
  }
  void step(const float* x, int n, int first_output, float* y) override {
    const int d = head_dim_;
    const float root = std::sqrt(float(d));
    kv_.apply(x, n, kv_rows_.data());
    for (int t = 0; t < n; ++t) {
      const float *k = &kv_rows_[size_t(t) * 2 * dim_], *v = k + dim_;
      for (int hh = 0; hh < heads_; ++hh) {
        float dot = 0;
        for (int j = 0; j < d; ++j) dot += k[hh * d + j] * query_[hh * d + j];
        const float s = dot / root, m = std::fmax(m_[hh], s);
        const float a = std::exp(m_[hh] - m), b = std::exp(s - m);
        m_[hh] = m;
        u_[hh] = a * u_[hh] + b;
        for (int j = 0; j < d; ++j) {
          float& w = w_[hh * d + j];
          w = a * w + b * v[hh * d + j];
          o_[size_t(t) * dim_ + hh * d + j] = w / u_[hh];
        }
      }
    }
    out_.apply(o_.data() + size_t(first_output) * dim_, n - first_output, y + size_t(first_output) * dim_);
  }

 private:
  int dim_, heads_, head_dim_;
  std::vector<float> query_, m_, u_, w_, kv_rows_, o_;
  Linear kv_, out_;
};

}  // namespace

std::unique_ptr<Mixer> load_aaren(const MixerSource& src) { return std::make_unique<Aaren>(src); }

}  // namespace sqp
