// sLSTM — the scalar-memory cell of xLSTM (Beck et al. 2024), as the mixer of the residual
// stack. Gates from the input and, through block-diagonal recurrent matrices R (one d×d block
// per head: memory mixing within a head), from the previous hidden state:
//   (z̃, ĩ, f̃, õ) = W u_t + R h_{t-1} + b
//   m_t = max(log σ(f̃) + m_{t-1}, ĩ)                      stabilizer, m_0 = −∞
//   c_t = e^{log σ(f̃) + m_{t-1} − m_t} c_{t-1} + e^{ĩ − m_t} tanh(z̃)
//   n_t = e^{log σ(f̃) + m_{t-1} − m_t} n_{t-1} + e^{ĩ − m_t}
//   h_t = σ(õ) ⊙ c_t / n_t
// The R h_{t-1} term makes it inherently sequential: forward() computes W u for all t at
// once and then loops over T with the same cell as step().
#include <cmath>
#include <limits>

#include "core/error.h"
#include "models/block.h"

namespace seqrl {
namespace {

class SlstmMixerImpl : public MixerImpl {
 public:
  SlstmMixerImpl(int64_t dim, int64_t heads) : dim_(dim), heads_(heads), head_dim_(dim / heads) {
    input_ = register_module("input", torch::nn::Linear(dim, 4 * dim));  // W, b for (z, i, f, o)
    // R: per head, d inputs -> the 4 gates' d outputs of that head.
    double bound = 1.0 / std::sqrt(double(head_dim_));
    recurrent_ =
        register_parameter("recurrent", torch::empty({heads, head_dim_, 4 * head_dim_}).uniform_(-bound, bound));
    torch::NoGradGuard no_grad;
    // xLSTM init: forget gates start open (σ(3..6)), spread over the units.
    input_->bias.narrow(0, 2 * dim, dim).copy_(torch::linspace(3.0, 6.0, dim));
  }

  torch::Tensor forward(const torch::Tensor& u) override {
    // unbind, not select(1, t): select's backward writes a full [B, T, 4D] gradient per step,
    // O(T²) over an episode; unbind's backward stacks the T step gradients once.
    auto steps = input_->forward(u).unbind(1);  // T × [B, 4D]
    auto state = initial_state(u.size(0));
    std::vector<torch::Tensor> outputs;
    outputs.reserve(steps.size());
    for (const auto& projected : steps) outputs.push_back(cell(projected, state));
    return torch::stack(outputs, 1);
  }

  LayerState initial_state(int64_t batch) override {
    auto opts = recurrent_.options();
    auto zeros = torch::zeros({batch, dim_}, opts);
    return {zeros, zeros.clone(), zeros.clone(),
            torch::full({batch, dim_}, -std::numeric_limits<double>::infinity(), opts)};  // h, c, n, m
  }

  torch::Tensor step(const torch::Tensor& u, LayerState& state) override { return cell(input_->forward(u), state); }

 private:
  // One time step from the projected input W u_t + b: [B, 4D]; state (h, c, n, m) each [B, D].
  torch::Tensor cell(const torch::Tensor& projected, LayerState& state) {
    int64_t batch = projected.size(0);
    // R h_{t-1} per head: [B, H, d] x [H, d, 4d] -> [B, H, 4, d] -> [B, 4, D], the layout of W u.
    auto mixed = torch::einsum("bhd,hde->bhe", {state[0].view({batch, heads_, head_dim_}), recurrent_})
                     .view({batch, heads_, 4, head_dim_})
                     .transpose(1, 2)
                     .reshape({batch, 4, dim_});
    auto gates = projected.view({batch, 4, dim_}) + mixed;
    auto z = torch::tanh(gates.select(1, 0)), log_i = gates.select(1, 1);
    auto log_f = torch::log_sigmoid(gates.select(1, 2)), o = torch::sigmoid(gates.select(1, 3));
    const auto& m_prev = state[3];
    auto m = torch::maximum(log_f + m_prev, log_i);
    auto keep = torch::exp(log_f + m_prev - m), write = torch::exp(log_i - m);
    auto c = keep * state[1] + write * z;
    auto n = keep * state[2] + write;
    auto h = o * c / n;
    state = {h, c, n, m};
    return h;
  }

  int64_t dim_, heads_, head_dim_;
  torch::nn::Linear input_{nullptr};
  torch::Tensor recurrent_;
};

const BackboneRegistrar registrar(stack_backbone(
    "slstm",
    "xLSTM sLSTM: scalar memory, exponential gating, head-wise recurrent mixing; sequential over T (Beck et al. 2024)",
    {}, [](const BackboneConfig& c, int64_t) -> Mixer {
      return std::make_shared<SlstmMixerImpl>(c.dim, heads_dividing_dim(c));
    }));

}  // namespace
}  // namespace seqrl
