// Reading one array of a dataset file with the checks every layout needs: the key exists, the
// rank is right, values are finite (floats) or 0/1 (flags). Errors read "<file>: <key>: <problem>".
#pragma once
#include <hdf5.h>
#include <torch/torch.h>

#include <string>

namespace seqrl {

// A [N, D] float32 table (observations, actions). Rank must be 2.
torch::Tensor read_table(hid_t loc, const std::string& key, const std::string& file);
// A [N] float32 column (rewards). Accepts shape (N,) or (N, 1).
torch::Tensor read_column(hid_t loc, const std::string& key, const std::string& file);
// A [N] bool column (terminals, timeouts): h5py's bool enum, or integers/floats that are 0 or 1.
torch::Tensor read_flags(hid_t loc, const std::string& key, const std::string& file);

// Throws "<file>: <key>: non-finite value (NaN or Inf) at row R" for the first bad row.
void check_finite(const torch::Tensor& t, const std::string& key, const std::string& file);
// Throws "<file>: <key> has n rows but <ref_key> has m" unless t has `rows` rows.
void check_rows(const torch::Tensor& t, int64_t rows, const std::string& key, const std::string& ref_key,
                const std::string& file);

}  // namespace seqrl
