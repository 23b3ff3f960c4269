// Every registered backbone (the registry, not a list: a new backbone is covered without editing
// a test) must pass the shared check (causality, step == forward, gradients of the parallel
// form == gradients of the step loop, float64) and keep shapes and dtypes.
// Part A: transformer, lstm, gru, mingru, minlstm have the parameter count their architecture
// implies; mingru/minlstm are also compared with a naive float64 loop of the paper's equations
// (Feng et al. 2024), independent of the log-space scan. Part B is test_backbones_b.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/backbone.h"
#include "models/backbone_check.h"
#include "models/block.h"

namespace seqrl {
namespace {

BackboneConfig tiny_config() {
  BackboneConfig c;
  c.dim = 16;
  c.layers = 2;
  c.heads = 2;
  c.dropout = 0.0;
  c.max_tokens = 12;
  return c;
}

// Parameters of the residual stack around the mixers: per layer two LayerNorms (2D each) and
// the MLP D -> 4D -> D with biases; plus the final LayerNorm.
int64_t stack_params(int64_t D, int64_t L) { return L * (4 * D + (D * 4 * D + 4 * D) + (4 * D * D + D)) + 2 * D; }

double max_rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-12);
}

class EveryBackbone : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryBackbone, PassesTheSharedCheck) {
  auto report = check_backbone(GetParam(), tiny_config(), 7);
  EXPECT_EQ(report.failure, "");
  EXPECT_LE(report.causality_err, kCheckTolerance);
  EXPECT_LE(report.step_err, kCheckTolerance);
  EXPECT_LE(report.grad_err, kCheckTolerance);  // NaN fails too
  EXPECT_TRUE(report.pass);
  EXPECT_GT(report.params, stack_params(16, 2));  // the mixers have parameters
}

TEST_P(EveryBackbone, KeepsShapesAndFollowsTheModuleDtype) {
  auto config = tiny_config();
  config.dropout = 0.1;  // train mode with dropout must still keep shapes
  torch::manual_seed(3);
  auto backbone = make_backbone(GetParam(), config);
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    backbone->to(dtype);
    auto x = torch::randn({3, 7, 16}, torch::TensorOptions().dtype(dtype));
    auto y = backbone->forward(x);
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_EQ(y.scalar_type(), dtype);
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    auto state = backbone->initial_state(3);
    EXPECT_EQ(state.size(), 2u);  // one entry per layer
    for (const auto& layer : state)
      for (const auto& s : layer) EXPECT_EQ(s.scalar_type(), dtype);
    auto y_t = backbone->step(x.select(1, 0), state);
    EXPECT_EQ(y_t.sizes(), (std::vector<int64_t>{3, 16}));
    EXPECT_EQ(y_t.scalar_type(), dtype);
  }
}

