#include "core/device.h"

#include <dlfcn.h>

#include <cctype>

#include "core/error.h"

namespace seqrl {
namespace {

// -1: not a "cuda:N" spelling; otherwise N.
int cuda_index(const std::string& spec) {
  const std::string prefix = "cuda:";
  if (spec.compare(0, prefix.size(), prefix) != 0 || spec.size() == prefix.size() || spec.size() > prefix.size() + 3)
    return -1;
  for (size_t i = prefix.size(); i < spec.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(spec[i]))) return -1;
  return std::stoi(spec.substr(prefix.size()));
}

}  // namespace

bool valid_device_spec(const std::string& spec) {
  return spec == "auto" || spec == "cpu" || spec == "cuda" || cuda_index(spec) >= 0;
}

torch::Device resolve_device(const std::string& spec, const std::string& key) {
  if (!valid_device_spec(spec)) throw Error(key + " = " + spec + ": expected auto, cpu, cuda or cuda:N");
  if (spec == "cpu") return torch::kCPU;
  const bool available = torch::cuda::is_available();
  if (spec == "auto") return available ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  const int index = spec == "cuda" ? 0 : cuda_index(spec);
  const int count = available ? static_cast<int>(torch::cuda::device_count()) : 0;
  if (index >= count)
    throw Error(key + " = " + spec + ": " +
                (count == 0 ? std::string("no CUDA device available")
                            : "this machine has " + std::to_string(count) +
                                  " CUDA device(s) (cuda:0..cuda:" + std::to_string(count - 1) + ")"));
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string blas_kernels() {
  // Looked up at run time: the BLAS behind libtorch is whatever libblas.so.3 points to.
  using CoreName = char* (*)();
  auto corename = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = corename ? corename() : nullptr;
  return name ? name : "";
}

}  // namespace seqrl
