// .sqp reader: a cursor over the bytes that fails with the field it was reading.
#include "runtime/sqp_file.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/sqp_format.h"

namespace sqp {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// IEEE-754 binary16 -> binary32, exact for every value (subnormals, infinities, NaN).
float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa · 2^-24
    const float v = std::ldexp(float(mantissa), -24);
    return sign ? -v : v;
  }
  const uint32_t bits = sign | (exponent == 0x1f ? 0x7f800000u : (exponent + 112) << 23) | mantissa << 13;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

class Cursor {
 public:
  Cursor(const std::string& bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  [[noreturn]] void fail(const std::string& what) const { throw LoadError(source_ + ": " + what); }

  const char* take(size_t n, const char* field) {
    if (bytes_.size() - pos_ < n)
      fail(std::string("truncated: file ends at byte ") + std::to_string(bytes_.size()) + " while reading " + field +
           " (" + std::to_string(n) + " bytes at offset " + std::to_string(pos_) + ")");
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  // Little-endian on any host.
  uint32_t u32(const char* field) {
    auto p = reinterpret_cast<const unsigned char*>(take(4, field));
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  }
  uint64_t u64(const char* field) {
    auto p = reinterpret_cast<const unsigned char*>(take(8, field));
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
    return v;
  }
  double f64(const char* field) {
    uint64_t bits = u64(field);
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  // n finite values of `width` bytes each (4: binary32, 2: binary16, widened exactly).
  void values(size_t n, int width, std::vector<float>& out, const std::string& field) {
    if ((bytes_.size() - pos_) / width < n)
      fail("truncated: " + field + " needs " + std::to_string(n) + " values but only " +
           std::to_string((bytes_.size() - pos_) / width) + " remain");
    out.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (width == 4) {
        uint32_t bits = u32("a value");
        std::memcpy(&out[i], &bits, 4);
      } else {
        auto p = reinterpret_cast<const unsigned char*>(take(2, "a value"));
        out[i] = half_to_float(uint16_t(p[0] | p[1] << 8));
      }
      if (!std::isfinite(out[i]))
        fail(field + ": value " + std::to_string(i) + " is not finite (" + std::to_string(out[i]) + ")");
    }
  }
  std::string name(size_t n, const char* field) {
    const char* p = take(n, field);
    std::string s(p, strnlen(p, n));
    for (char c : s)
      if (c < 32 || c > 126) fail(std::string(field) + ": not printable ASCII");
    return s;
  }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  const std::string& bytes_;
  const std::string& source_;
  size_t pos_ = 0;
};

int positive(Cursor& c, const char* field, uint32_t max = 1u << 24) {
  uint32_t v = c.u32(field);
  if (v < 1 || v > max)
    c.fail(std::string(field) + ": " + std::to_string(v) + " is out of range [1, " + std::to_string(max) + "]");
  return static_cast<int>(v);
}

}  // namespace

const std::vector<int64_t>& PolicyFile::shape(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw LoadError("tensor '" + name + "' is missing (backbone " + backbone + ")");
  return it->second.shape;
}

const std::vector<float>& PolicyFile::get(const std::string& name, const std::vector<int64_t>& expected) const {
  const auto& got = shape(name);
  if (got != expected)
    throw LoadError("tensor '" + name + "': expected shape " + shape_text(expected) + ", got " + shape_text(got));
  return tensors.at(name).values;
}

PolicyFile parse_policy_file(const std::string& bytes, const std::string& source) {
  Cursor c(bytes, source);
  if (std::memcmp(c.take(SQP_MAGIC_SIZE, "the magic"), SQP_MAGIC, SQP_MAGIC_SIZE) != 0)
    c.fail("not a seqrl policy file (expected magic \"" SQP_MAGIC "\"; write one with `seqrl export`)");
  uint32_t version = c.u32("version");
  if (version != SQP_VERSION)
    c.fail("format version " + std::to_string(version) + " is not supported; expected " + std::to_string(SQP_VERSION) +
           " (export the policy again with this seqrl)");
  uint32_t dtype = c.u32("dtype");
  if (dtype != SQP_DTYPE_F32 && dtype != SQP_DTYPE_F16)
    c.fail("dtype " + std::to_string(dtype) + " is not supported; expected 1 (float32) or 2 (float16)");
  PolicyFile f;
  f.dtype = static_cast<int>(dtype);
  f.backbone = c.name(SQP_NAME_SIZE, "backbone name");
  f.env = c.name(SQP_NAME_SIZE, "env name");
  f.state_dim = positive(c, "state_dim");
  f.act_dim = positive(c, "act_dim");
  f.dim = positive(c, "dim");
  f.layers = positive(c, "layers", 4096);
  f.heads = positive(c, "heads");
  f.max_ep_len = positive(c, "max_ep_len");
  f.max_tokens = positive(c, "max_tokens", SQP_MAX_TOKENS);
  uint32_t count = c.u32("tensor_count");
  f.reward_scale = c.f64("reward_scale");
  if (!(std::isfinite(f.reward_scale) && f.reward_scale > 0)) c.fail("reward_scale: expected a positive finite number");
  f.target_return = c.f64("target_return");
  if (!std::isfinite(f.target_return)) c.fail("target_return: not finite");
  c.values(f.state_dim, 4, f.state_mean, "state_mean");
  c.values(f.state_dim, 4, f.state_std, "state_std");
  for (size_t i = 0; i < f.state_std.size(); ++i)
    if (!(f.state_std[i] > 0)) c.fail("state_std[" + std::to_string(i) + "]: expected > 0");
  for (uint32_t t = 0; t < count; ++t) {
    uint32_t len = c.u32("a tensor name length");
    if (len < 1 || len > SQP_MAX_TENSOR_NAME)
      c.fail("tensor " + std::to_string(t) + ": name length " + std::to_string(len) + " is out of range [1, 255]");
    std::string name = c.name(len, "a tensor name");
    uint32_t rank = c.u32("a tensor rank");
    if (rank < 1 || rank > SQP_MAX_RANK)
      c.fail("tensor '" + name + "': rank " + std::to_string(rank) + " is out of range [1, 4]");
    FileTensor tensor;
    uint64_t numel = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      uint32_t size = c.u32("a tensor size");
      if (size < 1) c.fail("tensor '" + name + "': size 0 in dimension " + std::to_string(d));
      tensor.shape.push_back(size);
      numel *= size;
      if (numel > (uint64_t(1) << 32)) c.fail("tensor '" + name + "': more values than the file could hold");
    }
    uint32_t tensor_dtype = c.u32("a tensor dtype");
    if (tensor_dtype != SQP_DTYPE_F32 && tensor_dtype != SQP_DTYPE_F16)
      c.fail("tensor '" + name + "': dtype " + std::to_string(tensor_dtype) +
             " is not supported; expected 1 (float32) or 2 (float16)");
    if (tensor_dtype == SQP_DTYPE_F16 && dtype != SQP_DTYPE_F16)
      c.fail("tensor '" + name + "' is float16 but the header says every tensor is float32");
    tensor.dtype = static_cast<int>(tensor_dtype);
    c.values(numel, tensor_dtype == SQP_DTYPE_F16 ? 2 : 4, tensor.values, "tensor '" + name + "'");
    if (!f.tensors.emplace(name, std::move(tensor)).second) c.fail("tensor '" + name + "' appears twice");
  }
  if (c.remaining() != 0)
    c.fail(std::to_string(c.remaining()) + " bytes after the last of " + std::to_string(count) +
           " tensors; the sizes do not add up");
  return f;
}

PolicyFile read_policy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError(path + ": cannot open for reading");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw LoadError(path + ": read failed");
  return parse_policy_file(bytes.str(), path);
}

}  // namespace sqp
