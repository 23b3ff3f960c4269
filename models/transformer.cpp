// transformer: GPT-style causal multi-head self-attention (as in Decision Transformer,
// Chen et al. 2021). No positional embedding: DT gets position from its timestep embedding.
// step() appends this token's key/value to a per-layer KV cache and attends over it. The cache
// holds at most config.max_tokens tokens (the training window, 3K); beyond that the oldest
// token is dropped, so acting past the window attends over a sliding window, as DT's
// evaluation does by re-running its last K steps.
#include <cmath>
#include <limits>

#include "core/error.h"
#include "models/block.h"
#include "models/dropout.h"

namespace seqrl {
namespace {

class AttentionMixerImpl : public MixerImpl {
 public:
  explicit AttentionMixerImpl(const BackboneConfig& config)
      : heads_(config.heads), head_dim_(config.dim / config.heads), max_tokens_(config.max_tokens) {
    qkv_ = register_module("qkv", torch::nn::Linear(config.dim, 3 * config.dim));
    out_ = register_module("out", torch::nn::Linear(config.dim, config.dim));
    attn_dropout_ = register_module("attn_dropout", HashedDropout(config.dropout));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    const auto B = x.size(0), T = x.size(1);
    auto [q, k, v] = heads_of(x);  // [B, H, T, hd]
    auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim_));
    auto future = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(x.device())).triu(1);
    scores = scores.masked_fill(future, -std::numeric_limits<double>::infinity());
    auto y = torch::matmul(attn_dropout_(torch::softmax(scores, -1)), v);
    return out_(y.transpose(1, 2).reshape({B, T, heads_ * head_dim_}));
  }

  // Empty caches [B, H, 0, hd] for keys and values.
  LayerState initial_state(int64_t batch) override {
    auto empty = torch::zeros({batch, heads_, 0, head_dim_}, module_options(*this));
    return {empty, empty.clone()};
  }

  torch::Tensor step(const torch::Tensor& x_t, LayerState& state) override {
    const auto B = x_t.size(0);
    auto [q, k, v] = heads_of(x_t.unsqueeze(1));  // [B, H, 1, hd]
    auto keys = torch::cat({state[0], k}, 2), values = torch::cat({state[1], v}, 2);
    if (keys.size(2) > max_tokens_) {
      keys = keys.slice(2, keys.size(2) - max_tokens_);
      values = values.slice(2, values.size(2) - max_tokens_);
    }
    state[0] = keys;
    state[1] = values;
    auto scores = torch::matmul(q, keys.transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim_));
    auto y = torch::matmul(attn_dropout_(torch::softmax(scores, -1)), values);
    return out_(y.reshape({B, heads_ * head_dim_}));
  }

 private:
  // [B, T, D] -> q, k, v each [B, H, T, hd].
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> heads_of(const torch::Tensor& x) {
    const auto B = x.size(0), T = x.size(1);
    auto qkv = qkv_(x).reshape({B, T, 3, heads_, head_dim_}).permute({2, 0, 3, 1, 4});
    return {qkv[0], qkv[1], qkv[2]};
  }

  int64_t heads_, head_dim_, max_tokens_;
  torch::nn::Linear qkv_{nullptr}, out_{nullptr};
  HashedDropout attn_dropout_{nullptr};
};

const BackboneRegistrar registrar(stack_backbone(
    "transformer", "GPT-style causal self-attention with a KV cache for step (Decision Transformer, Chen et al. 2021)",
    {}, [](const BackboneConfig& c, int64_t) -> Mixer {
      heads_dividing_dim(c);
      return std::make_shared<AttentionMixerImpl>(c);
    }));

}  // namespace
}  // namespace seqrl
