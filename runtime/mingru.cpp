// minGRU step (models/mingru.cpp): z = σ(k), h = (1 − z) h + z g(p).
#include "runtime/min_rnn.h"

namespace sqp {
namespace {

SQP_ELEMENTWISE_CLONES void mingru_cell(const float* pre, float* h, int hidden) {
  for (int j = 0; j < hidden; ++j) {
    const float z = sigmoid(pre[j]);
    h[j] = (1.0f - z) * h[j] + z * min_rnn_g(pre[hidden + j]);
  }
}

}  // namespace

std::unique_ptr<Mixer> load_mingru(const MixerSource& src) { return std::make_unique<MinRnn<2, mingru_cell>>(src); }

}  // namespace sqp
