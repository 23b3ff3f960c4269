// CUDA scans against the CPU path (itself checked against float64 loops in test_scan_cpu.cpp):
// forward values and every gradient, on the same random inputs moved to the GPU. Shapes cover
// T = 1, odd T, T not a multiple of the kernels' chunk, a long T = 65536, and decays near 0
// and near 1. Skipped (not failed) when no CUDA device is present or seqrl was built
// without its CUDA kernels — the CPU-only CI machine compiles this file and skips it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

#include "core/error.h"
#include "kernels/scan.h"

using namespace seqrl::kernels;
using torch::Tensor;

namespace {

#if SEQRL_WITH_CUDA
constexpr bool kBuiltWithCuda = true;
#else
constexpr bool kBuiltWithCuda = false;
#endif

// A macro, not a function: GTEST_SKIP returns from the function it is written in.
#define SKIP_WITHOUT_GPU()                                                       \
  do {                                                                           \
    if (!kBuiltWithCuda) GTEST_SKIP() << "seqrl was built without CUDA kernels"; \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";          \
  } while (0)

struct Shape {
  int64_t B, T, D;
};
// 1 and 7: shorter than a warp; 1000 and 4099: not multiples of any chunk; 65536: long.
const Shape kShapes[] = {{2, 1, 3}, {3, 7, 5}, {2, 1000, 70}, {1, 4099, 129}, {1, 65536, 4}};

double rel_err(const Tensor& x, const Tensor& ref) {
  auto r = ref.to(torch::kCPU, torch::kDouble), d = x.to(torch::kCPU, torch::kDouble) - r;
  return (d.abs().max() / (r.abs().max() + 1e-30)).item<double>();
}

using Op = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Runs `op` on CPU copies and on CUDA copies of `inputs`, then compares outputs and the
// gradients of sum(out * w) for a random cotangent w shared by both devices.
void expect_gpu_equals_cpu(const Op& op, const std::vector<Tensor>& inputs, double tol) {
  std::vector<Tensor> cpu_in, gpu_in;
  for (const auto& t : inputs) {
    cpu_in.push_back(t.defined() ? t.detach().clone().requires_grad_(true) : t);
    gpu_in.push_back(t.defined() ? t.detach().to(torch::kCUDA).requires_grad_(true) : t);
  }
  auto cpu_out = op(cpu_in), gpu_out = op(gpu_in);
  ASSERT_EQ(cpu_out.size(), gpu_out.size());
  Tensor cpu_loss = torch::zeros({}, cpu_out[0].options()), gpu_loss = torch::zeros({}, gpu_out[0].options());
  for (size_t i = 0; i < cpu_out.size(); ++i) {
    ASSERT_TRUE(gpu_out[i].is_cuda());
    ASSERT_EQ(gpu_out[i].scalar_type(), cpu_out[i].scalar_type());
    EXPECT_LT(rel_err(gpu_out[i], cpu_out[i]), tol) << "output " << i;
    auto w = torch::randn_like(cpu_out[i]);
    cpu_loss = cpu_loss + (cpu_out[i] * w).sum();
    gpu_loss = gpu_loss + (gpu_out[i] * w.to(torch::kCUDA)).sum();
  }
  cpu_loss.backward();
  gpu_loss.backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    ASSERT_TRUE(gpu_in[i].grad().defined()) << "input " << i;
    EXPECT_LT(rel_err(gpu_in[i].grad(), cpu_in[i].grad()), tol) << "grad of input " << i;
  }
}

// float32 keeps ~1e-6 relative per step; long sums of many terms lose a little more.
double tolerance(torch::Dtype dtype) { return dtype == torch::kDouble ? 1e-10 : 1e-4; }

Tensor decays(Shape s, double lo, double hi, torch::Dtype dtype) {
  return torch::rand({s.B, s.T, s.D}, torch::kDouble).mul(hi - lo).add(lo).to(dtype);
}

}  // namespace

TEST(ScanCuda, LinearScanMatchesCpu) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(1);
  Op op = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{linear_scan(x[0], x[1], x[2])}; };
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (auto s : kShapes)
      for (auto [lo, hi] : {std::pair{0.0, 0.05}, std::pair{0.95, 1.0}, std::pair{-1.0, 1.0}}) {
        SCOPED_TRACE(testing::Message() << "B,T,D " << s.B << "," << s.T << "," << s.D << " a in (" << lo << "," << hi
                                        << ")");
        auto opt = torch::TensorOptions().dtype(dtype);
        expect_gpu_equals_cpu(
            op, {decays(s, lo, hi, dtype), torch::randn({s.B, s.T, s.D}, opt), torch::randn({s.B, s.D}, opt)},
            tolerance(dtype));
      }
}

TEST(ScanCuda, LinearScanWithoutInitialState) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(2);
  Op op = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{linear_scan(x[0], x[1])}; };
  Shape s{4, 300, 33};
  expect_gpu_equals_cpu(op, {decays(s, 0.5, 1.0, torch::kFloat), torch::randn({s.B, s.T, s.D})},
                        tolerance(torch::kFloat));
}

