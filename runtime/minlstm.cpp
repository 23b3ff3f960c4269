// minLSTM step (models/minlstm.cpp): h = (σ(k_f) h + σ(k_i) g(p)) / (σ(k_f) + σ(k_i)).
#include "runtime/min_rnn.h"

namespace sqp {
namespace {

SQP_ELEMENTWISE_CLONES void minlstm_cell(const float* pre, float* h, int hidden) {
  for (int j = 0; j < hidden; ++j) {
    const float f = sigmoid(pre[j]), i = sigmoid(pre[hidden + j]);
    h[j] = (f * h[j] + i * min_rnn_g(pre[2 * hidden + j])) / (f + i);
  }
}

}  // namespace

std::unique_ptr<Mixer> load_minlstm(const MixerSource& src) { return std::make_unique<MinRnn<3, minlstm_cell>>(src); }

}  // namespace sqp
