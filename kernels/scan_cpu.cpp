#include "kernels/scan_cpu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace seqrl::kernels::cpu {
namespace {

// Channels per work item: 64 floats is a few cache lines per time step, wide enough for the
// vectorizer and small enough that B * D / 64 items keep every thread busy.
constexpr int64_t kBlock = 64;

// Calls fn(batch, d_begin, d_end) for every (batch, block of channels), in parallel.
template <typename Fn>
void for_each_channel_block(int64_t B, int64_t D, const Fn& fn) {
  const int64_t blocks = (D + kBlock - 1) / kBlock;
  at::parallel_for(0, B * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t d0 = (i % blocks) * kBlock;
      fn(i / blocks, d0, std::min(D, d0 + kBlock));
    }
  });
}

template <typename T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

}  // namespace

template <typename T>
void linear_scan_fwd(const T* a, const T* b, const T* h0, T* h, int64_t B, int64_t len, int64_t D) {
  for_each_channel_block(B, D, [&](int64_t bi, int64_t d0, int64_t d1) {
    const int64_t n = d1 - d0;
    T state[kBlock];
    for (int64_t k = 0; k < n; ++k) state[k] = h0 ? h0[bi * D + d0 + k] : T(0);
    for (int64_t t = 0; t < len; ++t) {
      // Row pointers marked restrict: the block's loop over channels then vectorizes.
      const int64_t row = (bi * len + t) * D + d0;
      const T* __restrict at = a + row;
      const T* __restrict bt = b + row;
      T* __restrict ht = h + row;
      for (int64_t k = 0; k < n; ++k) ht[k] = state[k] = at[k] * state[k] + bt[k];
    }
  });
}

template <typename T>
void linear_scan_bwd(const T* a, const T* h, const T* h0, const T* g, T* grad_a, T* grad_b, T* grad_h0, int64_t B,
                     int64_t len, int64_t D) {
  for_each_channel_block(B, D, [&](int64_t bi, int64_t d0, int64_t d1) {
    const int64_t n = d1 - d0;
    T carry[kBlock];  // a_{t+1} lambda_{t+1}
    std::fill(carry, carry + n, T(0));
    for (int64_t t = len - 1; t >= 0; --t) {
      const int64_t row = (bi * len + t) * D + d0;
      const T* h_prev = t > 0 ? h + row - D : (h0 ? h0 + bi * D + d0 : nullptr);
      const T* __restrict at = a + row;
      const T* __restrict gt = g + row;
      T* __restrict ga = grad_a + row;
      T* __restrict gb = grad_b + row;
      if (h_prev) {
        const T* __restrict hp = h_prev;
        for (int64_t k = 0; k < n; ++k) {
          const T lambda = gt[k] + carry[k];
          gb[k] = lambda;
          ga[k] = lambda * hp[k];
          carry[k] = at[k] * lambda;
        }
      } else {
        for (int64_t k = 0; k < n; ++k) {
          const T lambda = gt[k] + carry[k];
          gb[k] = lambda;
          ga[k] = T(0);
          carry[k] = at[k] * lambda;
        }
      }
    }
    if (grad_h0) std::copy(carry, carry + n, grad_h0 + bi * D + d0);
  });
}

// The log-space recurrence is evaluated as h_t = e^{log_a_t} h_{t-1} + e^{log_b_t} in double:
// a sequential scan never forms products of many a's (what underflows in the parallel
// log-space formulation), double's range (e^{±709}) holds every h whose float result is finite,
// and it costs two exponentials per element where log-add-exp costs three transcendentals.
template <typename T>
void log_linear_scan_fwd(const T* log_a, const T* log_b, const T* log_h0, T* h, int64_t B, int64_t len, int64_t D) {
  for_each_channel_block(B, D, [&](int64_t bi, int64_t d0, int64_t d1) {
    const int64_t n = d1 - d0;
    double state[kBlock];
    for (int64_t k = 0; k < n; ++k) state[k] = log_h0 ? std::exp(double(log_h0[bi * D + d0 + k])) : 0.0;
    for (int64_t t = 0; t < len; ++t) {
      const int64_t row = (bi * len + t) * D + d0;
      const T* __restrict la = log_a + row;
      const T* __restrict lb = log_b + row;
      T* __restrict ht = h + row;
      for (int64_t k = 0; k < n; ++k) {
        state[k] = double(std::exp(la[k])) * state[k] + double(std::exp(lb[k]));
        ht[k] = T(state[k]);
      }
    }
  });
}

