// Thin HDF5 C API helpers shared by the D4RL/Minari readers and the D4RL writer: RAII handles,
// whole-dataset reads straight into tensor memory (HDF5 converts the dtype), tensor writes
// (gzip + chunked), and h5py's conventions (bool = int8 enum {FALSE, TRUE}, str = vlen UTF-8).
// Every failure becomes a seqrl::Error naming the file and key; HDF5's own error printing is off.
#pragma once
#include <hdf5.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace seqrl::h5 {

// Owns one HDF5 identifier (file, group, dataset, dataspace, type, property list).
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Turns off HDF5's automatic error-stack printing (idempotent).
void silence_errors();

// Opens `path` read-only. Throws "no such file", "not a regular file" (a pipe would hang the
// open), "not an HDF5 file" or "truncated or corrupt".
Handle open_file(const std::string& path);
// Creates (truncates) `path` for writing.
Handle create_file(const std::string& path);

// True if `name` (a path like "infos/qpos") exists under `loc` as a link, checking each level.
bool exists(hid_t loc, const std::string& name);
bool is_group(hid_t loc, const std::string& name);
bool is_dataset(hid_t loc, const std::string& name);
// Child link names of a group, in HDF5's (name) order.
std::vector<std::string> list_group(hid_t loc, const std::string& name);

Handle open_dataset(hid_t loc, const std::string& name, const std::string& where);
// Shape of a dataset; `where` (file path + key) prefixes error messages.
std::vector<int64_t> dataset_shape(hid_t dset, const std::string& where);

// Reads the whole dataset with one H5Dread into a new contiguous tensor of `dtype` (kFloat,
// kDouble, kInt8, kUInt8, kInt32, kInt64); HDF5 converts the stored type, including h5py's bool
// enum. Float datasets stored as float64 and requested as kFloat are read as float64 first so
// that values overflowing float32 are not silently clamped. The declared shape is checked first
// against the bytes the file really stores for the dataset and against physical memory.
torch::Tensor read_tensor(hid_t dset, torch::ScalarType dtype, const std::string& where);

// Writes `t` as dataset `name` under `loc` with its own dtype (kBool becomes h5py's int8 enum
// FALSE/TRUE). Chunked along the first axis and gzip-compressed when gzip_level > 0; a 0-dim
// tensor is written as a scalar.
void write_tensor(hid_t loc, const std::string& name, const torch::Tensor& t, int gzip_level, const std::string& where);
// Writes a scalar variable-length UTF-8 string dataset, as h5py does for `f[name] = "text"`.
void write_string(hid_t loc, const std::string& name, const std::string& value, const std::string& where);
// Attributes on an object: scalar string / int64 / double, as h5py writes them.
void write_string_attr(hid_t obj, const std::string& name, const std::string& value, const std::string& where);
void write_int_attr(hid_t obj, const std::string& name, int64_t value, const std::string& where);

// A scalar string attribute of `obj`, or a scalar string dataset under `loc` (h5py's str);
// "" when absent or not a string. For metadata sniffing; never throws.
std::string string_attr(hid_t obj, const std::string& name);
std::string string_dataset(hid_t loc, const std::string& name);

}  // namespace seqrl::h5
