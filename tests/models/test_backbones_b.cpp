// Backbones part B: lru, s4, mamba, mlstm, slstm, aaren. The checks every backbone passes run
// over the registry in test_backbones_a.cpp; here each of these has the parameter count its
// paper layout implies and matches a mixer-specific property or an independent naive float64
// reference.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/backbone_check.h"
#include "models/block.h"

namespace seqrl {
namespace {

BackboneConfig tiny_config() {
  BackboneConfig config;
  config.dim = 16;
  config.layers = 2;
  config.dropout = 0.0;
  config.max_tokens = 12;
  return config;
}

// A float64 backbone in eval mode, built with a fixed seed.
Backbone make_f64(const std::string& name, BackboneConfig config) {
  torch::manual_seed(7);
  auto backbone = make_backbone(name, std::move(config));
  backbone->to(torch::kFloat64);
  backbone->eval();
  return backbone;
}

// The mixer of layer 0 and its parameters by name ("nu_log", "out.weight", ...).
Mixer first_mixer(const Backbone& backbone) {
  return std::dynamic_pointer_cast<MixerImpl>(backbone->named_modules()["layers.0.mixer"]);
}
torch::Tensor param(const Mixer& mixer, const std::string& name) { return mixer->named_parameters()[name].detach(); }

// Per-layer parameters of the residual stack around the mixer (two LayerNorms, MLP D->4D->D)
// plus the final LayerNorm, from models/block.h.
int64_t stack_params(int64_t dim, int64_t layers) {
  return layers * (2 * 2 * dim + (dim * 4 * dim + 4 * dim) + (4 * dim * dim + dim)) + 2 * dim;
}

double max_rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-12);
}

TEST(Lru, ParameterCountMatchesLayout) {
  // Per layer: ν, θ, γ (N each), B and C complex (2·N·D each), D (D).
  auto config = tiny_config();
  config.options["d_state"] = 24;
  const int64_t d = 16, n = 24;
  EXPECT_EQ(count_parameters(*make_backbone("lru", config)), stack_params(d, 2) + 2 * (3 * n + 4 * n * d + d));
  config.options.erase("d_state");  // default: N = D
  EXPECT_EQ(count_parameters(*make_backbone("lru", config)), stack_params(d, 2) + 2 * (3 * d + 4 * d * d + d));
}

TEST(Lru, InitialEigenvaluesLieOnTheRing) {
  auto config = tiny_config();
  config.dim = 64;
  config.options = {{"r_min", 0.4}, {"r_max", 0.8}, {"max_phase", 0.5}};
  auto mixer = first_mixer(make_f64("lru", config));
  auto modulus = torch::exp(-torch::exp(param(mixer, "nu_log")));
  auto phase = torch::exp(param(mixer, "theta_log"));
  EXPECT_GE(modulus.min().item<double>(), 0.4 - 1e-6);
  EXPECT_LE(modulus.max().item<double>(), 0.8 + 1e-6);
  EXPECT_GE(phase.min().item<double>(), 0.0);
  EXPECT_LE(phase.max().item<double>(), 0.5 + 1e-6);
  // Not all on one circle: the init spreads over the ring.
  EXPECT_GT((modulus.max() - modulus.min()).item<double>(), 0.1);
  // γ normalization: γ = sqrt(1 − |λ|²).
  auto gamma = torch::exp(param(mixer, "gamma_log"));
  EXPECT_LT(max_rel_err(gamma, torch::sqrt(1 - modulus * modulus)), 1e-6);
}

TEST(Lru, RejectsRMinAboveRMax) {
  auto config = tiny_config();
  config.options = {{"r_min", 0.99}, {"r_max", 0.5}};
  try {
    make_backbone("lru", config);
    FAIL() << "expected seqrl::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.lru.r_min"), std::string::npos) << e.what();
  }
}

TEST(Mamba, ParameterCountMatchesLayout) {
  auto config = tiny_config();
  config.options = {{"d_state", 8}, {"d_conv", 3}, {"expand", 2}};
  const int64_t d = 16, e = 32, n = 8, k = 3, r = 1;  // dt_rank auto: ceil(16 / 16)
  const int64_t mixer = d * 2 * e                     // in_proj (no bias)
                        + e * k + e                   // depthwise conv weight and bias
                        + e * (r + 2 * n)             // x_proj -> (δ, B, C)
                        + r * e + e                   // dt_proj
                        + e * n + e                   // A_log, D
                        + e * d;                      // out_proj (no bias)
  EXPECT_EQ(count_parameters(*make_backbone("mamba", config)), stack_params(d, 2) + 2 * mixer);
}

