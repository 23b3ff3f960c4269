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

// int8 matrices (Precision::int8). acc[t][o] = Σ_i u_t,i · q_o,i over the rounded rows
// u = qx + 128, then y = float(acc − 128 Σ_i q_o,i) · (scale_t · scale_o) + b_o, with
// weight_offset holding 128 Σ_i q_o,i. The sums are exact integers (|acc| ≤ 255 · 127 · in, and
// in ≤ kInt8MaxInputs), so every path gives the same y.
constexpr int kInt8MaxInputs = 65536;
// Σ of in products of at most 127 · 127 stays below 2^24, exact in float32, up to this many inputs.
constexpr int kInt8FloatExactInputs = (1 << 24) / (127 * 127);
// weight_q's output blocks are 128 wide (the last one what is left); a block holds its 4-input
// groups one after another, so a kernel reading one block streams contiguous bytes.
constexpr int kInt8Block = 128;

// The outputs in output o0's block: its groups' stride is 4 bytes each.
inline int int8_block_width(const Linear& l, int o0) {
  return std::min(kInt8Block, l.out_padded - o0 / kInt8Block * kInt8Block);
}

// The byte offset of 4-input group g of output o0's block, at o0's lanes.
inline size_t int8_offset(const Linear& l, int g, int o0) {
  const int start = o0 / kInt8Block * kInt8Block;
  return size_t(start) * l.in_padded + (size_t(g) * int8_block_width(l, o0) + (o0 - start)) * 4;
}

inline float int8_output(int32_t acc, int32_t weight_offset, float row_scale, float weight_scale, float bias) {
  return std::fma(float(acc - weight_offset), row_scale * weight_scale, bias);
}

// Without VNNI: Σ_i qx_t,i · q_o,i from the float copies of q (weight_qf), every product an
// integer of at most 127², every partial sum below 2^24 (in ≤ kInt8FloatExactInputs), so float32
// adds them exactly in any order and the loop vectorizes like the float32 kernel's. Wider
// matrices sum in integers, one output at a time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void int8_sums_float(const Linear& l, int n, float* sums) {
  for (int k = 0; k < n * l.out_padded; ++k) sums[k] = 0.0f;
  for (int i = 0; i < l.in; ++i) {
    const float* w = l.weight_qf.data() + size_t(i) * l.out_padded;
    for (int t = 0; t < n; ++t) {
      const float x = float(int(l.x_q[size_t(t) * l.in_padded + i]) - 128);
      float* row = sums + size_t(t) * l.out_padded;
      for (int o = 0; o < l.out_padded; ++o) row[o] += x * w[o];
    }
  }
}

void int8_kernel_portable(const Linear& l, int n, const float* scales, float* y, int y_stride) {
  if (!l.weight_qf.empty()) {
    int8_sums_float(l, n, l.sums.data());
    for (int t = 0; t < n; ++t)
      for (int o = 0; o < l.out; ++o)
        y[t * y_stride + o] = std::fma(l.sums[size_t(t) * l.out_padded + o], scales[t] * l.weight_scale[o], l.bias[o]);
    return;
  }
  for (int t = 0; t < n; ++t) {
    const uint8_t* u = l.x_q.data() + size_t(t) * l.in_padded;
    for (int o = 0; o < l.out; ++o) {
      const int8_t* w = l.weight_q.data() + int8_offset(l, 0, o);
      const size_t w_stride = 4 * size_t(int8_block_width(l, o));
      int32_t acc = 0;
      for (int i = 0; i < l.in_padded; ++i) acc += int32_t(u[i]) * w[i / 4 * w_stride + i % 4];
      y[t * y_stride + o] = int8_output(acc, l.weight_offset[o], scales[t], l.weight_scale[o], l.bias[o]);
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define SQP_VNNI 1
#define SQP_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni,fma")))

// The mask of the first min(count, 16) lanes (count ≥ 1).
inline __mmask16 first_lanes(int count) { return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1); }

// One row's 16 · V outputs of an int8 block: float(acc − 128 Σ q) · (scale_t · scale_o) + b.
template <int V>
SQP_VNNI_TARGET inline void int8_store(const Linear& l, const __m512i (&acc)[4], float row_scale, float* y, int o0) {
  for (int v = 0; v < V; ++v) {
    const int o = o0 + 16 * v;
    const __m512 sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[v], _mm512_loadu_si512(l.weight_offset.data() + o)));
    const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(row_scale), _mm512_loadu_ps(l.weight_scale.data() + o));
    const __m512 out = _mm512_fmadd_ps(sum, scale, _mm512_loadu_ps(l.bias.data() + o));
    _mm512_mask_storeu_ps(y + o, first_lanes(l.out - o), out);
  }
}