template <typename T>
void complex_scan_fwd(const T* a_re, const T* a_im, const T* b_re, const T* b_im, const T* h0_re, const T* h0_im,
                      T* h_re, T* h_im, int64_t B, int64_t len, int64_t D) {
  for_each_channel_block(B, D, [&](int64_t bi, int64_t d0, int64_t d1) {
    const int64_t n = d1 - d0;
    T re[kBlock], im[kBlock];
    for (int64_t k = 0; k < n; ++k) {
      re[k] = h0_re ? h0_re[bi * D + d0 + k] : T(0);
      im[k] = h0_im ? h0_im[bi * D + d0 + k] : T(0);
    }
    for (int64_t t = 0; t < len; ++t) {
      const int64_t row = (bi * len + t) * D + d0;
      const T* __restrict ar = a_re + row;
      const T* __restrict ai = a_im + row;
      const T* __restrict br = b_re + row;
      const T* __restrict bim = b_im + row;
      T* __restrict hr = h_re + row;
      T* __restrict hi = h_im + row;
      for (int64_t k = 0; k < n; ++k) {
        const T r = ar[k] * re[k] - ai[k] * im[k] + br[k];
        const T m = ar[k] * im[k] + ai[k] * re[k] + bim[k];
        hr[k] = re[k] = r;
        hi[k] = im[k] = m;
      }
    }
  });
}

template <typename T>
void complex_scan_bwd(const T* a_re, const T* a_im, const T* h_re, const T* h_im, const T* h0_re, const T* h0_im,
                      const T* g_re, const T* g_im, T* ga_re, T* ga_im, T* gb_re, T* gb_im, T* gh0_re, T* gh0_im,
                      int64_t B, int64_t len, int64_t D) {
  for_each_channel_block(B, D, [&](int64_t bi, int64_t d0, int64_t d1) {
    T c_re[kBlock], c_im[kBlock];  // conj(a_{t+1}) lambda_{t+1}
    std::fill(c_re, c_re + (d1 - d0), T(0));
    std::fill(c_im, c_im + (d1 - d0), T(0));
    for (int64_t t = len - 1; t >= 0; --t) {
      const int64_t row = (bi * len + t) * D;
      const bool first = t == 0;
      const T* pr = first ? (h0_re ? h0_re + bi * D : nullptr) : h_re + row - D;
      const T* pi = first ? (h0_im ? h0_im + bi * D : nullptr) : h_im + row - D;
      for (int64_t d = d0; d < d1; ++d) {
        const int64_t i = row + d, k = d - d0;
        const T lr = g_re[i] + c_re[k], li = g_im[i] + c_im[k];
        gb_re[i] = lr;
        gb_im[i] = li;
        const T hr = pr ? pr[d] : T(0), hi = pi ? pi[d] : T(0);
        ga_re[i] = lr * hr + li * hi;  // lambda * conj(h_{t-1})
        ga_im[i] = li * hr - lr * hi;
        c_re[k] = a_re[i] * lr + a_im[i] * li;  // conj(a_t) * lambda_t
        c_im[k] = a_re[i] * li - a_im[i] * lr;
      }
    }
    for (int64_t d = d0; d < d1; ++d) {
      if (gh0_re) gh0_re[bi * D + d] = c_re[d - d0];
      if (gh0_im) gh0_im[bi * D + d] = c_im[d - d0];
    }
  });
}

template <typename T>
void selective_scan_fwd(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                        T* y, SelectiveShape s) {
  const int64_t N = s.N, D = s.D, len = s.len;
  for_each_channel_block(s.B, D, [&](int64_t bi, int64_t d0, int64_t d1) {
    std::vector<T> x((d1 - d0) * N, T(0));
    for (int64_t t = 0; t < len; ++t) {
      const int64_t row = (bi * len + t) * D;
      const T* Bt = Bm + (bi * len + t) * N;
      const T* Ct = Cm + (bi * len + t) * N;
      for (int64_t d = d0; d < d1; ++d) {
        const T dt = delta[row + d], du = dt * u[row + d];
        T* xd = x.data() + (d - d0) * N;
        T acc = 0;
        for (int64_t n = 0; n < N; ++n) {
          xd[n] = std::exp(dt * A[d * N + n]) * xd[n] + du * Bt[n];
          acc += Ct[n] * xd[n];
        }
        acc += Dskip[d] * u[row + d];
        if (z) acc *= z[row + d] * sigmoid(z[row + d]);
        y[row + d] = acc;
      }
    }
  });
}

