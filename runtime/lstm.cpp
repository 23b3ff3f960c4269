// torch::nn::LSTM cell: i, f, o = σ(x_· + h_·), g = tanh(x_g + h_g), c = f c + i g, h = o tanh(c).
#include <cmath>

#include "runtime/torch_rnn.h"

namespace sqp {
namespace {

class Lstm : public TorchRnn {
 public:
  explicit Lstm(const MixerSource& src) : TorchRnn(src, "lstm", 4), c_(src.dim) {}
  void reset() override {
    std::fill(h_.begin(), h_.end(), 0.0f);
    std::fill(c_.begin(), c_.end(), 0.0f);
  }

 private:
  void cell(const float* x, const float* h) override {
    const int H = hidden_;
    for (int j = 0; j < H; ++j) {
      float i = sigmoid(x[j] + h[j]), f = sigmoid(x[H + j] + h[H + j]);
      float g = std::tanh(x[2 * H + j] + h[2 * H + j]), o = sigmoid(x[3 * H + j] + h[3 * H + j]);
      c_[j] = f * c_[j] + i * g;
      h_[j] = o * std::tanh(c_[j]);
    }
  }
  std::vector<float> c_;
};

}  // namespace

std::unique_ptr<Mixer> load_lstm(const MixerSource& src) { return std::make_unique<Lstm>(src); }

}  // namespace sqp
