// Decision-Transformer-style policy over a swappable sequence backbone.
//
// A step t contributes three tokens, interleaved (R_t, s_t, a_t), so a window of K steps is a
// sequence of 3K tokens. Each token is a linear embedding of its input plus a learned timestep
// embedding shared by the step's three tokens; the sequence is LayerNorm'ed, run through the
// backbone, and a tanh action head reads the output at every s_t token to predict a_t.
//
// Two ways to run it, with equal results:
//   forward(...)                 a window or a whole episode at once (training, window-mode
//                                evaluation);
//   begin / act / observe_action one env step at a time through Backbone::step (recurrent acting).
// A forward over an episode from its first step equals recurrent acting over that episode, so a
// model trained on episodes (train.context = episode) acts in recurrent mode as it was trained.
#pragma once
#include <torch/torch.h>

#include <string>

#include "models/backbone.h"

namespace seqrl {

struct DecisionModelConfig {
  int64_t state_dim = 0, act_dim = 0;
  int64_t context = 20;       // K: steps per training window
  int64_t max_ep_len = 1000;  // timestep embedding size; later timesteps reuse the last row
  std::string backbone = "transformer";
  BackboneConfig backbone_config;  // max_tokens is set to 3 * context by the model
};

class DecisionModelImpl : public torch::nn::Module {
 public:
  explicit DecisionModelImpl(DecisionModelConfig config);

  // states [B,K,obs], actions [B,K,act], rtg [B,K,1], timesteps [B,K] int64, mask [B,K]
  // (1 real, 0 left padding; undefined = all real); K may be any length (a window or an episode) -> predicted actions
  // [B,K,act] in (-1, 1), one per s_t token (a_t is predicted from R_<=t, s_<=t, a_<t). Padded positions return 0.
  torch::Tensor forward(const torch::Tensor& states, const torch::Tensor& actions, const torch::Tensor& rtg,
                        const torch::Tensor& timesteps, const torch::Tensor& mask = {});

  struct ActState {
    BackboneState backbone;
  };
  // A fresh acting state for `batch` parallel episodes.
  ActState begin(int64_t batch);
  // Feeds the R_t and s_t tokens; rtg [B,1], s [B,obs], t [B] int64 -> a_t [B,act].
  torch::Tensor act(ActState& state, const torch::Tensor& rtg, const torch::Tensor& s, const torch::Tensor& t);
  // Feeds the a_t token (the action actually taken), a [B,act], t [B] int64.
  void observe_action(ActState& state, const torch::Tensor& a, const torch::Tensor& t);

  // False when the backbone's state grows with the sequence (the transformer's KV cache): such a
  // backbone cannot be trained on whole episodes in linear memory, nor act on them in O(1).
  bool backbone_state_is_constant();

  const DecisionModelConfig& config() const { return config_; }
  const Backbone& backbone() const { return backbone_; }

 private:
  torch::Tensor time_embedding(const torch::Tensor& t);
  // Embedded, normalized tokens [B, 3K, D] of a window (all rows real).
  torch::Tensor window_tokens(const torch::Tensor& states, const torch::Tensor& actions, const torch::Tensor& rtg,
                              const torch::Tensor& timesteps);
  // Backbone + action head on token windows [n, 3k, D] -> [n, k, act].
  torch::Tensor predict_actions(const torch::Tensor& tokens);

  DecisionModelConfig config_;
  torch::nn::Linear embed_return_{nullptr}, embed_state_{nullptr}, embed_action_{nullptr};
  torch::nn::Embedding embed_timestep_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr};
  Backbone backbone_;
  torch::nn::Linear action_head_{nullptr};
};
TORCH_MODULE(DecisionModel);

}  // namespace seqrl