TEST_P(EveryBackbone, StepEqualsForwardInFloat32UpToRounding) {
  torch::manual_seed(3);
  auto backbone = make_backbone(GetParam(), tiny_config());
  backbone->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({3, 5, 16});
  auto y = backbone->forward(x);
  auto state = backbone->initial_state(3);
  std::vector<torch::Tensor> steps;
  for (int64_t t = 0; t < 5; ++t) steps.push_back(backbone->step(x.select(1, t), state));
  auto y_steps = torch::stack(steps, 1);
  EXPECT_EQ(y_steps.scalar_type(), torch::kFloat32);
  EXPECT_LT(max_rel_err(y_steps, y), 1e-4);  // float32 rounding only
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryBackbone, ::testing::ValuesIn(backbone_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(BackbonesA, RejectWrongInputShapes) {
  auto backbone = make_backbone("mingru", tiny_config());
  EXPECT_THROW(backbone->forward(torch::randn({2, 5, 8})), Error);
  EXPECT_THROW(backbone->forward(torch::randn({5, 16})), Error);
  auto state = backbone->initial_state(2);
  EXPECT_THROW(backbone->step(torch::randn({2, 8}), state), Error);
  state.pop_back();
  EXPECT_THROW(backbone->step(torch::randn({2, 16}), state), Error);
}

TEST(BackbonesA, ParameterCountsMatchTheArchitecture) {
  const int64_t D = 16, L = 2;
  auto count = [](const std::string& name, BackboneConfig c) { return count_parameters(*make_backbone(name, c)); };
  auto c = tiny_config();
  // Attention: fused qkv Linear(D, 3D) and output Linear(D, D), both with bias.
  EXPECT_EQ(count("transformer", c), stack_params(D, L) + L * ((3 * D * D + 3 * D) + (D * D + D)));
  // torch LSTM: W_ih, W_hh [4D, D] and two biases [4D]; GRU the same with 3 gates.
  EXPECT_EQ(count("lstm", c), stack_params(D, L) + L * (8 * D * D + 8 * D));
  EXPECT_EQ(count("gru", c), stack_params(D, L) + L * (6 * D * D + 6 * D));
  // minGRU with hidden H: Linear(D, 2H) for gate and candidate, Linear(H, D) down.
  for (int64_t expand : {1, 2}) {
    const int64_t H = expand * D;
    c.options = {{"expand", double(expand)}};
    EXPECT_EQ(count("mingru", c), stack_params(D, L) + L * ((D * 2 * H + 2 * H) + (H * D + D)));
    // minLSTM: Linear(D, 3H) for forget, input and candidate, Linear(H, D) down.
    EXPECT_EQ(count("minlstm", c), stack_params(D, L) + L * ((D * 3 * H + 3 * H) + (H * D + D)));
  }
}

// The candidate nonlinearity of the paper, scalar by scalar.
double g_ref(double x) { return x >= 0 ? x + 0.5 : 1.0 / (1.0 + std::exp(-x)); }
double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// One-layer backbone with its MLP zeroed: y = LN_f(x + mixer(LN_1(x))). Returns y computed by
// the backbone and by `mixer_ref` (a naive loop over [T, H] of a single sequence).
void compare_with_reference(const std::string& name,
                            const std::function<torch::Tensor(const torch::Tensor& kin, int64_t H)>& recurrence) {
  auto config = tiny_config();
  config.layers = 1;
  config.options = {{"expand", 2}};
  torch::manual_seed(3);
  auto backbone = make_backbone(name, config);
  backbone->to(torch::kFloat64);
  auto params = backbone->named_parameters();
  {
    torch::NoGradGuard no_grad;
    params["layers.0.fc2.weight"].zero_();
    params["layers.0.fc2.bias"].zero_();
  }
  const int64_t T = 40, D = 16, H = 32;
  auto x = torch::randn({1, T, D}, torch::kFloat64) * 2;  // wide inputs reach both branches of g
  auto y = backbone->forward(x).detach();

  auto u = torch::layer_norm(x[0], {D}, params["layers.0.norm1.weight"], params["layers.0.norm1.bias"]);
  auto projected = torch::linear(u, params["layers.0.mixer.in_proj.weight"], params["layers.0.mixer.in_proj.bias"]);
  auto h = recurrence(projected.detach(), H);  // [T, H]
  auto mixed = torch::linear(h, params["layers.0.mixer.out.weight"], params["layers.0.mixer.out.bias"]);
  auto ref = torch::layer_norm(x[0] + mixed, {D}, params["final_norm.weight"], params["final_norm.bias"]);
  EXPECT_LT((y[0] - ref).abs().max().item<double>(), 1e-10);
}

TEST(BackbonesA, MinGruMatchesNaiveLoopOfThePaperEquations) {
  compare_with_reference("mingru", [](const torch::Tensor& kin, int64_t H) {
    auto a = kin.accessor<double, 2>();
    auto h_out = torch::zeros({kin.size(0), H}, torch::kFloat64);
    auto h_acc = h_out.accessor<double, 2>();
    for (int64_t j = 0; j < H; ++j) {
      double h = 0;  // h_0 = 0
      for (int64_t t = 0; t < kin.size(0); ++t) {
        double z = sigmoid_ref(a[t][j]);
        h = (1 - z) * h + z * g_ref(a[t][H + j]);
        h_acc[t][j] = h;
      }
    }
    return h_out;
  });
}

TEST(BackbonesA, MinLstmMatchesNaiveLoopOfThePaperEquations) {
  compare_with_reference("minlstm", [](const torch::Tensor& kin, int64_t H) {
    auto a = kin.accessor<double, 2>();
    auto h_out = torch::zeros({kin.size(0), H}, torch::kFloat64);
    auto h_acc = h_out.accessor<double, 2>();
    for (int64_t j = 0; j < H; ++j) {
      double h = 0;
      for (int64_t t = 0; t < kin.size(0); ++t) {
        double f = sigmoid_ref(a[t][j]), i = sigmoid_ref(a[t][H + j]);
        h = f / (f + i) * h + i / (f + i) * g_ref(a[t][2 * H + j]);
        h_acc[t][j] = h;
      }
    }
    return h_out;
  });
}

TEST(BackbonesA, MinGruIsStableOverLongSequencesInFloat32) {
  // Log-space parallel mode: no overflow/underflow to NaN over thousands of steps.
  auto config = tiny_config();
  auto backbone = make_backbone("mingru", config);
  auto y = backbone->forward(torch::randn({2, 4096, 16}) * 5);
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
}

// Acting past max_tokens attends over the last max_tokens tokens only. With one layer the keys
// and values of a token depend on that token alone, so step t must equal forward() (full
// causal attention, another code path) run on the window x[t-3 .. t], at its last position.
TEST(BackbonesA, TransformerKvCacheSlidesBeyondMaxTokens) {
  auto config = tiny_config();
  config.layers = 1;
  config.max_tokens = 4;
  torch::manual_seed(11);
  auto backbone = make_backbone("transformer", config);
  backbone->to(torch::kFloat64);
  backbone->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 10, 16}, torch::kFloat64);
  auto state = backbone->initial_state(2);
  for (int64_t t = 0; t < 10; ++t) {
    SCOPED_TRACE(t);
    auto y = backbone->step(x.select(1, t), state);
    auto window = x.slice(1, std::max<int64_t>(0, t - 3), t + 1);
    EXPECT_LT(max_rel_err(y, backbone->forward(window).select(1, -1)), 1e-12);
    auto full = backbone->forward(x.slice(1, 0, t + 1)).select(1, -1);
    if (t >= 4)
      EXPECT_GT(max_rel_err(y, full), 1e-6);  // the dropped tokens did matter
    else
      EXPECT_LT(max_rel_err(y, full), 1e-12);
  }
}