TEST(ScanCuda, LogLinearScanMatchesCpu) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(3);
  Op op = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{log_linear_scan(x[0], x[1], x[2])}; };
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (auto s : kShapes) {
      SCOPED_TRACE(testing::Message() << "B,T,D " << s.B << "," << s.T << "," << s.D);
      auto opt = torch::TensorOptions().dtype(dtype);
      // log_a in (-3, 0): decays from 0.05 to 1; log_b spread over several orders of magnitude.
      auto log_a = torch::log(decays(s, 0.05, 1.0, dtype)), log_b = torch::randn({s.B, s.T, s.D}, opt) * 3;
      expect_gpu_equals_cpu(op, {log_a, log_b, torch::randn({s.B, s.D}, opt)}, tolerance(dtype));
    }
}

TEST(ScanCuda, ComplexScanMatchesCpu) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(4);
  Op op = [](const std::vector<Tensor>& x) {
    auto [re, im] = complex_linear_scan(x[0], x[1], x[2], x[3], x[4], x[5]);
    return std::vector<Tensor>{re, im};
  };
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (auto s : kShapes) {
      SCOPED_TRACE(testing::Message() << "B,T,D " << s.B << "," << s.T << "," << s.D);
      auto opt = torch::TensorOptions().dtype(dtype);
      // |λ| in (0.5, 0.999) at a random phase, as LRU's ring initialization produces.
      auto r = decays(s, 0.5, 0.999, dtype), phase = torch::rand({s.B, s.T, s.D}, opt) * 6.28;
      expect_gpu_equals_cpu(
          op,
          {r * torch::cos(phase), r * torch::sin(phase), torch::randn({s.B, s.T, s.D}, opt),
           torch::randn({s.B, s.T, s.D}, opt), torch::randn({s.B, s.D}, opt), torch::randn({s.B, s.D}, opt)},
          tolerance(dtype));
    }
}

TEST(ScanCuda, SelectiveScanMatchesCpu) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(5);
  Op with_z = [](const std::vector<Tensor>& x) {
    return std::vector<Tensor>{selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6])};
  };
  Op without_z = [](const std::vector<Tensor>& x) {
    return std::vector<Tensor>{selective_scan(x[0], x[1], x[2], x[3], x[4], x[5])};
  };
  const int64_t N = 16;
  // The long shape is left out: the CPU reference of the backward pass over 65536 steps is slow.
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (const auto& s : {Shape{2, 1, 3}, Shape{3, 7, 5}, Shape{2, 1000, 70}, Shape{1, 4099, 33}}) {
      SCOPED_TRACE(testing::Message() << "B,T,D " << s.B << "," << s.T << "," << s.D);
      auto opt = torch::TensorOptions().dtype(dtype);
      std::vector<Tensor> in = {torch::randn({s.B, s.T, s.D}, opt),
                                torch::rand({s.B, s.T, s.D}, opt) * 0.1 + 0.001,  // Δ after softplus: small, positive
                                -torch::rand({s.D, N}, opt) * 4 - 0.1,            // A < 0 (S4D-real-like range)
                                torch::randn({s.B, s.T, N}, opt),
                                torch::randn({s.B, s.T, N}, opt),
                                torch::randn({s.D}, opt),
                                torch::randn({s.B, s.T, s.D}, opt)};
      expect_gpu_equals_cpu(with_z, in, 10 * tolerance(dtype));  // atomics reorder the sums over B, T
      in.pop_back();
      expect_gpu_equals_cpu(without_z, in, 10 * tolerance(dtype));
    }
}

// Half and bfloat16 on the GPU compute in float32 like on the CPU, so both devices agree to
// the rounding of the reduced-precision output.
TEST(ScanCuda, ReducedPrecisionMatchesCpu) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(6);
  Op op = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{linear_scan(x[0], x[1])}; };
  for (auto dtype : {torch::kHalf, torch::kBFloat16}) {
    Shape s{2, 513, 40};
    expect_gpu_equals_cpu(op, {decays(s, 0.5, 1.0, dtype), torch::randn({s.B, s.T, s.D}).to(dtype)},
                          dtype == torch::kHalf ? 2e-3 : 2e-2);
  }
}

// Strided views are made contiguous before the launch; a tensor on another device is a
// seqrl::Error naming it, not a crash inside the kernel.
TEST(ScanCuda, NonContiguousAndMixedDeviceInputs) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(7);
  auto a = torch::rand({5, 2, 30}, torch::kCUDA).transpose(0, 2).transpose(0, 1),
       b = torch::randn({2, 30, 5}, torch::kCUDA);
  ASSERT_FALSE(a.is_contiguous());
  EXPECT_LT(rel_err(linear_scan(a, b), linear_scan(a.cpu(), b.cpu())), 1e-5);
  EXPECT_THROW(linear_scan(a, b.cpu()), seqrl::Error);
}