// s_v += the 4 inputs at x (u8) · the 4-input group of weights w_v (s8), for V ∈ {1, 4} vectors.
template <int V>
SQP_VNNI_TARGET inline void int8_accumulate(const uint8_t* x, __m512i w0, __m512i w1, __m512i w2, __m512i w3,
                                            __m512i& s0, __m512i& s1, __m512i& s2, __m512i& s3) {
  int32_t group;
  __builtin_memcpy(&group, x, 4);
  const __m512i xv = _mm512_set1_epi32(group);
  s0 = _mm512_dpbusd_epi32(s0, xv, w0);
  if constexpr (V == 4) {
    s1 = _mm512_dpbusd_epi32(s1, xv, w1);
    s2 = _mm512_dpbusd_epi32(s2, xv, w2);
    s3 = _mm512_dpbusd_epi32(s3, xv, w3);
  }
}

// V ∈ {1, 4} vectors of 16 outputs for T ≤ 3 rows. The accumulators are named variables: GCC 12
// keeps an array of them in memory or copies it around each vpdpbusd. The empty asm pins the
// weight vectors in registers, so each is loaded once for all T rows, not once per row.
template <int T, int V>
SQP_VNNI_TARGET inline void int8_block(const Linear& l, const float* scales, float* y, int y_stride, int o0) {
  static_assert(T >= 1 && T <= 3 && (V == 1 || V == 4));
  const __m512i zero = _mm512_setzero_si512();
  __m512i a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero, c0 = zero, c1 = zero,
          c2 = zero, c3 = zero;
  const int8_t* w = l.weight_q.data() + int8_offset(l, 0, o0);
  const uint8_t* u = l.x_q.data();
  const size_t row = l.in_padded, w_stride = 4 * size_t(int8_block_width(l, o0));
  for (int i = 0; i < l.in_padded; i += 4, w += w_stride) {
    __m512i w0 = _mm512_loadu_si512(w), w1 = zero, w2 = zero, w3 = zero;
    if constexpr (V == 4) {
      w1 = _mm512_loadu_si512(w + 64);
      w2 = _mm512_loadu_si512(w + 128);
      w3 = _mm512_loadu_si512(w + 192);
      asm("" : "+v"(w0), "+v"(w1), "+v"(w2), "+v"(w3));
    }
    int8_accumulate<V>(u + i, w0, w1, w2, w3, a0, a1, a2, a3);
    if constexpr (T >= 2) int8_accumulate<V>(u + row + i, w0, w1, w2, w3, b0, b1, b2, b3);
    if constexpr (T >= 3) int8_accumulate<V>(u + 2 * row + i, w0, w1, w2, w3, c0, c1, c2, c3);
  }
  int8_store<V>(l, {a0, a1, a2, a3}, scales[0], y, o0);
  if constexpr (T >= 2) int8_store<V>(l, {b0, b1, b2, b3}, scales[1], y + y_stride, o0);
  if constexpr (T >= 3) int8_store<V>(l, {c0, c1, c2, c3}, scales[2], y + 2 * y_stride, o0);
}

