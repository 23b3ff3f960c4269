// CPU loops behind kernels/scan.h, on raw contiguous [B, T, D] buffers (T = len).
// Threaded over (batch, block of channels) with at::parallel_for; the inner loop runs over a
// contiguous block of D at one time step, so it vectorizes. Instantiated for float and double.
// A null h0 means a zero initial state (log space: h0 = 0, i.e. log_h0 = -inf).
#pragma once
#include <cstdint>

namespace seqrl::kernels::cpu {

template <typename T>
void linear_scan_fwd(const T* a, const T* b, const T* h0, T* h, int64_t B, int64_t len, int64_t D);

// Reverse (adjoint) scan: lambda_t = g_t + a_{t+1} lambda_{t+1};
// grad_b = lambda, grad_a_t = lambda_t h_{t-1}, grad_h0 = a_0 lambda_0 (written when non-null).
template <typename T>
void linear_scan_bwd(const T* a, const T* h, const T* h0, const T* g, T* grad_a, T* grad_b, T* grad_h0, int64_t B,
                     int64_t len, int64_t D);

// log_h_t = logaddexp(log_a_t + log_h_{t-1}, log_b_t); writes h = exp(log_h) (evaluated in
// double, normal space: see scan_cpu.cpp).
template <typename T>
void log_linear_scan_fwd(const T* log_a, const T* log_b, const T* log_h0, T* h, int64_t B, int64_t len, int64_t D);

// Complex h_t = a_t h_{t-1} + b_t on split real/imaginary buffers.
template <typename T>
void complex_scan_fwd(const T* a_re, const T* a_im, const T* b_re, const T* b_im, const T* h0_re, const T* h0_im,
                      T* h_re, T* h_im, int64_t B, int64_t len, int64_t D);

// Adjoint: lambda_t = g_t + conj(a_{t+1}) lambda_{t+1}; grad_b = lambda,
// grad_a_t = lambda_t conj(h_{t-1}), grad_h0 = conj(a_0) lambda_0.
template <typename T>
void complex_scan_bwd(const T* a_re, const T* a_im, const T* h_re, const T* h_im, const T* h0_re, const T* h0_im,
                      const T* g_re, const T* g_im, T* ga_re, T* ga_im, T* gb_re, T* gb_im, T* gh0_re, T* gh0_im,
                      int64_t B, int64_t len, int64_t D);

// Mamba S6 (see scan.h). z may be null. Nothing but the inputs is saved: backward recomputes
// the states of one channel at a time into a [len, N] scratch buffer.
struct SelectiveShape {
  int64_t B, len, D, N;
};

template <typename T>
void selective_scan_fwd(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                        T* y, SelectiveShape s);

// Writes every gradient (grad_z only when z is non-null); all outputs are overwritten.
template <typename T>
void selective_scan_bwd(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                        const T* g, T* grad_u, T* grad_delta, T* grad_A, T* grad_Bm, T* grad_Cm, T* grad_D, T* grad_z,
                        SelectiveShape s);

}  // namespace seqrl::kernels::cpu
