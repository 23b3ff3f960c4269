// The autograd Functions of kernels/scan.h: validate, pick the compute dtype, call the CPU
// loops (kernels/scan_cpu.h) or the CUDA launchers (kernels/cuda/scan_cuda.h).
#include "kernels/scan.h"

#include <c10/core/DeviceGuard.h>

#include <sstream>
#include <vector>

#include "core/error.h"
#include "kernels/scan_cpu.h"

#if SEQRL_WITH_CUDA
#include <c10/cuda/CUDAStream.h>

#include "kernels/cuda/scan_cuda.h"
// Same call on the device of `tensor`: the CUDA launcher on the current stream, or the CPU loop.
#define SEQRL_STREAM static_cast<void*>(c10::cuda::getCurrentCUDAStream().stream())
#define SEQRL_SCAN_CALL(tensor, fn, ...) \
  ((tensor).is_cuda() ? cuda::fn(__VA_ARGS__, SEQRL_STREAM) : cpu::fn(__VA_ARGS__))
// The same with a CUDA-only argument `ws` (a workspace pointer) before the stream.
#define SEQRL_SCAN_CALL_WS(tensor, fn, ws, ...) \
  ((tensor).is_cuda() ? cuda::fn(__VA_ARGS__, ws, SEQRL_STREAM) : cpu::fn(__VA_ARGS__))
#else
#define SEQRL_SCAN_CALL(tensor, fn, ...) cpu::fn(__VA_ARGS__)
#define SEQRL_SCAN_CALL_WS(tensor, fn, ws, ...) cpu::fn(__VA_ARGS__)
#endif

