#include "agents/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

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

constexpr char kTrailerMagic[] = "SEQRLCK1";
constexpr size_t kMagicSize = 8, kTrailerSize = 16;

uint64_t fnv1a64(const char* data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ uint8_t(data[i])) * 1099511628211ull;
  return h;
}

void append_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

uint64_t read_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

// The step of "step_N.pt", or -1.
long step_of(const fs::path& file) {
  auto name = file.filename().string();
  if (name.rfind("step_", 0) != 0 || file.extension() != ".pt") return -1;
  auto digits = name.substr(5, name.size() - 8);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::atol(digits.c_str());
}

// step_N.pt files of a checkpoints folder, newest first.
std::vector<fs::path> step_files(const fs::path& dir) {
  std::vector<std::pair<long, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (long step = step_of(e.path()); step >= 0) found.push_back({step, e.path()});
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

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
  if (bytes_.empty()) {
    // In memory first: LibTorch's file writer throws again from its destructor when the disk
    // fills up mid-archive, which ends the process in std::terminate.
    archive_.save_to([this](const void* data, size_t size) {
      bytes_.append(static_cast<const char*>(data), size);
      return size;
    });
    const uint64_t sum = fnv1a64(bytes_.data(), bytes_.size());
    bytes_.append(kTrailerMagic, kMagicSize);
    append_u64(bytes_, sum);
  }
  write_file_atomic(path, bytes_);
}

CheckpointReader::CheckpointReader(const std::string& path) : path_(path) {
  if (!fs::is_regular_file(path)) throw Error(path + ": checkpoint not found");
  const std::string bytes = read_file(path);
  size_t size = bytes.size();
  if (size >= kTrailerSize && bytes.compare(size - kTrailerSize, kMagicSize, kTrailerMagic, kMagicSize) == 0) {
    size -= kTrailerSize;
    if (fnv1a64(bytes.data(), size) != read_u64(bytes.data() + size + kMagicSize))
      throw Error(path + ": checksum mismatch (the file is corrupt)");
  } else {
    spdlog::warn("{}: checkpoint has no checksum (written by an older seqrl); it cannot be verified", path);
  }
  try {
    archive_.load_from(bytes.data(), size);
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

bool CheckpointReader::has(const std::string& name) {
  torch::Tensor t;
  if (archive_.try_read(name, t)) return true;
  torch::serialize::InputArchive sub;
  return archive_.try_read(name, sub);
}

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
    // last.pt, or — if the run was killed between writing step_N.pt and last.pt for the first
    // time — the highest step_N.pt.
    auto dir = p / "checkpoints";
    p = dir / "last.pt";
    if (!fs::is_regular_file(p))
      if (auto steps = step_files(dir); !steps.empty()) p = steps.front();
  }
  if (!fs::is_regular_file(p) && p.extension() != ".pt") p += ".pt";
  if (!fs::is_regular_file(p))
    throw Error(path + ": no checkpoint there (expected RUN_DIR or RUN_DIR/checkpoints/step_N)");
  return p.string();
}

CheckpointReader open_checkpoint(const std::string& path) {
  const fs::path file = resolve_checkpoint(path);
  try {
    return CheckpointReader(file.string());
  } catch (const Error& e) {
    if (file.filename() != "last.pt") throw;
    for (const auto& step : step_files(file.parent_path())) {
      try {
        CheckpointReader r(step.string());
        spdlog::warn("{}; using {} instead", e.what(), step.string());
        return r;
      } catch (const Error&) {
        continue;
      }
    }
    throw;
  }
}

}  // namespace seqrl