TEST(Mamba, StepCarriesTheConvWindowAndSsmState) {
  auto config = tiny_config();
  config.layers = 1;
  config.options = {{"d_state", 8}, {"d_conv", 4}, {"expand", 2}};
  auto backbone = make_f64("mamba", config);
  torch::NoGradGuard no_grad;
  auto state = backbone->initial_state(2);
  ASSERT_EQ(state.size(), 1u);                                     // one layer
  ASSERT_EQ(state[0].size(), 2u);                                  // conv window, SSM state
  EXPECT_EQ(state[0][0].sizes(), torch::IntArrayRef({2, 32, 4}));  // [B, E, d_conv]
  EXPECT_EQ(state[0][1].sizes(), torch::IntArrayRef({2, 32, 8}));  // [B, E, N]
  auto x = torch::randn({2, 3, 16}, torch::kFloat64);
  backbone->step(x.select(1, 0), state);
  auto after_one = state[0][0].clone();
  // The newest conv input enters at the end, older slots are still zero.
  EXPECT_EQ(after_one.narrow(2, 0, 3).abs().max().item<double>(), 0.0);
  EXPECT_GT(after_one.select(2, 3).abs().max().item<double>(), 0.0);
  EXPECT_GT(state[0][1].abs().max().item<double>(), 0.0);
  backbone->step(x.select(1, 1), state);
  // It shifts left by one per step.
  EXPECT_TRUE(torch::equal(state[0][0].select(2, 2), after_one.select(2, 3)));
}

TEST(S4, MatchesNaiveComplexZohRecurrence) {
  // Independent reference: std::complex ZOH discretization (S4D: Ā = e^{ΔA}, B̄ = (Ā − 1)/A,
  // B = 1) and a sequential loop, then GELU and the output layer.
  auto config = tiny_config();
  config.dim = 4;
  config.options = {{"d_state", 6}};
  auto mixer = first_mixer(make_f64("s4", config));
  const int64_t B = 2, T = 7, D = 4, M = 3;
  auto u = torch::randn({B, T, D}, torch::kFloat64);
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = mixer->forward(u);
  }
  auto log_dt_t = param(mixer, "log_dt");
  auto log_dt = log_dt_t.accessor<double, 1>();
  auto a_log_re_t = param(mixer, "A_log_re");
  auto a_log_re = a_log_re_t.accessor<double, 2>();
  auto a_im_t = param(mixer, "A_im");
  auto a_im = a_im_t.accessor<double, 2>();
  auto c_re_t = param(mixer, "C_re");
  auto c_re = c_re_t.accessor<double, 2>();
  auto c_im_t = param(mixer, "C_im");
  auto c_im = c_im_t.accessor<double, 2>();
  auto skip_t = param(mixer, "D");
  auto skip = skip_t.accessor<double, 1>();
  auto w_t = param(mixer, "out.weight");
  auto w = w_t.accessor<double, 2>();
  auto bias_t = param(mixer, "out.bias");
  auto bias = bias_t.accessor<double, 1>();
  auto ua = u.accessor<double, 3>();
  double worst = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<std::complex<double>> h(D * M);
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> act(D);
      for (int64_t d = 0; d < D; ++d) {
        double sum = 0;
        for (int64_t m = 0; m < M; ++m) {
          std::complex<double> a(-std::exp(a_log_re[d][m]), a_im[d][m]);
          auto abar = std::exp(std::exp(log_dt[d]) * a);
          h[d * M + m] = abar * h[d * M + m] + (abar - 1.0) / a * ua[b][t][d];
          sum += 2.0 * (std::complex<double>(c_re[d][m], c_im[d][m]) * h[d * M + m]).real();
        }
        double v = sum + skip[d] * ua[b][t][d];
        act[d] = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
      }
      for (int64_t o = 0; o < D; ++o) {
        double out = bias[o];
        for (int64_t d = 0; d < D; ++d) out += w[o][d] * act[d];
        worst = std::max(worst, std::abs(out - y[b][t][o].item<double>()));
      }
    }
  }
  EXPECT_LT(worst, 1e-10);
}