namespace seqrl::kernels {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Absent optional inputs travel through autograd as empty tensors (LibTorch's Function::apply
// rejects undefined ones) and reach the loops as null pointers.
bool present(const Tensor& t) { return t.defined() && t.numel() > 0; }
template <typename T>
const T* ptr(const Tensor& t) {
  return present(t) ? t.data_ptr<T>() : nullptr;
}
template <typename T>
T* mut(Tensor& t) {
  return present(t) ? t.data_ptr<T>() : nullptr;
}

std::string shape_str(const Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// Checks that every named tensor has the expected shape and the dtype and device of the first
// (an optional one may be undefined). Throws seqrl::Error naming the op and the tensor.
struct Expect {
  const char* name;
  const Tensor& t;
  std::vector<int64_t> shape;
  bool optional = false;
};
void check_inputs(const char* op, const std::vector<Expect>& inputs) {
  const Tensor& first = inputs.front().t;
  for (const auto& in : inputs) {
    if (!in.t.defined()) {
      if (in.optional) continue;
      throw Error(std::string(op) + ": " + in.name + " is required");
    }
    if (in.t.sizes() != c10::IntArrayRef(in.shape)) {
      std::ostringstream s;
      s << op << ": " << in.name << " has shape " << shape_str(in.t) << ", expected " << c10::IntArrayRef(in.shape);
      throw Error(s.str());
    }
    if (!in.t.is_floating_point()) throw Error(std::string(op) + ": " + in.name + " must be a floating-point tensor");
    if (in.t.scalar_type() != first.scalar_type() || in.t.device() != first.device())
      throw Error(std::string(op) + ": " + in.name + " must have the dtype and device of " + inputs.front().name);
#if !SEQRL_WITH_CUDA
    if (!in.t.is_cpu())
      throw Error(std::string(op) + ": " + in.name + " is not on the CPU and seqrl was built without CUDA kernels");
#endif
  }
}

std::vector<int64_t> bt_d(const char* op, const char* name, const Tensor& t) {
  if (!t.defined() || t.dim() != 3)
    throw Error(std::string(op) + ": " + name + " has shape " +
                (t.defined() ? shape_str(t) : std::string("(undefined)")) + ", expected [B, T, D]");
  return t.sizes().vec();
}

// Half and bfloat16 are computed in float32 (the casts are differentiable, so autograd
// converts the gradients back); float32 and float64 run natively.
Tensor to_compute(const Tensor& t, const Tensor& like) {
  if (!t.defined())
    return torch::empty({0},
                        like.options().dtype(like.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat));
  const auto dtype = t.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  return t.to(dtype).contiguous();
}

Tensor zeros_if_undefined(const Tensor& g, const Tensor& like) {
  return g.defined() ? g.contiguous() : torch::zeros_like(like);
}

#define SEQRL_DISPATCH(t, ...) AT_DISPATCH_FLOATING_TYPES((t).scalar_type(), "seqrl_scan", [&] { __VA_ARGS__; })

// h = linear_scan(a, b, h0) in place of `h`; used by linear and log backward.
variable_list linear_backward(const Tensor& a, const Tensor& h, const Tensor& h0, const Tensor& g) {
  auto grad_a = torch::empty_like(a), grad_b = torch::empty_like(a);
  Tensor grad_h0 = present(h0) ? torch::empty_like(h0) : Tensor();
  const int64_t B = a.size(0), len = a.size(1), D = a.size(2);
  SEQRL_DISPATCH(a, SEQRL_SCAN_CALL(a, linear_scan_bwd<scalar_t>, ptr<scalar_t>(a), ptr<scalar_t>(h), ptr<scalar_t>(h0),
                                    ptr<scalar_t>(g), mut<scalar_t>(grad_a), mut<scalar_t>(grad_b),
                                    mut<scalar_t>(grad_h0), B, len, D));
  return {grad_a, grad_b, grad_h0};
}

struct LinearScanFn : torch::autograd::Function<LinearScanFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& a, const Tensor& b, const Tensor& h0) {
    auto h = torch::empty_like(a);
    SEQRL_DISPATCH(a, SEQRL_SCAN_CALL(a, linear_scan_fwd<scalar_t>, ptr<scalar_t>(a), ptr<scalar_t>(b),
                                      ptr<scalar_t>(h0), mut<scalar_t>(h), a.size(0), a.size(1), a.size(2)));
    ctx->save_for_backward({a, h0, h});
    return h;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    return linear_backward(saved[0], saved[2], saved[1], grads[0].contiguous());
  }
};

struct LogLinearScanFn : torch::autograd::Function<LogLinearScanFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& log_a, const Tensor& log_b, const Tensor& log_h0) {
    auto h = torch::empty_like(log_a);
    SEQRL_DISPATCH(
        log_a, SEQRL_SCAN_CALL(log_a, log_linear_scan_fwd<scalar_t>, ptr<scalar_t>(log_a), ptr<scalar_t>(log_b),
                               ptr<scalar_t>(log_h0), mut<scalar_t>(h), log_a.size(0), log_a.size(1), log_a.size(2)));
    ctx->save_for_backward({log_a, log_b, log_h0, h});
    return h;
  }
  // With a = exp(log_a), b = exp(log_b): d/dlog_a = grad_a * a, d/dlog_b = grad_b * b,
  // d/dlog_h0 = grad_h0 * h0, where grad_* are the normal-space gradients.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const Tensor a = s[0].exp(), h0 = present(s[2]) ? s[2].exp() : Tensor();
    auto g = linear_backward(a, s[3], h0, grads[0].contiguous());
    return {g[0].mul_(a), g[1].mul_(s[1].exp()), present(h0) ? g[2].mul_(h0) : Tensor()};
  }
};

