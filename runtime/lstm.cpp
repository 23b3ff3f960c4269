// torch::nn::LSTM cell: i, f, o = σ(x_· + h_·), g = tanh(x_g + h_g), c = f c + i g, h = o tanh(c).
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
  void cell(float* x, float* h) override {
    const int H = hidden_;
    float *i = x, *f = x + H, *g = x + 2 * H, *o = x + 3 * H;
    for (int j = 0; j < 4 * H; ++j) x[j] += h[j];
    sigmoid_inplace(x, 2 * H);
    tanh_inplace(g, H);
    sigmoid_inplace(o, H);
    for (int j = 0; j < H; ++j) g[j] = c_[j] = f[j] * c_[j] + i[j] * g[j];
    tanh_inplace(g, H);  // g now holds tanh(c)
    for (int j = 0; j < H; ++j) h_[j] = o[j] * g[j];
  }
  std::vector<float> c_;
};

}  // namespace

std::unique_ptr<Mixer> load_lstm(const MixerSource& src) { return std::make_unique<Lstm>(src); }

}  // namespace sqp