// One row (a recurrent h, the last layer's token), 128 outputs: twice int8_block<1, 4>'s
// accumulators, so that 8 independent vpdpbusd chains hide the instruction's latency.
SQP_VNNI_TARGET inline void int8_block_row8(const Linear& l, float scale, float* y, int o0) {
  const __m512i zero = _mm512_setzero_si512();
  __m512i a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
  const int8_t* w = l.weight_q.data() + int8_offset(l, 0, o0);
  for (int i = 0; i < l.in_padded; i += 4, w += 4 * kInt8Block) {
    int8_accumulate<4>(l.x_q.data() + i, _mm512_loadu_si512(w), _mm512_loadu_si512(w + 64), _mm512_loadu_si512(w + 128),
                       _mm512_loadu_si512(w + 192), a0, a1, a2, a3);
    int8_accumulate<4>(l.x_q.data() + i, _mm512_loadu_si512(w + 256), _mm512_loadu_si512(w + 320),
                       _mm512_loadu_si512(w + 384), _mm512_loadu_si512(w + 448), a4, a5, a6, a7);
  }
  int8_store<4>(l, {a0, a1, a2, a3}, scale, y, o0);
  int8_store<4>(l, {a4, a5, a6, a7}, scale, y, o0 + 64);
}

template <int T>
SQP_VNNI_TARGET void int8_rows(const Linear& l, const float* scales, float* y, int y_stride) {
  int o = 0;
  if constexpr (T == 1) {
    // A recurrent matrix is applied to one row several times in a row (GRU's W_hh: 48 KiB, L1's
    // size). Alternating the order of its 128-output blocks between calls starts each call on
    // the weights the last one read most recently, still in L1, instead of the evicted ones.
    const int blocks = l.out_padded / kInt8Block;
    l.descending = !l.descending;
    for (int b = 0; b < blocks; ++b) int8_block_row8(l, scales[0], y, kInt8Block * (l.descending ? blocks - 1 - b : b));
    o = kInt8Block * blocks;
  }
  for (; o + 64 <= l.out_padded; o += 64) int8_block<T, 4>(l, scales, y, y_stride, o);
  for (; o < l.out_padded; o += 16) int8_block<T, 1>(l, scales, y, y_stride, o);
}

// quantize_row for an input row, written as u = q + 128 straight into x_q: the same rounding
// (max, 127 / m, round half to even, clamp) in 16 lanes.
SQP_VNNI_TARGET float quantize_row_u8(const float* x, int n, uint8_t* u) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 m = zero, poison = zero;
  for (int i = 0; i < n; i += 16) {
    const __mmask16 lanes = first_lanes(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(lanes, x + i);
    m = _mm512_max_ps(m, _mm512_abs_ps(v));
    poison = _mm512_add_ps(poison, _mm512_mul_ps(v, zero));
  }
  const float max = _mm512_reduce_max_ps(m), nan_if_bad = _mm512_reduce_add_ps(poison);
  if (nan_if_bad != nan_if_bad || max < kInt8Smallest) {
    for (int i = 0; i < n; ++i) u[i] = 128;
    return nan_if_bad != nan_if_bad ? NAN : 0.0f;
  }
  const __m512 inv = _mm512_set1_ps(127.0f / max);
  const __m512i low = _mm512_set1_epi32(-127), high = _mm512_set1_epi32(127), offset = _mm512_set1_epi32(128);
  for (int i = 0; i < n; i += 16) {
    const __mmask16 lanes = first_lanes(n - i);
    __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, x + i), inv));  // round half to even
    q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, low), high), offset);
    _mm512_mask_cvtepi32_storeu_epi8(u + i, lanes, q);
  }
  return max / 127.0f;
}

bool cpu_has_vnni() {
  static const bool yes =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
  return yes;
}
#endif

