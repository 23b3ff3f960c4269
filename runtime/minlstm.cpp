// minLSTM step (models/minlstm.cpp): h = (σ(k_f) h + σ(k_i) g(p)) / (σ(k_f) + σ(k_i)).
#include "runtime/min_rnn.h"

namespace sqp {
namespace {

float minlstm_cell(float h, const float* gates, int j, int hidden) {
  const float f = gates[j], i = gates[hidden + j];
  return (f * h + i * gates[2 * hidden + j]) / (f + i);
}

}  // namespace

std::unique_ptr<Mixer> load_minlstm(const MixerSource& src) { return std::make_unique<MinRnn<3, minlstm_cell>>(src); }

}  // namespace sqp
