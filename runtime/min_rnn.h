// minGRU and minLSTM as the runtime runs them (models/min_rnn.h, mingru.cpp, minlstm.cpp): an
// input projection to Gates·H pre-activations, an elementwise cell updating h, out = W_out h.
#pragma once
#include <algorithm>

#include "runtime/mixer.h"

namespace sqp {

// The candidate activation g(x) = x + 0.5 for x ≥ 0, σ(x) otherwise, over x[0..n) in place.
void min_rnn_g_inplace(float* x, int n);

// Cell(h, gates, j, hidden) -> the new h[j]; gates holds the token's Gates·H activations: σ of
// the first Gates − 1 pre-activation blocks, then g of the last.
template <int Gates, float (*Cell)(float h, const float* gates, int j, int hidden)>
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
      float* gates = pre_.data() + t * Gates * hidden;
      sigmoid_inplace(gates, (Gates - 1) * hidden);
      min_rnn_g_inplace(gates + (Gates - 1) * hidden, hidden);
      for (int j = 0; j < hidden; ++j) h_[j] = Cell(h_[j], gates, j, hidden);
      std::copy(h_.begin(), h_.end(), states_.begin() + t * hidden);
    }
    out_.apply(states_.data() + first_output * hidden, n - first_output, y + first_output * out_.out);
  }

 private:
  Linear in_proj_, out_;
  std::vector<float> h_, pre_, states_;
};

}  // namespace sqp
