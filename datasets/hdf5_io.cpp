#include "datasets/hdf5_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <vector>

#include "core/error.h"
#include "core/memory.h"

namespace seqrl::h5 {
namespace {

void close_id(hid_t id) {
  switch (H5Iget_type(id)) {
    case H5I_FILE:
      H5Fclose(id);
      break;
    case H5I_GROUP:
      H5Gclose(id);
      break;
    case H5I_DATASET:
      H5Dclose(id);
      break;
    case H5I_DATASPACE:
      H5Sclose(id);
      break;
    case H5I_DATATYPE:
      H5Tclose(id);
      break;
    case H5I_ATTR:
      H5Aclose(id);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id);
      break;
    default:
      H5Idec_ref(id);
      break;
  }
}

hid_t native_type(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat:
      return H5T_NATIVE_FLOAT;
    case torch::kDouble:
      return H5T_NATIVE_DOUBLE;
    case torch::kInt8:
      return H5T_NATIVE_INT8;
    case torch::kUInt8:
      return H5T_NATIVE_UINT8;
    case torch::kInt32:
      return H5T_NATIVE_INT32;
    case torch::kInt64:
      return H5T_NATIVE_INT64;
    default:
      throw Error(std::string("internal: no HDF5 type for torch dtype ") + c10::toString(dtype));
  }
}

// h5py's representation of numpy bool.
Handle bool_enum_type() {
  Handle t(H5Tenum_create(H5T_NATIVE_INT8));
  int8_t v = 0;
  H5Tenum_insert(t.get(), "FALSE", &v);
  v = 1;
  H5Tenum_insert(t.get(), "TRUE", &v);
  return t;
}

Handle vlen_string_type() {
  Handle t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

void check(herr_t status, const std::string& where, const std::string& what) {
  if (status < 0) throw Error(where + ": " + what);
}

// Reads a string from a dataset or attribute of string type; false if it is not one.
bool read_string(hid_t obj, bool is_attr, std::string& out) {
  Handle type(is_attr ? H5Aget_type(obj) : H5Dget_type(obj));
  Handle space(is_attr ? H5Aget_space(obj) : H5Dget_space(obj));
  if (!type.valid() || !space.valid() || H5Tget_class(type.get()) != H5T_STRING) return false;
  if (H5Sget_simple_extent_type(space.get()) != H5S_SCALAR) return false;
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem = vlen_string_type();
    char* p = nullptr;
    herr_t st = is_attr ? H5Aread(obj, mem.get(), &p) : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p);
    if (st < 0 || !p) return false;
    out = p;
    H5free_memory(p);
    return true;
  }
  size_t n = H5Tget_size(type.get());
  if (n == 0 || n > (size_t(1) << 20)) return false;  // metadata strings are short; a huge size is corruption
  Handle mem(H5Tcopy(H5T_C_S1));
  H5Tset_size(mem.get(), n + 1);
  std::string buf(n + 1, '\0');
  herr_t st = is_attr ? H5Aread(obj, mem.get(), buf.data())
                      : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
  if (st < 0) return false;
  out = buf.c_str();
  return true;
}

herr_t list_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

// deflate's best case is about 1032:1; a chunked dataset claiming more than that over its
// stored bytes (plus slack for headers and fill-value chunks of tiny files) is lying.
constexpr double kMaxCompressionRatio = 1100.0;
constexpr int64_t kSlackBytes = int64_t(1) << 20;