struct ComplexScanFn : torch::autograd::Function<ComplexScanFn> {
  static variable_list forward(AutogradContext* ctx, const Tensor& a_re, const Tensor& a_im, const Tensor& b_re,
                               const Tensor& b_im, const Tensor& h0_re, const Tensor& h0_im) {
    auto h_re = torch::empty_like(a_re), h_im = torch::empty_like(a_re);
    SEQRL_DISPATCH(a_re,
                   SEQRL_SCAN_CALL(a_re, complex_scan_fwd<scalar_t>, ptr<scalar_t>(a_re), ptr<scalar_t>(a_im),
                                   ptr<scalar_t>(b_re), ptr<scalar_t>(b_im), ptr<scalar_t>(h0_re), ptr<scalar_t>(h0_im),
                                   mut<scalar_t>(h_re), mut<scalar_t>(h_im), a_re.size(0), a_re.size(1), a_re.size(2)));
    ctx->save_for_backward({a_re, a_im, h0_re, h0_im, h_re, h_im});
    return {h_re, h_im};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const Tensor &a_re = s[0], &a_im = s[1], &h0_re = s[2], &h0_im = s[3], &h_re = s[4], &h_im = s[5];
    const Tensor g_re = zeros_if_undefined(grads[0], a_re), g_im = zeros_if_undefined(grads[1], a_re);
    auto ga_re = torch::empty_like(a_re), ga_im = torch::empty_like(a_re);
    auto gb_re = torch::empty_like(a_re), gb_im = torch::empty_like(a_re);
    Tensor gh0_re = present(h0_re) ? torch::empty_like(h0_re) : Tensor();
    Tensor gh0_im = present(h0_im) ? torch::empty_like(h0_im) : Tensor();
    SEQRL_DISPATCH(
        a_re, SEQRL_SCAN_CALL(a_re, complex_scan_bwd<scalar_t>, ptr<scalar_t>(a_re), ptr<scalar_t>(a_im),
                              ptr<scalar_t>(h_re), ptr<scalar_t>(h_im), ptr<scalar_t>(h0_re), ptr<scalar_t>(h0_im),
                              ptr<scalar_t>(g_re), ptr<scalar_t>(g_im), mut<scalar_t>(ga_re), mut<scalar_t>(ga_im),
                              mut<scalar_t>(gb_re), mut<scalar_t>(gb_im), mut<scalar_t>(gh0_re), mut<scalar_t>(gh0_im),
                              a_re.size(0), a_re.size(1), a_re.size(2)));
    return {ga_re, ga_im, gb_re, gb_im, gh0_re, gh0_im};
  }
};

struct SelectiveScanFn : torch::autograd::Function<SelectiveScanFn> {
  static cpu::SelectiveShape shape(const Tensor& u, const Tensor& A) {
    return {u.size(0), u.size(1), u.size(2), A.size(1)};
  }
  static Tensor forward(AutogradContext* ctx, const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& Bm,
                        const Tensor& Cm, const Tensor& Dskip, const Tensor& z) {
    auto y = torch::empty_like(u);
    SEQRL_DISPATCH(u, SEQRL_SCAN_CALL(u, selective_scan_fwd<scalar_t>, ptr<scalar_t>(u), ptr<scalar_t>(delta),
                                      ptr<scalar_t>(A), ptr<scalar_t>(Bm), ptr<scalar_t>(Cm), ptr<scalar_t>(Dskip),
                                      ptr<scalar_t>(z), mut<scalar_t>(y), shape(u, A)));
    ctx->save_for_backward({u, delta, A, Bm, Cm, Dskip, z});  // only inputs: backward recomputes states
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const Tensor &u = s[0], &delta = s[1], &A = s[2], &Bm = s[3], &Cm = s[4], &Dskip = s[5], &z = s[6];
    const Tensor g = grads[0].contiguous();
    auto grad_u = torch::empty_like(u), grad_delta = torch::empty_like(u);
    auto grad_A = torch::zeros_like(A), grad_Bm = torch::zeros_like(Bm), grad_Cm = torch::zeros_like(Cm);
    auto grad_D = torch::zeros_like(Dskip);
    Tensor grad_z = present(z) ? torch::empty_like(z) : Tensor();
    // The CUDA backward's checkpoints come from LibTorch's caching allocator (counted by its
    // peak-memory statistics); freeing the tensor here is ordered after the kernel on this stream.
    Tensor workspace;
#if SEQRL_WITH_CUDA
    if (u.is_cuda()) workspace = torch::empty({cuda::selective_scan_bwd_workspace(shape(u, A))}, u.options());
#endif
    SEQRL_DISPATCH(
        u, SEQRL_SCAN_CALL_WS(u, selective_scan_bwd<scalar_t>, mut<scalar_t>(workspace), ptr<scalar_t>(u),
                              ptr<scalar_t>(delta), ptr<scalar_t>(A), ptr<scalar_t>(Bm), ptr<scalar_t>(Cm),
                              ptr<scalar_t>(Dskip), ptr<scalar_t>(z), ptr<scalar_t>(g), mut<scalar_t>(grad_u),
                              mut<scalar_t>(grad_delta), mut<scalar_t>(grad_A), mut<scalar_t>(grad_Bm),
                              mut<scalar_t>(grad_Cm), mut<scalar_t>(grad_D), mut<scalar_t>(grad_z), shape(u, A)));
    return {grad_u, grad_delta, grad_A, grad_Bm, grad_Cm, grad_D, grad_z};
  }
};

}  // namespace

