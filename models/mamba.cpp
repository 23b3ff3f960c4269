// Mamba block (Gu & Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State
// Spaces"), as the mixer of the residual stack:
//   (x, z) = in_proj(u)                     D -> 2E, E = expand·D
//   x = SiLU(causal depthwise conv1d(x))    kernel d_conv
//   (δ, B, C) = x_proj(x)                   E -> dt_rank + 2N: Δ, B, C depend on the input (S6)
//   Δ = softplus(dt_proj(δ))                dt_rank -> E, bias set so Δ starts in [dt_min, dt_max]
//   y = selective_scan(x, Δ, A = −exp(A_log), B, C, D) · SiLU(z);  out = out_proj(y)
// forward runs kernels::selective_scan; step carries the last d_conv inputs of the conv
// ([B, E, d_conv]) and the SSM state ([B, E, N]).
#include <cmath>

#include "core/error.h"
#include "kernels/scan.h"
#include "models/block.h"

namespace seqrl {
namespace {

struct MambaOptions {
  int64_t d_state, d_conv, expand, dt_rank;
  double dt_min, dt_max;
};

class MambaMixerImpl : public MixerImpl {
 public:
  MambaMixerImpl(int64_t dim, const MambaOptions& opt)
      : inner_(opt.expand * dim), n_(opt.d_state), d_conv_(opt.d_conv), dt_rank_(opt.dt_rank) {
    in_proj_ = register_module("in_proj", torch::nn::Linear(torch::nn::LinearOptions(dim, 2 * inner_).bias(false)));
    conv_ = register_module(
        "conv",
        torch::nn::Conv1d(torch::nn::Conv1dOptions(inner_, inner_, d_conv_).groups(inner_).padding(d_conv_ - 1)));
    x_proj_ =
        register_module("x_proj", torch::nn::Linear(torch::nn::LinearOptions(inner_, dt_rank_ + 2 * n_).bias(false)));
    dt_proj_ = register_module("dt_proj", torch::nn::Linear(dt_rank_, inner_));
    out_proj_ = register_module("out_proj", torch::nn::Linear(torch::nn::LinearOptions(inner_, dim).bias(false)));
    torch::NoGradGuard no_grad;
    // Δ at init: log-uniform in [dt_min, dt_max]; the bias is softplus⁻¹(Δ) = Δ + log(1 − e^−Δ).
    double bound = 1.0 / std::sqrt(double(dt_rank_));
    dt_proj_->weight.uniform_(-bound, bound);
    auto dt = torch::exp(torch::rand({inner_}) * (std::log(opt.dt_max) - std::log(opt.dt_min)) + std::log(opt.dt_min))
                  .clamp_min(1e-4);
    dt_proj_->bias.copy_(dt + torch::log(-torch::expm1(-dt)));
    // S4D-Real init: A_n = −n, n = 1..N, for every channel.
    a_log_ = register_parameter("A_log", torch::log(torch::arange(1, n_ + 1, torch::kFloat32)).repeat({inner_, 1}));
    d_ = register_parameter("D", torch::ones({inner_}));
  }

  torch::Tensor forward(const torch::Tensor& u) override {
    auto xz = in_proj_->forward(u).chunk(2, -1);  // [B, T, E] each
    int64_t steps = u.size(1);
    // Conv over T on [B, E, T]; left padding d_conv − 1 and the first T outputs make it causal.
    auto x = torch::silu(conv_->forward(xz[0].transpose(1, 2)).narrow(2, 0, steps).transpose(1, 2));
    auto [delta, b, c] = selection(x);
    return out_proj_->forward(kernels::selective_scan(x, delta, A(), b, c, d_, xz[1]));
  }

  LayerState initial_state(int64_t batch) override {
    auto opts = d_.options();
    return {torch::zeros({batch, inner_, d_conv_}, opts), torch::zeros({batch, inner_, n_}, opts)};
  }

  torch::Tensor step(const torch::Tensor& u, LayerState& state) override {
    auto xz = in_proj_->forward(u).chunk(2, -1);  // [B, E] each
    // Window of the last d_conv conv inputs, oldest first, as conv1d's cross-correlation sees them.
    auto window = torch::cat({state[0].narrow(2, 1, d_conv_ - 1), xz[0].unsqueeze(-1)}, 2);
    auto x = torch::silu((window * conv_->weight.squeeze(1)).sum(-1) + conv_->bias);
    auto [delta, b, c] = selection(x);  // [B, E], [B, N], [B, N]
    auto decay = torch::exp(delta.unsqueeze(-1) * A());
    auto h = decay * state[1] + (delta * x).unsqueeze(-1) * b.unsqueeze(1);
    auto y = (h * c.unsqueeze(1)).sum(-1) + d_ * x;
    state[0] = window;
    state[1] = h;
    return out_proj_->forward(y * torch::silu(xz[1]));
  }

 private:
  torch::Tensor A() const { return -torch::exp(a_log_); }

  // Input-dependent (Δ, B, C) from the conv output x: [..., E] -> [..., E], [..., N], [..., N].
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> selection(const torch::Tensor& x) {
    auto parts = x_proj_->forward(x).split_with_sizes({dt_rank_, n_, n_}, -1);
    auto delta = torch::softplus(dt_proj_->forward(parts[0]));
    return {delta, parts[1], parts[2]};
  }

  int64_t inner_, n_, d_conv_, dt_rank_;
  torch::nn::Linear in_proj_{nullptr}, x_proj_{nullptr}, dt_proj_{nullptr}, out_proj_{nullptr};
  torch::nn::Conv1d conv_{nullptr};
  torch::Tensor a_log_, d_;
};

MambaOptions mamba_options(const BackboneConfig& config) {
  MambaOptions opt;
  opt.d_state = static_cast<int64_t>(config.option("d_state"));
  opt.d_conv = static_cast<int64_t>(config.option("d_conv"));
  opt.expand = static_cast<int64_t>(config.option("expand"));
  opt.dt_rank = static_cast<int64_t>(config.option("dt_rank"));
  if (opt.dt_rank == 0) opt.dt_rank = (config.dim + 15) / 16;
  opt.dt_min = config.option("dt_min");
  opt.dt_max = config.option("dt_max");
  if (opt.dt_min > opt.dt_max)
    throw Error("model.mamba.dt_min: " + std::to_string(opt.dt_min) + " is larger than model.mamba.dt_max (" +
                std::to_string(opt.dt_max) + "); expected dt_min <= dt_max");
  return opt;
}

const BackboneRegistrar registrar(stack_backbone(
    "mamba", "Mamba: selective state space (S6) with causal conv and gating (Gu & Dao 2023)",
    {
        {"d_state", 16, 1, 1024, "SSM state size N per channel"},
        {"d_conv", 4, 1, 64, "causal depthwise conv kernel width"},
        {"expand", 2, 1, 16, "inner width E = expand * model.dim"},
        {"dt_rank", 0, 0, 4096, "rank of the step-size projection (0: ceil(model.dim / 16))"},
        {"dt_min", 0.001, 1e-6, 10.0, "smallest step size at init"},
        {"dt_max", 0.1, 1e-6, 10.0, "largest step size at init"},
    },
    [](const BackboneConfig& c, int64_t) -> Mixer { return std::make_shared<MambaMixerImpl>(c.dim, mamba_options(c)); },
    {"A_log"}));

}  // namespace
}  // namespace seqrl
