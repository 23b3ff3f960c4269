// Causal self-attention step with a KV cache (models/transformer.cpp): each token appends its
// key and value; the cache keeps the last max_tokens (the training window, 3K), oldest dropped,
// and the token attends over it, oldest first. The cache is a ring buffer sized at load.
#include <cmath>

#include "runtime/mixer.h"

namespace sqp {
namespace {

class Attention : public Mixer {
 public:
  Attention(const MixerSource& src) : dim_(src.dim), heads_(src.file.heads), capacity_(src.file.max_tokens) {
    if (dim_ % heads_ != 0)
      throw LoadError("heads " + std::to_string(heads_) + " do not divide dim " + std::to_string(dim_));
    head_dim_ = dim_ / heads_;
    qkv_ = src.linear("qkv", dim_, 3 * dim_);
    out_ = src.linear("out", dim_, dim_);
    keys_.resize(size_t(capacity_) * dim_);
    values_.resize(size_t(capacity_) * dim_);
    qkv_rows_.resize(size_t(kMaxTokens) * 3 * dim_);
    scores_.resize(capacity_);
    y_.resize(size_t(kMaxTokens) * dim_);
  }
  void reset() override { count_ = 0; }
  void step(const float* x, int n, int first_output, float* y) override {
    const int d = head_dim_;
    const float root = std::sqrt(float(d));
    qkv_.apply(x, n, qkv_rows_.data());
    for (int t = 0; t < n; ++t) {
      const float* q = &qkv_rows_[size_t(t) * 3 * dim_];
      const int slot = static_cast<int>(count_ % capacity_);
      std::copy(q + dim_, q + 2 * dim_, &keys_[size_t(slot) * dim_]);
      std::copy(q + 2 * dim_, q + 3 * dim_, &values_[size_t(slot) * dim_]);
      ++count_;
      const int cached = static_cast<int>(std::min<int64_t>(count_, capacity_));
      const int oldest = static_cast<int>((count_ - cached) % capacity_);
      for (int hh = 0; hh < heads_; ++hh) {
        float top = -INFINITY;
        for (int c = 0; c < cached; ++c) {
          const float* k = &keys_[size_t((oldest + c) % capacity_) * dim_ + hh * d];
          float dot = 0;
          for (int j = 0; j < d; ++j) dot += q[hh * d + j] * k[j];
          scores_[c] = dot / root;
          top = std::fmax(top, scores_[c]);
        }
        float total = 0;
        for (int c = 0; c < cached; ++c) total += scores_[c] = std::exp(scores_[c] - top);
        float* out = &y_[size_t(t) * dim_ + hh * d];
        std::fill(out, out + d, 0.0f);
        for (int c = 0; c < cached; ++c) {
          const float* v = &values_[size_t((oldest + c) % capacity_) * dim_ + hh * d];
          const float p = scores_[c] / total;
          for (int j = 0; j < d; ++j) out[j] += p * v[j];
        }
      }
    }
    out_.apply(y_.data() + size_t(first_output) * dim_, n - first_output, y + size_t(first_output) * dim_);
  }

 private:
  int dim_, heads_, capacity_, head_dim_ = 0;
  int64_t count_ = 0;
  Linear qkv_, out_;
  std::vector<float> keys_, values_, qkv_rows_, scores_, y_;
};

}  // namespace

std::unique_ptr<Mixer> load_transformer(const MixerSource& src) { return std::make_unique<Attention>(src); }

}  // namespace sqp
