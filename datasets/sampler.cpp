#include "datasets/sampler.h"

#include <limits>

#include "core/error.h"
#include "core/rng.h"

namespace seqrl {

SequenceSampler::SequenceSampler(const Dataset& ds, SamplerConfig cfg, uint64_t seed) : cfg_(cfg), rng_(seed) {
  if (ds.size() == 0 || ds.episodes.empty()) throw Error(ds.path + ": cannot sample from an empty dataset");
  if (cfg.context < 1) throw Error("sampler context: must be >= 1, got " + std::to_string(cfg.context));
  if (!(cfg.reward_scale > 0))
    throw Error("sampler reward_scale: must be > 0, got " + std::to_string(cfg.reward_scale));
  if (cfg.max_ep_len < 1) throw Error("sampler max_ep_len: must be >= 1, got " + std::to_string(cfg.max_ep_len));
  rows_ = ds.size();

  auto obs = ds.observations.to(torch::kDouble);
  mean_ = obs.mean(0).to(torch::kFloat);
  std_ = obs.std(0, /*unbiased=*/false).clamp_min(1e-6).to(torch::kFloat);
  auto pad_obs = torch::zeros({1, ds.obs_dim});
  states_ = torch::cat({(ds.observations - mean_) / std_, pad_obs}).contiguous();
  actions_ = torch::cat({ds.actions, torch::zeros({1, ds.act_dim})}).contiguous();

  // Per-row return-to-go (accumulated backwards in float64), timestep and episode end.
  auto rewards = ds.rewards.to(torch::kDouble).contiguous();
  const double* r = rewards.data_ptr<double>();
  auto rtg = torch::zeros({rows_ + 1}, torch::kDouble);
  auto ts = torch::zeros({rows_ + 1}, torch::kLong);
  episode_end_ = torch::empty({rows_}, torch::kLong);
  double* g = rtg.data_ptr<double>();
  int64_t* t = ts.data_ptr<int64_t>();
  int64_t* end = episode_end_.data_ptr<int64_t>();
  for (const auto& ep : ds.episodes) {
    episode_start_.push_back(ep.start);
    episode_length_.push_back(ep.length);
    double acc = 0;
    for (int64_t i = ep.start + ep.length - 1; i >= ep.start; --i) {
      acc += r[i];
      g[i] = acc;
      t[i] = std::min<int64_t>(i - ep.start, cfg.max_ep_len - 1);
      end[i] = ep.start + ep.length;
    }
  }
  rtg_ = (rtg / cfg.reward_scale).to(torch::kFloat);
  timesteps_ = ts;
}

uint64_t SequenceSampler::uniform_below(uint64_t n) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - (max % n + 1) % n;  // largest multiple of n, minus 1
  uint64_t x;
  do x = rng_();
  while (x > limit);
  return x % n;
}

SequenceBatch SequenceSampler::sample(int64_t batch_size) {
  if (batch_size < 1) throw Error("sampler batch_size: must be >= 1, got " + std::to_string(batch_size));
  auto start = torch::empty({batch_size}, torch::kLong);
  int64_t* s = start.data_ptr<int64_t>();
  for (int64_t b = 0; b < batch_size; ++b) s[b] = int64_t(uniform_below(uint64_t(rows_)));
  // Window b holds min(K, end - start) real steps.
  return gather(start, (episode_end_.index_select(0, start) - start).clamp_max(cfg_.context), cfg_.context);
}

SequenceBatch SequenceSampler::sample_episodes(int64_t batch_size) {
  if (batch_size < 1) throw Error("sampler batch_size: must be >= 1, got " + std::to_string(batch_size));
  auto first = torch::empty({batch_size}, torch::kLong), len = torch::empty({batch_size}, torch::kLong);
  int64_t *f = first.data_ptr<int64_t>(), *n = len.data_ptr<int64_t>();
  int64_t longest = 0;
  for (int64_t b = 0; b < batch_size; ++b) {
    const auto e = uniform_below(uint64_t(episode_start_.size()));
    f[b] = episode_start_[e];
    n[b] = std::min<int64_t>(episode_length_[e], cfg_.max_ep_len);
    longest = std::max(longest, n[b]);
  }
  return gather(first, len, longest);
}

SequenceBatch SequenceSampler::gather(const torch::Tensor& first, const torch::Tensor& len, int64_t width) const {
  // Right-aligned: position j < width - len is padding (index N, the zero row), position
  // j >= width - len is row first + j - (width - len).
  const int64_t batch_size = first.size(0);
  auto pad = (width - len).unsqueeze(1);
  auto pos = torch::arange(width, torch::kLong).unsqueeze(0);
  auto real = pos >= pad;
  auto idx = torch::where(real, first.unsqueeze(1) + pos - pad, torch::full({1, 1}, rows_, torch::kLong));
  auto flat = idx.reshape({-1});

  SequenceBatch batch;
  batch.states = states_.index_select(0, flat).view({batch_size, width, -1});
  batch.actions = actions_.index_select(0, flat).view({batch_size, width, -1});
  batch.rtg = rtg_.index_select(0, flat).view({batch_size, width, 1});
  batch.timesteps = timesteps_.index_select(0, flat).view({batch_size, width});
  batch.mask = real.to(torch::kFloat);
  return batch;
}

std::string SequenceSampler::rng_state() const { return rng_to_text(rng_); }

void SequenceSampler::set_rng_state(const std::string& state) { rng_from_text(rng_, state, "sampler rng state"); }

}  // namespace seqrl
