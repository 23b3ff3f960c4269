// CUDA scans (see scan_cuda.h). No torch headers: raw pointers and the stream only.
//
// Linear, log-space and complex scans share one kernel, generic over the semiring the
// recurrence h = a (x) h (+) b lives in (real, complex, log). A block owns 32 adjacent channels
// of one batch row and walks T in chunks of kWarps * kSteps time steps:
//   1. registers: thread (lane = channel, warp = sub-chunk) loads its kSteps (a, b) pairs (for a
//      fixed t the 32 lanes read 32 consecutive floats: coalesced) and folds them into one
//      affine map (A, B);
//   2. warp shuffles: the kWarps maps of each channel are scanned with __shfl_up_sync;
//   3. shared memory: the scanned maps, applied to the carry from the previous chunk, give each
//      thread its incoming state; the thread replays its kSteps from registers and stores h.
// Inputs are read once and outputs written once, for any T (the tail is padded with identity
// maps). The backward pass is the same kernel run in reverse time on the adjoint, with the
// gradients of a and b written in the same pass (fused).
#include <cuda_runtime.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cuda/scan_cuda.h"

namespace seqrl::kernels::cuda {
namespace {

constexpr int kLanes = 32;  // channels per block
constexpr int kWarps = 8;   // sub-chunks per chunk
constexpr int kSteps = 8;   // time steps per thread per chunk, kept in registers

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("seqrl CUDA scan (") + what + "): " + cudaGetErrorString(err));
}

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

template <typename T>
struct Cplx {
  T re, im;
};

// h = mul(a, h) (+) b in each semiring.
template <typename T>
struct RealRing {
  using V = T;
  __device__ static V one() { return T(1); }
  __device__ static V zero() { return T(0); }
  __device__ static V mul(V a, V b) { return a * b; }
  __device__ static V add(V a, V b) { return a + b; }
  __device__ static V shfl_up(V v, int delta) { return __shfl_up_sync(0xffffffffu, v, delta, kWarps); }
  __device__ static V value(V h) { return h; }  // the state as stored
};

