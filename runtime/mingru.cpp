// minGRU step (models/mingru.cpp): z = σ(k), h = (1 − z) h + z g(p).
#include "runtime/min_rnn.h"

namespace sqp {
namespace {

float mingru_cell(float h, const float* gates, int j, int hidden) {
  const float z = gates[j];
  return (1.0f - z) * h + z * gates[hidden + j];
}

}  // namespace

std::unique_ptr<Mixer> load_mingru(const MixerSource& src) { return std::make_unique<MinRnn<2, mingru_cell>>(src); }

}  // namespace sqp
