// torch::nn::GRU cell: r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n),
// h = (1 − z) ⊙ n + z ⊙ h   (x_· = W_i· x + b_i·, h_· = W_h· h + b_h·).
#include "runtime/torch_rnn.h"

namespace sqp {
namespace {

// One pass over the hidden units: the gates stay in registers instead of going through
// memory between separate sigmoid and tanh passes.
SQP_ELEMENTWISE_CLONES void gru_cell(const float* x, const float* hp, float* h, int H) {
  for (int j = 0; j < H; ++j) {
    const float r = sigmoid(x[j] + hp[j]);
    const float z = sigmoid(x[H + j] + hp[H + j]);
    const float n = tanh_poly(x[2 * H + j] + r * hp[2 * H + j]);
    h[j] = (1.0f - z) * n + z * h[j];
  }
}

class Gru : public TorchRnn {
 public:
  explicit Gru(const MixerSource& src) : TorchRnn(src, "gru", 3) {}
  void reset() override { std::fill(h_.begin(), h_.end(), 0.0f); }

 private:
  void cell(const float* x, const float* h) override { gru_cell(x, h, h_.data(), hidden_); }
};

}  // namespace

std::unique_ptr<Mixer> load_gru(const MixerSource& src) { return std::make_unique<Gru>(src); }

}  // namespace sqp