// Rounds n ≤ kMaxTokens input rows into l.x_q as u = q + 128 and multiplies, with VNNI if
// `vnni` (and the CPU has it).
void int8_rows_kernel(const Linear& l, const float* x, int n, float* y, int x_stride, int y_stride, bool vnni) {
  float scales[kMaxTokens];
#ifdef SQP_VNNI
  if (vnni && cpu_has_vnni()) {
    for (int t = 0; t < n; ++t)
      scales[t] = quantize_row_u8(x + size_t(t) * x_stride, l.in, l.x_q.data() + size_t(t) * l.in_padded);
    if (n == 3) int8_rows<3>(l, scales, y, y_stride);
    if (n == 2) int8_rows<2>(l, scales, y, y_stride);
    if (n == 1) int8_rows<1>(l, scales, y, y_stride);
    return;
  }
#endif
  (void)vnni;
  for (int t = 0; t < n; ++t) {
    uint8_t* u = l.x_q.data() + size_t(t) * l.in_padded;
    scales[t] = quantize_row(x + size_t(t) * x_stride, l.in, reinterpret_cast<int8_t*>(u));
    for (int i = 0; i < l.in; ++i) u[i] ^= 0x80;  // q + 128 in two's complement
  }
  int8_kernel_portable(l, n, scales, y, y_stride);
}

void int8_kernel(const Linear& l, const float* x, int n, float* y, int x_stride, int y_stride, bool vnni) {
  for (int t = 0; t < n; t += kMaxTokens)
    int8_rows_kernel(l, x + size_t(t) * x_stride, std::min(kMaxTokens, n - t), y + size_t(t) * y_stride, x_stride,
                     y_stride, vnni);
}

}  // namespace

SQP_ELEMENTWISE_CLONES void gelu_inplace(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = gelu(x[i]);
}

std::vector<float> transposed(const float* m, int rows, int cols) {
  std::vector<float> t(size_t(rows) * cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) t[size_t(c) * rows + r] = m[size_t(r) * cols + c];
  return t;
}

SQP_ELEMENTWISE_CLONES float quantize_row(const float* x, int n, int8_t* q) {
  float m = 0.0f, poison = 0.0f;  // poison: NaN if some x[i] is NaN or infinite, else 0
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    m = a > m ? a : m;
    poison += x[i] * 0.0f;
  }
  if (poison != poison || m < kInt8Smallest) {
    for (int i = 0; i < n; ++i) q[i] = 0;
    return poison != poison ? NAN : 0.0f;
  }
  const float inv = 127.0f / m;
  for (int i = 0; i < n; ++i) {
    const float v = std::nearbyint(x[i] * inv);
    q[i] = int8_t(v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v));
  }
  return m / 127.0f;
}

namespace {

Linear int8_linear(const float* weight, const float* bias, int in, int out) {
  if (in > kInt8MaxInputs)
    throw LoadError("a matrix with " + std::to_string(in) + " inputs cannot run in int8 (at most " +
                    std::to_string(kInt8MaxInputs) + ")");
  Linear l;
  l.in = in;
  l.out = out;
  l.in_padded = (in + 3) / 4 * 4;
  l.out_padded = (out + 15) / 16 * 16;
  l.bias.assign(l.out_padded, 0.0f);
  if (bias) std::copy(bias, bias + out, l.bias.begin());
  l.weight_q.assign(size_t(l.in_padded) * l.out_padded, 0);
  l.weight_scale.assign(l.out_padded, 0.0f);
  l.weight_offset.assign(l.out_padded, 0);
  std::vector<int8_t> row(in);
  for (int o = 0; o < out; ++o) {
    l.weight_scale[o] = quantize_row(weight + size_t(o) * in, in, row.data());
    for (int i = 0; i < in; ++i) {
      l.weight_q[int8_offset(l, i / 4, o) + i % 4] = row[i];
      l.weight_offset[o] += 128 * row[i];
    }
  }
  l.x_q.assign(size_t(kMaxTokens) * l.in_padded, 128);  // the padding stays q = 0
  // The float copies for CPUs without VNNI, kept on every CPU so that apply_portable (and the
  // tests) run the same path everywhere: 4 more bytes a weight.
  if (in <= kInt8FloatExactInputs) {
    l.weight_qf.assign(size_t(in) * l.out_padded, 0.0f);
    for (int o = 0; o < out; ++o)
      for (int i = 0; i < in; ++i)
        l.weight_qf[size_t(i) * l.out_padded + o] = l.weight_q[int8_offset(l, i / 4, o) + i % 4];
    l.sums.assign(size_t(kMaxTokens) * l.out_padded, 0.0f);
  }
  return l;
}

}  // namespace

