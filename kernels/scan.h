// The scans every recurrent backbone is built on. Each op is a torch::autograd::Function
// (forward and backward), dispatching to the CPU path or, for CUDA tensors, to kernels/cuda.
// Shapes: [B, T, D] with the recurrence along T; h0 is [B, D] (an undefined tensor means zeros).
#pragma once
#include <torch/torch.h>

#include <tuple>

namespace seqrl::kernels {

// h_t = a_t * h_{t-1} + b_t. Returns h: [B, T, D].
torch::Tensor linear_scan(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& h0 = {});

// The same recurrence with a_t = exp(log_a_t) and b_t = exp(log_b_t) > 0, evaluated in log
// space (stable for long T, as in the minGRU paper). log_h0 is log of a positive h0 (undefined:
// h0 = 0). Returns h (normal space, positive): [B, T, D].
torch::Tensor log_linear_scan(const torch::Tensor& log_a, const torch::Tensor& log_b, const torch::Tensor& log_h0 = {});

// Complex diagonal recurrence (LRU) on split real/imaginary parts, all [B, T, D];
// h0 as two [B, D] tensors or undefined. Returns (h_re, h_im).
std::tuple<torch::Tensor, torch::Tensor> complex_linear_scan(const torch::Tensor& a_re, const torch::Tensor& a_im,
                                                             const torch::Tensor& b_re, const torch::Tensor& b_im,
                                                             const torch::Tensor& h0_re = {},
                                                             const torch::Tensor& h0_im = {});

// Mamba S6 selective scan. u, delta: [B, T, D]; A: [D, N]; Bm, Cm: [B, T, N]; Dskip: [D];
// z: [B, T, D] or undefined. State x_t = exp(delta_t A) x_{t-1} + delta_t Bm_t u_t (per d, n),
// y_t = <Cm_t, x_t> + Dskip u_t, then y *= silu(z) when z is given. Returns y: [B, T, D].
torch::Tensor selective_scan(const torch::Tensor& u, const torch::Tensor& delta, const torch::Tensor& A,
                             const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& Dskip,
                             const torch::Tensor& z = {});

}  // namespace seqrl::kernels
