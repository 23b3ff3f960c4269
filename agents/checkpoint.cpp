#include "agents/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/atomic_file.h"
#include "core/error.h"

namespace seqrl {
namespace fs = std::filesystem;
namespace {

torch::Tensor text_to_tensor(const std::string& s) {
  auto t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), s.data(), s.size());
  return t;
}

at::Generator default_cpu_generator() { return at::detail::getDefaultCPUGenerator(); }

}  // namespace

void CheckpointWriter::module(const std::string& name, torch::nn::Module& module) {
  torch::serialize::OutputArchive sub;
  module.save(sub);
  archive_.write(name, sub);
}

void CheckpointWriter::optimizer(const std::string& name, torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive sub;
  optimizer.save(sub);
  archive_.write(name, sub);
}

void CheckpointWriter::tensor(const std::string& name, const torch::Tensor& tensor) {
  archive_.write(name, tensor.detach().cpu());
}

void CheckpointWriter::number(const std::string& name, double value) {
  archive_.write(name, torch::tensor({value}, torch::kFloat64));
}

void CheckpointWriter::text(const std::string& name, const std::string& value) {
  archive_.write(name, text_to_tensor(value));
}

void CheckpointWriter::torch_rng(const std::string& name) {
  auto gen = default_cpu_generator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  archive_.write(name, gen.get_state());
}

void CheckpointWriter::save(const std::string& path) {
  write_atomic_with(path, [&](const std::string& tmp) { archive_.save_to(tmp); });
}

CheckpointReader::CheckpointReader(const std::string& path) : path_(path) {
  if (!fs::is_regular_file(path)) throw Error(path + ": checkpoint not found");
  try {
    archive_.load_from(path);
  } catch (const std::exception&) {
    throw Error(path + ": not a seqrl checkpoint (unreadable torch archive)");
  }
}

void CheckpointReader::module(const std::string& name, torch::nn::Module& module) {
  torch::serialize::InputArchive sub;
  if (!archive_.try_read(name, sub)) throw Error(path_ + ": checkpoint has no module '" + name + "'");
  try {
    module.load(sub);
  } catch (const std::exception& e) {
    throw Error(path_ + ": module '" + name + "' does not match this model (different backbone or sizes?)");
  }
}

void CheckpointReader::optimizer(const std::string& name, torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive sub;
  if (!archive_.try_read(name, sub)) throw Error(path_ + ": checkpoint has no optimizer '" + name + "'");
  try {
    optimizer.load(sub);
  } catch (const std::exception& e) {
    throw Error(path_ + ": optimizer '" + name + "' does not match this model");
  }
}

torch::Tensor CheckpointReader::tensor(const std::string& name) {
  torch::Tensor t;
  if (!archive_.try_read(name, t)) throw Error(path_ + ": checkpoint has no entry '" + name + "'");
  return t;
}

double CheckpointReader::number(const std::string& name) { return tensor(name).item<double>(); }

std::string CheckpointReader::text(const std::string& name) {
  auto t = tensor(name).contiguous();
  return std::string(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), static_cast<size_t>(t.numel()));
}

void CheckpointReader::torch_rng(const std::string& name) {
  auto state = tensor(name);
  auto gen = default_cpu_generator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

std::string resolve_checkpoint(const std::string& path) {
  fs::path p = path;
  if (fs::is_directory(p) && fs::is_directory(p / "checkpoints")) {
    // last.pt, or — if the run was killed between writing step_N.pt and copying it to last.pt
    // for the first time — the highest step_N.pt.
    auto dir = p / "checkpoints";
    p = dir / "last.pt";
    long best = -1;
    if (!fs::is_regular_file(p))
      for (const auto& e : fs::directory_iterator(dir)) {
        auto name = e.path().filename().string();
        if (name.rfind("step_", 0) != 0 || e.path().extension() != ".pt") continue;
        long step = std::atol(name.c_str() + 5);
        if (step > best) best = step, p = e.path();
      }
  }
  if (!fs::is_regular_file(p) && p.extension() != ".pt") p += ".pt";
  if (!fs::is_regular_file(p)) throw Error(path + ": no checkpoint there (expected RUN_DIR or RUN_DIR/checkpoints/step_N)");
  return p.string();
}

}  // namespace seqrl
