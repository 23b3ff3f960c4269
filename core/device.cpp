#include "core/device.h"

#include "core/error.h"

namespace seqrl {

torch::Device pick_device(const std::string& name, const std::string& key) {
  const bool available = torch::cuda::is_available();
  if (name == "cuda" && !available) throw Error(key + " = cuda: this LibTorch build sees no CUDA device");
  if (name == "cuda" || (name == "auto" && available)) return torch::kCUDA;
  return torch::kCPU;
}

}  // namespace seqrl
