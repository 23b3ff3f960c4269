// The arithmetic of the runtime: a linear layer over a few token rows, LayerNorm and the
// scalar functions, written to match LibTorch's definitions (float32). Buffers are owned by
// the caller and sized at load: nothing here allocates.
#pragma once
#include <cmath>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "runtime/sqp_file.h"

namespace sqp {

// Rows processed together: the pending a_{t-1} token and the R_t and s_t tokens of a step.
constexpr int kMaxTokens = 3;

// Storage that starts on a 64-byte line: a kernel's 64-byte vector loads then never straddle
// two lines (std::vector's 16-byte alignment splits every one of them).
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
  void deallocate(T* p, size_t) { ::operator delete(p, kAlignment); }
  bool operator==(const CacheLineAllocator&) const { return true; }
  bool operator!=(const CacheLineAllocator&) const { return false; }
};
template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

// y[n][out] = x[n][in] · Wᵀ + b. The weight is stored transposed and padded to a multiple of
// 8 outputs ([in][out_padded]) so the kernel streams it once for all rows.
//
// A weight matrix whose values are all binary16 values (a float16 export's) is kept in binary16
// where the CPU widens it in hardware (x86-64 F16C): a step streams half the bytes, which is
// what bounds it once the weights outgrow the L2 cache. The widening is exact and accumulation
// is float32 in the same order, so the results are those of the float32 matrix.
//
// Precision::int8 (sqp_load_ex's SQP_LOAD_INT8) trades exactness for speed, as dynamic
// quantization does: each weight row o is stored as int8 q_o,i = round(w_o,i · 127 / m_o) with
// m_o = max_i |w_o,i|, and each input row t is rounded the same way at every call
// (quantize_row). The product is an exact integer sum, scaled back in float32:
//   y_t,o = float(Σ_i qx_t,i · q_o,i) · (m_t/127 · m_o/127) + b_o      (one fused multiply-add)
// The sum runs as u8 × s8 (AVX512-VNNI's vpdpbusd, qx + 128 and a per-row correction) where the
// CPU has it, otherwise as float sums of the integers (exact below 2^24) or integer loops; all
// give the same y.
enum class Precision { exact, int8 };

// A [rows][cols] matrix as [cols][rows]. Loaders store parameters channel-last with it, so that
// a step's loops run over the channels and vectorize.
std::vector<float> transposed(const float* m, int rows, int cols);

// Rounds x[0..n) to q[i] = round_half_even(x[i] · (127 / m)), m = max |x[i]|, and returns the
// scale m / 127; all in float32. NaN if x holds a NaN or an infinity. A row with m below
// kInt8Smallest counts as zero (q = 0, scale 0): 127 / m would overflow for a subnormal m, and
// what such a row adds to a product is far below int8's own rounding.
constexpr float kInt8Smallest = 0x1p-100f;
float quantize_row(const float* x, int n, int8_t* q);

struct Linear {
  int in = 0, out = 0, out_padded = 0;
  AlignedVector<float> weight_t;
  AlignedVector<float> bias;              // bias: out_padded, zeros if the layer has none
  AlignedVector<uint16_t> weight_t_half;  // binary16 in weight_t's layout; when set, weight_t is empty
  // int8 form, when set (weight_t is then empty): q in blocks of 128 outputs, each block
  // [in_padded / 4][its outputs][4] (vpdpbusd's layout; ops.cpp's int8_offset), the row scales
  // m_o / 127 and 128 Σ_i q_o,i; x_q is the call's rounded input.
  int in_padded = 0;
  AlignedVector<int8_t> weight_q;
  AlignedVector<float> weight_scale;
  AlignedVector<int32_t> weight_offset;
  mutable AlignedVector<uint8_t> x_q;  // kMaxTokens rows of in_padded (qx + 128)
  mutable bool descending = false;     // the order of the last single-row call's output blocks
  AlignedVector<float> weight_qf;      // q as floats, [in][out_padded], for CPUs without AVX512-VNNI
  mutable AlignedVector<float> sums;   // kMaxTokens rows of out_padded: the sums on that path

  // From LibTorch's `<name>.weight` [out, in] (and `<name>.bias` [out] if `with_bias`).
  static Linear load(const PolicyFile& f, const std::string& name, int in, int out, bool with_bias = true,
                     Precision precision = Precision::exact);
  // From a [out, in] matrix given directly (a slice of a larger tensor, LRU's B, ...).
  static Linear from(const float* weight, const float* bias, int in, int out, Precision precision = Precision::exact);
  // x: n rows of `in` floats (row stride x_stride); y: n rows of out floats (stride y_stride).
  void apply(const float* x, int n, float* y, int x_stride, int y_stride) const;
  void apply(const float* x, int n, float* y) const { apply(x, n, y, in, out); }
  // An int8 apply through the loops that CPUs without AVX512-VNNI run (float sums of the
  // integers); the same outputs bit for bit (tests compare the two where both run).
  void apply_portable(const float* x, int n, float* y) const;
};