Tensor linear_scan(const Tensor& a, const Tensor& b, const Tensor& h0) {
  const auto s = bt_d("linear_scan", "a", a);
  check_inputs("linear_scan", {{"a", a, s}, {"b", b, s}, {"h0", h0, {s[0], s[2]}, true}});
  const c10::DeviceGuard on_device(a.device());  // launch on the inputs' GPU
  return LinearScanFn::apply(to_compute(a, a), to_compute(b, a), to_compute(h0, a)).to(a.scalar_type());
}

Tensor log_linear_scan(const Tensor& log_a, const Tensor& log_b, const Tensor& log_h0) {
  const auto s = bt_d("log_linear_scan", "log_a", log_a);
  check_inputs("log_linear_scan", {{"log_a", log_a, s}, {"log_b", log_b, s}, {"log_h0", log_h0, {s[0], s[2]}, true}});
  const c10::DeviceGuard on_device(log_a.device());  // launch on the inputs' GPU
  return LogLinearScanFn::apply(to_compute(log_a, log_a), to_compute(log_b, log_a), to_compute(log_h0, log_a))
      .to(log_a.scalar_type());
}

std::tuple<Tensor, Tensor> complex_linear_scan(const Tensor& a_re, const Tensor& a_im, const Tensor& b_re,
                                               const Tensor& b_im, const Tensor& h0_re, const Tensor& h0_im) {
  const auto s = bt_d("complex_linear_scan", "a_re", a_re);
  const std::vector<int64_t> s0 = {s[0], s[2]};
  check_inputs("complex_linear_scan", {{"a_re", a_re, s},
                                       {"a_im", a_im, s},
                                       {"b_re", b_re, s},
                                       {"b_im", b_im, s},
                                       {"h0_re", h0_re, s0, true},
                                       {"h0_im", h0_im, s0, true}});
  if (h0_re.defined() != h0_im.defined()) throw Error("complex_linear_scan: give both h0_re and h0_im, or neither");
  const c10::DeviceGuard on_device(a_re.device());  // launch on the inputs' GPU
  auto h = ComplexScanFn::apply(to_compute(a_re, a_re), to_compute(a_im, a_re), to_compute(b_re, a_re),
                                to_compute(b_im, a_re), to_compute(h0_re, a_re), to_compute(h0_im, a_re));
  return {h[0].to(a_re.scalar_type()), h[1].to(a_re.scalar_type())};
}

Tensor selective_scan(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& Bm, const Tensor& Cm,
                      const Tensor& Dskip, const Tensor& z) {
  const auto s = bt_d("selective_scan", "u", u);
  if (!A.defined() || A.dim() != 2) throw Error("selective_scan: A has shape " + shape_str(A) + ", expected [D, N]");
  const int64_t N = A.size(1);
  const std::vector<int64_t> btn = {s[0], s[1], N};
  check_inputs("selective_scan", {{"u", u, s},
                                  {"delta", delta, s},
                                  {"A", A, {s[2], N}},
                                  {"Bm", Bm, btn},
                                  {"Cm", Cm, btn},
                                  {"Dskip", Dskip, {s[2]}},
                                  {"z", z, s, true}});
  const c10::DeviceGuard on_device(u.device());  // launch on the inputs' GPU
  return SelectiveScanFn::apply(to_compute(u, u), to_compute(delta, u), to_compute(A, u), to_compute(Bm, u),
                                to_compute(Cm, u), to_compute(Dskip, u), to_compute(z, u))
      .to(u.scalar_type());
}

}  // namespace seqrl::kernels
