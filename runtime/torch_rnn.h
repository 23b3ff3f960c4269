// torch::nn::GRU and torch::nn::LSTM layers (models/gru.cpp, lstm.cpp) as the runtime runs
// them: the input projection W_ih x + b_ih for all tokens at once, then per token the
// recurrent projection W_hh h + b_hh and the cell. Output = h.
#pragma once
#include <algorithm>

#include "runtime/mixer.h"

namespace sqp {

class TorchRnn : public Mixer {
 public:
  // module: "gru" or "lstm" (the parameter prefix); gates: 3 (r, z, n) or 4 (i, f, g, o).
  TorchRnn(const MixerSource& src, const std::string& module, int gates) : hidden_(src.dim), gates_(gates) {
    const auto& p = [&](const std::string& name, int in) -> Linear {
      return src.matrix(src.get(module + ".weight_" + name + "_l0", {gates * hidden_, in}).data(),
                        src.get(module + ".bias_" + name + "_l0", {gates * hidden_}).data(), in, gates * hidden_);
    };
    input_ = p("ih", src.dim);
    recurrent_ = p("hh", hidden_);
    h_.resize(hidden_);
    pre_input_.resize(kMaxTokens * gates * hidden_);
    pre_hidden_.resize(gates * hidden_);
  }
  void step(const float* x, int n, int first_output, float* y) override {
    input_.apply(x, n, pre_input_.data());
    for (int t = 0; t < n; ++t) {
      recurrent_.apply(h_.data(), 1, pre_hidden_.data());
      cell(pre_input_.data() + t * gates_ * hidden_, pre_hidden_.data());
      if (t >= first_output) std::copy(h_.begin(), h_.end(), y + t * hidden_);
    }
  }

 protected:
  // Updates h_ (and any cell state) from W_ih x + b_ih and W_hh h + b_hh, gate-major.
  virtual void cell(const float* from_input, const float* from_hidden) = 0;
  int hidden_, gates_;
  AlignedVector<float> h_;

 private:
  Linear input_, recurrent_;
  AlignedVector<float> pre_input_, pre_hidden_;
};

}  // namespace sqp