struct LayerNorm {
  std::vector<float> weight, bias;
  static LayerNorm load(const PolicyFile& f, const std::string& name, int dim);
  // eps 1e-5 (torch's default); x and y may alias.
  void apply(const float* x, float* y) const;
};

// e^x as 2^n · p(r), r = x − n ln2 (|r| ≤ ln2/2, ln2 split so n · ln2_hi is exact), p the
// degree-7 Taylor polynomial: |relative error| ≤ 2.5e-7 (tested against float64 exp). Plain
// arithmetic and selects, so loops over it vectorize, which a libm expf call per element does
// not (two per minGRU cell were a sixth of a step). x is clamped to [−87, 88], where 2^n stays a
// normal float: e^x below e^−87 comes out as e^−87 (1.6e-38), above e^88 as e^88. NaN stays NaN.
inline float exp_poly(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  constexpr float round_magic = 12582912.0f;  // 1.5 · 2^23: adding it rounds to an integer
  const float n = (x * 1.44269504088896341f + round_magic) - round_magic;
  const float r = (x - n * 0.693145751953125f) - n * 1.42860676533018708e-6f;
  constexpr float c[] = {1.0f, 1.0f, 0.5f, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};  // 1/k!
  float p = c[7];
  for (int k = 6; k >= 0; --k) p = p * r + c[k];
  const float exponent = n == n ? n : 0.0f;  // a NaN has no integer conversion; p is NaN then
  const uint32_t scale = uint32_t(int32_t(exponent) + 127) << 23;
  return p * __builtin_bit_cast(float, scale);
}
inline float sigmoid(float x) { return 1.0f / (1.0f + exp_poly(-x)); }
// tanh through exp_poly; below |x| = 1/4, where 1 − 2/(1 + e^2x) cancels, its odd Taylor series.
inline float tanh_poly(float x) {
  const float u = x * x;
  const float series = x * (1.0f + u * (-1.0f / 3 + u * (2.0f / 15 + u * (-17.0f / 315 + u * (62.0f / 2835)))));
  const float large = 1.0f - 2.0f / (1.0f + exp_poly(2.0f * x));
  return std::fabs(x) < 0.25f ? series : large;
}
// log(1 + e^−|x|), for softplus. With u = e^−|x| ∈ (0, 1], log1p(u) = 2 atanh(s) with
// s = u / (2 + u) ∈ (0, 1/3]: no 1 + u is formed, so a small u keeps its digits; the odd series
// to s^15 leaves s^16/17 < 1.5e-9 out. Plain arithmetic, so loops over it vectorize (libm's
// log1pf and expf per element were a quarter of a Mamba step).
inline float log1p_exp_neg_abs(float x) {
  const float u = exp_poly(-std::fabs(x)), s = u / (2.0f + u), s2 = s * s;
  float p = 1.0f / 15;
  for (float c : {1.0f / 13, 1.0f / 11, 1.0f / 9, 1.0f / 7, 1.0f / 5, 1.0f / 3, 1.0f}) p = p * s2 + c;
  return 2.0f * s * p;
}
// torch::softplus (beta 1, threshold 20): max(x, 0) + log(1 + e^−|x|).
inline float softplus(float x) { return x > 20.0f ? x : (x > 0.0f ? x : 0.0f) + log1p_exp_neg_abs(x); }
// torch::log_sigmoid, stable for large |x|. libm's: the xLSTM cells sum log σ over an episode, and
// log1p_exp_neg_abs's 2.5e-7 (exp_poly's) doubled mLSTM's action difference from LibTorch (to
// 9.95e-6 of the 1e-5 bound over 1000 steps).
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
// Loops over the functions above (GELU here, the cells in their backbones' files) are defined
// SQP_ELEMENTWISE_CLONES: with AVX2 and AVX-512 builds that the loader picks for the CPU, the
// library itself staying built for any x86-64.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SQP_ELEMENTWISE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SQP_ELEMENTWISE_CLONES
#endif
void gelu_inplace(float* x, int n);
inline float silu(float x) { return x * sigmoid(x); }

}  // namespace sqp
