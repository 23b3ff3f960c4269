#include "runtime/ops.h"

#include <algorithm>

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

template <int T>
inline __attribute__((always_inline)) void linear_rows(const Linear& l, const float* x, int x_stride, float* y,
                                                       int y_stride) {
  int o = 0;
  for (; o + 32 <= l.out_padded; o += 32) linear_block<T, 32>(l, x, x_stride, y, y_stride, o);
  for (; o < l.out_padded; o += 8) linear_block<T, 8>(l, x, x_stride, y, y_stride, o);
}

// AVX2+FMA where the CPU has it, a portable build otherwise (one binary for any x86-64).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void linear_kernel(const Linear& l, const float* x, int n, float* y, int x_stride, int y_stride) {
  for (; n >= 3; n -= 3, x += 3 * x_stride, y += 3 * y_stride) linear_rows<3>(l, x, x_stride, y, y_stride);
  if (n == 2) linear_rows<2>(l, x, x_stride, y, y_stride);
  if (n == 1) linear_rows<1>(l, x, x_stride, y, y_stride);
}

}  // namespace

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
  return l;
}

Linear Linear::load(const PolicyFile& f, const std::string& name, int in, int out, bool with_bias) {
  const auto& w = f.get(name + ".weight", {out, in});
  return from(w.data(), with_bias ? f.get(name + ".bias", {out}).data() : nullptr, in, out);
}

void Linear::apply(const float* x, int n, float* y, int x_stride, int y_stride) const {
  linear_kernel(*this, x, n, y, x_stride, y_stride);
}

LayerNorm LayerNorm::load(const PolicyFile& f, const std::string& name, int dim) {
  return {f.get(name + ".weight", {dim}), f.get(name + ".bias", {dim})};
}

void LayerNorm::apply(const float* x, float* y) const {
  const size_t n = weight.size();
  double sum = 0, sq = 0;
  for (size_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / double(n);
  for (size_t i = 0; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const float inv = float(1.0 / std::sqrt(sq / double(n) + 1e-5));
  const float m = float(mean);
  for (size_t i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * weight[i] + bias[i];
}

}  // namespace sqp