template <typename T>
struct ComplexRing {
  using V = Cplx<T>;
  __device__ static V one() { return {T(1), T(0)}; }
  __device__ static V zero() { return {T(0), T(0)}; }
  __device__ static V mul(V a, V b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
  __device__ static V add(V a, V b) { return {a.re + b.re, a.im + b.im}; }
  __device__ static V shfl_up(V v, int delta) {
    return {__shfl_up_sync(0xffffffffu, v.re, delta, kWarps), __shfl_up_sync(0xffffffffu, v.im, delta, kWarps)};
  }
};

// Log semiring: values are logs, (x) is +, (+) is log-add-exp, zero is log 0 = -inf.
template <typename T>
struct LogRing {
  using V = T;
  __device__ static V one() { return T(0); }
  __device__ static V zero() { return -INFINITY; }
  __device__ static V mul(V a, V b) { return a + b; }
  __device__ static V add(V a, V b) {
    const T m = a > b ? a : b;
    if (m == -INFINITY) return m;
    return m + log1p(exp(-fabs(a - b)));
  }
  __device__ static V shfl_up(V v, int delta) { return __shfl_up_sync(0xffffffffu, v, delta, kWarps); }
  __device__ static V value(V log_h) { return exp(log_h); }  // the state as stored
};

struct Dims {
  int64_t B, len, D;
  __device__ int64_t index(int64_t b, int64_t t, int64_t d) const { return (b * len + t) * D + d; }
};

// The generic chunked scan. P (a problem) supplies the ring, the loads of a_t and b_t, the
// initial state, what to store per step and what to do with the final carry; `reverse` runs
// t from len - 1 down to 0.
template <typename P>
__global__ void __launch_bounds__(kLanes* kWarps) chunked_scan(P p, Dims dims, bool reverse) {
  using R = typename P::Ring;
  using V = typename R::V;
  __shared__ V s_mul[kWarps][kLanes], s_add[kWarps][kLanes], s_in[kWarps][kLanes];
  __shared__ V s_carry[kLanes];
  const int lane = threadIdx.x, warp = threadIdx.y;
  const int64_t b = blockIdx.y, d = int64_t(blockIdx.x) * kLanes + lane;
  const bool channel = d < dims.D;
  if (warp == 0) s_carry[lane] = channel ? p.init(b, d) : R::zero();

  for (int64_t chunk = 0; chunk < dims.len; chunk += kWarps * kSteps) {
    // 1. Registers: load this thread's steps, fold them into one map h -> A (x) h (+) B.
    V a[kSteps], x[kSteps];
#pragma unroll
    for (int k = 0; k < kSteps; ++k) {
      const int64_t pos = chunk + warp * kSteps + k;
      const bool live = channel && pos < dims.len;
      const int64_t t = reverse ? dims.len - 1 - pos : pos;
      a[k] = live ? p.load_a(b, t, d) : R::one();
      x[k] = live ? p.load_b(b, t, d) : R::zero();
    }
    V A = R::one(), Bv = R::zero();
#pragma unroll
    for (int k = 0; k < kSteps; ++k) {
      A = R::mul(a[k], A);
      Bv = R::add(R::mul(a[k], Bv), x[k]);
    }
    s_mul[warp][lane] = A;
    s_add[warp][lane] = Bv;
    __syncthreads();

    // 2. Shuffles: warp w scans the sub-chunk maps of channels 4w..4w+3 (8 lanes each).
    {
      const int c = warp * (kLanes / kWarps) + lane / kWarps, j = lane % kWarps;
      V sa = s_mul[j][c], sb = s_add[j][c];
#pragma unroll
      for (int off = 1; off < kWarps; off *= 2) {
        const V pa = R::shfl_up(sa, off), pb = R::shfl_up(sb, off);
        if (j >= off) {
          sb = R::add(R::mul(sa, pb), sb);
          sa = R::mul(sa, pa);
        }
      }
      // 3. Shared memory: the state after sub-chunk j, from the carry; shift by one for the
      // state entering j. Every lane has read s_carry before the last shuffle, so lane 7 may
      // then overwrite it.
      const V carry = s_carry[c];
      const V after = R::add(R::mul(sa, carry), sb);
      const V before = R::shfl_up(after, 1);
      s_in[j][c] = j == 0 ? carry : before;
      if (j == kWarps - 1) s_carry[c] = after;
    }
    __syncthreads();

    V h = s_in[warp][lane];
#pragma unroll
    for (int k = 0; k < kSteps; ++k) {
      const int64_t pos = chunk + warp * kSteps + k;
      h = R::add(R::mul(a[k], h), x[k]);
      if (channel && pos < dims.len) p.store(b, reverse ? dims.len - 1 - pos : pos, d, h);
    }
  }
  __syncthreads();
  if (warp == 0 && channel) p.finish(b, d, s_carry[lane]);
}

template <typename P>
void launch_chunked(const P& p, int64_t B, int64_t len, int64_t D, bool reverse, void* stream) {
  if (B == 0 || D == 0) return;
  if (B > 65535) throw std::runtime_error("seqrl CUDA scan: batch size above 65535 is not supported");
  const dim3 grid(unsigned((D + kLanes - 1) / kLanes), unsigned(B)), block(kLanes, kWarps);
  chunked_scan<P><<<grid, block, 0, as_stream(stream)>>>(p, Dims{B, len, D}, reverse);
  check(cudaGetLastError(), "chunked_scan launch");
}

// The forward of a real scan in ring R: h_t = a_t (x) h_{t-1} (+) b_t from h0 (null: the
// ring's zero, 0 or log 0), storing R::value(h_t). RealRing: the linear scan; LogRing: the
// log-space scan (inputs are logs, h is stored as exp).
template <typename R>
struct RealFwd {
  using Ring = R;
  using T = typename R::V;
  const T *a, *b, *h0;
  T* h;
  Dims dims;
  __device__ T load_a(int64_t bi, int64_t t, int64_t d) const { return a[dims.index(bi, t, d)]; }
  __device__ T load_b(int64_t bi, int64_t t, int64_t d) const { return b[dims.index(bi, t, d)]; }
  __device__ T init(int64_t bi, int64_t d) const { return h0 ? h0[bi * dims.D + d] : R::zero(); }
  __device__ void store(int64_t bi, int64_t t, int64_t d, T v) const { h[dims.index(bi, t, d)] = R::value(v); }
  __device__ void finish(int64_t, int64_t, T) const {}
};

// Adjoint scan in reverse time: lambda_t = g_t + a_{t+1} lambda_{t+1}; stores grad_b = lambda
// and grad_a = lambda h_{t-1}; the final carry is lambda_0, so grad_h0 = a_0 lambda_0.
template <typename T>
struct LinearBwd {
  using Ring = RealRing<T>;
  const T *a, *h, *h0, *g;
  T *grad_a, *grad_b, *grad_h0;
  Dims dims;
  __device__ T load_a(int64_t bi, int64_t t, int64_t d) const {
    return t + 1 < dims.len ? a[dims.index(bi, t + 1, d)] : T(0);
  }
  __device__ T load_b(int64_t bi, int64_t t, int64_t d) const { return g[dims.index(bi, t, d)]; }
  __device__ T init(int64_t, int64_t) const { return T(0); }
  __device__ void store(int64_t bi, int64_t t, int64_t d, T lambda) const {
    const int64_t i = dims.index(bi, t, d);
    const T h_prev = t > 0 ? h[i - dims.D] : (h0 ? h0[bi * dims.D + d] : T(0));
    grad_b[i] = lambda;
    grad_a[i] = lambda * h_prev;
  }
  __device__ void finish(int64_t bi, int64_t d, T lambda0) const {
    if (grad_h0) grad_h0[bi * dims.D + d] = dims.len > 0 ? a[dims.index(bi, 0, d)] * lambda0 : T(0);
  }
};

template <typename T>
struct ComplexFwd {
  using Ring = ComplexRing<T>;
  const T *a_re, *a_im, *b_re, *b_im, *h0_re, *h0_im;
  T *h_re, *h_im;
  Dims dims;
  __device__ Cplx<T> load_a(int64_t bi, int64_t t, int64_t d) const {
    const int64_t i = dims.index(bi, t, d);
    return {a_re[i], a_im[i]};
  }
  __device__ Cplx<T> load_b(int64_t bi, int64_t t, int64_t d) const {
    const int64_t i = dims.index(bi, t, d);
    return {b_re[i], b_im[i]};
  }
  __device__ Cplx<T> init(int64_t bi, int64_t d) const {
    return h0_re ? Cplx<T>{h0_re[bi * dims.D + d], h0_im[bi * dims.D + d]} : Cplx<T>{T(0), T(0)};
  }
  __device__ void store(int64_t bi, int64_t t, int64_t d, Cplx<T> v) const {
    const int64_t i = dims.index(bi, t, d);
    h_re[i] = v.re;
    h_im[i] = v.im;
  }
  __device__ void finish(int64_t, int64_t, Cplx<T>) const {}
};

// Complex adjoint: lambda_t = g_t + conj(a_{t+1}) lambda_{t+1}, grad_a = lambda conj(h_{t-1}).
template <typename T>
struct ComplexBwd {
  using Ring = ComplexRing<T>;
  const T *a_re, *a_im, *h_re, *h_im, *h0_re, *h0_im, *g_re, *g_im;
  T *ga_re, *ga_im, *gb_re, *gb_im, *gh0_re, *gh0_im;
  Dims dims;
  __device__ Cplx<T> load_a(int64_t bi, int64_t t, int64_t d) const {
    if (t + 1 >= dims.len) return {T(0), T(0)};
    const int64_t i = dims.index(bi, t + 1, d);
    return {a_re[i], -a_im[i]};
  }
  __device__ Cplx<T> load_b(int64_t bi, int64_t t, int64_t d) const {
    const int64_t i = dims.index(bi, t, d);
    return {g_re[i], g_im[i]};
  }
  __device__ Cplx<T> init(int64_t, int64_t) const { return {T(0), T(0)}; }
  __device__ void store(int64_t bi, int64_t t, int64_t d, Cplx<T> l) const {
    const int64_t i = dims.index(bi, t, d);
    T hr = 0, hi = 0;
    if (t > 0) {
      hr = h_re[i - dims.D];
      hi = h_im[i - dims.D];
    } else if (h0_re) {
      hr = h0_re[bi * dims.D + d];
      hi = h0_im[bi * dims.D + d];
    }
    gb_re[i] = l.re;
    gb_im[i] = l.im;
    ga_re[i] = l.re * hr + l.im * hi;
    ga_im[i] = l.im * hr - l.re * hi;
  }
  __device__ void finish(int64_t bi, int64_t d, Cplx<T> l) const {
    if (!gh0_re || dims.len == 0) return;
    const int64_t i = dims.index(bi, 0, d), j = bi * dims.D + d;
    gh0_re[j] = a_re[i] * l.re + a_im[i] * l.im;
    gh0_im[j] = a_re[i] * l.im - a_im[i] * l.re;
  }
};

// ---- Selective scan (Mamba S6) ---------------------------------------------------------
// One thread per (batch, channel), the N states in registers, time sequential; 32 lanes are
// 32 adjacent channels, so u, delta, z, y accesses are coalesced and Bm_t, Cm_t are broadcast.
// Backward keeps nothing from forward: it recomputes the states, storing a checkpoint every
// kSegment steps, then walks the segments in reverse, recomputing each one's states into
// per-thread memory. grad_Bm / grad_Cm (sums over channels) are reduced across the warp
// before one atomicAdd per warp.
constexpr int kSegment = 16;
constexpr int kSelThreads = 128;

template <typename T>
__device__ T sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

template <typename T>
__device__ T warp_sum(T v) {
#pragma unroll
  for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

template <typename T, int kMaxN>
__global__ void __launch_bounds__(kSelThreads)
    selective_fwd_kernel(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                         T* y, SelectiveShape s) {
  const int64_t b = blockIdx.y, d = int64_t(blockIdx.x) * kSelThreads + threadIdx.x;
  if (d >= s.D) return;
  T x[kMaxN], Ad[kMaxN];
#pragma unroll
  for (int n = 0; n < kMaxN; ++n) {
    x[n] = 0;
    Ad[n] = n < s.N ? A[d * s.N + n] : T(0);
  }
  for (int64_t t = 0; t < s.len; ++t) {
    const int64_t i = (b * s.len + t) * s.D + d;
    const T* Bt = Bm + (b * s.len + t) * s.N;
    const T* Ct = Cm + (b * s.len + t) * s.N;
    const T dt = delta[i], ut = u[i], du = dt * ut;
    T acc = Dskip[d] * ut;
#pragma unroll
    for (int n = 0; n < kMaxN; ++n)
      if (n < s.N) {
        x[n] = exp(dt * Ad[n]) * x[n] + du * Bt[n];
        acc += Ct[n] * x[n];
      }
    if (z) acc *= z[i] * sigmoid(z[i]);
    y[i] = acc;
  }
}

template <typename T, int kMaxN>
__global__ void __launch_bounds__(kSelThreads)
    selective_bwd_kernel(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                         const T* g, T* grad_u, T* grad_delta, T* grad_A, T* grad_Bm, T* grad_Cm, T* grad_D, T* grad_z,
                         T* checkpoints, SelectiveShape s) {
  const int64_t b = blockIdx.y, d = int64_t(blockIdx.x) * kSelThreads + threadIdx.x;
  const bool live = d < s.D;  // dead lanes still join the warp reductions, with zeros
  const int64_t dd = live ? d : 0;
  const int64_t segments = (s.len + kSegment - 1) / kSegment;
  T* ckpt = checkpoints + ((b * s.D + dd) * segments) * kMaxN;
  T x[kMaxN], Ad[kMaxN];
#pragma unroll
  for (int n = 0; n < kMaxN; ++n) {
    x[n] = 0;
    Ad[n] = n < s.N ? A[dd * s.N + n] : T(0);
  }
  // Checkpoint pass: the state entering each segment.
  for (int64_t t = 0; t < s.len; ++t) {
    if (t % kSegment == 0 && live)
      for (int n = 0; n < kMaxN; ++n) ckpt[(t / kSegment) * kMaxN + n] = x[n];
    const int64_t i = (b * s.len + t) * s.D + dd;
    const T* Bt = Bm + (b * s.len + t) * s.N;
    const T dt = delta[i], du = dt * u[i];
#pragma unroll
    for (int n = 0; n < kMaxN; ++n)
      if (n < s.N) x[n] = exp(dt * Ad[n]) * x[n] + du * Bt[n];
  }
  T lam[kMaxN], gA[kMaxN], xs[kSegment + 1][kMaxN];
#pragma unroll
  for (int n = 0; n < kMaxN; ++n) lam[n] = gA[n] = 0;
  T gD = 0;
  for (int64_t seg = segments - 1; seg >= 0; --seg) {
    const int64_t t0 = seg * kSegment, t1 = min(s.len, t0 + kSegment);
    // xs[k] is the state before step t0 + k.
    for (int n = 0; n < kMaxN; ++n) xs[0][n] = live ? ckpt[seg * kMaxN + n] : T(0);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i = (b * s.len + t) * s.D + dd;
      const T* Bt = Bm + (b * s.len + t) * s.N;
      const T dt = delta[i], du = dt * u[i];
      for (int n = 0; n < kMaxN; ++n) xs[t - t0 + 1][n] = n < s.N ? exp(dt * Ad[n]) * xs[t - t0][n] + du * Bt[n] : T(0);
    }
    for (int64_t t = t1 - 1; t >= t0; --t) {
      const int64_t i = (b * s.len + t) * s.D + dd;
      const int64_t row = (b * s.len + t) * s.N;
      const T dt = delta[i], ut = u[i];
      T gy = live ? g[i] : T(0);
      if (z) {
        const T sg = sigmoid(z[i]);
        T y_pre = Dskip[dd] * ut;
        for (int n = 0; n < s.N; ++n) y_pre += Cm[row + n] * xs[t - t0 + 1][n];
        if (live) grad_z[i] = gy * y_pre * sg * (T(1) + z[i] * (T(1) - sg));
        gy *= z[i] * sg;
      }
      T gu = Dskip[dd] * gy, gdt = 0;
      for (int n = 0; n < s.N; ++n) {
        const T adj = gy * Cm[row + n] + lam[n];
        const T x_prev = xs[t - t0][n], dA = exp(dt * Ad[n]);
        const T gc = warp_sum(gy * xs[t - t0 + 1][n]);
        const T gb = warp_sum(adj * dt * ut);
        if ((threadIdx.x & 31) == 0) {
          atomicAdd(grad_Cm + row + n, gc);
          atomicAdd(grad_Bm + row + n, gb);
        }
        gdt += adj * (Ad[n] * dA * x_prev + Bm[row + n] * ut);
        gA[n] += adj * dt * dA * x_prev;
        gu += adj * dt * Bm[row + n];
        lam[n] = adj * dA;
      }
      if (live) {
        grad_u[i] = gu;
        grad_delta[i] = gdt;
      }
      gD += gy * ut;
    }
  }
  if (!live) return;
  for (int n = 0; n < s.N; ++n) atomicAdd(grad_A + d * s.N + n, gA[n]);
  atomicAdd(grad_D + d, gD);
}

// The smallest supported register size >= N.
int register_size(int64_t N) {
  for (int size : {4, 16, 32, 64})
    if (N <= size) return size;
  throw std::runtime_error("seqrl CUDA selective_scan: state size N = " + std::to_string(N) +
                           " above 64 is not supported");
}

// Calls fn.template operator()<kMaxN>() with kMaxN = register_size(N).
template <typename Fn>
void with_state_size(int64_t N, const Fn& fn) {
  switch (register_size(N)) {
    case 4:
      return fn.template operator()<4>();
    case 16:
      return fn.template operator()<16>();
    case 32:
      return fn.template operator()<32>();
    default:
      return fn.template operator()<64>();
  }
}

dim3 selective_grid(const SelectiveShape& s) {
  if (s.B > 65535) throw std::runtime_error("seqrl CUDA scan: batch size above 65535 is not supported");
  return dim3(unsigned((s.D + kSelThreads - 1) / kSelThreads), unsigned(s.B));
}

}  // namespace

