#include "datasets/checked_read.h"

#include <sstream>

#include "core/error.h"
#include "datasets/hdf5_io.h"

namespace seqrl {
namespace {

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

int64_t first_row(const torch::Tensor& bad_rows) { return bad_rows.nonzero()[0][0].item<int64_t>(); }

// Squeezes (N, 1) to (N,); anything but rank 1 or (N, 1) is an error.
torch::Tensor as_column(torch::Tensor t, const std::string& key, const std::string& file) {
  if (t.dim() == 2 && t.size(1) == 1) return t.reshape({t.size(0)});
  if (t.dim() != 1) throw Error(file + ": " + key + ": wrong rank: expected shape [N] or [N, 1], got " + shape_str(t));
  return t;
}

}  // namespace

torch::Tensor read_table(hid_t loc, const std::string& key, const std::string& file) {
  auto d = h5::open_dataset(loc, key, file);
  auto t = h5::read_tensor(d.get(), torch::kFloat, file + ": " + key);
  if (t.dim() != 2) throw Error(file + ": " + key + ": wrong rank: expected shape [N, dim], got " + shape_str(t));
  return t;
}

torch::Tensor read_column(hid_t loc, const std::string& key, const std::string& file) {
  auto d = h5::open_dataset(loc, key, file);
  return as_column(h5::read_tensor(d.get(), torch::kFloat, file + ": " + key), key, file);
}

torch::Tensor read_flags(hid_t loc, const std::string& key, const std::string& file) {
  auto t = read_column(loc, key, file);
  auto bad = (t != 0) & (t != 1);  // NaN is caught here too
  if (bad.any().item<bool>())
    throw Error(file + ": " + key + ": expected 0/1 (bool) values, found " +
                std::to_string(t[first_row(bad)].item<float>()) + " at row " + std::to_string(first_row(bad)));
  return t.to(torch::kBool);
}

void check_finite(const torch::Tensor& t, const std::string& key, const std::string& file) {
  auto bad = torch::isfinite(t).logical_not();
  if (t.dim() > 1) bad = bad.reshape({t.size(0), -1}).any(1);
  if (bad.any().item<bool>())
    throw Error(file + ": " + key + ": non-finite value (NaN or Inf) at row " + std::to_string(first_row(bad)));
}

void check_rows(const torch::Tensor& t, int64_t rows, const std::string& key, const std::string& ref_key,
                const std::string& file) {
  if (t.size(0) != rows)
    throw Error(file + ": length mismatch: " + key + " has " + std::to_string(t.size(0)) + " rows but " + ref_key +
                " has " + std::to_string(rows));
}

}  // namespace seqrl
