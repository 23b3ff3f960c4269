// models/dropout.h: the hashed dropout the residual stack and attention use. Its mask is random,
// so the tests check what defines dropout: each output is 0 or x / (1 − p); the dropped share
// is p within binomial bounds (the masks are fixed by the seed, so the bounds cannot flake);
// elements are dropped independently of their neighbours along every axis of a [B, T, D]
// activation; the gradient is the same mask; and the mask follows the default generator
// (run.seed, and the state a checkpoint restores).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "models/dropout.h"

namespace seqrl {
namespace {

// The share of zeros in y and its allowed deviation, 6 binomial standard deviations.
double dropped_share(const torch::Tensor& y) { return (y == 0).to(torch::kFloat64).mean().item<double>(); }
double tolerance(double p, int64_t n) { return 6.0 * std::sqrt(p * (1 - p) / double(n)); }

TEST(HashedDropout, OutputsAreZeroOrScaledInputAtRateP) {
  for (double p : {0.1, 0.5, 0.9}) {
    torch::manual_seed(3);
    auto x = torch::rand({64, 60, 128}) + 0.5;  // no zeros of its own
    auto y = hashed_dropout(x, p, true);
    auto kept = y != 0;
    EXPECT_TRUE(torch::allclose(y.masked_select(kept), x.masked_select(kept) / (1 - p), 1e-6, 0)) << p;
    EXPECT_NEAR(dropped_share(y), p, tolerance(p, y.numel())) << p;
  }
}

TEST(HashedDropout, IdentityInEvalModeOrAtZero) {
  auto x = torch::randn({4, 5, 6});
  EXPECT_TRUE(hashed_dropout(x, 0.5, false).equal(x));
  EXPECT_TRUE(hashed_dropout(x, 0.0, true).equal(x));
  HashedDropout module(0.5);
  module->eval();
  EXPECT_TRUE(module(x).equal(x));
  module->train();
  EXPECT_FALSE(module(x).equal(x));
}

// Pairs of elements one step apart along the batch, time and feature axes of [B, T, D] (and at
// the flat index's 2^k strides) are both dropped at rate p² if the mask has no structure.
TEST(HashedDropout, NeighboursAreDroppedIndependently) {
  const double p = 0.3;
  torch::manual_seed(5);
  auto dropped = (hashed_dropout(torch::ones({64, 60, 128}), p, true) == 0).to(torch::kFloat64);
  auto flat = dropped.reshape({-1});
  auto both = [](const torch::Tensor& a, const torch::Tensor& b) { return (a * b).mean().item<double>(); };
  const int64_t n = flat.numel();
  for (int64_t stride : {int64_t(1), int64_t(2), int64_t(16), int64_t(128), int64_t(1024), int64_t(60 * 128)}) {
    const double share = both(flat.slice(0, 0, n - stride), flat.slice(0, stride));
    EXPECT_NEAR(share, p * p, tolerance(p * p, n - stride)) << "stride " << stride;
  }
  // Every position of the feature axis is dropped at rate p (no lane is favoured).
  auto per_feature = dropped.mean(std::vector<int64_t>{0, 1});
  const double bound = tolerance(p, 64 * 60);
  EXPECT_LT((per_feature - p).abs().max().item<double>(), bound);
}

TEST(HashedDropout, GradientIsTheMask) {
  torch::manual_seed(7);
  auto x = (torch::rand({8, 20, 32}, torch::kFloat64) + 0.5).requires_grad_();
  auto y = hashed_dropout(x, 0.2, true);
  y.sum().backward();
  auto expected = (y != 0).to(torch::kFloat64) / 0.8;
  EXPECT_TRUE(torch::allclose(x.grad(), expected, 1e-15, 0));
}

// The mask is drawn from the default generator: the same seed (or restored generator state)
// gives the same mask, each call a new one; float32 and float64 inputs share the pattern.
TEST(HashedDropout, MaskFollowsTheDefaultGenerator) {
  auto ones = torch::ones({3, 50, 40});
  torch::manual_seed(11);
  auto first = hashed_dropout(ones, 0.5, true);
  auto second = hashed_dropout(ones, 0.5, true);
  EXPECT_FALSE(first.equal(second));
  torch::manual_seed(11);
  EXPECT_TRUE(hashed_dropout(ones, 0.5, true).equal(first));
  torch::manual_seed(11);
  auto wide = hashed_dropout(ones.to(torch::kFloat64), 0.5, true);
  EXPECT_TRUE((wide == 0).equal(first == 0));

  auto generator = at::detail::getDefaultCPUGenerator();
  const auto saved = generator.get_state();
  auto before = hashed_dropout(ones, 0.5, true);
  generator.set_state(saved);
  EXPECT_TRUE(hashed_dropout(ones, 0.5, true).equal(before));
}

}  // namespace
}  // namespace seqrl
