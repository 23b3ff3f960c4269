#include "models/dropout.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace seqrl {
namespace {

// The per-element hash: Wellons' "lowbias32" 32-bit integer mixer, a bijection.
uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// mask[i] = scale where the top 24 bits of the hash of i reach `threshold`, 0 elsewhere.
// Indices past 2^32 take a new key per 2^32 block, so no stretch of the mask repeats.
template <class T>
void fill_keep_mask(T* mask, int64_t n, uint64_t key, uint32_t threshold, T scale) {
  at::parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end;) {
      const uint64_t block = uint64_t(i) >> 32;
      const uint32_t block_key = mix32(uint32_t(key) ^ mix32(uint32_t(key >> 32) + uint32_t(block)));
      const int64_t block_end = std::min<int64_t>(end, int64_t((block + 1) << 32));
      const uint32_t first = uint32_t(i);
      T* out = mask + i;
      const int64_t count = block_end - i;
      for (int64_t j = 0; j < count; ++j) {
        const uint32_t h = mix32((first + uint32_t(j)) * 0x9e3779b9u + block_key);
        out[j] = (h >> 8) >= threshold ? scale : T(0);
      }
      i = block_end;
    }
  });
}

}  // namespace

torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p == 0.0) return x;
  if (!x.device().is_cpu()) return torch::dropout(x, p, true);
  // One draw from the default generator keys the whole mask.
  const auto key = static_cast<uint64_t>(
      torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::TensorOptions().dtype(torch::kInt64))
          .item<int64_t>());
  const auto threshold = static_cast<uint32_t>(std::llround(p * double(1 << 24)));
  const double scale = 1.0 / (1.0 - p);
  // The mask in float64 for float64 input, float32 otherwise (narrower types get it rounded).
  const bool wide = x.scalar_type() == torch::kDouble;
  auto mask = torch::empty(x.sizes(), torch::TensorOptions().dtype(wide ? torch::kFloat64 : torch::kFloat32));
  if (wide)
    fill_keep_mask(mask.data_ptr<double>(), mask.numel(), key, threshold, scale);
  else
    fill_keep_mask(mask.data_ptr<float>(), mask.numel(), key, threshold, static_cast<float>(scale));
  return x * mask.to(x.scalar_type());
}

}  // namespace seqrl
