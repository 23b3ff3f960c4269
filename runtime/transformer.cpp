// Causal self-attention step with a KV cache (models/transformer.cpp): each token appends its
// key and value; the cache keeps the last max_tokens (the training window, 3K), oldest dropped,
// and the token attends over it, oldest first. The cache is a ring buffer sized at load.
#include <cmath>

#include "runtime/mixer.h"

namespace sqp {
namespace {

// One head's scores q·k / √d over the first `slots` cache slots. keys_t is that head's [d][capacity]
// block of the transposed cache, so the loops run over the slots; each dot sums over j in order.
SQP_ELEMENTWISE_CLONES void attention_scores(int d, int slots, int capacity, const float* __restrict q,
                                             const float* __restrict keys_t, float root, float* __restrict scores) {
  for (int s = 0; s < slots; ++s) scores[s] = 0.0f;
  for (int j = 0; j < d; ++j) {
    const float qj = q[j];
    const float* row = keys_t + size_t(j) * capacity;
    for (int s = 0; s < slots; ++s) scores[s] += qj * row[s];
  }
  for (int s = 0; s < slots; ++s) scores[s] /= root;
}

class Attention : public Mixer {
 public:
  Attention(const MixerSource& src) : dim_(src.dim), heads_(src.file.heads), capacity_(src.file.max_tokens) {
    if (dim_ % heads_ != 0)
      throw LoadError("heads " + std::to_string(heads_) + " do not divide dim " + std::to_string(dim_));
    head_dim_ = dim_ / heads_;
    qkv_ = src.linear("qkv", dim_, 3 * dim_);
    out_ = src.linear("out", dim_, dim_);
    keys_t_.resize(size_t(dim_) * capacity_);
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
      for (int j = 0; j < dim_; ++j) keys_t_[size_t(j) * capacity_ + slot] = q[dim_ + j];
      std::copy(q + 2 * dim_, q + 3 * dim_, &values_[size_t(slot) * dim_]);
      ++count_;
      const int cached = static_cast<int>(std::min<int64_t>(count_, capacity_));
      const int oldest = static_cast<int>((count_ - cached) % capacity_);
      for (int hh = 0; hh < heads_; ++hh) {
        // Scores by slot (the valid slots are always the first `cached`), then the softmax and the
        // values oldest first.
        attention_scores(d, cached, capacity_, q + hh * d, &keys_t_[size_t(hh) * d * capacity_], root, scores_.data());
        float top = -INFINITY;
        for (int s = 0; s < cached; ++s) top = std::fmax(top, scores_[s]);
        float total = 0;
        for (int c = 0, s = oldest; c < cached; ++c, s = s + 1 == capacity_ ? 0 : s + 1)
          total += scores_[s] = std::exp(scores_[s] - top);
        float* out = &y_[size_t(t) * dim_ + hh * d];
        std::fill(out, out + d, 0.0f);
        for (int c = 0, s = oldest; c < cached; ++c, s = s + 1 == capacity_ ? 0 : s + 1) {
          const float* v = &values_[size_t(s) * dim_ + hh * d];
          const float p = scores_[s] / total;
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
  std::vector<float> keys_t_, values_, qkv_rows_, scores_, y_;  // keys_t_: [dim][capacity], values_: [capacity][dim]
};

}  // namespace

std::unique_ptr<Mixer> load_transformer(const MixerSource& src) { return std::make_unique<Attention>(src); }

}  // namespace sqp
