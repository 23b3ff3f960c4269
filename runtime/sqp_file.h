// Reading a .sqp file (layout: runtime/sqp_format.h) into named tensors, every size and value
// checked. Internal to the runtime; the public face is runtime/sqp.h.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace sqp {

// A bad file or an unsupported model; what() is the one-line message sqp_load reports.
struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FileTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;  // widened from binary16 if dtype says so
  int dtype = 1;              // SQP_DTYPE_* as stored
};

struct PolicyFile {
  std::string backbone, env;
  int dtype = 1;  // the header's SQP_DTYPE_*
  int state_dim = 0, act_dim = 0, dim = 0, layers = 0, heads = 0, max_ep_len = 0, max_tokens = 0;
  double reward_scale = 1, target_return = 0;
  std::vector<float> state_mean, state_std;
  std::map<std::string, FileTensor> tensors;

  // The tensor `name`, checked to have `shape`; throws LoadError naming it otherwise.
  const std::vector<float>& get(const std::string& name, const std::vector<int64_t>& shape) const;
  // The shape of tensor `name`; throws LoadError if the file has no such tensor.
  const std::vector<int64_t>& shape(const std::string& name) const;
};

// Throws LoadError("<path>: <what was wrong>").
PolicyFile read_policy_file(const std::string& path);
// The same, from bytes already in memory; `source` names them in messages.
PolicyFile parse_policy_file(const std::string& bytes, const std::string& source);

}  // namespace sqp
