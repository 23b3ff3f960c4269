#include "eval/policy_export.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/backbone.h"
#include "runtime/sqp_format.h"

namespace seqrl {
namespace {

void put_u32(std::string& out, int64_t value, const std::string& what) {
  if (value < 0 || value > std::numeric_limits<uint32_t>::max())
    throw Error("export: " + what + " = " + std::to_string(value) + " does not fit the .sqp header");
  auto v = static_cast<uint32_t>(value);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
}

void put_f64(std::string& out, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, 8);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i) & 0xff));
}

void put_name(std::string& out, const std::string& name, const std::string& what) {
  if (name.size() >= SQP_NAME_SIZE) throw Error("export: " + what + " '" + name + "' is longer than 31 characters");
  out += name;
  out.append(SQP_NAME_SIZE - name.size(), '\0');
}

// The values, little-endian, as float32 or (rounded to nearest) binary16; rejects NaN/Inf naming
// the tensor, and a value beyond float16's range instead of writing an infinity.
void put_values(std::string& out, const torch::Tensor& tensor, const std::string& name, bool half) {
  auto t = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  if (!torch::isfinite(t).all().item<bool>()) throw Error("export: " + name + " has non-finite values");
  if (!half) {
    const float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      uint32_t bits;
      std::memcpy(&bits, &p[i], 4);
      put_u32(out, bits, name);
    }
    return;
  }
  auto h = t.to(torch::kHalf);
  if (!torch::isfinite(h).all().item<bool>())
    throw Error("export: " + name + " has values beyond float16's range (|x| > 65504); export it as float32");
  const auto* p = reinterpret_cast<const uint16_t*>(h.data_ptr<at::Half>());
  for (int64_t i = 0; i < h.numel(); ++i) {
    out.push_back(static_cast<char>(p[i] & 0xff));
    out.push_back(static_cast<char>(p[i] >> 8));
  }
}

// Whether a float16 export stores parameter `name` (of `rank` dims) in binary16: every tensor of
// rank >= 2 but the backbone's float32_parameters (models/backbone.h); vectors (biases, norms,
// per-channel decays) stay float32, they are few bytes.
bool stored_as_float16(const std::string& name, int64_t rank, const std::vector<std::string>& float32_parameters) {
  const auto leaf = name.substr(name.rfind('.') + 1);  // whole name if it has no '.'
  return rank >= 2 && std::find(float32_parameters.begin(), float32_parameters.end(), leaf) == float32_parameters.end();
}

}  // namespace

std::string encode_policy(DecisionModel& model, const PolicyScaling& scaling, const std::string& env,
                          double target_return, PolicyDtype dtype) {
  const auto& c = model->config();
  const auto& b = c.backbone_config;
  auto params = model->named_parameters();
  if (scaling.state_mean.numel() != c.state_dim || scaling.state_std.numel() != c.state_dim)
    throw Error("export: state normalization has " + std::to_string(scaling.state_mean.numel()) +
                " entries; expected state_dim = " + std::to_string(c.state_dim));
  std::string out(SQP_MAGIC, SQP_MAGIC_SIZE);
  put_u32(out, SQP_VERSION, "version");
  put_u32(out, dtype == PolicyDtype::float16 ? SQP_DTYPE_F16 : SQP_DTYPE_F32, "dtype");
  const auto& keep_float32 = backbone_info(c.backbone).float32_parameters;
  put_name(out, c.backbone, "backbone");
  put_name(out, env, "env");
  put_u32(out, c.state_dim, "state_dim");
  put_u32(out, c.act_dim, "act_dim");
  put_u32(out, b.dim, "dim");
  put_u32(out, b.layers, "layers");
  put_u32(out, b.heads, "heads");
  put_u32(out, c.max_ep_len, "max_ep_len");
  if (b.max_tokens > SQP_MAX_TOKENS)
    throw Error("export: max_tokens = " + std::to_string(b.max_tokens) + " (3 * model.context) is above the format's " +
                std::to_string(SQP_MAX_TOKENS));
  put_u32(out, b.max_tokens, "max_tokens");
  put_u32(out, static_cast<int64_t>(params.size()), "tensor_count");
  put_f64(out, scaling.reward_scale);
  put_f64(out, target_return);
  put_values(out, scaling.state_mean, "state_mean", false);
  put_values(out, scaling.state_std, "state_std", false);
  for (const auto& item : params) {
    const auto& name = item.key();
    const auto& value = item.value();
    if (name.empty() || name.size() > SQP_MAX_TENSOR_NAME)
      throw Error("export: parameter name '" + name + "' is too long");
    if (value.dim() < 1 || value.dim() > SQP_MAX_RANK)
      throw Error("export: " + name + " has rank " + std::to_string(value.dim()) + "; the format holds ranks 1..4");
    put_u32(out, static_cast<int64_t>(name.size()), name);
    out += name;
    put_u32(out, value.dim(), name);
    for (auto size : value.sizes()) put_u32(out, size, name);
    const bool half = dtype == PolicyDtype::float16 && stored_as_float16(name, value.dim(), keep_float32);
    put_u32(out, half ? SQP_DTYPE_F16 : SQP_DTYPE_F32, name);
    put_values(out, value, name, half);
  }
  return out;
}

void export_policy(const std::string& path, DecisionModel& model, const PolicyScaling& scaling, const std::string& env,
                   double target_return, PolicyDtype dtype) {
  write_file_atomic(path, encode_policy(model, scaling, env, target_return, dtype));
}

}  // namespace seqrl
