// torch::nn::GRU cell: r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n),
// h = (1 − z) ⊙ n + z ⊙ h   (x_· = W_i· x + b_i·, h_· = W_h· h + b_h·).
#include <cmath>

#include "runtime/torch_rnn.h"

namespace sqp {
namespace {

class Gru : public TorchRnn {
 public:
  explicit Gru(const MixerSource& src) : TorchRnn(src, "gru", 3) {}
  void reset() override { std::fill(h_.begin(), h_.end(), 0.0f); }

 private:
  void cell(const float* x, const float* h) override {
    const int H = hidden_;
    for (int j = 0; j < H; ++j) {
      float r = sigmoid(x[j] + h[j]), z = sigmoid(x[H + j] + h[H + j]);
      float n = std::tanh(x[2 * H + j] + r * h[2 * H + j]);
      h_[j] = (1.0f - z) * n + z * h_[j];
    }
  }
};

}  // namespace

std::unique_ptr<Mixer> load_gru(const MixerSource& src) { return std::make_unique<Gru>(src); }

}  // namespace sqp
