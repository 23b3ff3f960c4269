// Atomic file writes: content goes to "<path>.tmp.<pid>", is flushed to disk, then renamed
// over <path>. A reader (or a run killed mid-write) sees the old file or the new one, never
// a torn one.
#pragma once
#include <functional>
#include <string>

namespace seqrl {

// Writes `content` to `path` atomically. Throws seqrl::Error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);

// For writers that need a filename (torch::save, HDF5): `write(tmp_path)` fills a temporary
// file, which is then fsync'ed and renamed to `path`. On any exception the temp file is removed.
void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& write);

// Reads a whole file; throws seqrl::Error naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace seqrl