// A file's header can declare any shape; check it against what the file really stores and
// against this machine's memory before anything is allocated.
void check_declared_size(hid_t dset, const std::vector<int64_t>& shape, int64_t stored_elem, int64_t read_elem,
                         const std::string& where) {
  int64_t count = 1;
  std::string dims;
  for (int64_t d : shape) {
    dims += (dims.empty() ? "" : " x ") + std::to_string(d);
    if (d < 0 || __builtin_mul_overflow(count, d, &count))
      throw Error(where + ": declared shape " + dims + " is too large");
  }
  int64_t declared = 0, in_memory = 0;
  if (__builtin_mul_overflow(count, stored_elem, &declared) || __builtin_mul_overflow(count, read_elem, &in_memory))
    throw Error(where + ": declared shape " + dims + " is too large");
  if (count == 0) return;
  Handle plist(H5Dget_create_plist(dset));
  const H5D_layout_t layout = plist.valid() ? H5Pget_layout(plist.get()) : H5D_LAYOUT_ERROR;
  const int64_t stored = int64_t(H5Dget_storage_size(dset));
  hsize_t file_size = 0;
  Handle file(H5Iget_file_id(dset));
  if (file.valid()) H5Fget_filesize(file.get(), &file_size);
  const int64_t real = std::min<int64_t>(stored, int64_t(file_size));
  const bool lying =
      layout != H5D_CHUNKED ? real < declared : double(declared) > kMaxCompressionRatio * double(real) + kSlackBytes;
  if (lying)
    throw Error(where + ": declares shape " + dims + " (" + std::to_string(declared) + " bytes) but the file stores " +
                std::to_string(real) + " bytes for it (file truncated or corrupt)");
  if (layout == H5D_CHUNKED) {
    // libhdf5 1.10 keeps per-chunk state while it reads, and with a chunk rank that differs from
    // the data's it reads chunk sizes from garbage: a 21 KB file made it allocate until the
    // machine ran out (fuzz/regressions). Each stored chunk costs the file an index entry and
    // some compressed bytes, so a file holds at most about one chunk per 8 stored bytes.
    hsize_t chunk[H5S_MAX_RANK];
    const int chunk_rank = H5Pget_chunk(plist.get(), H5S_MAX_RANK, chunk);
    if (chunk_rank != int(shape.size()))
      throw Error(where + ": stored chunk layout has rank " + std::to_string(chunk_rank) + " but the data has rank " +
                  std::to_string(shape.size()) + " (file corrupt)");
    int64_t chunks = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (chunk[i] == 0 || chunk[i] > (hsize_t(1) << 62))
        throw Error(where + ": stored chunk size " + std::to_string(chunk[i]) + " in dimension " + std::to_string(i) +
                    " (file corrupt)");
      const int64_t along = (shape[i] + int64_t(chunk[i]) - 1) / int64_t(chunk[i]);
      if (__builtin_mul_overflow(chunks, along, &chunks)) chunks = std::numeric_limits<int64_t>::max();
    }
    const int64_t most = std::max<int64_t>(64, real / 8);
    if (chunks > most)
      throw Error(where + ": declares shape " + dims + " in " + std::to_string(chunks) +
                  " chunks, but the file stores " + std::to_string(real) + " bytes for it, enough for at most " +
                  std::to_string(most) + " (file truncated or corrupt)");
  }
  if (const int64_t memory = physical_memory_bytes(); in_memory > memory)
    throw Error(where + ": declares shape " + dims + " (" + gib_text(double(in_memory)) +
                " in memory), more than this machine's " + gib_text(double(memory)) + " of memory");
}

H5I_type_t object_type(hid_t loc, const std::string& name) {
  if (!exists(loc, name)) return H5I_BADID;
  Handle obj(H5Oopen(loc, name.c_str(), H5P_DEFAULT));
  return obj.valid() ? H5Iget_type(obj.get()) : H5I_BADID;
}

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0) close_id(id_);
  id_ = H5I_INVALID_HID;
}

void silence_errors() {
  static const bool once = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)once;
}

