// S4D — diagonal structured state space (Gu et al. 2022, "On the Parameterization and
// Initialization of Diagonal State Space Models"). Every channel d is its own SSM with N/2
// complex modes (the conjugate half is implied, hence the 2·Re below):
//   A_n = −exp(A_log_re) + i·A_im   (S4D-Lin init: A_n = −1/2 + iπn), B = 1, learned C, D
//   zero-order hold with learned step Δ_d:  Ā = exp(ΔA),  B̄ = (exp(ΔA) − 1)/A · B
//   h_t = Ā h_{t-1} + B̄ u_t,  y_t = 2·Re[Σ_n C_n h_{t,n}] + D u_t,  out = W·GELU(y) + b
// forward runs the recurrence with kernels::complex_linear_scan over the D·N/2 modes;
// step runs it for one t.
#include <cmath>
#include <utility>

#include "core/error.h"
#include "kernels/scan.h"
#include "models/block.h"

namespace seqrl {
namespace {

struct S4Options {
  int64_t d_state;  // N: 2 × complex modes per channel
  double dt_min, dt_max;
};

class S4MixerImpl : public MixerImpl {
 public:
  S4MixerImpl(int64_t dim, const S4Options& opt) : dim_(dim), modes_(opt.d_state / 2) {
    torch::NoGradGuard no_grad;
    // log Δ uniform in [log dt_min, log dt_max].
    auto log_dt = torch::rand({dim}) * (std::log(opt.dt_max) - std::log(opt.dt_min)) + std::log(opt.dt_min);
    log_dt_ = register_parameter("log_dt", log_dt);
    a_log_re_ = register_parameter("A_log_re", torch::full({dim, modes_}, std::log(0.5)));
    a_im_ = register_parameter("A_im", (M_PI * torch::arange(modes_, torch::kFloat32)).expand({dim, modes_}).clone());
    // C complex normal with unit variance (half per part).
    c_re_ = register_parameter("C_re", torch::randn({dim, modes_}) * std::sqrt(0.5));
    c_im_ = register_parameter("C_im", torch::randn({dim, modes_}) * std::sqrt(0.5));
    d_ = register_parameter("D", torch::randn({dim}));
    out_ = register_module("out", torch::nn::Linear(dim, dim));
  }

  torch::Tensor forward(const torch::Tensor& u) override {
    auto [a, b] = discretize();    // each (re, im) of [D, M]
    auto sizes = u.sizes();        // [B, T, D]
    auto drive = u.unsqueeze(-1);  // B̄ u_t per mode: [B, T, D, M]
    auto b_re = (drive * b.first).flatten(2), b_im = (drive * b.second).flatten(2);
    auto a_re = a.first.flatten().expand_as(b_re), a_im = a.second.flatten().expand_as(b_im);
    auto [h_re, h_im] = kernels::complex_linear_scan(a_re, a_im, b_re, b_im);
    auto modes = std::vector<int64_t>{sizes[0], sizes[1], dim_, modes_};
    return readout(h_re.view(modes), h_im.view(modes), u);
  }

  LayerState initial_state(int64_t batch) override {
    auto zeros = torch::zeros({batch, dim_, modes_}, d_.options());
    return {zeros, zeros.clone()};
  }

  torch::Tensor step(const torch::Tensor& u, LayerState& state) override {
    auto [a, b] = discretize();
    auto drive = u.unsqueeze(-1);  // [B, D, 1]
    const auto& h_re = state[0];
    const auto& h_im = state[1];
    auto next_re = a.first * h_re - a.second * h_im + b.first * drive;
    auto next_im = a.first * h_im + a.second * h_re + b.second * drive;
    state[0] = next_re;
    state[1] = next_im;
    return readout(next_re, next_im, u);
  }

 private:
  using Complex = std::pair<torch::Tensor, torch::Tensor>;  // (re, im)

  // Zero-order hold: (Ā, B̄) with B = 1, each as (re, im) of [D, M]. Computed in float64 and
  // rounded once to the parameters' dtype, as runtime/s4.cpp does: an error in Ā compounds over
  // the ~1/(1 − |Ā|) steps the state remembers, so Ā must not depend on whose exp and cos ran.
  std::pair<Complex, Complex> discretize() const {
    const auto dtype = a_log_re_.scalar_type();
    auto a_re = -torch::exp(a_log_re_.to(torch::kFloat64));
    auto a_im = a_im_.to(torch::kFloat64);
    auto dt = torch::exp(log_dt_.to(torch::kFloat64)).unsqueeze(-1);
    auto decay = torch::exp(dt * a_re), angle = dt * a_im;
    auto abar_re = decay * torch::cos(angle), abar_im = decay * torch::sin(angle);
    // (Ā − 1) / A = (Ā − 1) · conj(A) / |A|².
    auto norm = a_re * a_re + a_im * a_im;
    auto num_re = abar_re - 1.0;
    auto bbar_re = (num_re * a_re + abar_im * a_im) / norm;
    auto bbar_im = (abar_im * a_re - num_re * a_im) / norm;
    return {{abar_re.to(dtype), abar_im.to(dtype)}, {bbar_re.to(dtype), bbar_im.to(dtype)}};
  }

  // h: [..., D, M] -> GELU(2·Re[Σ_n C_n h_n] + D u) through the output layer: [..., D].
  torch::Tensor readout(const torch::Tensor& h_re, const torch::Tensor& h_im, const torch::Tensor& u) {
    auto y = 2.0 * (h_re * c_re_ - h_im * c_im_).sum(-1) + d_ * u;
    return out_->forward(torch::gelu(y));
  }

  int64_t dim_, modes_;
  torch::Tensor log_dt_, a_log_re_, a_im_, c_re_, c_im_, d_;
  torch::nn::Linear out_{nullptr};
};

S4Options s4_options(const BackboneConfig& config) {
  S4Options opt;
  opt.d_state = static_cast<int64_t>(config.option("d_state"));
  opt.dt_min = config.option("dt_min");
  opt.dt_max = config.option("dt_max");
  if (opt.d_state % 2 != 0)
    throw Error("model.s4.d_state: " + std::to_string(opt.d_state) +
                " is odd; expected an even number (N/2 complex modes)");
  if (opt.dt_min > opt.dt_max)
    throw Error("model.s4.dt_min: " + std::to_string(opt.dt_min) + " is larger than model.s4.dt_max (" +
                std::to_string(opt.dt_max) + "); expected dt_min <= dt_max");
  return opt;
}

const BackboneRegistrar registrar(stack_backbone(
    "s4", "S4D: diagonal state space, S4D-Lin init, zero-order hold with learned step (Gu et al. 2022)",
    {
        {"d_state", 64, 2, 4096, "state size N per channel (N/2 complex modes; even)"},
        {"dt_min", 0.001, 1e-6, 10.0, "smallest step size at init"},
        {"dt_max", 0.1, 1e-6, 10.0, "largest step size at init"},
    },
    [](const BackboneConfig& c, int64_t) -> Mixer { return std::make_shared<S4MixerImpl>(c.dim, s4_options(c)); },
    {"log_dt", "A_log_re", "A_im"}));

}  // namespace
}  // namespace seqrl
