// The arithmetic of the runtime: a linear layer over a few token rows, LayerNorm and the
// scalar functions, written to match LibTorch's definitions (float32). Buffers are owned by
// the caller and sized at load: nothing here allocates.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/sqp_file.h"

namespace sqp {

// Rows processed together: the pending a_{t-1} token and the R_t and s_t tokens of a step.
constexpr int kMaxTokens = 3;

// y[n][out] = x[n][in] · Wᵀ + b. The weight is stored transposed and padded to a multiple of
// 8 outputs ([in][out_padded]) so the kernel streams it once for all rows.
//
// A weight matrix whose values are all binary16 values (a float16 export's) is kept in binary16
// where the CPU widens it in hardware (x86-64 F16C): a step streams half the bytes, which is
// what bounds it once the weights outgrow the L2 cache. The widening is exact and accumulation
// is float32 in the same order, so the results are those of the float32 matrix.
struct Linear {
  int in = 0, out = 0, out_padded = 0;
  std::vector<float> weight_t, bias;    // bias: out_padded, zeros if the layer has none
  std::vector<uint16_t> weight_t_half;  // binary16 in weight_t's layout; when set, weight_t is empty

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
// erf as x·P(x²)/Q(x²), clipped to ±1 beyond |x| = 3.8: coefficients fitted for the runtime by
// scripts/fit_erf.py, |error| ≤ 3.1e-7 evaluated in float32 (erff's own rounding near ±1 is
// 6e-8). Plain arithmetic, so loops over it vectorize; a libm erff call per element was 15 %
// of a step.
inline float erf_rational(float x) {
  constexpr float p[] = {1.128379000e+00f, 1.926573569e-01f,  4.963460910e-02f, 3.424898025e-03f,
                         1.379810924e-04f, -2.009812567e-06f, 2.130623066e-08f};  // lowest degree first
  constexpr float q[] = {1.0f, 5.040691331e-01f, 1.120204319e-01f, 1.375950373e-02f, 8.980163967e-04f};
  const float u = x * x;
  float num = p[6], den = q[4];
  for (int i = 5; i >= 0; --i) num = num * u + p[i];
  for (int i = 3; i >= 0; --i) den = den * u + q[i];
  const float r = x * num / den;
  return x >= 3.8f ? 1.0f : (x <= -3.8f ? -1.0f : r);
}
// torch::gelu (exact, erf form).
inline float gelu(float x) { return 0.5f * x * (1.0f + erf_rational(x * 0.70710678118654752f)); }
// gelu over x[0..n) in place, vectorized.
void gelu_inplace(float* x, int n);
inline float silu(float x) { return x * sigmoid(x); }

}  // namespace sqp
