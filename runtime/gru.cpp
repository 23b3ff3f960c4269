// torch::nn::GRU cell: r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n),
// h = (1 − z) ⊙ n + z ⊙ h   (x_· = W_i· x + b_i·, h_· = W_h· h + b_h·).
#include "runtime/torch_rnn.h"

namespace sqp {
namespace {

class Gru : public TorchRnn {
 public:
  explicit Gru(const MixerSource& src) : TorchRnn(src, "gru", 3) {}
  void reset() override { std::fill(h_.begin(), h_.end(), 0.0f); }

 private:
  void cell(float* x, float* h) override {
    const int H = hidden_;
    float *r = x, *z = x + H, *n = x + 2 * H;
    for (int j = 0; j < 2 * H; ++j) x[j] += h[j];
    sigmoid_inplace(x, 2 * H);
    for (int j = 0; j < H; ++j) n[j] += r[j] * h[2 * H + j];
    tanh_inplace(n, H);
    for (int j = 0; j < H; ++j) h_[j] = (1.0f - z[j]) * n[j] + z[j] * h_[j];
  }
};

}  // namespace

std::unique_ptr<Mixer> load_gru(const MixerSource& src) { return std::make_unique<Gru>(src); }

}  // namespace sqp