template <typename T>
void linear_scan_fwd(const T* a, const T* b, const T* h0, T* h, int64_t B, int64_t len, int64_t D, void* stream) {
  launch_chunked(RealFwd<RealRing<T>>{a, b, h0, h, {B, len, D}}, B, len, D, false, stream);
}

template <typename T>
void linear_scan_bwd(const T* a, const T* h, const T* h0, const T* g, T* grad_a, T* grad_b, T* grad_h0, int64_t B,
                     int64_t len, int64_t D, void* stream) {
  launch_chunked(LinearBwd<T>{a, h, h0, g, grad_a, grad_b, grad_h0, {B, len, D}}, B, len, D, true, stream);
}

template <typename T>
void log_linear_scan_fwd(const T* log_a, const T* log_b, const T* log_h0, T* h, int64_t B, int64_t len, int64_t D,
                         void* stream) {
  launch_chunked(RealFwd<LogRing<T>>{log_a, log_b, log_h0, h, {B, len, D}}, B, len, D, false, stream);
}

template <typename T>
void complex_scan_fwd(const T* a_re, const T* a_im, const T* b_re, const T* b_im, const T* h0_re, const T* h0_im,
                      T* h_re, T* h_im, int64_t B, int64_t len, int64_t D, void* stream) {
  launch_chunked(ComplexFwd<T>{a_re, a_im, b_re, b_im, h0_re, h0_im, h_re, h_im, {B, len, D}}, B, len, D, false,
                 stream);
}

