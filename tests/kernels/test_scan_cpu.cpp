// CPU scans against independent float64 sequential loops (tests/kernels/scan_reference.h), on
// fresh random inputs: forward values, gradients (autograd through the loop) and finite
// differences; shapes cover T = 1, odd T, T and D not multiples of the 64-channel block, and a
// long T = 65536; a near 0 and near 1.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "kernels/scan.h"
#include "tests/kernels/scan_reference.h"

using namespace seqrl::kernels;
using namespace seqrl::kernels::testing;
using torch::Tensor;

namespace {

struct Shape {
  int64_t B, T, D;
};
const Shape kShapes[] = {{2, 1, 3}, {3, 7, 5}, {2, 67, 70}, {1, 130, 129}};

// Decays in (lo, hi): lo near 0 or hi near 1 are the interesting extremes.
Tensor decays(Shape s, double lo, double hi, torch::Dtype dtype) {
  return torch::rand({s.B, s.T, s.D}, torch::kDouble).mul(hi - lo).add(lo).to(dtype);
}

Tensor rel_err(const Tensor& x, const Tensor& ref) { return (f64(x) - ref).abs().max() / (ref.abs().max() + 1e-30); }

// Forward and all gradients of `op` against `ref` (float64 torch loop), both given the same
// inputs; grads are compared through a random cotangent w (loss = sum(out * w)).
void expect_same_op(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& op,
                    const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& ref,
                    const std::vector<Tensor>& inputs, double tol) {
  std::vector<Tensor> xs, rs;
  for (const auto& in : inputs) {
    xs.push_back(in.defined() ? in.detach().clone().requires_grad_(true) : in);
    rs.push_back(in.defined() ? f64(in).detach().requires_grad_(true) : in);
  }
  auto out = op(xs);
  auto expected = ref(rs);
  Tensor loss = torch::zeros({}, torch::kDouble), loss_ref = torch::zeros({}, torch::kDouble);
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i].scalar_type(), inputs[0].scalar_type());
    EXPECT_LT(rel_err(out[i], expected[i]).item<double>(), tol) << "output " << i;
    auto w = torch::randn_like(expected[i]);
    loss = loss + (f64(out[i]) * w).sum();
    loss_ref = loss_ref + (expected[i] * w).sum();
  }
  loss.backward();
  loss_ref.backward();
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].defined()) continue;
    ASSERT_TRUE(xs[i].grad().defined()) << "input " << i;
    EXPECT_LT(rel_err(xs[i].grad(), rs[i].grad()).item<double>(), tol) << "grad of input " << i;
  }
}

std::vector<Tensor> linear_op(const std::vector<Tensor>& x) { return {linear_scan(x[0], x[1], x[2])}; }
std::vector<Tensor> linear_ref(const std::vector<Tensor>& x) { return {loop_linear(x[0], x[1], x[2])}; }
std::vector<Tensor> log_op(const std::vector<Tensor>& x) { return {log_linear_scan(x[0], x[1], x[2])}; }
std::vector<Tensor> log_ref(const std::vector<Tensor>& x) {
  return {loop_linear(x[0].exp(), x[1].exp(), x[2].defined() ? x[2].exp() : Tensor())};
}
std::vector<Tensor> complex_op(const std::vector<Tensor>& x) {
  auto [re, im] = complex_linear_scan(x[0], x[1], x[2], x[3], x[4], x[5]);
  return {re, im};
}
std::vector<Tensor> complex_ref(const std::vector<Tensor>& x) {
  return loop_complex(x[0], x[1], x[2], x[3], x[4], x[5]);
}
std::vector<Tensor> selective_op(const std::vector<Tensor>& x) {
  return {selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6])};
}
std::vector<Tensor> selective_ref(const std::vector<Tensor>& x) {
  return {loop_selective(x[0], x[1], x[2], x[3], x[4], x[5], x[6])};
}

double tolerance(torch::Dtype dtype) { return dtype == torch::kDouble ? 1e-11 : 2e-5; }

}  // namespace

TEST(LinearScanCpu, MatchesLoopForwardAndGradients) {
  torch::manual_seed(1);
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (auto s : kShapes)
      for (bool with_h0 : {false, true})
        for (auto [lo, hi] : {std::pair{0.0, 1e-3}, std::pair{0.5, 1.0}, std::pair{0.999, 1.0}}) {
          SCOPED_TRACE(::testing::Message() << "T=" << s.T << " D=" << s.D << " h0=" << with_h0 << " a in (" << lo
                                            << "," << hi << ") " << dtype);
          auto a = decays(s, lo, hi, dtype), b = torch::randn({s.B, s.T, s.D}, dtype);
          Tensor h0 = with_h0 ? torch::randn({s.B, s.D}, dtype) : Tensor();
          expect_same_op(linear_op, linear_ref, {a, b, h0}, tolerance(dtype));
        }
}

