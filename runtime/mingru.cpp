// minGRU step (models/mingru.cpp): z = σ(k), h = (1 − z) h + z g(p).
#include "runtime/min_rnn.h"

namespace sqp {
namespace {

float mingru_cell(float h, const float* pre, int j, int hidden) {
  float z = sigmoid(pre[j]);
  return (1.0f - z) * h + z * min_rnn_g(pre[hidden + j]);
}

}  // namespace

std::unique_ptr<Mixer> load_mingru(const MixerSource& src) { return std::make_unique<MinRnn<2, mingru_cell>>(src); }

}  // namespace sqp