TEST(S4, RejectsOddStateSize) {
  auto config = tiny_config();
  config.options = {{"d_state", 5}};
  EXPECT_THROW(make_backbone("s4", config), Error);
}

// Linear map x W^T (+ b) of one row, for the naive references.
std::vector<double> affine(const torch::Tensor& w, const torch::Tensor& b, const std::vector<double>& x) {
  auto wa = w.accessor<double, 2>();
  std::vector<double> y(w.size(0));
  for (int64_t o = 0; o < w.size(0); ++o) {
    y[o] = b.defined() ? b[o].item<double>() : 0.0;
    for (int64_t i = 0; i < w.size(1); ++i) y[o] += wa[o][i] * x[i];
  }
  return y;
}
std::vector<double> row(const torch::Tensor& u, int64_t b, int64_t t) {
  auto r = u[b][t].contiguous();
  return std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
}
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(Mlstm, MatchesUnstabilizedNaiveRecurrence) {
  // With small T nothing overflows, so the plain xLSTM recurrence without the stabilizer m
  // (f = σ(f̃), i = e^ĩ, normalizer max(|nᵀq|, 1)) must give the same outputs: the
  // stabilizer rescales C, n and the floor e^{−m} together.
  auto config = tiny_config();
  config.dim = 8;
  config.heads = 2;
  auto mixer = first_mixer(make_f64("mlstm", config));
  const int64_t B = 2, T = 6, D = 8, H = 2, d = 4;
  auto u = torch::randn({B, T, D}, torch::kFloat64);
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = mixer->forward(u);
  }
  double worst = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> c(H * d * d, 0.0), n(H * d, 0.0);
    for (int64_t t = 0; t < T; ++t) {
      auto x = row(u, b, t);
      auto q = affine(param(mixer, "q.weight"), {}, x), k = affine(param(mixer, "k.weight"), {}, x),
           v = affine(param(mixer, "v.weight"), {}, x);
      auto ig = affine(param(mixer, "input_gate.weight"), param(mixer, "input_gate.bias"), x);
      auto fg = affine(param(mixer, "forget_gate.weight"), param(mixer, "forget_gate.bias"), x);
      auto og = affine(param(mixer, "output_gate.weight"), param(mixer, "output_gate.bias"), x);
      std::vector<double> h(D);
      for (int64_t hd = 0; hd < H; ++hd) {
        double f = sigmoid(fg[hd]), i = std::exp(ig[hd]), nq = 0;
        for (int64_t a = 0; a < d; ++a) {
          double ka = k[hd * d + a] / std::sqrt(double(d));
          n[hd * d + a] = f * n[hd * d + a] + i * ka;
          nq += n[hd * d + a] * q[hd * d + a];
          for (int64_t e = 0; e < d; ++e) {
            double& cell = c[(hd * d + e) * d + a];  // C[e][a] += v_e k_a
            cell = f * cell + i * v[hd * d + e] * ka;
          }
        }
        for (int64_t e = 0; e < d; ++e) {
          double cq = 0;
          for (int64_t a = 0; a < d; ++a) cq += c[(hd * d + e) * d + a] * q[hd * d + a];
          h[hd * d + e] = sigmoid(og[hd * d + e]) * cq / std::max(std::abs(nq), 1.0);
        }
      }
      auto out = affine(param(mixer, "out.weight"), {}, h);
      for (int64_t o = 0; o < D; ++o) worst = std::max(worst, std::abs(out[o] - y[b][t][o].item<double>()));
    }
  }
  EXPECT_LT(worst, 1e-10);
}

TEST(Mlstm, RejectsHeadsNotDividingWidth) {
  auto config = tiny_config();
  config.heads = 3;
  try {
    make_backbone("mlstm", config);
    FAIL() << "expected seqrl::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.heads: 3 does not divide"), std::string::npos) << e.what();
  }
}