namespace {

uint64_t little_endian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// A global heap collection (where variable-length strings live) as libhdf5 1.10 parses it, and
// the bytes it gives each object.
struct HeapCollection {
  size_t offset = 0;                   // in the file
  std::map<uint64_t, uint64_t> sizes;  // object index -> size
};

// libhdf5 1.10 trusts global heaps and the vlen descriptors that point into them, so each is checked
// here first, the way the library reads them, and a file that would make it misbehave is refused:
// - a free-space object of size 0 or near 2^64 makes its parser loop forever;
// - an object that runs past its collection is copied out of it all the same;
// - a descriptor (u32 length, heap address, u32 index) whose length exceeds its object's size
//   makes it allocate and touch that length (4 GB from a 10 KB file, fuzz/regressions).
// Descriptors sit in raw data or object headers, which the API does not locate, so they are found
// by the heap address they hold: a false match would need those exact 8 bytes beside an index of
// that collection and a length larger than its object.
void check_global_heaps(const std::string& path, size_t size) {
  if (size < 16) return;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;  // H5Fopen reports it
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return;
  struct Unmap {
    void* p;
    size_t n;
    ~Unmap() { ::munmap(p, n); }
  } unmap{map, size};
  const auto* file = static_cast<const unsigned char*>(map);
  // Sizes of offsets and lengths from the superblock (at 0, 512, 1024, ...; addresses count from
  // there): bytes 13 and 14 in versions 0-1, 9 and 10 after.
  int offset_size = 8, length_size = 8;
  size_t base = 0;
  for (size_t at = 0; at + 16 <= size; at = at ? at * 2 : 512)
    if (std::memcmp(file + at, "\x89HDF\r\n\x1a\n", 8) == 0) {
      const int v = file[at + 8];
      const int o = v <= 1 ? file[at + 13] : file[at + 9], l = v <= 1 ? file[at + 14] : file[at + 10];
      if (o == 2 || o == 4 || o == 8) offset_size = o;
      if (l == 2 || l == 4 || l == 8) length_size = l;
      base = at;
      break;
    }
  const auto corrupt = [&](size_t at, const std::string& what) {
    return Error(path + ": corrupt HDF5 global heap at byte " + std::to_string(at) + " (" + what + ")");
  };
  const size_t collection_header = 8 + length_size, object_header = 8 + length_size;
  constexpr size_t kMinCollection = 4096;  // H5HG_MINSIZE: anything smaller is not a collection
  std::vector<HeapCollection> collections;
  for (const unsigned char* p = file;
       (p = static_cast<const unsigned char*>(::memmem(p, size - (p - file), "GCOL", 4))) != nullptr; ++p) {
    const size_t offset = p - file;
    if (offset + collection_header > size || p[4] != 1 || p[5] || p[6] || p[7]) continue;
    const uint64_t bytes = little_endian(p + 8, length_size);
    if (bytes < kMinCollection || bytes > size - offset) continue;
    HeapCollection collection{offset, {}};
    for (size_t q = collection_header; q + object_header <= bytes;) {
      const uint64_t index = little_endian(p + q, 2), object = little_endian(p + q + 8, length_size);
      const uint64_t need = index > 0 ? object_header + (object + 7) / 8 * 8 : object;
      // The library moves to begin + need: 0 stays put, and a size near 2^64 wraps the pointer
      // back before the object (a free-space object of size -1 did, fuzz/regressions).
      if (need == 0 || need >= (uint64_t(1) << 63))
        throw corrupt(offset,
                      "an object of size " + std::to_string(object) + ", which the HDF5 library would read forever");
      if (need > bytes - q)
        throw corrupt(offset, "an object of " + std::to_string(object) + " bytes runs past its collection of " +
                                  std::to_string(bytes));
      if (index > 0) collection.sizes[index] = object;
      q += need;
    }
    if (!collection.sizes.empty() && offset >= base) collections.push_back(std::move(collection));
  }
  for (const auto& collection : collections) {
    unsigned char address[8];
    for (int i = 0; i < offset_size; ++i)
      address[i] = static_cast<unsigned char>((collection.offset - base) >> (8 * i));
    for (const unsigned char* p = file;
         (p = static_cast<const unsigned char*>(::memmem(p, size - (p - file), address, offset_size))) != nullptr;
         ++p) {
      const size_t at = p - file;
      if (at < 4 || at + offset_size + 4 > size) continue;
      const auto object = collection.sizes.find(little_endian(p + offset_size, 4));
      const uint64_t length = little_endian(p - 4, 4);
      if (object != collection.sizes.end() && length > object->second)
        throw Error(path + ": corrupt variable-length data at byte " + std::to_string(at - 4) + " (it declares " +
                    std::to_string(length) + " elements, but the global heap object it points to holds " +
                    std::to_string(object->second) + " bytes)");
    }
  }
}

}  // namespace

Handle open_file(const std::string& path) {
  silence_errors();
  if (path.empty()) throw Error("dataset path is empty; expected a D4RL .hdf5 file or a Minari dataset");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error(path + ": no such file");
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, expected an HDF5 file");
  // A named pipe or a device would block (or never end) inside HDF5's open.
  if (!S_ISREG(st.st_mode))
    throw Error(path + ": not a regular file (a pipe, socket or device), expected an HDF5 file");
  htri_t is = H5Fis_hdf5(path.c_str());
  if (is == 0) throw Error(path + ": not an HDF5 file (no HDF5 signature)");
  check_global_heaps(path, static_cast<size_t>(st.st_size));
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (is < 0 || !f.valid()) throw Error(path + ": cannot open as HDF5 (file truncated or corrupt; re-download it)");
  return f;
}

