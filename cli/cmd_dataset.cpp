// `seqrl dataset info PATH [--env E] [--json]` and `seqrl dataset validate PATH [--env E]`.
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "datasets/dataset.h"

namespace seqrl::cli {
namespace {

struct DatasetArgs {
  std::string path, env;
  bool json = false;
};

void print_info(const Dataset& ds, const DatasetStats& st, bool json) {
  if (json) {
    auto normalized = [&](double v) { return st.has_normalized ? nlohmann::json(v) : nlohmann::json(nullptr); };
    nlohmann::json j{{"path", ds.path},
                     {"layout", ds.layout},
                     {"env", ds.env},
                     {"transitions", st.transitions},
                     {"episodes", st.episodes},
                     {"obs_dim", st.obs_dim},
                     {"act_dim", st.act_dim},
                     {"return_mean", st.return_mean},
                     {"return_std", st.return_std},
                     {"return_min", st.return_min},
                     {"return_max", st.return_max},
                     {"normalized_return_mean", normalized(st.normalized_mean)},
                     {"normalized_return_std", normalized(st.normalized_std)},
                     {"terminal_episodes", st.terminal_episodes},
                     {"timeout_episodes", st.timeout_episodes},
                     {"unfinished_episodes", st.unfinished_episodes},
                     {"tail_length", st.tail_length},
                     {"episode_length_min", st.length_min},
                     {"episode_length_max", st.length_max}};
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::string out;
  auto row = [&](const std::string& k, const std::string& v) { out += fmt::format("  {:<22} {}\n", k, v); };
  out += ds.path + "\n";
  row("layout", ds.layout);
  row("env", ds.env);
  row("transitions", std::to_string(st.transitions));
  row("episodes", std::to_string(st.episodes));
  row("  ended by terminal", std::to_string(st.terminal_episodes));
  row("  ended by timeout", std::to_string(st.timeout_episodes));
  row("  unfinished (tail)",
      st.unfinished_episodes ? fmt::format("{} ({} steps)", st.unfinished_episodes, st.tail_length) : std::string("0"));
  row("episode length", fmt::format("{} .. {}", st.length_min, st.length_max));
  row("obs / act dims", fmt::format("{} / {}", st.obs_dim, st.act_dim));
  row("return mean (std)", fmt::format("{:.2f} ({:.2f})", st.return_mean, st.return_std));
  row("return min / max", fmt::format("{:.2f} / {:.2f}", st.return_min, st.return_max));
  row("normalized return", st.has_normalized ? fmt::format("{:.2f} ({:.2f})", st.normalized_mean, st.normalized_std)
                                             : std::string("n/a (Minari data is not comparable with D4RL)"));
  std::fputs(out.c_str(), stdout);
}

void add_info(CLI::App& parent) {
  auto args = std::make_shared<DatasetArgs>();
  auto* cmd =
      parent.add_subcommand("info", "Summary of a D4RL or Minari HDF5 dataset (returns are over finished episodes)");
  cmd->add_option("path", args->path, "D4RL .hdf5 file, Minari main_data.hdf5 or Minari dataset folder")->required();
  cmd->add_option("--env", args->env, "Environment (hopper, halfcheetah, walker2d); default: from file name/metadata");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of a table");
  cmd->callback([args] {
    auto ds = load_dataset(args->path, args->env);
    print_info(ds, dataset_stats(ds), args->json);
  });
}

void add_validate(CLI::App& parent) {
  auto args = std::make_shared<DatasetArgs>();
  auto* cmd = parent.add_subcommand("validate", "Check a dataset file; exit 0 if usable, 1 with the problem otherwise");
  cmd->add_option("path", args->path, "D4RL .hdf5 file, Minari main_data.hdf5 or Minari dataset folder")->required();
  cmd->add_option("--env", args->env, "Environment (hopper, halfcheetah, walker2d); default: from file name/metadata");
  cmd->callback([args] {
    auto ds = load_dataset(args->path, args->env);
    std::printf("%s: ok (%lld transitions, %zu episodes)\n", args->path.c_str(), (long long)ds.size(),
                ds.episodes.size());
  });
}

}  // namespace

SEQRL_COMMAND("dataset", 10, add_info);
SEQRL_COMMAND("dataset", 20, add_validate);

}  // namespace seqrl::cli
