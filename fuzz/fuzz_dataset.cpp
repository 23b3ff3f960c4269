// libFuzzer target: the HDF5 dataset readers (D4RL flat layout and Minari episode groups,
// datasets/dataset.h) on arbitrary bytes written to a file in /dev/shm. Every failure must be a
// seqrl::Error; anything else (another exception, a crash, a hang, a sanitizer report) is a
// finding. A file that loads must satisfy the invariants load_dataset promises.
//
// When the first corpus folder given on the command line is empty, seed files of both layouts
// (contiguous and gzip-chunked D4RL, Minari with (T,) and (T, 1) flags) are written into it.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "datasets/d4rl_writer.h"
#include "datasets/dataset.h"
#include "datasets/hdf5_io.h"

namespace fs = std::filesystem;

namespace {

std::string scratch_file() {
  static const std::string path =
      (fs::exists("/dev/shm") ? std::string("/dev/shm") : fs::temp_directory_path().string()) + "/seqrl_fuzz_" +
      std::to_string(::getpid()) + ".hdf5";
  return path;
}

seqrl::D4rlArrays arrays(int64_t rows, int64_t obs, int64_t act) {
  seqrl::D4rlArrays a;
  a.observations = torch::randn({rows, obs});
  a.actions = torch::rand({rows, act}) * 2 - 1;
  a.rewards = torch::randn({rows});
  a.terminals = torch::zeros({rows}, torch::kBool);
  a.timeouts = torch::zeros({rows}, torch::kBool);
  a.terminals[rows / 2] = true;
  a.timeouts[rows - 1] = true;
  return a;
}

void write_minari_seed(const std::string& path, bool column_flags) {
  using namespace seqrl;
  auto f = h5::create_file(path);
  for (int e = 0; e < 2; ++e) {
    const int64_t t = 4 + e;
    const std::string g = "episode_" + std::to_string(e) + "/";
    auto shape = column_flags ? std::vector<int64_t>{t, 1} : std::vector<int64_t>{t};
    h5::write_tensor(f.get(), g + "observations", torch::randn({t + 1, 11}), 0, path);
    h5::write_tensor(f.get(), g + "actions", torch::rand({t, 3}), 0, path);
    h5::write_tensor(f.get(), g + "rewards", torch::randn({t}).to(torch::kDouble), 0, path);
    auto term = torch::zeros({t}, torch::kBool), trunc = torch::zeros({t}, torch::kBool);
    trunc[t - 1] = true;
    h5::write_tensor(f.get(), g + "terminations", term.reshape(shape), 0, path);
    h5::write_tensor(f.get(), g + "truncations", trunc.reshape(shape), 0, path);
  }
  h5::write_int_attr(f.get(), "total_episodes", 2, path);
  h5::write_string_attr(f.get(), "env_spec", "{\"id\": \"Hopper-v5\"}", path);
}

void write_seeds(const fs::path& dir) {
  torch::manual_seed(0);
  seqrl::write_d4rl((dir / "d4rl_plain.hdf5").string(), arrays(12, 11, 3), {{"env", "hopper"}}, {0});
  seqrl::write_d4rl((dir / "d4rl_gzip.hdf5").string(), arrays(12, 17, 6), {{"env", "walker2d"}}, {4});
  write_minari_seed((dir / "minari_flat.hdf5").string(), false);
  write_minari_seed((dir / "minari_column.hdf5").string(), true);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  spdlog::set_level(spdlog::level::off);  // the Minari warning on every input
  torch::set_num_threads(1);
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = (*argv)[i];
    if (arg.empty() || arg[0] == '-') continue;
    std::error_code ec;
    if (fs::is_directory(arg, ec) && fs::is_empty(arg, ec)) write_seeds(arg);
    break;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = scratch_file();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  try {
    auto ds = seqrl::load_dataset(path);
    // What load_dataset promises about a dataset it returns.
    const auto* env = seqrl::find_d4rl_env(ds.env);
    if (!env || ds.obs_dim != env->obs_dim || ds.act_dim != env->act_dim) std::abort();
    int64_t rows = 0;
    for (const auto& ep : ds.episodes) {
      if (ep.start != rows || ep.length <= 0) std::abort();
      rows += ep.length;
    }
    if (rows != ds.size() || ds.observations.size(0) != rows || ds.actions.size(0) != rows ||
        !torch::isfinite(ds.observations).all().item<bool>())
      std::abort();
  } catch (const seqrl::Error&) {
  }
  return 0;
}
