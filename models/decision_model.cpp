// Decision model: interleaved (R, s, a) token embeddings -> backbone -> tanh action head.
#include "models/decision_model.h"

#include <vector>

#include "core/error.h"
#include "models/block.h"

namespace seqrl {

namespace {

// Throws naming `what` unless t has exactly `sizes` (-1 = any size in that dimension).
void expect_shape(const torch::Tensor& t, const std::vector<int64_t>& sizes, const std::string& what) {
  bool ok = t.defined() && t.dim() == static_cast<int64_t>(sizes.size());
  for (size_t i = 0; ok && i < sizes.size(); ++i) ok = sizes[i] < 0 || t.size(static_cast<int64_t>(i)) == sizes[i];
  if (ok) return;
  std::string expected = "[";
  for (size_t i = 0; i < sizes.size(); ++i)
    expected += (i ? ", " : "") + (sizes[i] < 0 ? std::string("*") : std::to_string(sizes[i]));
  throw Error(what + ": expected shape " + expected + "], got " + (t.defined() ? shape_string(t) : "none"));
}

void expect_positive(int64_t value, const std::string& key) {
  if (value < 1) throw Error(key + ": must be >= 1, got " + std::to_string(value));
}

}  // namespace

DecisionModelImpl::DecisionModelImpl(DecisionModelConfig config) : config_(std::move(config)) {
  expect_positive(config_.state_dim, "model.state_dim");
  expect_positive(config_.act_dim, "model.act_dim");
  expect_positive(config_.context, "model.context");
  expect_positive(config_.max_ep_len, "model.max_ep_len");
  config_.backbone_config.max_tokens = 3 * config_.context;
  const auto dim = config_.backbone_config.dim;
  expect_positive(dim, "model.dim");
  embed_return_ = register_module("embed_return", torch::nn::Linear(1, dim));
  embed_state_ = register_module("embed_state", torch::nn::Linear(config_.state_dim, dim));
  embed_action_ = register_module("embed_action", torch::nn::Linear(config_.act_dim, dim));
  embed_timestep_ = register_module("embed_timestep", torch::nn::Embedding(config_.max_ep_len, dim));
  embed_norm_ = register_module("embed_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  backbone_ = register_module("backbone", make_backbone(config_.backbone, config_.backbone_config));
  action_head_ = register_module("action_head", torch::nn::Linear(dim, config_.act_dim));
}

torch::Tensor DecisionModelImpl::time_embedding(const torch::Tensor& t) {
  // Timesteps past the table reuse its last row (as DT clips them to max_ep_len - 1).
  return embed_timestep_(t.to(torch::kLong).clamp(0, config_.max_ep_len - 1));
}

torch::Tensor DecisionModelImpl::window_tokens(const torch::Tensor& states, const torch::Tensor& actions,
                                               const torch::Tensor& rtg, const torch::Tensor& timesteps) {
  const auto dtype = embed_state_->weight.scalar_type();
  const auto time = time_embedding(timesteps);
  const auto r = embed_return_(rtg.to(dtype)) + time;
  const auto s = embed_state_(states.to(dtype)) + time;
  const auto a = embed_action_(actions.to(dtype)) + time;
  // [B, K, 3, D] -> [B, 3K, D]: R_1, s_1, a_1, R_2, ...
  auto tokens = torch::stack({r, s, a}, 2).reshape({states.size(0), 3 * states.size(1), r.size(-1)});
  return embed_norm_(tokens);
}

torch::Tensor DecisionModelImpl::predict_actions(const torch::Tensor& tokens) {
  const auto h = backbone_->forward(tokens);
  // The s_t tokens sit at positions 1, 4, 7, ...
  return torch::tanh(action_head_(h.slice(1, 1, h.size(1), 3)));
}

torch::Tensor DecisionModelImpl::forward(const torch::Tensor& states, const torch::Tensor& actions,
                                         const torch::Tensor& rtg, const torch::Tensor& timesteps,
                                         const torch::Tensor& mask) {
  expect_shape(states, {-1, -1, config_.state_dim}, "states");
  const auto B = states.size(0), K = states.size(1);
  expect_shape(actions, {B, K, config_.act_dim}, "actions");
  expect_shape(rtg, {B, K, 1}, "rtg");
  expect_shape(timesteps, {B, K}, "timesteps");
  const auto tokens = window_tokens(states, actions, rtg, timesteps);
  if (!mask.defined()) return predict_actions(tokens);
  expect_shape(mask, {B, K}, "mask");

  // Left padding must not influence the real outputs. DT masks attention keys; that has no
  // exact analogue for a recurrent backbone (zeroed pad tokens still move its state through
  // biases and norms). So each row is rotated to put its real steps first and its padding last,
  // the whole batch runs through the backbone in one call, and the outputs are rotated back.
  // This is exact for every backbone because outputs are causal: no real token comes after a
  // padded one. (Grouping rows by length instead split 79 % of the embedded data's batches of
  // 32 into several backbone calls, bench/RESULTS.md.)
  const auto real = mask > 0;
  const auto n_real = real.sum(1);
  const auto positions = torch::arange(K, n_real.options()).unsqueeze(0);
  const auto pad = (K - n_real).unsqueeze(1);  // [B, 1]
  if (!torch::equal(real, positions >= pad))
    throw Error("mask: expected left padding (each row 0...0 1...1), got real steps after padded ones");
  if (real.all().item<bool>()) return predict_actions(tokens);
  const auto D = tokens.size(2), A = config_.act_dim;
  // Rotated token j of row b is token (j + 3 pad_b) mod 3K; output j of row b is rotated output (j - pad_b) mod K.
  const auto token_index = (torch::arange(3 * K, n_real.options()).unsqueeze(0) + 3 * pad) % (3 * K);
  const auto rotated = tokens.gather(1, token_index.unsqueeze(-1).expand({B, 3 * K, D}));
  const auto step_index = (positions - pad + K) % K;
  const auto out = predict_actions(rotated).gather(1, step_index.unsqueeze(-1).expand({B, K, A}));
  return torch::where(real.unsqueeze(-1), out, torch::zeros({}, out.options()));
}

bool DecisionModelImpl::backbone_state_is_constant() {
  torch::NoGradGuard no_grad;
  auto state = backbone_->initial_state(1);
  const auto x = torch::zeros({1, config_.backbone_config.dim}, embed_state_->weight.options());
  auto elements = [&] {
    int64_t n = 0;
    for (const auto& layer : state)
      for (const auto& t : layer) n += t.defined() ? t.numel() : 0;
    return n;
  };
  backbone_->step(x, state);
  const auto after_one = elements();
  backbone_->step(x, state);
  return elements() == after_one;
}

DecisionModelImpl::ActState DecisionModelImpl::begin(int64_t batch) {
  expect_positive(batch, "batch");
  return {backbone_->initial_state(batch)};
}

torch::Tensor DecisionModelImpl::act(ActState& state, const torch::Tensor& rtg, const torch::Tensor& s,
                                     const torch::Tensor& t) {
  expect_shape(s, {-1, config_.state_dim}, "state");
  const auto B = s.size(0);
  expect_shape(rtg, {B, 1}, "rtg");
  expect_shape(t, {B}, "timestep");
  const auto dtype = embed_state_->weight.scalar_type();
  const auto time = time_embedding(t);
  backbone_->step(embed_norm_(embed_return_(rtg.to(dtype)) + time), state.backbone);
  const auto h = backbone_->step(embed_norm_(embed_state_(s.to(dtype)) + time), state.backbone);
  return torch::tanh(action_head_(h));
}

void DecisionModelImpl::observe_action(ActState& state, const torch::Tensor& a, const torch::Tensor& t) {
  expect_shape(a, {-1, config_.act_dim}, "action");
  expect_shape(t, {a.size(0)}, "timestep");
  const auto dtype = embed_state_->weight.scalar_type();
  backbone_->step(embed_norm_(embed_action_(a.to(dtype)) + time_embedding(t)), state.backbone);
}

}  // namespace seqrl
