#include "runtime/ops.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace sqp {
namespace {

// One block of OB outputs for T rows: T × OB accumulators stay in registers while the weight
// rows stream past, so each weight value is loaded once per block for all T rows.
template <int T, int OB>
inline __attribute__((always_inline)) void linear_block(const Linear& l, const float* x, int x_stride, float* y,
                                                        int y_stride, int o0) {
  float acc[T][OB];
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < OB; ++j) acc[t][j] = l.bias[o0 + j];
  const float* w = l.weight_t.data() + o0;
  for (int i = 0; i < l.in; ++i, w += l.out_padded)
    for (int t = 0; t < T; ++t) {
      const float xv = x[t * x_stride + i];
      for (int j = 0; j < OB; ++j) acc[t][j] += xv * w[j];
    }
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < OB && o0 + j < l.out; ++j) y[t * y_stride + o0 + j] = acc[t][j];
}

// Rows go through a kernel 3 at a time (a step's a_{t-1}, R_t and s_t tokens), then the 2 or 1
// left. Rows is a struct whose template run<T> handles T rows; always_inline keeps a caller's
// target (a clone for AVX2, say) on the loop.
template <class Rows>
inline __attribute__((always_inline)) void by_row_groups(const Linear& l, const float* x, int n, float* y, int x_stride,
                                                         int y_stride) {
  for (; n >= 3; n -= 3, x += 3 * x_stride, y += 3 * y_stride) Rows::template run<3>(l, x, x_stride, y, y_stride);
  if (n == 2) Rows::template run<2>(l, x, x_stride, y, y_stride);
  if (n == 1) Rows::template run<1>(l, x, x_stride, y, y_stride);
}

struct LinearRows {
  template <int T>
  static inline __attribute__((always_inline)) void run(const Linear& l, const float* x, int x_stride, float* y,
                                                        int y_stride) {
    int o = 0;
    for (; o + 32 <= l.out_padded; o += 32) linear_block<T, 32>(l, x, x_stride, y, y_stride, o);
    for (; o < l.out_padded; o += 8) linear_block<T, 8>(l, x, x_stride, y, y_stride, o);
  }
};

// AVX2+FMA where the CPU has it, a portable build otherwise (one binary for any x86-64).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void linear_kernel(const Linear& l, const float* x, int n, float* y, int x_stride, int y_stride) {
  by_row_groups<LinearRows>(l, x, n, y, x_stride, y_stride);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SQP_F16C 1
#define SQP_F16C_TARGET __attribute__((target("avx2,fma,f16c")))

// F16C from CPUID leaf 1 (ECX bit 29): clang before 16 has no "f16c" for __builtin_cpu_supports.
// The avx2 check already covers the OS saving the vector registers.
bool cpu_converts_half() {
  static const bool yes = [] {
    unsigned eax, ebx, ecx, edx;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __get_cpuid(1, &eax, &ebx, &ecx, &edx) &&
           (ecx & bit_F16C);
  }();
  return yes;
}

// half = v in binary16; false if v is not a binary16 value.
SQP_F16C_TARGET bool narrows_exactly(float v, uint16_t& half) {
  half = _cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT);
  return _cvtsh_ss(half) == v && std::signbit(_cvtsh_ss(half)) == std::signbit(v);
}

// linear_block for binary16 weights: V vectors of 8 outputs for T rows in registers; each
// group of 8 weights is widened once (vcvtph2ps) and used for all T rows.
template <int T, int V>
SQP_F16C_TARGET inline void half_block(const Linear& l, const float* x, int x_stride, float* y, int y_stride, int o0) {
  __m256 acc[T][V];
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < V; ++v) acc[t][v] = _mm256_loadu_ps(l.bias.data() + o0 + 8 * v);
  const uint16_t* w = l.weight_t_half.data() + o0;
  for (int i = 0; i < l.in; ++i, w += l.out_padded) {
    __m256 wv[V];
    for (int v = 0; v < V; ++v) wv[v] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 8 * v)));
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_set1_ps(x[t * x_stride + i]);
      for (int v = 0; v < V; ++v) acc[t][v] = _mm256_fmadd_ps(xv, wv[v], acc[t][v]);
    }
  }
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < V; ++v) {
      alignas(32) float lane[8];
      _mm256_store_ps(lane, acc[t][v]);
      for (int j = 0; j < 8 && o0 + 8 * v + j < l.out; ++j) y[t * y_stride + o0 + 8 * v + j] = lane[j];
    }
}