template <typename T>
void selective_scan_bwd(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                        const T* g, T* grad_u, T* grad_delta, T* grad_A, T* grad_Bm, T* grad_Cm, T* grad_D, T* grad_z,
                        SelectiveShape s) {
  const int64_t B = s.B, N = s.N, D = s.D, len = s.len;
  // grad_Bm / grad_Cm sum over channels and grad_A / grad_D over the batch: each work item
  // (batch, group of channels) writes its own partial sums, reduced at the end, so no atomics.
  const int64_t threads = at::get_num_threads();
  const int64_t groups = std::clamp<int64_t>((2 * threads + B - 1) / B, 1, D);
  const int64_t per_group = (D + groups - 1) / groups;
  std::vector<T> part_BC(2 * groups * B * len * N, T(0));
  std::vector<T> part_A(B * D * N, T(0)), part_D(B * D, T(0));
  at::parallel_for(0, B * groups, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> xs(len * N), decay(len * N), gy(len), lam(N);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t bi = item / groups, grp = item % groups;
      T* pB = part_BC.data() + ((grp * B + bi) * len) * N;
      T* pC = pB + groups * B * len * N;
      for (int64_t d = grp * per_group; d < std::min(D, (grp + 1) * per_group); ++d) {
        const T* Ad = A + d * N;
        // Recompute the states x_t (and exp(delta_t A)) of this channel.
        for (int64_t t = 0; t < len; ++t) {
          const int64_t i = (bi * len + t) * D + d;
          const T* Bt = Bm + (bi * len + t) * N;
          const T* Ct = Cm + (bi * len + t) * N;
          const T dt = delta[i], du = dt * u[i];
          T acc = 0;
          for (int64_t n = 0; n < N; ++n) {
            const T x_prev = t > 0 ? xs[(t - 1) * N + n] : T(0);
            decay[t * N + n] = std::exp(dt * Ad[n]);
            xs[t * N + n] = decay[t * N + n] * x_prev + du * Bt[n];
            acc += Ct[n] * xs[t * N + n];
          }
          gy[t] = g[i];
          if (z) {  // y = y_pre * silu(z)
            const T y_pre = acc + Dskip[d] * u[i], sg = sigmoid(z[i]);
            gy[t] = g[i] * z[i] * sg;
            grad_z[i] = g[i] * y_pre * sg * (T(1) + z[i] * (T(1) - sg));
          }
        }
        // Reverse pass: lam[n] carries exp(delta_{t+1} A) * adjoint of x_{t+1}.
        std::fill(lam.begin(), lam.end(), T(0));
        T gD = 0;
        for (int64_t t = len - 1; t >= 0; --t) {
          const int64_t i = (bi * len + t) * D + d;
          const T* Bt = Bm + (bi * len + t) * N;
          const T* Ct = Cm + (bi * len + t) * N;
          const T dt = delta[i], ut = u[i];
          T gu = 0, gdt = 0;
          for (int64_t n = 0; n < N; ++n) {
            const T adj = gy[t] * Ct[n] + lam[n];
            const T x_prev = t > 0 ? xs[(t - 1) * N + n] : T(0);
            const T dA = decay[t * N + n];
            pC[t * N + n] += gy[t] * xs[t * N + n];
            pB[t * N + n] += adj * dt * ut;
            gdt += adj * (Ad[n] * dA * x_prev + Bt[n] * ut);
            part_A[(bi * D + d) * N + n] += adj * dt * dA * x_prev;
            gu += adj * dt * Bt[n];
            lam[n] = adj * dA;
          }
          grad_u[i] = gu + Dskip[d] * gy[t];
          grad_delta[i] = gdt;
          gD += gy[t] * ut;
        }
        part_D[bi * D + d] = gD;
      }
    }
  });
  // Reduce the partial sums.
  at::parallel_for(0, B * len * N, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T sb = 0, sc = 0;
      for (int64_t grp = 0; grp < groups; ++grp) {
        sb += part_BC[grp * B * len * N + i];
        sc += part_BC[(groups + grp) * B * len * N + i];
      }
      grad_Bm[i] = sb;
      grad_Cm[i] = sc;
    }
  });
  for (int64_t j = 0; j < D * N; ++j) {
    T sum = 0;
    for (int64_t bi = 0; bi < B; ++bi) sum += part_A[bi * D * N + j];
    grad_A[j] = sum;
  }
  for (int64_t d = 0; d < D; ++d) {
    T sum = 0;
    for (int64_t bi = 0; bi < B; ++bi) sum += part_D[bi * D + d];
    grad_D[d] = sum;
  }
}

#define SEQRL_INSTANTIATE(T)                                                                                          \
  template void linear_scan_fwd<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t);                      \
  template void linear_scan_bwd<T>(const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t);    \
  template void log_linear_scan_fwd<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t);                  \
  template void complex_scan_fwd<T>(const T*, const T*, const T*, const T*, const T*, const T*, T*, T*, int64_t,      \
                                    int64_t, int64_t);                                                                \
  template void complex_scan_bwd<T>(const T*, const T*, const T*, const T*, const T*, const T*, const T*, const T*,   \
                                    T*, T*, T*, T*, T*, T*, int64_t, int64_t, int64_t);                               \
  template void selective_scan_fwd<T>(const T*, const T*, const T*, const T*, const T*, const T*, const T*, T*,       \
                                      SelectiveShape);                                                                \
  template void selective_scan_bwd<T>(const T*, const T*, const T*, const T*, const T*, const T*, const T*, const T*, \
                                      T*, T*, T*, T*, T*, T*, T*, SelectiveShape);
SEQRL_INSTANTIATE(float)
SEQRL_INSTANTIATE(double)
#undef SEQRL_INSTANTIATE

}  // namespace seqrl::kernels::cpu
