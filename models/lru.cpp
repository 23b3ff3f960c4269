// LRU — Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks
// for Long Sequences"). Per layer a complex diagonal linear recurrence of N states:
//   x_t = λ ⊙ x_{t-1} + γ ⊙ (B u_t),   y_t = Re[C x_t] + D ⊙ u_t
//   λ = exp(−exp(ν) + i·exp(θ))   (|λ| < 1 for any ν: stable by construction)
// ν and θ are drawn so that λ is uniform on the ring r_min ≤ |λ| ≤ r_max with phase in
// [0, max_phase]; γ = sqrt(1 − |λ|²) keeps the state's variance independent of |λ|.
// forward runs kernels::complex_linear_scan; step is the same recurrence for one t.
#include <cmath>
#include <utility>

#include "core/error.h"
#include "kernels/scan.h"
#include "models/block.h"

namespace seqrl {
namespace {

struct LruOptions {
  int64_t d_state;
  double r_min, r_max, max_phase;
};

class LruMixerImpl : public MixerImpl {
 public:
  LruMixerImpl(int64_t dim, const LruOptions& opt) : n_(opt.d_state) {
    torch::NoGradGuard no_grad;
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    // Uniform in area on the ring: |λ|² ~ U[r_min², r_max²].
    auto u1 = torch::rand({n_}, f64), u2 = torch::rand({n_}, f64).clamp_min(1e-12);
    auto r2 = u1 * (opt.r_max * opt.r_max - opt.r_min * opt.r_min) + opt.r_min * opt.r_min;
    auto nu_log = torch::log(-0.5 * torch::log(r2));  // exp(−exp(ν_log)) = sqrt(r2)
    auto theta_log = torch::log(opt.max_phase * u2);
    auto gamma_log = 0.5 * torch::log(1.0 - r2);
    nu_log_ = register_parameter("nu_log", nu_log.to(torch::kFloat32));
    theta_log_ = register_parameter("theta_log", theta_log.to(torch::kFloat32));
    gamma_log_ = register_parameter("gamma_log", gamma_log.to(torch::kFloat32));
    // Glorot-style: B's real and imaginary parts each carry half the input variance.
    b_re_ = register_parameter("B_re", torch::randn({n_, dim}) / std::sqrt(2.0 * dim));
    b_im_ = register_parameter("B_im", torch::randn({n_, dim}) / std::sqrt(2.0 * dim));
    c_re_ = register_parameter("C_re", torch::randn({dim, n_}) / std::sqrt(double(n_)));
    c_im_ = register_parameter("C_im", torch::randn({dim, n_}) / std::sqrt(double(n_)));
    d_ = register_parameter("D", torch::randn({dim}));
  }

  // The eigenvalues λ as (real, imaginary) parts, [N]. Computed in float64 and rounded once to the
  // parameters' dtype: an error in λ compounds over the ~1/(1 − |λ|) steps the state remembers
  // (|λ| up to 0.999), so λ must not depend on whose exp and cos ran. The runtime computes the
  // same in float64 (runtime/lru.cpp); computed in float32, libm and LibTorch came one ulp apart
  // on a trained model and its actions 2.5e-5.
  std::pair<torch::Tensor, torch::Tensor> lambda() const {
    auto modulus = torch::exp(-torch::exp(nu_log_.to(torch::kFloat64)));
    auto phase = torch::exp(theta_log_.to(torch::kFloat64));
    const auto dtype = nu_log_.scalar_type();
    return {(modulus * torch::cos(phase)).to(dtype), (modulus * torch::sin(phase)).to(dtype)};
  }

  torch::Tensor forward(const torch::Tensor& u) override {
    auto [b_re, b_im] = normalized_input(u);
    auto [l_re, l_im] = lambda();
    auto [x_re, x_im] = kernels::complex_linear_scan(l_re.expand_as(b_re), l_im.expand_as(b_im), b_re, b_im);
    return readout(x_re, x_im, u);
  }

  LayerState initial_state(int64_t batch) override {
    auto zeros = torch::zeros({batch, n_}, d_.options());
    return {zeros, zeros.clone()};
  }

  torch::Tensor step(const torch::Tensor& u, LayerState& state) override {
    auto [b_re, b_im] = normalized_input(u);
    auto [l_re, l_im] = lambda();
    const auto& x_re = state[0];
    const auto& x_im = state[1];
    auto next_re = l_re * x_re - l_im * x_im + b_re;
    auto next_im = l_re * x_im + l_im * x_re + b_im;
    state[0] = next_re;
    state[1] = next_im;
    return readout(next_re, next_im, u);
  }

 private:
  // γ ⊙ (B u) as (real, imaginary) parts; u is [..., D] -> [..., N].
  std::pair<torch::Tensor, torch::Tensor> normalized_input(const torch::Tensor& u) const {
    auto gamma = torch::exp(gamma_log_);
    return {torch::linear(u, b_re_) * gamma, torch::linear(u, b_im_) * gamma};
  }
  // Re[C x] + D ⊙ u.
  torch::Tensor readout(const torch::Tensor& x_re, const torch::Tensor& x_im, const torch::Tensor& u) const {
    return torch::linear(x_re, c_re_) - torch::linear(x_im, c_im_) + d_ * u;
  }

  int64_t n_;
  torch::Tensor nu_log_, theta_log_, gamma_log_, b_re_, b_im_, c_re_, c_im_, d_;
};

LruOptions lru_options(const BackboneConfig& config) {
  LruOptions opt;
  opt.d_state = static_cast<int64_t>(config.option("d_state"));
  if (opt.d_state == 0) opt.d_state = config.dim;
  opt.r_min = config.option("r_min");
  opt.r_max = config.option("r_max");
  opt.max_phase = config.option("max_phase");
  if (opt.r_min > opt.r_max)
    throw Error("model.lru.r_min: " + std::to_string(opt.r_min) + " is larger than model.lru.r_max (" +
                std::to_string(opt.r_max) + "); expected r_min <= r_max");
  return opt;
}

const BackboneRegistrar registrar(stack_backbone(
    "lru", "Linear Recurrent Unit: complex diagonal recurrence, ring init, gamma normalization (Orvieto et al. 2023)",
    {
        {"d_state", 0, 0, 65536, "complex states per layer (0: same as model.dim)"},
        {"r_min", 0.9, 0.0, 0.999999, "smallest |lambda| at init"},
        {"r_max", 0.999, 0.0, 0.999999, "largest |lambda| at init"},
        {"max_phase", 2 * M_PI, 1e-6, 2 * M_PI, "largest arg(lambda) at init (radians)"},
    },
    [](const BackboneConfig& c, int64_t) -> Mixer { return std::make_shared<LruMixerImpl>(c.dim, lru_options(c)); },
    {"nu_log", "theta_log", "gamma_log"}));

}  // namespace
}  // namespace seqrl