// The same with 512-bit vectors of 16 outputs, where the CPU has AVX-512 (32 vector registers:
// T × V accumulators stay in registers for V = 4). A twin of half_block rather than one template
// over both: GCC will not inline the AVX-512 intrinsics into a function compiled for less.
#define SQP_AVX512_TARGET __attribute__((target("avx512f,avx2,fma,f16c")))
template <int T, int V>
SQP_AVX512_TARGET inline void half_block512(const Linear& l, const float* x, int x_stride, float* y, int y_stride,
                                            int o0) {
  __m512 acc[T][V];
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < V; ++v) acc[t][v] = _mm512_loadu_ps(l.bias.data() + o0 + 16 * v);
  const uint16_t* w = l.weight_t_half.data() + o0;
  for (int i = 0; i < l.in; ++i, w += l.out_padded) {
    __m512 wv[V];
    for (int v = 0; v < V; ++v)
      wv[v] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16 * v)));
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_set1_ps(x[t * x_stride + i]);
      for (int v = 0; v < V; ++v) acc[t][v] = _mm512_fmadd_ps(xv, wv[v], acc[t][v]);
    }
  }
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < V; ++v) {
      alignas(64) float lane[16];
      _mm512_store_ps(lane, acc[t][v]);
      for (int j = 0; j < 16 && o0 + 16 * v + j < l.out; ++j) y[t * y_stride + o0 + 16 * v + j] = lane[j];
    }
}

struct HalfRows512 {
  template <int T>
  SQP_AVX512_TARGET static void run(const Linear& l, const float* x, int x_stride, float* y, int y_stride) {
    int o = 0;
    for (; o + 64 <= l.out_padded; o += 64) half_block512<T, 4>(l, x, x_stride, y, y_stride, o);
    for (; o < l.out_padded; o += 8) half_block<T, 1>(l, x, x_stride, y, y_stride, o);
  }
};

struct HalfRows {
  template <int T>
  SQP_F16C_TARGET static void run(const Linear& l, const float* x, int x_stride, float* y, int y_stride) {
    int o = 0;
    for (; o + 32 <= l.out_padded; o += 32) half_block<T, 4>(l, x, x_stride, y, y_stride, o);
    for (; o < l.out_padded; o += 8) half_block<T, 1>(l, x, x_stride, y, y_stride, o);
  }
};

SQP_F16C_TARGET void linear_half_kernel(const Linear& l, const float* x, int n, float* y, int x_stride, int y_stride) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512)
    by_row_groups<HalfRows512>(l, x, n, y, x_stride, y_stride);
  else
    by_row_groups<HalfRows>(l, x, n, y, x_stride, y_stride);
}
#endif

}  // namespace

SQP_ELEMENTWISE_CLONES void gelu_inplace(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = gelu(x[i]);
}
SQP_ELEMENTWISE_CLONES void sigmoid_inplace(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = sigmoid(x[i]);
}
SQP_ELEMENTWISE_CLONES void tanh_inplace(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = tanh_poly(x[i]);
}

Linear Linear::from(const float* weight, const float* bias, int in, int out) {
  Linear l;
  l.in = in;
  l.out = out;
  l.out_padded = (out + 7) / 8 * 8;
  l.weight_t.assign(size_t(in) * l.out_padded, 0.0f);
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i) l.weight_t[size_t(i) * l.out_padded + o] = weight[size_t(o) * in + i];
  l.bias.assign(l.out_padded, 0.0f);
  if (bias) std::copy(bias, bias + out, l.bias.begin());
#ifdef SQP_F16C
  if (cpu_converts_half()) {
    std::vector<uint16_t> half(l.weight_t.size());
    for (size_t i = 0; i < half.size(); ++i)
      if (!narrows_exactly(l.weight_t[i], half[i])) return l;
    l.weight_t_half = std::move(half);
    std::vector<float>().swap(l.weight_t);
  }
#endif
  return l;
}

Linear Linear::load(const PolicyFile& f, const std::string& name, int in, int out, bool with_bias) {
  const auto& w = f.get(name + ".weight", {out, in});
  return from(w.data(), with_bias ? f.get(name + ".bias", {out}).data() : nullptr, in, out);
}

void Linear::apply(const float* x, int n, float* y, int x_stride, int y_stride) const {
#ifdef SQP_F16C
  if (!weight_t_half.empty()) return linear_half_kernel(*this, x, n, y, x_stride, y_stride);
#endif
  linear_kernel(*this, x, n, y, x_stride, y_stride);
}

LayerNorm LayerNorm::load(const PolicyFile& f, const std::string& name, int dim) {
  return {f.get(name + ".weight", {dim}), f.get(name + ".bias", {dim})};
}

namespace {

// Σ f(x[i]) in float64 over 8 running sums, so that the loop vectorizes without reassociating
// a single sum (which GCC does only under -ffast-math).
template <class F>
double sum8(const float* x, size_t n, F f) {
  double lanes[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lanes[k] += f(x[i + k]);
  for (; i < n; ++i) lanes[0] += f(x[i]);
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
}

}  // namespace

void LayerNorm::apply(const float* x, float* y) const {
  const size_t n = weight.size();
  const double mean = sum8(x, n, [](float v) { return double(v); }) / double(n);
  const double sq = sum8(x, n, [mean](float v) { return (v - mean) * (v - mean); });
  const float inv = float(1.0 / std::sqrt(sq / double(n) + 1e-5));
  const float m = float(mean);
  for (size_t i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * weight[i] + bias[i];
}

}  // namespace sqp
