// Atomic file writes: content goes to "<path>.tmp.<pid>", is flushed to disk, then renamed
// over <path>. A reader (or a run killed mid-write) sees the old file or the new one, never
// a torn one. Failures (a full disk included) are one seqrl::Error naming the path; the old
// file is untouched and the temp file removed.
#pragma once
#include <functional>
#include <string>

namespace seqrl {

// Writes `content` to `path` atomically. Throws seqrl::Error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);

// For writers that need a filename (HDF5): `write(tmp_path)` fills a temporary file, which is
// then fsync'ed and renamed to `path`. On any exception the temp file is removed.
void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& write);

// Reads a whole file; throws seqrl::Error naming the path if it cannot be read.
std::string read_file(const std::string& path);

// Removes the "<name>.tmp.<pid>" files that killed writers left in `dir` (not recursive);
// returns how many. Call only while holding the folder (a run lock), so no writer is live.
int remove_stale_temp_files(const std::string& dir);

// Fault injection for tests: called before each write(2), fsync(2) and rename(2) that an
// atomic write makes; a non-zero return makes that call fail with that errno. Empty: none.
enum class FileOp { Write, Fsync, Rename };
using FileFaultHook = std::function<int(FileOp op, const std::string& path)>;
void set_file_fault_hook(FileFaultHook hook);

}  // namespace seqrl