Linear Linear::from(const float* weight, const float* bias, int in, int out, Precision precision) {
  if (precision == Precision::int8) return int8_linear(weight, bias, in, out);
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
    decltype(l.weight_t_half) half(l.weight_t.size());
    for (size_t i = 0; i < half.size(); ++i)
      if (!narrows_exactly(l.weight_t[i], half[i])) return l;
    l.weight_t_half = std::move(half);
    decltype(l.weight_t)().swap(l.weight_t);
  }
#endif
  return l;
}

Linear Linear::load(const PolicyFile& f, const std::string& name, int in, int out, bool with_bias,
                    Precision precision) {
  const auto& w = f.get(name + ".weight", {out, in});
  return from(w.data(), with_bias ? f.get(name + ".bias", {out}).data() : nullptr, in, out, precision);
}

void Linear::apply(const float* x, int n, float* y, int x_stride, int y_stride) const {
  if (!weight_q.empty()) return int8_kernel(*this, x, n, y, x_stride, y_stride, true);
#ifdef SQP_F16C
  if (!weight_t_half.empty()) return linear_half_kernel(*this, x, n, y, x_stride, y_stride);
#endif
  linear_kernel(*this, x, n, y, x_stride, y_stride);
}

void Linear::apply_portable(const float* x, int n, float* y) const {
  if (weight_q.empty()) return apply(x, n, y);
  int8_kernel(*this, x, n, y, in, out, false);
}

LayerNorm LayerNorm::load(const PolicyFile& f, const std::string& name, int dim) {
  return {f.get(name + ".weight", {dim}), f.get(name + ".bias", {dim})};
}

namespace {

// Σ (x[i] − c) and Σ (x[i] − c)² in float64, c = x[0], in one pass over 16 running sums each
// (GCC vectors: GCC would not vectorize scalar sums fed by float-to-double conversions, nor
// reassociate one sum without -ffast-math). Shifting by a sample keeps Σd² − (Σd)²/n free of
// cancellation unless the row's mean lies many deviations from its first value, and then
// float64 still holds the float32 result (the test shifts a row by 10^7 deviations).
typedef float Float8 __attribute__((vector_size(32)));
typedef double Double8 __attribute__((vector_size(64)));

struct Moments {
  double sum, sum_sq;  // of x[i] − x[0]
};

inline __attribute__((always_inline)) Moments shifted_moments(const float* x, size_t n) {
  const double c = x[0];
  Double8 s0 = {}, s1 = {}, q0 = {}, q1 = {};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Float8 a, b;
    __builtin_memcpy(&a, x + i, sizeof a);
    __builtin_memcpy(&b, x + i + 8, sizeof b);
    const Double8 da = __builtin_convertvector(a, Double8) - c, db = __builtin_convertvector(b, Double8) - c;
    s0 += da;
    s1 += db;
    q0 += da * da;
    q1 += db * db;
  }
  for (; i < n; ++i) {
    const double d = x[i] - c;
    s0[0] += d;
    q0[0] += d * d;
  }
  const Double8 s = s0 + s1, q = q0 + q1;
  return {((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])),
          ((q[0] + q[4]) + (q[1] + q[5])) + ((q[2] + q[6]) + (q[3] + q[7]))};
}

}  // namespace

SQP_ELEMENTWISE_CLONES void LayerNorm::apply(const float* x, float* y) const {
  const size_t n = weight.size();
  const Moments m = shifted_moments(x, n);
  const double mean_shift = m.sum / double(n);
  const double var = std::max(0.0, m.sum_sq / double(n) - mean_shift * mean_shift);
  const float inv = float(1.0 / std::sqrt(var + 1e-5));
  const float mean = float(double(x[0]) + mean_shift);
  for (size_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * weight[i] + bias[i];
}

}  // namespace sqp