Handle create_file(const std::string& path) {
  silence_errors();
  Handle f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!f.valid()) throw Error(path + ": cannot create HDF5 file");
  return f;
}

bool exists(hid_t loc, const std::string& name) {
  // H5Lexists fails (rather than returning false) if an intermediate group is missing.
  size_t pos = 0;
  while (true) {
    size_t slash = name.find('/', pos);
    std::string prefix = name.substr(0, slash);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
    pos = slash + 1;
  }
}

bool is_group(hid_t loc, const std::string& name) { return object_type(loc, name) == H5I_GROUP; }
bool is_dataset(hid_t loc, const std::string& name) { return object_type(loc, name) == H5I_DATASET; }

std::vector<std::string> list_group(hid_t loc, const std::string& name) {
  std::vector<std::string> names;
  Handle g(H5Gopen2(loc, name.c_str(), H5P_DEFAULT));
  if (!g.valid()) return names;
  hsize_t idx = 0;
  H5Literate(g.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, list_link, &names);
  return names;
}

Handle open_dataset(hid_t loc, const std::string& name, const std::string& where) {
  if (!is_dataset(loc, name)) throw Error(where + ": missing required dataset '" + name + "'");
  Handle d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT));
  if (!d.valid()) throw Error(where + ": cannot open dataset '" + name + "' (file corrupt?)");
  return d;
}

std::vector<int64_t> dataset_shape(hid_t dset, const std::string& where) {
  Handle space(H5Dget_space(dset));
  int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) throw Error(where + ": cannot read dataset shape (file corrupt?)");
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

namespace {

// Enums are bools as h5py writes them: {FALSE: 0, TRUE: 1} over an integer. HDF5 converts an
// enum through its base integer and never looks at the member table, so a corrupt one would
// pass unnoticed (libhdf5 1.10 even reads past its buffer decoding one: fuzz/regressions).
void check_bool_enum(hid_t type, size_t type_size, const std::string& where) {
  // A base wider than the enum is how libhdf5 1.10 came to copy 5634 bytes of "values" from a
  // 280-byte header (fuzz/regressions/dataset-enum-base-wider-than-enum.hdf5).
  Handle base(H5Tget_super(type));
  if (!base.valid() || H5Tget_class(base.get()) != H5T_INTEGER || H5Tget_size(base.get()) != type_size)
    throw Error(where + ": stored enum type is " + std::to_string(type_size) + " bytes over a " +
                (base.valid() ? std::to_string(H5Tget_size(base.get())) + "-byte" : std::string("missing")) +
                " base integer (a bool enum is as wide as its base; file corrupt)");
  const int members = H5Tget_nmembers(type);
  const bool big_endian = H5Tget_order(type) == H5T_ORDER_BE;
  int matched = 0;
  for (int i = 0; members == 2 && i < members; ++i) {
    char* name = H5Tget_member_name(type, unsigned(i));
    unsigned char bytes[8] = {};
    const bool got = name && H5Tget_member_value(type, unsigned(i), bytes) >= 0;
    uint64_t value = 0;
    for (size_t b = 0; b < type_size; ++b) value |= uint64_t(bytes[big_endian ? type_size - 1 - b : b]) << (8 * b);
    if (got && ((std::strcmp(name, "FALSE") == 0 && value == 0) || (std::strcmp(name, "TRUE") == 0 && value == 1)))
      ++matched;
    if (name) H5free_memory(name);
  }
  if (matched != 2)
    throw Error(where + ": stored enum type is not a bool (expected h5py's {FALSE: 0, TRUE: 1}; it has " +
                std::to_string(members) + " members; file corrupt?)");
}

}  // namespace