TEST(BackbonesA, TransformerRejectsHeadsNotDividingDim) {
  auto config = tiny_config();
  config.heads = 3;
  EXPECT_THROW(make_backbone("transformer", config), Error);
}

// The check itself must catch broken backbones: a mixer that looks into the future, one whose
// step disagrees with forward, and one whose forward has wrong gradients.
enum class Flaw { kAnticausal, kStepDiffers, kWrongGradient };

class FlawedMixerImpl : public MixerImpl {
 public:
  FlawedMixerImpl(int64_t dim, Flaw flaw) : flaw_(flaw) {
    proj_ = register_module("proj", torch::nn::Linear(dim, dim));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    auto p = proj_(x);
    if (flaw_ == Flaw::kAnticausal) return p.flip(1).cumsum(1).flip(1);
    if (flaw_ == Flaw::kWrongGradient) return p.cumsum(1).detach() + 0.5 * (p - p.detach()).cumsum(1);
    return p.cumsum(1);
  }
  LayerState initial_state(int64_t batch) override {
    return {torch::zeros({batch, proj_->weight.size(0)}, module_options(*this))};
  }
  torch::Tensor step(const torch::Tensor& x_t, LayerState& state) override {
    state[0] = state[0] + proj_(x_t);
    return flaw_ == Flaw::kStepDiffers ? state[0] * 1.001 : state[0];
  }

 private:
  Flaw flaw_;
  torch::nn::Linear proj_{nullptr};
};

CheckReport check_flawed(Flaw flaw) {
  return check_backbone(
      "flawed",
      [flaw](const BackboneConfig& c) {
        return make_residual_stack(c, [flaw](const BackboneConfig& cc, int64_t) -> Mixer {
          return std::make_shared<FlawedMixerImpl>(cc.dim, flaw);
        });
      },
      tiny_config(), 1);
}

TEST(BackboneCheck, CatchesAnticausalForward) {
  auto r = check_flawed(Flaw::kAnticausal);
  EXPECT_GT(r.causality_err, 1e-3);
  EXPECT_FALSE(r.pass);
}

TEST(BackboneCheck, CatchesStepThatDisagreesWithForward) {
  auto r = check_flawed(Flaw::kStepDiffers);
  EXPECT_LE(r.causality_err, kCheckTolerance);
  EXPECT_GT(r.step_err, 1e-5);
  EXPECT_FALSE(r.pass);
}

TEST(BackboneCheck, CatchesWrongGradients) {
  auto r = check_flawed(Flaw::kWrongGradient);
  EXPECT_LE(r.step_err, kCheckTolerance);
  EXPECT_GT(r.grad_err, 1e-3);
  EXPECT_FALSE(r.pass);
}

TEST(BackboneCheck, ReportsAThrowingBackboneAsFailure) {
  auto r = check_backbone(
      "throws", [](const BackboneConfig&) -> Backbone { throw Error("boom"); }, tiny_config(), 1);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.failure, "boom");
}

}  // namespace
}  // namespace seqrl