template <typename T>
void complex_scan_bwd(const T* a_re, const T* a_im, const T* h_re, const T* h_im, const T* h0_re, const T* h0_im,
                      const T* g_re, const T* g_im, T* ga_re, T* ga_im, T* gb_re, T* gb_im, T* gh0_re, T* gh0_im,
                      int64_t B, int64_t len, int64_t D, void* stream) {
  launch_chunked(
      ComplexBwd<T>{
          a_re, a_im, h_re, h_im, h0_re, h0_im, g_re, g_im, ga_re, ga_im, gb_re, gb_im, gh0_re, gh0_im, {B, len, D}},
      B, len, D, true, stream);
}

namespace {

// The launches, as functors so that with_state_size can pick the register size.
template <typename T>
struct SelectiveFwdLaunch {
  const T *u, *delta, *A, *Bm, *Cm, *Dskip, *z;
  T* y;
  SelectiveShape s;
  void* stream;
  template <int kMaxN>
  void operator()() const {
    selective_fwd_kernel<T, kMaxN>
        <<<selective_grid(s), kSelThreads, 0, as_stream(stream)>>>(u, delta, A, Bm, Cm, Dskip, z, y, s);
    check(cudaGetLastError(), "selective_fwd launch");
  }
};

template <typename T>
struct SelectiveBwdLaunch {
  const T *u, *delta, *A, *Bm, *Cm, *Dskip, *z, *g;
  T *grad_u, *grad_delta, *grad_A, *grad_Bm, *grad_Cm, *grad_D, *grad_z, *workspace;
  SelectiveShape s;
  void* stream;
  template <int kMaxN>
  void operator()() const {
    selective_bwd_kernel<T, kMaxN><<<selective_grid(s), kSelThreads, 0, as_stream(stream)>>>(
        u, delta, A, Bm, Cm, Dskip, z, g, grad_u, grad_delta, grad_A, grad_Bm, grad_Cm, grad_D, grad_z, workspace, s);
    check(cudaGetLastError(), "selective_bwd launch");
  }
};

}  // namespace

