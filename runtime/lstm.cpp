// torch::nn::LSTM cell: i, f, o = σ(x_· + h_·), g = tanh(x_g + h_g), c = f c + i g, h = o tanh(c).
#include "runtime/torch_rnn.h"

namespace sqp {
namespace {

// One pass over the hidden units, the gates in registers (as gru_cell). __restrict: without it
// GCC would need more run-time overlap checks for the eight gate streams and two outputs than it
// makes, and leaves the loop scalar (5x slower).
SQP_ELEMENTWISE_CLONES void lstm_cell(const float* __restrict x, const float* __restrict hp, float* __restrict h,
                                      float* __restrict c, int H) {
  for (int j = 0; j < H; ++j) {
    const float i = sigmoid(x[j] + hp[j]);
    const float f = sigmoid(x[H + j] + hp[H + j]);
    const float g = tanh_poly(x[2 * H + j] + hp[2 * H + j]);
    const float o = sigmoid(x[3 * H + j] + hp[3 * H + j]);
    c[j] = f * c[j] + i * g;
    h[j] = o * tanh_poly(c[j]);
  }
}

class Lstm : public TorchRnn {
 public:
  explicit Lstm(const MixerSource& src) : TorchRnn(src, "lstm", 4), c_(src.dim) {}
  void reset() override {
    std::fill(h_.begin(), h_.end(), 0.0f);
    std::fill(c_.begin(), c_.end(), 0.0f);
  }

 private:
  void cell(const float* x, const float* h) override { lstm_cell(x, h, h_.data(), c_.data(), hidden_); }
  std::vector<float> c_;
};

}  // namespace

std::unique_ptr<Mixer> load_lstm(const MixerSource& src) { return std::make_unique<Lstm>(src); }

}  // namespace sqp