TEST(Slstm, MatchesUnstabilizedNaiveRecurrence) {
  // Plain sLSTM: c = f c + i z, n = f n + i, h = o c / n with f = σ(f̃), i = e^ĩ, and the
  // gates fed by block-diagonal R h_{t-1} (head hd's units only see head hd's h).
  auto config = tiny_config();
  config.dim = 8;
  config.heads = 2;
  auto mixer = first_mixer(make_f64("slstm", config));
  const int64_t B = 2, T = 6, D = 8, d = 4;
  auto u = torch::randn({B, T, D}, torch::kFloat64);
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = mixer->forward(u);
  }
  auto r_t = param(mixer, "recurrent");
  auto r = r_t.accessor<double, 3>();  // [H, d, 4d]: (gate, unit) = gate * d + unit
  double worst = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> h(D, 0.0), c(D, 0.0), n(D, 0.0);
    for (int64_t t = 0; t < T; ++t) {
      auto pre =
          affine(param(mixer, "input.weight"), param(mixer, "input.bias"), row(u, b, t));  // [4D]: gate * D + unit
      std::vector<double> h_next(D);
      for (int64_t j = 0; j < D; ++j) {
        int64_t hd = j / d, unit = j % d;
        double g[4];
        for (int gate = 0; gate < 4; ++gate) {
          g[gate] = pre[gate * D + j];
          for (int64_t a = 0; a < d; ++a) g[gate] += h[hd * d + a] * r[hd][a][gate * d + unit];
        }
        double f = sigmoid(g[2]), i = std::exp(g[1]);
        c[j] = f * c[j] + i * std::tanh(g[0]);
        n[j] = f * n[j] + i;
        h_next[j] = sigmoid(g[3]) * c[j] / n[j];
        worst = std::max(worst, std::abs(h_next[j] - y[b][t][j].item<double>()));
      }
      h = h_next;
    }
  }
  EXPECT_LT(worst, 1e-10);
}

TEST(Aaren, MatchesPrefixSoftmaxAttention) {
  // o_t = Σ_{s≤t} softmax_s(qᵀk_s/√d) v_s per head, then the output layer; at t = 1 the
  // softmax has one term, so the output is the output layer applied to v_1.
  auto config = tiny_config();
  config.dim = 8;
  config.heads = 2;
  auto mixer = first_mixer(make_f64("aaren", config));
  const int64_t B = 2, T = 6, D = 8, H = 2, d = 4;
  auto u = torch::randn({B, T, D}, torch::kFloat64) * 3.0;  // large scores exercise the max shift
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = mixer->forward(u);
  }
  auto query_t = param(mixer, "query");
  auto query = query_t.accessor<double, 2>();
  double worst = 0, worst_first = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<std::vector<double>> keys, values;
    for (int64_t t = 0; t < T; ++t) {
      keys.push_back(affine(param(mixer, "k.weight"), {}, row(u, b, t)));
      values.push_back(affine(param(mixer, "v.weight"), {}, row(u, b, t)));
      std::vector<double> o(D, 0.0);
      for (int64_t hd = 0; hd < H; ++hd) {
        std::vector<double> score(t + 1);
        double top = -INFINITY, total = 0;
        for (int64_t s = 0; s <= t; ++s) {
          score[s] = 0;
          for (int64_t a = 0; a < d; ++a) score[s] += query[hd][a] * keys[s][hd * d + a] / std::sqrt(double(d));
          top = std::max(top, score[s]);
        }
        for (int64_t s = 0; s <= t; ++s) total += std::exp(score[s] - top);
        for (int64_t s = 0; s <= t; ++s)
          for (int64_t a = 0; a < d; ++a) o[hd * d + a] += std::exp(score[s] - top) / total * values[s][hd * d + a];
      }
      auto out = affine(param(mixer, "out.weight"), param(mixer, "out.bias"), o);
      for (int64_t j = 0; j < D; ++j) worst = std::max(worst, std::abs(out[j] - y[b][t][j].item<double>()));
      if (t == 0) {
        auto first = affine(param(mixer, "out.weight"), param(mixer, "out.bias"), values[0]);
        for (int64_t j = 0; j < D; ++j)
          worst_first = std::max(worst_first, std::abs(first[j] - y[b][0][j].item<double>()));
      }
    }
  }
  EXPECT_LT(worst, 1e-10);
  EXPECT_LT(worst_first, 1e-12);
}

}  // namespace
}  // namespace seqrl
