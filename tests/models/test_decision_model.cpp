// DecisionModel: interleaved (R, s, a) tokens over any backbone. The window forward (training,
// window-mode evaluation) must agree with recurrent acting (act / observe_action one env step
// at a time), including on left-padded windows, for every registered backbone (float64).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "models/backbone_check.h"
#include "models/decision_model.h"

namespace seqrl {
namespace {

constexpr int64_t kObs = 5, kAct = 3, kContext = 6;

DecisionModelConfig tiny_model(const std::string& backbone) {
  DecisionModelConfig c;
  c.state_dim = kObs;
  c.act_dim = kAct;
  c.context = kContext;
  c.max_ep_len = 50;
  c.backbone = backbone;
  c.backbone_config.dim = 16;
  c.backbone_config.layers = 2;
  c.backbone_config.heads = 2;
  c.backbone_config.dropout = 0.0;
  return c;
}

DecisionModel make_model(const std::string& backbone, uint64_t seed = 0) {
  torch::manual_seed(seed);
  DecisionModel model(tiny_model(backbone));
  model->to(torch::kFloat64);
  model->eval();
  return model;
}

struct Window {
  torch::Tensor states, actions, rtg, timesteps, mask;
};

// A batch of windows of K steps whose row b has n_real[b] real steps at the end.
Window random_window(const std::vector<int64_t>& n_real) {
  const auto B = static_cast<int64_t>(n_real.size());
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  Window w;
  w.states = torch::randn({B, kContext, kObs}, f64);
  w.actions = torch::rand({B, kContext, kAct}, f64) * 2 - 1;
  w.rtg = torch::randn({B, kContext, 1}, f64);
  w.timesteps = torch::randint(0, 40, {B, kContext}, torch::kLong);
  w.mask = torch::zeros({B, kContext}, torch::kLong);
  for (int64_t b = 0; b < B; ++b) w.mask[b].slice(0, kContext - n_real[b]).fill_(1);
  return w;
}

// Predictions of act() for row b's real steps, fed one env step at a time (batch 1).
torch::Tensor act_row(DecisionModel& model, const Window& w, int64_t b, int64_t n_real) {
  torch::NoGradGuard no_grad;
  auto state = model->begin(1);
  std::vector<torch::Tensor> preds;
  for (int64_t t = kContext - n_real; t < kContext; ++t) {
    auto at = [&](const torch::Tensor& x) { return x[b][t].unsqueeze(0); };
    preds.push_back(model->act(state, at(w.rtg), at(w.states), at(w.timesteps)));
    model->observe_action(state, at(w.actions), at(w.timesteps));
  }
  return torch::cat(preds, 0);
}

TEST(DecisionModel, WindowForwardShapeAndRange) {
  auto model = make_model("transformer");
  auto w = random_window({6, 6});
  auto out = model->forward(w.states, w.actions, w.rtg, w.timesteps, w.mask);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, kContext, kAct}));
  EXPECT_EQ(out.scalar_type(), torch::kFloat64);
  EXPECT_LT(out.abs().max().item<double>(), 1.0);  // tanh head
  // No mask = all real.
  EXPECT_TRUE(torch::allclose(out, model->forward(w.states, w.actions, w.rtg, w.timesteps)));
}

// For every backbone: rows with different left padding in one batch each equal recurrent
// acting on that row's unpadded history; padded positions predict 0. (History <= K, so the
// transformer's KV cache holds the whole history.)
TEST(DecisionModel, PaddedWindowEqualsRecurrentActingForEveryBackbone) {
  for (const auto& info : backbone_registry()) {
    SCOPED_TRACE(info.name);
    auto model = make_model(info.name, 11);
    const std::vector<int64_t> n_real = {6, 2, 4, 2};
    auto w = random_window(n_real);
    torch::Tensor out;
    {
      torch::NoGradGuard no_grad;
      out = model->forward(w.states, w.actions, w.rtg, w.timesteps, w.mask);
    }
    for (int64_t b = 0; b < static_cast<int64_t>(n_real.size()); ++b) {
      auto real = out[b].slice(0, kContext - n_real[b]);
      EXPECT_LT((real - act_row(model, w, b, n_real[b])).abs().max().item<double>(), 1e-10) << "row " << b;
      EXPECT_EQ(out[b].slice(0, 0, kContext - n_real[b]).abs().sum().item<double>(), 0.0);
    }
  }
}

