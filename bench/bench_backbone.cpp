// `seqrl bench backbone`: training-step cost (forward + backward) of each backbone over
// sequence lengths with the peak memory of that pass, and per-token step() latency at batch 1 —
// the runtime comparison of "Were RNNs All We Needed?" (parallel-scan RNNs vs LSTM/GRU vs
// attention) on this machine.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench/backbone_names.h"
#include "bench/peak_memory.h"
#include "cli/command.h"
#include "core/device.h"
#include "core/error.h"
#include "models/backbone.h"

namespace seqrl::bench {
namespace {

struct Options {
  std::vector<std::string> backbones{"all"};
  std::vector<int64_t> seqs{64, 512};
  int64_t batch = 16, dim = 128, layers = 3, heads = 4;
  int repeat = 3, steps = 100;
  double dropout = 0.0;  // model.dropout during the timed fwd+bwd (the step() latency runs without)
  double budget_s = 20;  // skip a (backbone, length) whose first pass took longer than this
  std::string device = "auto";
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(const Options& o) {
  const torch::Device device = resolve_device(o.device, "--device");
  const bool cuda = device.is_cuda();
  auto sync = [&] {
    if (cuda) torch::cuda::synchronize();
  };
  const auto names = backbone_names(o.backbones);
  std::printf("device %s, batch %lld, dim %lld, layers %lld, dropout %g, float32, %d threads\n", cuda ? "cuda" : "cpu",
              (long long)o.batch, (long long)o.dim, (long long)o.layers, o.dropout, torch::get_num_threads());
  // peak MiB: memory the first fwd+bwd pass adds above what was held before it (parameters and
  // input excluded): device allocator peak on CUDA, process resident-set peak on the CPU.
  std::printf("%-12s %10s %8s %16s %10s %18s\n", "backbone", "params", "T", "fwd+bwd ms/step", "peak MiB",
              "step() us/token (B=1)");
  for (const auto& name : names) {
    BackboneConfig c;
    c.dim = o.dim;
    c.layers = o.layers;
    c.heads = o.heads;
    c.dropout = o.dropout;
    int64_t max_seq = *std::max_element(o.seqs.begin(), o.seqs.end());
    c.max_tokens = max_seq;
    torch::manual_seed(0);
    auto model = make_backbone(name, c);
    model->to(device);
    int64_t params = 0;
    for (const auto& p : model->parameters()) params += p.numel();

    // step() latency at batch 1: carried state, one token at a time.
    double step_us;
    {
      torch::NoGradGuard no_grad;
      model->eval();
      auto state = model->initial_state(1);
      auto x = torch::randn({1, o.dim}, torch::TensorOptions().device(device));
      for (int i = 0; i < 5; ++i) model->step(x, state);
      sync();
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < o.steps; ++i) model->step(x, state);
      sync();
      step_us = 1e6 * seconds_since(t0) / o.steps;
      model->train();
    }
    bool skip_rest = false;
    for (auto T : o.seqs) {
      if (skip_rest) {
        std::printf("%-12s %10lld %8lld %16s %10s %18.1f\n", name.c_str(), (long long)params, (long long)T,
                    "skipped: too slow", "-", step_us);
        continue;
      }
      auto x = torch::randn({o.batch, T, o.dim}, torch::TensorOptions().device(device).requires_grad(true));
      auto pass = [&] {
        model->zero_grad();
        model->forward(x).square().mean().backward();
      };
      double first = 0;  // warm-up pass, also the time estimate and the memory measurement
      auto peak_mib = peak_mib_during(device, [&] {
        auto t0 = std::chrono::steady_clock::now();
        pass();
        sync();
        first = seconds_since(t0);
      });
      double ms = first * 1e3;
      if (first * o.repeat < o.budget_s) {
        auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < o.repeat; ++r) pass();
        sync();
        ms = 1e3 * seconds_since(t0) / o.repeat;
      }
      char peak_text[32] = "n/a";
      if (peak_mib) std::snprintf(peak_text, sizeof peak_text, "%.1f", *peak_mib);
      std::printf("%-12s %10lld %8lld %16.2f %10s %18.1f\n", name.c_str(), (long long)params, (long long)T, ms,
                  peak_text, step_us);
      std::fflush(stdout);
      skip_rest = first > o.budget_s;
    }
  }
}

void add_bench_backbone(CLI::App& group) {
  auto o = std::make_shared<Options>();
  auto* cmd =
      group.add_subcommand("backbone", "Backbones: fwd+bwd ms and peak memory per training step, step() latency");
  cmd->add_option("--backbones", o->backbones, "Names or 'all'")->delimiter(',');
  cmd->add_option("--seq", o->seqs, "Sequence lengths")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o->batch, "Batch size")->check(CLI::PositiveNumber);
  cmd->add_option("--dim", o->dim, "Width")->check(CLI::PositiveNumber);
  cmd->add_option("--layers", o->layers, "Layers")->check(CLI::PositiveNumber);
  cmd->add_option("--heads", o->heads, "model.heads of the head-wise backbones")->check(CLI::PositiveNumber);
  cmd->add_option("--dropout", o->dropout, "model.dropout in the timed fwd+bwd (default 0)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--repeat", o->repeat, "Timed passes per length")->check(CLI::PositiveNumber);
  cmd->add_option("--budget", o->budget_s, "Skip longer lengths once a pass takes more seconds than this");
  cmd->add_option("--device", o->device, "auto | cpu | cuda | cuda:N");
  cmd->callback([o] { run(*o); });
}

SEQRL_COMMAND("bench", 30, add_bench_backbone);

}  // namespace
}  // namespace seqrl::bench
