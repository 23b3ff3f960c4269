// A backbone's mixer as the runtime runs it: one per residual-stack layer, carrying its own
// state, stepping through a few consecutive tokens at once (models/block.h has the stack).
// One file per backbone (runtime/<backbone>.cpp) defines a loader; runtime/mixers.cpp lists them.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "runtime/ops.h"
#include "runtime/sqp_file.h"

namespace sqp {

class Mixer {
 public:
  virtual ~Mixer() = default;
  // The state of a fresh sequence (the LibTorch mixer's initial_state).
  virtual void reset() = 0;
  // Advances the state through n ≤ kMaxTokens consecutive tokens x[n][dim] and writes the
  // outputs y[t][dim] of tokens t ≥ first_output (earlier outputs are not needed).
  virtual void step(const float* x, int n, int first_output, float* y) = 0;
};

// What a loader gets: the file, the prefix of this layer's mixer parameters
// ("backbone.layers.<l>.mixer."), the model width, and the precision of its matrices.
struct MixerSource {
  const PolicyFile& file;
  std::string prefix;
  int dim;
  Precision precision;
  std::vector<int64_t> shape(const std::string& name) const { return file.shape(prefix + name); }
  const std::vector<float>& get(const std::string& name, const std::vector<int64_t>& shape) const {
    return file.get(prefix + name, shape);
  }
  Linear linear(const std::string& name, int in, int out, bool with_bias = true) const {
    return Linear::load(file, prefix + name, in, out, with_bias, precision);
  }
  // A matrix the loader assembled itself ([out, in], bias may be null).
  Linear matrix(const float* weight, const float* bias, int in, int out) const {
    return Linear::from(weight, bias, in, out, precision);
  }
};

using MixerLoader = std::unique_ptr<Mixer> (*)(const MixerSource& source);

// The loader for `backbone`, or nullptr if the runtime cannot act with it.
MixerLoader mixer_loader(const std::string& backbone);
// Names of the backbones the runtime supports, for messages.
std::string runtime_backbones();

}  // namespace sqp