TEST(DecisionModel, PaddedContentDoesNotLeakIntoRealOutputs) {
  auto model = make_model("mingru");
  auto w = random_window({3, 3});
  auto changed = w;
  changed.states = w.states.clone();
  changed.states.slice(1, 0, kContext - 3).normal_();
  changed.rtg = w.rtg.clone();
  changed.rtg.slice(1, 0, kContext - 3).fill_(100.0);
  auto a = model->forward(w.states, w.actions, w.rtg, w.timesteps, w.mask);
  auto b = model->forward(changed.states, changed.actions, changed.rtg, changed.timesteps, changed.mask);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(DecisionModel, ActionTokenComesAfterItsStateToken) {
  // Interleaving R_t, s_t, a_t: the prediction at t sees a_<t but not a_t.
  auto model = make_model("gru");
  auto w = random_window({6});
  auto changed_actions = w.actions.clone();
  changed_actions.select(1, 2).fill_(0.9);
  auto a = model->forward(w.states, w.actions, w.rtg, w.timesteps, w.mask);
  auto b = model->forward(w.states, changed_actions, w.rtg, w.timesteps, w.mask);
  EXPECT_TRUE(torch::equal(a.slice(1, 0, 3), b.slice(1, 0, 3)));
  EXPECT_GT((a.slice(1, 3) - b.slice(1, 3)).abs().max().item<double>(), 1e-6);
}

TEST(DecisionModel, GradientsReachEveryParameter) {
  auto model = make_model("minlstm");
  model->train();
  auto w = random_window({6, 3});
  auto out = model->forward(w.states, w.actions, w.rtg, w.timesteps, w.mask);
  ((out - w.actions).pow(2) * w.mask.unsqueeze(-1)).sum().backward();
  for (const auto& p : model->named_parameters()) {
    SCOPED_TRACE(p.key());
    ASSERT_TRUE(p.value().grad().defined());
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>());
  }
}

TEST(DecisionModel, ParameterCount) {
  const int64_t D = 16;
  DecisionModel model(tiny_model("lstm"));
  auto cfg = tiny_model("lstm").backbone_config;
  const int64_t embeddings = (1 * D + D) + (kObs * D + D) + (kAct * D + D) + 50 * D + 2 * D;
  const int64_t head = D * kAct + kAct;
  EXPECT_EQ(count_parameters(*model), embeddings + count_parameters(*make_backbone("lstm", cfg)) + head);
}

TEST(DecisionModel, TimestepsPastMaxEpLenReuseTheLastEmbedding) {
  auto model = make_model("mingru");
  auto w = random_window({6});
  auto late = w.timesteps.clone().fill_(49);
  auto beyond = w.timesteps.clone().fill_(5000);
  auto a = model->forward(w.states, w.actions, w.rtg, late, w.mask);
  auto b = model->forward(w.states, w.actions, w.rtg, beyond, w.mask);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(DecisionModel, RejectsBadInputs) {
  auto model = make_model("mingru");
  auto w = random_window({6, 6});
  EXPECT_THROW(model->forward(w.states.slice(2, 0, 4), w.actions, w.rtg, w.timesteps, w.mask), Error);
  EXPECT_THROW(model->forward(w.states, w.actions.slice(1, 1), w.rtg, w.timesteps, w.mask), Error);
  EXPECT_THROW(model->forward(w.states, w.actions, w.rtg.squeeze(-1), w.timesteps, w.mask), Error);
  auto right_padded = w.mask.clone();
  right_padded[0][kContext - 1] = 0;
  EXPECT_THROW(model->forward(w.states, w.actions, w.rtg, w.timesteps, right_padded), Error);
  auto state = model->begin(2);
  EXPECT_THROW(model->act(state, torch::zeros({2, 1}), torch::zeros({2, kObs + 1}), torch::zeros({2}, torch::kLong)),
               Error);
  EXPECT_THROW(model->observe_action(state, torch::zeros({2, kAct}), torch::zeros({3}, torch::kLong)), Error);
  auto bad = tiny_model("mingru");
  bad.state_dim = 0;
  EXPECT_THROW(DecisionModel{bad}, Error);
  bad = tiny_model("no_such_backbone");
  try {
    DecisionModel m(bad);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mingru"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace seqrl
