// The arithmetic of the runtime: a linear layer over a few token rows, LayerNorm and the
// scalar functions, written to match LibTorch's definitions (float32). Buffers are owned by
// the caller and sized at load: nothing here allocates.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "runtime/sqp_file.h"

namespace sqp {

// Rows processed together: the pending a_{t-1} token and the R_t and s_t tokens of a step.
constexpr int kMaxTokens = 3;

// y[n][out] = x[n][in] · Wᵀ + b. The weight is stored transposed and padded to a multiple of
// 8 outputs ([in][out_padded]) so the kernel streams it once for all rows.
struct Linear {
  int in = 0, out = 0, out_padded = 0;
  std::vector<float> weight_t, bias;  // bias: out_padded, zeros if the layer has none

  // From LibTorch's `<name>.weight` [out, in] (and `<name>.bias` [out] if `with_bias`).
  static Linear load(const PolicyFile& f, const std::string& name, int in, int out, bool with_bias = true);
  // From a [out, in] matrix given directly (a slice of a larger tensor, LRU's B, ...).
  static Linear from(const float* weight, const float* bias, int in, int out);
  // x: n rows of `in` floats (row stride x_stride); y: n rows of out floats (stride y_stride).
  void apply(const float* x, int n, float* y, int x_stride, int y_stride) const;
  void apply(const float* x, int n, float* y) const { apply(x, n, y, in, out); }
};

struct LayerNorm {
  std::vector<float> weight, bias;
  static LayerNorm load(const PolicyFile& f, const std::string& name, int dim);
  // eps 1e-5 (torch's default); x and y may alias.
  void apply(const float* x, float* y) const;
};

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
// torch::softplus (beta 1, threshold 20).
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }
// torch::log_sigmoid, stable for large |x|.
inline float log_sigmoid(float x) { return std::fmin(x, 0.0f) - std::log1p(std::exp(-std::fabs(x))); }
// torch::gelu (exact, erf form).
inline float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }
inline float silu(float x) { return x * sigmoid(x); }

}  // namespace sqp
