// Dropout for the residual stack and attention: y = x · m / (1 − p), m ~ Bernoulli(1 − p) per
// element, in training mode only.
//
// On the CPU the keep mask comes from a counter-based hash of the element's index under a key
// drawn once per call from LibTorch's default generator, instead of torch::dropout's one
// generator call per element (bernoulli_ was ~10 % of a DT training step at width 128). The mask
// still follows run.seed and the generator state a checkpoint saves, so runs stay reproducible
// and resumable. Elsewhere (CUDA) it is torch::dropout.
#pragma once
#include <torch/torch.h>

namespace seqrl {

// x in training mode with probability p of zeroing each element, x itself otherwise. p in [0, 1).
torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool training);

// As a module, so that train()/eval() switch it like torch::nn::Dropout.
class HashedDropoutImpl : public torch::nn::Module {
 public:
  explicit HashedDropoutImpl(double p) : p_(p) {}
  torch::Tensor forward(const torch::Tensor& x) { return hashed_dropout(x, p_, is_training()); }

 private:
  double p_;
};
TORCH_MODULE(HashedDropout);

}  // namespace seqrl
