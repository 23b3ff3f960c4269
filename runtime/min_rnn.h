// minGRU and minLSTM as the runtime runs them (models/min_rnn.h, mingru.cpp, minlstm.cpp): an
// input projection to Gates·H pre-activations, an elementwise cell updating h, out = W_out h.
#pragma once
#include <algorithm>

#include "runtime/mixer.h"

namespace sqp {

// The candidate activation g(x) = x + 0.5 for x ≥ 0, σ(x) otherwise.
inline float min_rnn_g(float x) { return x >= 0.0f ? x + 0.5f : sigmoid(x); }

// Cell(pre, h, hidden) updates h[0..hidden) from the token's Gates·hidden pre-activations: the
// gates' blocks, then the candidate's. One pass, defined SQP_ELEMENTWISE_CLONES.
template <int Gates, void (*Cell)(const float* pre, float* h, int hidden)>
class MinRnn : public Mixer {
 public:
  explicit MinRnn(const MixerSource& src) {
    int hidden = static_cast<int>(src.shape("out.weight").at(1));
    in_proj_ = src.linear("in_proj", src.dim, Gates * hidden);
    out_ = src.linear("out", hidden, src.dim);
    h_.resize(hidden);
    pre_.resize(kMaxTokens * Gates * hidden);
    states_.resize(kMaxTokens * hidden);
  }
  void reset() override { std::fill(h_.begin(), h_.end(), 0.0f); }
  void step(const float* x, int n, int first_output, float* y) override {
    const int hidden = static_cast<int>(h_.size());
    in_proj_.apply(x, n, pre_.data());
    for (int t = 0; t < n; ++t) {
      Cell(pre_.data() + t * Gates * hidden, h_.data(), hidden);
      std::copy(h_.begin(), h_.end(), states_.begin() + t * hidden);
    }
    out_.apply(states_.data() + first_output * hidden, n - first_output, y + first_output * out_.out);
  }

 private:
  Linear in_proj_, out_;
  AlignedVector<float> h_, pre_, states_;
};

}  // namespace sqp
