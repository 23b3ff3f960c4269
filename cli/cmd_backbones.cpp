// seqrl backbones list | check: the registry, and the checks a user runs after plugging in a
// backbone (causality, step()-vs-forward(), gradients of the parallel vs the sequential path).
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/error.h"
#include "models/backbone.h"
#include "models/backbone_check.h"

namespace seqrl::cli {
namespace {

struct ListArgs {
  bool json = false;
  int dim = 128, layers = 3, heads = 1;
};

BackboneConfig sized(int dim, int layers, int heads) {
  BackboneConfig c;
  c.dim = dim;
  c.layers = layers;
  c.heads = heads;
  c.dropout = 0.0;
  return c;
}

void add_list(CLI::App& group) {
  auto a = std::make_shared<ListArgs>();
  auto* cmd = group.add_subcommand("list", "Registered backbones with their parameter counts and options");
  cmd->add_flag("--json", a->json, "Machine-readable output");
  cmd->add_option("--dim", a->dim, "Width for the parameter count")->check(CLI::PositiveNumber);
  cmd->add_option("--layers", a->layers, "Layers for the parameter count")->check(CLI::PositiveNumber);
  cmd->add_option("--heads", a->heads, "model.heads: heads of every head-wise backbone")->check(CLI::PositiveNumber);
  cmd->callback([a] {
    const auto& all = backbone_registry();
    auto list = nlohmann::json::array();
    if (!a->json) std::printf("%-12s %12s  %s\n", "backbone", "parameters", "description / options");
    for (size_t i = 0; i < all.size(); ++i) {
      const auto& info = all[i];
      auto params = count_parameters(*make_backbone(info.name, sized(a->dim, a->layers, a->heads)));
      if (a->json) {
        auto options = nlohmann::json::object();
        for (const auto& o : info.options) options[o.name] = o.value;
        list.push_back({{"name", info.name},
                        {"parameters", params},
                        {"dim", a->dim},
                        {"layers", a->layers},
                        {"options", options}});
        continue;
      }
      std::printf("%-12s %12lld  %s\n", info.name.c_str(), static_cast<long long>(params), info.help.c_str());
      for (const auto& o : info.options)
        std::printf("%-12s %12s    model.%s.%s = %g  (%s)\n", "", "", info.name.c_str(), o.name.c_str(), o.value,
                    o.help.c_str());
    }
    if (a->json) std::cout << list.dump(2) << "\n";
  });
}

struct CheckArgs {
  std::vector<std::string> names;
  int dim = 16, layers = 2, heads = 2, seq = 12, seed = 0;
};

void add_check(CLI::App& group) {
  auto a = std::make_shared<CheckArgs>();
  auto* cmd = group.add_subcommand("check", "Causality, step-vs-forward and gradient checks (float64) per backbone");
  cmd->add_option("names", a->names, "Backbones to check (default: all)");
  cmd->add_option("--dim", a->dim, "Width")->check(CLI::PositiveNumber);
  cmd->add_option("--layers", a->layers, "Layers")->check(CLI::PositiveNumber);
  cmd->add_option("--heads", a->heads, "model.heads: heads of every head-wise backbone")->check(CLI::PositiveNumber);
  cmd->add_option("--seq", a->seq, "Tokens per sequence")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a->seed, "Seed of the random inputs and weights")->check(CLI::NonNegativeNumber);
  cmd->callback([a] {
    const auto names = a->names.empty() ? backbone_names() : a->names;
    for (const auto& n : names) {
      try {
        backbone_info(n);
      } catch (const Error& e) {
        throw UsageError(e.what());
      }
    }
    std::printf("%-12s %10s %12s %12s %12s  %s\n", "backbone", "params", "causality", "step-fwd", "grad", "result");
    int failed = 0;
    for (const auto& n : names) {
      auto config = sized(a->dim, a->layers, a->heads);
      config.max_tokens = a->seq;
      auto r = check_backbone(n, config, static_cast<uint64_t>(a->seed));
      std::printf("%-12s %10lld %12.2e %12.2e %12.2e  %s%s\n", n.c_str(), static_cast<long long>(r.params),
                  r.causality_err, r.step_err, r.grad_err, r.pass ? "PASS" : "FAIL",
                  r.failure.empty() ? "" : ("  (" + r.failure + ")").c_str());
      failed += !r.pass;
    }
    std::printf("relative tolerance %.0e (float64)\n", kCheckTolerance);
    if (failed) throw Error(std::to_string(failed) + " backbone(s) failed the checks");
  });
}

SEQRL_COMMAND("backbones", 60, add_list);
SEQRL_COMMAND("backbones", 61, add_check);

}  // namespace
}  // namespace seqrl::cli
