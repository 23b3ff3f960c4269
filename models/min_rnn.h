// Shared pieces of minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?").
// The candidate state goes through g, which keeps it positive so that the parallel mode can
// run in log space: g(x) = x + 0.5 for x >= 0, sigmoid(x) otherwise.
#pragma once
#include <torch/torch.h>

namespace seqrl::min_rnn {

// g(x), used by the recurrent step (normal space).
inline torch::Tensor g(const torch::Tensor& x) { return torch::where(x >= 0, x + 0.5, torch::sigmoid(x)); }

// log g(x), used by the parallel mode; log sigmoid(x) = -softplus(-x). relu keeps the unused
// branch finite so its gradient is not NaN.
inline torch::Tensor log_g(const torch::Tensor& x) {
  return torch::where(x >= 0, torch::log(torch::relu(x) + 0.5), -torch::softplus(-x));
}

}  // namespace seqrl::min_rnn