TEST(LinearScanCpu, NegativeAndLargeDecays) {
  torch::manual_seed(2);
  Shape s{2, 33, 9};
  auto a = torch::randn({s.B, s.T, s.D}, torch::kDouble) * 1.05, b = torch::randn({s.B, s.T, s.D}, torch::kDouble);
  expect_same_op(linear_op, linear_ref, {a, b, torch::randn({s.B, s.D}, torch::kDouble)}, 1e-11);
}

TEST(LinearScanCpu, FiniteDifferences) {
  torch::manual_seed(3);
  Shape s{2, 19, 7};
  auto f = [](const std::vector<Tensor>& x) { return (linear_scan(x[0], x[1], x[2]) * x[3].detach()).sum(); };
  expect_directional_derivative(
      f, {decays(s, 0.1, 1.0, torch::kDouble), torch::randn({s.B, s.T, s.D}, torch::kDouble),
          torch::randn({s.B, s.D}, torch::kDouble), torch::randn({s.B, s.T, s.D}, torch::kDouble)});
}

TEST(LinearScanCpu, LongSequence) {
  torch::manual_seed(4);
  Shape s{1, 65536, 4};
  auto a = decays(s, 0.99, 1.0, torch::kFloat), b = torch::randn({s.B, s.T, s.D});
  auto h = linear_scan(a, b);
  EXPECT_LT(rel_err(h, raw_linear(a, b, false)).item<double>(), 1e-4);
  auto w = torch::randn({s.B, s.T, s.D}, torch::kDouble);
  auto f = [&](const std::vector<Tensor>& x) { return (linear_scan(x[0], x[1]) * w).sum(); };
  expect_directional_derivative(f, {f64(a), f64(b)});
}

TEST(LogLinearScanCpu, MatchesLoopForwardAndGradients) {
  torch::manual_seed(5);
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (auto s : kShapes)
      for (bool with_h0 : {false, true})
        for (auto [lo, hi] : {std::pair{1e-6, 1e-3}, std::pair{0.5, 1.0}, std::pair{0.999, 1.0}}) {
          SCOPED_TRACE(::testing::Message() << "T=" << s.T << " h0=" << with_h0 << " a in (" << lo << "," << hi << ")");
          auto log_a = decays(s, lo, hi, dtype).log(), log_b = torch::randn({s.B, s.T, s.D}, dtype);
          Tensor log_h0 = with_h0 ? torch::randn({s.B, s.D}, dtype) : Tensor();
          expect_same_op(log_op, log_ref, {log_a, log_b, log_h0}, tolerance(dtype));
        }
}

TEST(LogLinearScanCpu, FiniteDifferences) {
  torch::manual_seed(6);
  Shape s{2, 23, 5};
  auto f = [](const std::vector<Tensor>& x) { return (log_linear_scan(x[0], x[1], x[2]) * x[3].detach()).sum(); };
  expect_directional_derivative(
      f, {decays(s, 0.1, 1.0, torch::kDouble).log(), torch::randn({s.B, s.T, s.D}, torch::kDouble),
          torch::randn({s.B, s.D}, torch::kDouble), torch::randn({s.B, s.T, s.D}, torch::kDouble)});
}

// The log form stays finite where the products of decays underflow: a tiny a_t resets
// the state, and log_b of -80 contributes nothing measurable.
TEST(LogLinearScanCpu, LongSequenceAndExtremeLogs) {
  torch::manual_seed(7);
  Shape s{1, 65536, 4};
  auto log_a = decays(s, 0.999, 1.0, torch::kFloat).log(), log_b = torch::randn({s.B, s.T, s.D}) - 3;
  log_a.index_put_({0, 1000}, -200.0f);
  log_b.index_put_({0, 2000}, -80.0f);
  auto h = log_linear_scan(log_a, log_b);
  ASSERT_TRUE(torch::isfinite(h).all().item<bool>());
  EXPECT_LT(rel_err(h, raw_linear(log_a, log_b, true)).item<double>(), 1e-4);
}

TEST(ComplexScanCpu, MatchesLoopForwardAndGradients) {
  torch::manual_seed(8);
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (auto s : kShapes)
      for (bool with_h0 : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "T=" << s.T << " D=" << s.D << " h0=" << with_h0 << " " << dtype);
        // |a| in (0.5, 1) with a random phase, as in LRU.
        auto mag = decays(s, 0.5, 1.0, torch::kDouble), phase = torch::rand({s.B, s.T, s.D}, torch::kDouble) * 6.28;
        auto rnd = [&](std::vector<int64_t> shape) { return torch::randn(shape, dtype); };
        Tensor h0r = with_h0 ? rnd({s.B, s.D}) : Tensor(), h0i = with_h0 ? rnd({s.B, s.D}) : Tensor();
        expect_same_op(complex_op, complex_ref,
                       {(mag * phase.cos()).to(dtype), (mag * phase.sin()).to(dtype), rnd({s.B, s.T, s.D}),
                        rnd({s.B, s.T, s.D}), h0r, h0i},
                       tolerance(dtype));
      }
}

