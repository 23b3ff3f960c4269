// CUDA launchers behind kernels/scan.h: raw device pointers, contiguous [B, T, D] buffers
// (T = len), and the cudaStream_t to launch on passed as void* so that this header needs
// neither torch nor the CUDA runtime. Same contracts as the CPU loops in kernels/scan_cpu.h.
// Instantiated for float and double.
#pragma once
#include <cstdint>

#include "kernels/scan_cpu.h"  // SelectiveShape

namespace seqrl::kernels::cuda {

using cpu::SelectiveShape;

template <typename T>
void linear_scan_fwd(const T* a, const T* b, const T* h0, T* h, int64_t B, int64_t len, int64_t D, void* stream);

template <typename T>
void linear_scan_bwd(const T* a, const T* h, const T* h0, const T* g, T* grad_a, T* grad_b, T* grad_h0, int64_t B,
                     int64_t len, int64_t D, void* stream);

template <typename T>
void log_linear_scan_fwd(const T* log_a, const T* log_b, const T* log_h0, T* h, int64_t B, int64_t len, int64_t D,
                         void* stream);

template <typename T>
void complex_scan_fwd(const T* a_re, const T* a_im, const T* b_re, const T* b_im, const T* h0_re, const T* h0_im,
                      T* h_re, T* h_im, int64_t B, int64_t len, int64_t D, void* stream);

template <typename T>
void complex_scan_bwd(const T* a_re, const T* a_im, const T* h_re, const T* h_im, const T* h0_re, const T* h0_im,
                      const T* g_re, const T* g_im, T* ga_re, T* ga_im, T* gb_re, T* gb_im, T* gh0_re, T* gh0_im,
                      int64_t B, int64_t len, int64_t D, void* stream);

template <typename T>
void selective_scan_fwd(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                        T* y, SelectiveShape s, void* stream);

// Elements of T the backward needs as workspace (its state checkpoints). The caller allocates
// them (through LibTorch's caching allocator, so that its peak-memory statistics count them).
int64_t selective_scan_bwd_workspace(SelectiveShape s);

// grad_A, grad_Bm, grad_Cm, grad_D are accumulated with atomics: the caller zero-fills them.
template <typename T>
void selective_scan_bwd(const T* u, const T* delta, const T* A, const T* Bm, const T* Cm, const T* Dskip, const T* z,
                        const T* g, T* grad_u, T* grad_delta, T* grad_A, T* grad_Bm, T* grad_Cm, T* grad_D, T* grad_z,
                        SelectiveShape s, T* workspace, void* stream);

}  // namespace seqrl::kernels::cuda
