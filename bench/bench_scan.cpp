// `seqrl bench scan`: throughput of the scans in kernels/scan.h next to the PyTorch reference
// formulations, as a fraction of the device's copy bandwidth measured in the same run.
//   torch-logcumsumexp: the minGRU paper's log-space form, a* = cumsum(log a),
//                       log h = a* + logcumsumexp(log b - a*)  (a in (0, 1), b > 0)
//   torch-loop:         one torch op per time step, h = a_t * h + b_t
// Bytes are counted as each tensor read or written once (inputs + outputs, and for backward
// the saved tensors + upstream gradient + input gradients).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/device.h"
#include "core/error.h"
#include "kernels/scan.h"

namespace seqrl::bench {
namespace {

using torch::Tensor;
namespace sk = seqrl::kernels;

struct Options {
  std::string shape;
  std::string device = "cpu";
  std::string ops = "linear,log,complex,selective";
  int repeat = 5;
  int64_t state = 16;  // selective scan state size N
  bool loop = true;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

// Median milliseconds of `repeat` runs after one warm-up run.
double time_ms(const torch::Device& device, int repeat, const std::function<void()>& fn) {
  fn();
  sync(device);
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    sync(device);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

// One implementation of an op: makes fresh inputs, returns the outputs to differentiate.
struct Impl {
  std::string op, name;
  std::function<std::vector<Tensor>()> make_inputs;
  std::function<std::vector<Tensor>(const std::vector<Tensor>&)> run;
  double fwd_tensors, bwd_tensors;  // [B, T, D]-sized tensors moved by forward, by backward
  int repeat_cap;                   // the per-step loops are slow: fewer repeats
};

struct Row {
  std::string op, impl;
  double fwd_ms, fwdbwd_ms, fwd_gbs, fwdbwd_gbs;
};

Row measure(const Impl& impl, const torch::Device& device, int repeat, double bytes_per_tensor) {
  const int n = std::min(repeat, impl.repeat_cap);
  auto inputs = impl.make_inputs();
  double fwd = time_ms(device, n, [&] {
    torch::NoGradGuard no_grad;
    impl.run(inputs);
  });
  for (auto& x : inputs) x.requires_grad_(true);
  double fwdbwd = time_ms(device, n, [&] {
    auto outs = impl.run(inputs);
    Tensor loss = outs[0].sum();
    for (size_t i = 1; i < outs.size(); ++i) loss = loss + outs[i].sum();
    loss.backward();
  });
  const double fwd_bytes = impl.fwd_tensors * bytes_per_tensor;
  const double all_bytes = (impl.fwd_tensors + impl.bwd_tensors) * bytes_per_tensor;
  return {impl.op, impl.name, fwd, fwdbwd, fwd_bytes / fwd / 1e6, all_bytes / fwdbwd / 1e6};
}

Tensor heinsen(const Tensor& log_a, const Tensor& log_b) {
  auto a_star = log_a.cumsum(1);
  return (a_star + (log_b - a_star).logcumsumexp(1)).exp();
}

Tensor torch_loop(const Tensor& a, const Tensor& b) {
  auto h = torch::zeros({a.size(0), a.size(2)}, a.options());
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < a.size(1); ++t) {
    h = a.select(1, t) * h + b.select(1, t);
    hs.push_back(h);
  }
  return torch::stack(hs, 1);
}

std::vector<Impl> implementations(const Options& o, int64_t B, int64_t T, int64_t D, const torch::TensorOptions& opt) {
  auto decay = [=] { return torch::rand({B, T, D}, opt) * 0.5 + 0.5; };
  auto rnd = [=] { return torch::randn({B, T, D}, opt); };
  const int64_t N = o.state;
  std::vector<Impl> impls;
  auto want = split(o.ops);
  auto wanted = [&](const std::string& op) { return std::find(want.begin(), want.end(), op) != want.end(); };
  // Forward moves a, b -> h (3 tensors); backward reads a, h, g and writes grad_a, grad_b (5).
  if (wanted("linear")) {
    auto in = [=] { return std::vector<Tensor>{decay(), rnd()}; };
    impls.push_back(
        {"linear", "seqrl", in, [](auto& x) { return std::vector<Tensor>{sk::linear_scan(x[0], x[1])}; }, 3, 5, 1000});
    impls.push_back({"linear", "torch-logcumsumexp",
                     [=] {
                       return std::vector<Tensor>{decay().log(), rnd()};
                     },
                     [](auto& x) { return std::vector<Tensor>{heinsen(x[0], x[1])}; }, 3, 5, 1000});
    if (o.loop)
      impls.push_back(
          {"linear", "torch-loop", in, [](auto& x) { return std::vector<Tensor>{torch_loop(x[0], x[1])}; }, 3, 5, 2});
  }
  if (wanted("log")) {
    auto in = [=] { return std::vector<Tensor>{decay().log(), rnd()}; };
    impls.push_back(
        {"log", "seqrl", in, [](auto& x) { return std::vector<Tensor>{sk::log_linear_scan(x[0], x[1])}; }, 3, 5, 1000});
    impls.push_back({"log", "torch-logcumsumexp", in, [](auto& x) { return std::vector<Tensor>{heinsen(x[0], x[1])}; },
                     3, 5, 1000});
  }
  // Complex: a, b in two parts each -> h in two parts (6); backward 4 saved + 2 g + 4 grads (10).
  if (wanted("complex")) {
    auto in = [=] { return std::vector<Tensor>{decay(), decay() - 0.5, rnd(), rnd()}; };
    impls.push_back({"complex", "seqrl", in,
                     [](auto& x) {
                       auto [re, im] = sk::complex_linear_scan(x[0], x[1], x[2], x[3]);
                       return std::vector<Tensor>{re, im};
                     },
                     6, 10, 1000});
  }
  // Selective: u, delta, z -> y (4 [B,T,D] tensors, B/C are [B,T,N] and counted as N/D of one);
  // backward reads u, delta, z, g and writes their 3 gradients (7).
  if (wanted("selective")) {
    auto in = [=] {
      return std::vector<Tensor>{rnd(),
                                 torch::rand({B, T, D}, opt) * 0.1,
                                 -torch::rand({D, N}, opt) - 0.5,
                                 torch::randn({B, T, N}, opt),
                                 torch::randn({B, T, N}, opt),
                                 torch::randn({D}, opt),
                                 rnd()};
    };
    const double bc = 2.0 * N / D;
    impls.push_back(
        {"selective", "seqrl", in,
         [](auto& x) { return std::vector<Tensor>{sk::selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6])}; },
         4 + bc, 7 + 2 * bc, 1000});
  }
  return impls;
}

void run_bench(const Options& o) {
  const torch::Device device = resolve_device(o.device, "--device");
  const bool cuda = device.is_cuda();
  auto dims = split(o.shape.empty() ? (cuda ? "64,4096,512" : "8,2048,256") : o.shape);
  if (dims.size() != 3) throw UsageError("--shape: expected B,T,D (three positive integers), got '" + o.shape + "'");
  int64_t s[3];
  for (int i = 0; i < 3; ++i) {
    try {
      s[i] = std::stoll(dims[i]);
    } catch (const std::exception&) {
      s[i] = 0;
    }
    if (s[i] <= 0) throw UsageError("--shape: expected B,T,D (three positive integers), got '" + o.shape + "'");
  }
  for (const auto& op : split(o.ops))
    if (op != "linear" && op != "log" && op != "complex" && op != "selective")
      throw UsageError("--ops: unknown op '" + op + "' (expected linear, log, complex, selective)");
  const auto opt = torch::TensorOptions().dtype(torch::kFloat).device(device);
  const int64_t B = s[0], T = s[1], D = s[2];
  const double bytes = double(B * T * D) * sizeof(float);

  // Copy bandwidth of this device: one read + one write of a [B, T, D] tensor.
  auto src = torch::randn({B, T, D}, opt), dst = torch::empty_like(src);
  const double copy_ms = time_ms(device, std::max(o.repeat, 5), [&] { dst.copy_(src); });
  const double copy_gbs = 2 * bytes / copy_ms / 1e6;
  std::printf("device %s, shape B=%lld T=%lld D=%lld float32, threads %d, repeat %d (median)\n", cuda ? "cuda" : "cpu",
              (long long)B, (long long)T, (long long)D, torch::get_num_threads(), o.repeat);
  std::printf("copy: %.3f ms, %.1f GB/s\n\n", copy_ms, copy_gbs);
  std::vector<Row> rows;
  for (const auto& impl : implementations(o, B, T, D, opt)) rows.push_back(measure(impl, device, o.repeat, bytes));
  // Speed-up over the log-space PyTorch reference of the same op ("-" where it has none).
  auto speedup = [&](const Row& r, bool fwd) {
    for (const auto& ref : rows)
      if (ref.op == r.op && ref.impl == "torch-logcumsumexp") {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1fx", fwd ? ref.fwd_ms / r.fwd_ms : ref.fwdbwd_ms / r.fwdbwd_ms);
        return std::string(buf);
      }
    return std::string("-");
  };
  std::printf("%-10s %-19s %9s %11s %9s %8s %9s %8s %9s %9s\n", "op", "impl", "fwd ms", "fwd+bwd ms", "fwd GB/s",
              "of copy", "f+b GB/s", "of copy", "fwd/lcse", "f+b/lcse");
  for (const auto& r : rows)
    std::printf("%-10s %-19s %9.3f %11.3f %9.1f %7.0f%% %9.1f %7.0f%% %9s %9s\n", r.op.c_str(), r.impl.c_str(),
                r.fwd_ms, r.fwdbwd_ms, r.fwd_gbs, 100 * r.fwd_gbs / copy_gbs, r.fwdbwd_gbs,
                100 * r.fwdbwd_gbs / copy_gbs, speedup(r, true).c_str(), speedup(r, false).c_str());
}

void add_bench_scan(CLI::App& parent) {
  auto o = std::make_shared<Options>();
  auto* cmd = parent.add_subcommand("scan", "Scan kernels (kernels/scan.h) vs PyTorch reference formulations");
  cmd->add_option("--shape", o->shape, "B,T,D (default 64,4096,512 on cuda, 8,2048,256 on cpu)");
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N");
  cmd->add_option("--ops", o->ops, "Comma-separated subset of linear,log,complex,selective");
  cmd->add_option("--repeat", o->repeat, "Timed runs per measurement (median is reported)")->check(CLI::Range(1, 1000));
  cmd->add_option("--state", o->state, "State size N of the selective scan")->check(CLI::Range(1, 256));
  cmd->add_flag("!--no-loop", o->loop, "Skip the slow one-op-per-step torch reference");
  cmd->callback([o] { run_bench(*o); });
}

SEQRL_COMMAND("bench", 10, add_bench_scan);

}  // namespace
}  // namespace seqrl::bench