template <typename T>
void selective_scan_fwd(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                        T* y, SelectiveShape s, void* stream) {
  if (s.B == 0 || s.D == 0 || s.len == 0) return;
  with_state_size(s.N, SelectiveFwdLaunch<T>{u, delta, A, Bm, Cm, Dskip, z, y, s, stream});
}

int64_t selective_scan_bwd_workspace(SelectiveShape s) {
  const int64_t segments = (s.len + kSegment - 1) / kSegment;  // the state entering each segment
  return s.B * s.D * segments * register_size(s.N);
}

template <typename T>
void selective_scan_bwd(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                        const T* g, T* grad_u, T* grad_delta, T* grad_A, T* grad_Bm, T* grad_Cm, T* grad_D, T* grad_z,
                        SelectiveShape s, T* workspace, void* stream) {
  if (s.B == 0 || s.D == 0 || s.len == 0) return;
  with_state_size(s.N, SelectiveBwdLaunch<T>{u, delta, A, Bm, Cm, Dskip, z, g, grad_u, grad_delta, grad_A, grad_Bm,
                                             grad_Cm, grad_D, grad_z, workspace, s, stream});
}

#define SEQRL_INSTANTIATE(T)                                                                                          \
  template void linear_scan_fwd<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t, void*);               \
  template void linear_scan_bwd<T>(const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t,     \
                                   void*);                                                                            \
  template void log_linear_scan_fwd<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t, void*);           \
  template void complex_scan_fwd<T>(const T*, const T*, const T*, const T*, const T*, const T*, T*, T*, int64_t,      \
                                    int64_t, int64_t, void*);                                                         \
  template void complex_scan_bwd<T>(const T*, const T*, const T*, const T*, const T*, const T*, const T*, const T*,   \
                                    T*, T*, T*, T*, T*, T*, int64_t, int64_t, int64_t, void*);                        \
  template void selective_scan_fwd<T>(const T*, const T*, const T*, const T*, const T*, const T*, const T*, T*,       \
                                      SelectiveShape, void*);                                                         \
  template void selective_scan_bwd<T>(const T*, const T*, const T*, const T*, const T*, const T*, const T*, const T*, \
                                      T*, T*, T*, T*, T*, T*, T*, SelectiveShape, T*, void*);
SEQRL_INSTANTIATE(float)
SEQRL_INSTANTIATE(double)
#undef SEQRL_INSTANTIATE

}  // namespace seqrl::kernels::cuda
