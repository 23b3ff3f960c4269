// mLSTM chunkwise parallel form (models/mlstm.cpp): for any chunk length L — dividing T or not,
// L = 1, L >= T — forward() equals a naive float64 loop of the stabilized xLSTM recurrence,
// and the shared check (causality, step == forward, gradients) holds across chunk borders.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "models/backbone_check.h"
#include "models/block.h"

namespace seqrl {
namespace {

constexpr int64_t kDim = 8, kHeads = 2;

BackboneConfig mlstm_config(int64_t chunk) {
  BackboneConfig config;
  config.dim = kDim;
  config.layers = 1;
  config.dropout = 0.0;
  config.heads = kHeads;
  config.options = {{"chunk", double(chunk)}};
  return config;
}

// The paper's mLSTM recurrence with the m stabilizer, one scalar at a time. The projections
// (plain affine maps) come from the mixer's parameters; everything after them is this loop.
torch::Tensor naive_mlstm(const Mixer& mixer, const torch::Tensor& u) {
  auto p = mixer->named_parameters();
  auto affine = [&](const std::string& name, bool bias) {
    return torch::linear(u, p[name + ".weight"], bias ? p[name + ".bias"] : torch::Tensor()).detach().contiguous();
  };
  const int64_t B = u.size(0), T = u.size(1), d = kDim / kHeads;
  auto q_t = affine("q", false), k_t = affine("k", false), v_t = affine("v", false);
  auto ig_t = affine("input_gate", true), fg_t = affine("forget_gate", true), og_t = affine("output_gate", true);
  auto q = q_t.accessor<double, 3>(), k = k_t.accessor<double, 3>(), v = v_t.accessor<double, 3>();
  auto ig = ig_t.accessor<double, 3>(), fg = fg_t.accessor<double, 3>(), og = og_t.accessor<double, 3>();
  auto h_t = torch::zeros({B, T, kDim}, torch::kFloat64);
  auto h = h_t.accessor<double, 3>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t hd = 0; hd < kHeads; ++hd) {
      std::vector<double> c(d * d, 0.0), n(d, 0.0);
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t t = 0; t < T; ++t) {
        const double log_f = -std::log1p(std::exp(-fg[b][t][hd])), log_i = ig[b][t][hd];
        const double m_new = std::max(log_f + m, log_i);
        const double keep = std::exp(log_f + m - m_new), put = std::exp(log_i - m_new);
        m = m_new;
        double nq = 0;
        for (int64_t a = 0; a < d; ++a) {
          const double ka = k[b][t][hd * d + a] / std::sqrt(double(d));
          n[a] = keep * n[a] + put * ka;
          nq += n[a] * q[b][t][hd * d + a];
          for (int64_t e = 0; e < d; ++e) c[e * d + a] = keep * c[e * d + a] + put * v[b][t][hd * d + e] * ka;
        }
        for (int64_t e = 0; e < d; ++e) {
          double cq = 0;
          for (int64_t a = 0; a < d; ++a) cq += c[e * d + a] * q[b][t][hd * d + a];
          const double gate = 1.0 / (1.0 + std::exp(-og[b][t][hd * d + e]));
          h[b][t][hd * d + e] = gate * cq / std::max(std::abs(nq), std::exp(-m));
        }
      }
    }
  }
  return torch::linear(h_t, p["out.weight"].detach());
}

double chunked_error(int64_t steps, int64_t chunk) {
  torch::manual_seed(11);
  auto backbone = make_backbone("mlstm", mlstm_config(chunk));
  backbone->to(torch::kFloat64);
  auto mixer = std::dynamic_pointer_cast<MixerImpl>(backbone->named_modules()["layers.0.mixer"]);
  // Wide inputs: gate pre-activations of several units, so the stabilizer m does real work.
  auto u = torch::randn({2, steps, kDim}, torch::kFloat64) * 3;
  torch::NoGradGuard no_grad;
  auto y = mixer->forward(u);
  auto ref = naive_mlstm(mixer, u);
  return (y - ref).abs().max().item<double>() / ref.abs().max().item<double>();
}

TEST(MlstmChunks, ChunkNotDividingTEqualsRecurrence) { EXPECT_LT(chunked_error(23, 5), 1e-12); }
TEST(MlstmChunks, ChunkOfOneEqualsRecurrence) { EXPECT_LT(chunked_error(23, 1), 1e-12); }
TEST(MlstmChunks, OneChunkCoveringTEqualsRecurrence) {
  EXPECT_LT(chunked_error(23, 23), 1e-12);
  EXPECT_LT(chunked_error(23, 64), 1e-12);
}
TEST(MlstmChunks, LongSequenceInShortChunksEqualsRecurrence) { EXPECT_LT(chunked_error(300, 16), 1e-12); }

TEST(MlstmChunks, PassesTheSharedCheckAcrossChunkBorders) {
  auto config = mlstm_config(5);
  config.layers = 2;
  config.max_tokens = 23;  // the check's sequence length: four full chunks and a partial one
  auto report = check_backbone("mlstm", config, 5);
  EXPECT_EQ(report.failure, "");
  EXPECT_LE(report.causality_err, kCheckTolerance);
  EXPECT_LE(report.step_err, kCheckTolerance);
  EXPECT_LE(report.grad_err, kCheckTolerance);
  EXPECT_TRUE(report.pass);
}

}  // namespace
}  // namespace seqrl
