#include "models/backbone_check.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/error.h"
#include "models/block.h"

namespace seqrl {

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

namespace {

double max_abs(const torch::Tensor& t) { return t.numel() ? t.abs().max().item<double>() : 0.0; }

// max|a - b| / max|b| (NaN anywhere gives NaN, which fails every tolerance test).
double relative_error(const torch::Tensor& a, const torch::Tensor& b, double floor) {
  return max_abs(a - b) / std::max(max_abs(b), floor);
}

// Outputs [B, T, D] of step() run over x token by token.
torch::Tensor run_steps(BackboneImpl& backbone, const torch::Tensor& x) {
  auto state = backbone.initial_state(x.size(0));
  std::vector<torch::Tensor> ys;
  for (int64_t t = 0; t < x.size(1); ++t) ys.push_back(backbone.step(x.select(1, t), state));
  return torch::stack(ys, 1);
}

// Gradients of sum(w * y(x)) w.r.t. x and every parameter, in parameter order.
std::vector<torch::Tensor> gradients(BackboneImpl& backbone, const torch::Tensor& x, const torch::Tensor& w,
                                     bool sequential) {
  auto input = x.detach().clone().requires_grad_(true);
  backbone.zero_grad();
  auto y = sequential ? run_steps(backbone, input) : backbone.forward(input);
  (y * w).sum().backward();
  std::vector<torch::Tensor> grads = {input.grad().clone()};
  for (const auto& p : backbone.parameters())
    grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return grads;
}

}  // namespace

CheckReport check_backbone(const std::string& name, const BackboneConfig& config, uint64_t seed) {
  return check_backbone(
      name, [&name](const BackboneConfig& c) { return make_backbone(name, c); }, config, seed);
}

CheckReport check_backbone(const std::string& name, const std::function<Backbone(const BackboneConfig&)>& make,
                           const BackboneConfig& config_in, uint64_t seed) {
  CheckReport report;
  report.backbone = name;
  try {
    torch::manual_seed(seed);
    auto config = config_in;
    config.dropout = 0.0;
    auto backbone = make(config);
    backbone->to(torch::kFloat64);
    backbone->eval();
    report.params = count_parameters(*backbone);

    const int64_t B = 2, T = config.max_tokens, D = config.dim;
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    const auto x = torch::randn({B, T, D}, f64);
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      y = backbone->forward(x);
      if (y.sizes() != x.sizes())
        throw Error(name + ": forward returned shape " + shape_string(y) + ", expected " + shape_string(x));
      // Causality: replace everything after t0 and compare the outputs up to t0.
      const int64_t t0 = T / 2;
      auto x_changed = x.clone();
      x_changed.slice(1, t0 + 1).normal_();
      auto y_changed = backbone->forward(x_changed);
      report.causality_err = relative_error(y_changed.slice(1, 0, t0 + 1), y.slice(1, 0, t0 + 1), 1e-12);
      report.step_err = relative_error(run_steps(*backbone, x), y, 1e-12);
    }

    const auto w = torch::randn({B, T, D}, f64);
    const auto parallel = gradients(*backbone, x, w, false);
    const auto sequential = gradients(*backbone, x, w, true);
    double largest = 0;
    for (const auto& g : sequential) largest = std::max(largest, max_abs(g));
    // Per tensor, relative to its own scale, floored so that (near-)zero gradients compare
    // against the overall gradient scale instead of dividing by ~0.
    for (size_t i = 0; i < parallel.size(); ++i)
      report.grad_err =
          std::max(report.grad_err, relative_error(parallel[i], sequential[i], std::max(1e-6 * largest, 1e-300)));
    // max() skips NaN, so test for it explicitly.
    for (size_t i = 0; i < parallel.size(); ++i)
      if (!torch::isfinite(parallel[i]).all().item<bool>() || !torch::isfinite(sequential[i]).all().item<bool>())
        report.grad_err = std::numeric_limits<double>::quiet_NaN();

    report.pass = report.causality_err <= kCheckTolerance && report.step_err <= kCheckTolerance &&
                  report.grad_err <= kCheckTolerance;
  } catch (const std::exception& e) {
    report.failure = e.what();
    report.pass = false;
  }
  return report;
}

}  // namespace seqrl