torch::Tensor read_tensor(hid_t dset, torch::ScalarType dtype, const std::string& where) {
  auto shape = dataset_shape(dset, where);
  Handle ftype(H5Dget_type(dset));
  H5T_class_t cls = H5Tget_class(ftype.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_ENUM)
    throw Error(where + ": stored type is not numeric (expected float, integer or bool)");
  // Only the sizes real files use: HDF5 1.10 reads past a chunk's buffer when converting a
  // float of another size (a 76-byte float, found by fuzz_dataset).
  const size_t type_size = H5Tget_size(ftype.get());
  const bool sane = cls == H5T_FLOAT ? (type_size == 2 || type_size == 4 || type_size == 8)
                                     : (type_size == 1 || type_size == 2 || type_size == 4 || type_size == 8);
  if (!sane)
    throw Error(where + ": stored " + (cls == H5T_FLOAT ? "float" : "integer") + " type is " +
                std::to_string(type_size) + " bytes wide (expected " +
                (cls == H5T_FLOAT ? "2, 4 or 8" : "1, 2, 4 or 8") + "; file corrupt)");
  if (cls == H5T_ENUM) check_bool_enum(ftype.get(), type_size, where);
  auto read_as = dtype;
  if (dtype == torch::kFloat && cls == H5T_FLOAT && type_size > 4) read_as = torch::kDouble;
  check_declared_size(dset, shape, int64_t(type_size), int64_t(c10::elementSize(read_as)), where);
  auto t = torch::empty(shape, torch::TensorOptions().dtype(read_as));
  if (t.numel() > 0)
    check(H5Dread(dset, native_type(read_as), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()), where,
          "read failed (file truncated or corrupt, or stored type not convertible)");
  return read_as == dtype ? t : t.to(dtype);
}

void write_tensor(hid_t loc, const std::string& name, const torch::Tensor& tensor, int gzip_level,
                  const std::string& where) {
  auto t = tensor.contiguous().cpu();
  bool is_bool = t.scalar_type() == torch::kBool;
  if (is_bool) t = t.to(torch::kInt8);
  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr));
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (gzip_level > 0 && !dims.empty() && t.numel() > 0) {
    // ~256 KiB chunks of whole rows: large enough for fast sequential reads.
    int64_t row_bytes = t.numel() / t.size(0) * t.element_size();
    std::vector<hsize_t> chunk = dims;
    chunk[0] = hsize_t(std::clamp<int64_t>((256 << 10) / std::max<int64_t>(row_bytes, 1), 1, t.size(0)));
    H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data());
    H5Pset_deflate(dcpl.get(), unsigned(gzip_level));
  }
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle bool_type = is_bool ? bool_enum_type() : Handle();
  hid_t ftype = is_bool ? bool_type.get() : native_type(t.scalar_type());
  Handle d(H5Dcreate2(loc, name.c_str(), ftype, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
  if (!d.valid()) throw Error(where + ": cannot create dataset '" + name + "'");
  if (t.numel() > 0)
    check(H5Dwrite(d.get(), ftype, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()), where,
          "cannot write dataset '" + name + "'");
}

void write_string(hid_t loc, const std::string& name, const std::string& value, const std::string& where) {
  Handle type = vlen_string_type();
  Handle space(H5Screate(H5S_SCALAR));
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle d(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  const char* p = value.c_str();
  if (!d.valid() || H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) < 0)
    throw Error(where + ": cannot write string dataset '" + name + "'");
}

void write_string_attr(hid_t obj, const std::string& name, const std::string& value, const std::string& where) {
  Handle type = vlen_string_type();
  Handle space(H5Screate(H5S_SCALAR));
  Handle a(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  const char* p = value.c_str();
  if (!a.valid() || H5Awrite(a.get(), type.get(), &p) < 0)
    throw Error(where + ": cannot write attribute '" + name + "'");
}

void write_int_attr(hid_t obj, const std::string& name, int64_t value, const std::string& where) {
  Handle space(H5Screate(H5S_SCALAR));
  Handle a(H5Acreate2(obj, name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), H5T_NATIVE_INT64, &value) < 0)
    throw Error(where + ": cannot write attribute '" + name + "'");
}

std::string string_attr(hid_t obj, const std::string& name) {
  std::string s;
  if (H5Aexists(obj, name.c_str()) <= 0) return s;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid() || !read_string(attr.get(), true, s)) s.clear();
  return s;
}

std::string string_dataset(hid_t loc, const std::string& name) {
  std::string s;
  if (!is_dataset(loc, name)) return s;
  Handle d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT));
  if (!d.valid() || !read_string(d.get(), false, s)) s.clear();
  return s;
}

}  // namespace seqrl::h5
