// Independent references for the scan tests: float64 sequential loops written with plain torch
// ops (so autograd gives reference gradients), a raw-loop forward for long sequences, and a
// finite-difference directional-derivative check.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <vector>

namespace seqrl::kernels::testing {

inline torch::Tensor f64(const torch::Tensor& t) { return t.defined() ? t.to(torch::kDouble) : t; }

// h_t = a_t h_{t-1} + b_t, one torch op per step.
inline torch::Tensor loop_linear(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& h0) {
  auto h = h0.defined() ? h0 : torch::zeros({a.size(0), a.size(2)}, a.options());
  std::vector<torch::Tensor> out;
  for (int64_t t = 0; t < a.size(1); ++t) {
    h = a.select(1, t) * h + b.select(1, t);
    out.push_back(h);
  }
  return torch::stack(out, 1);
}

inline std::vector<torch::Tensor> loop_complex(const torch::Tensor& ar, const torch::Tensor& ai,
                                               const torch::Tensor& br, const torch::Tensor& bi,
                                               const torch::Tensor& h0r, const torch::Tensor& h0i) {
  auto hr = h0r.defined() ? h0r : torch::zeros({ar.size(0), ar.size(2)}, ar.options());
  auto hi = h0i.defined() ? h0i : torch::zeros({ar.size(0), ar.size(2)}, ar.options());
  std::vector<torch::Tensor> out_r, out_i;
  for (int64_t t = 0; t < ar.size(1); ++t) {
    auto nr = ar.select(1, t) * hr - ai.select(1, t) * hi + br.select(1, t);
    auto ni = ar.select(1, t) * hi + ai.select(1, t) * hr + bi.select(1, t);
    hr = nr;
    hi = ni;
    out_r.push_back(hr);
    out_i.push_back(hi);
  }
  return {torch::stack(out_r, 1), torch::stack(out_i, 1)};
}

// Mamba S6 straight from the definition, state [B, D, N].
inline torch::Tensor loop_selective(const torch::Tensor& u, const torch::Tensor& delta, const torch::Tensor& A,
                                    const torch::Tensor& Bm, const torch::Tensor& Cm, const torch::Tensor& Dskip,
                                    const torch::Tensor& z) {
  auto x = torch::zeros({u.size(0), u.size(2), A.size(1)}, u.options());
  std::vector<torch::Tensor> ys;
  for (int64_t t = 0; t < u.size(1); ++t) {
    auto dt = delta.select(1, t).unsqueeze(-1);  // [B, D, 1]
    x = torch::exp(dt * A) * x + dt * Bm.select(1, t).unsqueeze(1) * u.select(1, t).unsqueeze(-1);
    auto y = (x * Cm.select(1, t).unsqueeze(1)).sum(-1) + Dskip * u.select(1, t);
    if (z.defined()) y = y * z.select(1, t) * torch::sigmoid(z.select(1, t));
    ys.push_back(y);
  }
  return torch::stack(ys, 1);
}

// Raw float64 loop for long T (a torch op per step would take seconds at T = 65536).
// log_space: a and b hold log_a, log_b and the recurrence runs on exp() of them.
inline torch::Tensor raw_linear(const torch::Tensor& a_in, const torch::Tensor& b_in, bool log_space) {
  auto a = a_in.to(torch::kDouble).contiguous(), b = b_in.to(torch::kDouble).contiguous();
  auto h = torch::empty_like(a);
  auto A = a.accessor<double, 3>(), Bv = b.accessor<double, 3>();
  auto H = h.accessor<double, 3>();
  for (int64_t i = 0; i < a.size(0); ++i)
    for (int64_t d = 0; d < a.size(2); ++d) {
      double s = 0;
      for (int64_t t = 0; t < a.size(1); ++t) {
        s = log_space ? std::exp(A[i][t][d]) * s + std::exp(Bv[i][t][d]) : A[i][t][d] * s + Bv[i][t][d];
        H[i][t][d] = s;
      }
    }
  return h;
}

// Checks <grad f(x), v> against the central difference (f(x + eps v) - f(x - eps v)) / 2 eps
// for a random direction v over all inputs; f returns a scalar, all inputs are float64.
inline void expect_directional_derivative(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f,
                                          std::vector<torch::Tensor> inputs, double rtol = 1e-6) {
  for (auto& x : inputs) x = x.detach().requires_grad_(true);
  f(inputs).backward();
  double analytic = 0;
  std::vector<torch::Tensor> plus, minus;
  const double eps = 1e-6;
  for (auto& x : inputs) {
    // Inputs f does not differentiate (detached weights) are held fixed.
    auto v = x.grad().defined() ? torch::randn_like(x) : torch::zeros_like(x);
    if (!x.grad().defined()) {
      plus.push_back(x.detach());
      minus.push_back(x.detach());
      continue;
    }
    analytic += (x.grad() * v).sum().item<double>();
    plus.push_back((x + eps * v).detach());
    minus.push_back((x - eps * v).detach());
  }
  torch::NoGradGuard no_grad;
  const double numeric = (f(plus) - f(minus)).item<double>() / (2 * eps);
  EXPECT_NEAR(analytic, numeric, rtol * (1 + std::abs(numeric))) << "analytic " << analytic << " numeric " << numeric;
}

}  // namespace seqrl::kernels::testing