TEST(SelectiveScanCpu, MatchesLoopForwardAndGradients) {
  torch::manual_seed(9);
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (auto s : {Shape{2, 1, 3}, Shape{2, 9, 5}, Shape{3, 70, 66}})
      for (bool with_z : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "T=" << s.T << " D=" << s.D << " z=" << with_z << " " << dtype);
        const int64_t N = 4;
        auto rnd = [&](std::vector<int64_t> shape) { return torch::randn(shape, dtype); };
        auto delta = torch::rand({s.B, s.T, s.D}, dtype) * 0.5 + 0.01;
        auto A = -torch::rand({s.D, N}, dtype) * 2 - 0.1;
        Tensor z = with_z ? rnd({s.B, s.T, s.D}) : Tensor();
        expect_same_op(selective_op, selective_ref,
                       {rnd({s.B, s.T, s.D}), delta, A, rnd({s.B, s.T, N}), rnd({s.B, s.T, N}), rnd({s.D}), z},
                       dtype == torch::kDouble ? 1e-10 : 1e-4);
      }
}

TEST(SelectiveScanCpu, FiniteDifferences) {
  torch::manual_seed(10);
  const int64_t B = 2, T = 11, D = 3, N = 5;
  auto f = [](const std::vector<Tensor>& x) {
    return (selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6]) * x[7].detach()).sum();
  };
  auto opt = torch::kDouble;
  expect_directional_derivative(
      f, {torch::randn({B, T, D}, opt), torch::rand({B, T, D}, opt) + 0.1, -torch::rand({D, N}, opt) - 0.1,
          torch::randn({B, T, N}, opt), torch::randn({B, T, N}, opt), torch::randn({D}, opt),
          torch::randn({B, T, D}, opt), torch::randn({B, T, D}, opt)});
}

// Half and bfloat16 compute in float32 and return their own dtype, with gradients.
TEST(ScanCpu, ReducedPrecisionInputs) {
  torch::manual_seed(11);
  for (auto dtype : {torch::kHalf, torch::kBFloat16}) {
    auto a = torch::rand({2, 40, 8}).mul(0.5).add(0.5), b = torch::randn({2, 40, 8});
    auto a16 = a.to(dtype).requires_grad_(true), b16 = b.to(dtype).requires_grad_(true);
    auto h = linear_scan(a16, b16);
    ASSERT_EQ(h.scalar_type(), dtype);
    auto ref = loop_linear(f64(a16.detach()), f64(b16.detach()), Tensor());
    EXPECT_LT(rel_err(h, ref).item<double>(), dtype == torch::kHalf ? 2e-3 : 1e-2);
    h.sum().backward();
    ASSERT_EQ(a16.grad().scalar_type(), dtype);
    EXPECT_TRUE(torch::isfinite(b16.grad()).all().item<bool>());
  }
}

TEST(ScanCpu, NonContiguousInputs) {
  torch::manual_seed(12);
  auto a = torch::rand({5, 2, 30}).transpose(0, 2).transpose(0, 1), b = torch::randn({2, 30, 5});
  ASSERT_FALSE(a.is_contiguous());
  EXPECT_LT(rel_err(linear_scan(a, b), loop_linear(f64(a), f64(b), Tensor())).item<double>(), 1e-5);
}

TEST(ScanCpu, BadInputsThrowSeqrlError) {
  auto x = torch::rand({2, 5, 3});
  EXPECT_THROW(linear_scan(x, torch::rand({2, 5, 4})), seqrl::Error);
  EXPECT_THROW(linear_scan(torch::rand({2, 5}), torch::rand({2, 5})), seqrl::Error);
  EXPECT_THROW(linear_scan(x, x, torch::rand({2, 4})), seqrl::Error);
  EXPECT_THROW(linear_scan(x, x.to(torch::kDouble)), seqrl::Error);
  EXPECT_THROW(linear_scan(x.to(torch::kInt), x.to(torch::kInt)), seqrl::Error);
  EXPECT_THROW(log_linear_scan(x, torch::Tensor()), seqrl::Error);
  EXPECT_THROW(complex_linear_scan(x, x, x, x, torch::rand({2, 3})), seqrl::Error);
  EXPECT_THROW(selective_scan(x, x, torch::rand({3}), torch::rand({2, 5, 4}), torch::rand({2, 5, 4}), torch::rand({3})),
               seqrl::Error);
  EXPECT_THROW(
      selective_scan(x, x, torch::rand({3, 4}), torch::rand({2, 5, 4}), torch::rand({2, 5, 2}), torch::rand({3})),
      seqrl::Error);
  try {
    linear_scan(x, torch::rand({2, 5, 4}));
  } catch (const seqrl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("linear_scan: b has shape [2, 5, 4], expected [2, 5, 3]"), std::string::npos)
        << e.what();
  }
}
