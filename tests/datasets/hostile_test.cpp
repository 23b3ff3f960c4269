// Hostile dataset files (issue 15): inputs that used to hang, drop data silently, pick the wrong
// env or reach LibTorch's allocator. Each must be one clear error naming the file and key.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "core/error.h"
#include "datasets/dataset.h"
#include "datasets/hdf5_io.h"
#include "tests/datasets/dataset_files.h"

namespace seqrl::test {
namespace {

#ifdef __SANITIZE_ADDRESS__  // gcc's -fsanitize=address (CI's ASan job), and clang's
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

using HostileDataset = DatasetFiles;
using HostileDatasetCli = DatasetFiles;

const std::string kCli = SEQRL_CLI;

std::string load_error(const std::string& path, const std::string& env = "") {
  try {
    load_dataset(path, env);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_F(HostileDataset, NamedPipeIsRejectedWithoutOpening) {
  ASSERT_EQ(::mkfifo(file("x.hdf5").c_str(), 0600), 0);
  auto t0 = std::chrono::steady_clock::now();
  auto msg = load_error(file("x.hdf5"));
  EXPECT_NE(msg.find("x.hdf5: not a regular file"), std::string::npos) << msg;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

TEST_F(HostileDatasetCli, NamedPipeIsRejectedByEveryCommand) {
  ASSERT_EQ(::mkfifo(file("x.hdf5").c_str(), 0600), 0);
  // A hang would hit the 60 s timeout and exit 124.
  for (const char* cmd : {" dataset info ", " dataset validate "}) {
    auto r = run_command("timeout 60 " + kCli + cmd + file("x.hdf5"));
    EXPECT_EQ(r.code, 1) << cmd << r.output;
    EXPECT_NE(r.output.find("not a regular file"), std::string::npos) << r.output;
  }
  auto train = run_command("timeout 60 " + kCli + " train data.path=" + file("x.hdf5") +
                           " run.out_dir=" + file("runs") + " train.steps=1");
  EXPECT_EQ(train.code, 1) << train.output;
  EXPECT_NE(train.output.find("not a regular file"), std::string::npos) << train.output;
}

TEST_F(HostileDataset, EmptyPathIsAClearError) {
  auto msg = load_error("");
  EXPECT_NE(msg.find("dataset path is empty"), std::string::npos) << msg;
}

// The episodes of the case: 40 episodes, 922 transitions (episode_8 has 14 steps).
std::vector<EpisodeSpec> forty_episodes() {
  std::vector<EpisodeSpec> eps;
  for (int i = 0; i < 40; ++i) eps.push_back({i == 8 ? 14 : i == 0 ? 34 : 23, End::Timeout});
  return eps;
}

// `name` becomes a link to nothing: the file lists it, but it cannot be opened.
void break_episode_link(const std::string& path, const std::string& name) {
  auto f = h5::Handle(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  ASSERT_GE(H5Ldelete(f.get(), name.c_str(), H5P_DEFAULT), 0);
  ASSERT_GE(H5Lcreate_soft(("/lost/" + name).c_str(), f.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), 0);
}

TEST_F(HostileDataset, MinariEpisodeGroupThatCannotBeOpenedIsAnError) {
  auto eps = forty_episodes();
  int64_t total = 0;
  for (const auto& e : eps) total += e.length;
  ASSERT_EQ(total, 922);
  write_minari(file("main_data.hdf5"), make_arrays(11, 3, eps, 1), eps, "Hopper-v5", false);
  ASSERT_EQ(load_dataset(file("main_data.hdf5")).size(), 922);
  break_episode_link(file("main_data.hdf5"), "episode_8");
  auto msg = load_error(file("main_data.hdf5"));
  EXPECT_NE(msg.find("main_data.hdf5: episode_8: cannot open episode group"), std::string::npos) << msg;
}

TEST_F(HostileDatasetCli, MinariEpisodeGroupThatCannotBeOpenedFailsValidate) {
  auto eps = forty_episodes();
  write_minari(file("main_data.hdf5"), make_arrays(11, 3, eps, 1), eps, "Hopper-v5", false);
  break_episode_link(file("main_data.hdf5"), "episode_8");
  auto r = run_command(kCli + " dataset validate " + file("main_data.hdf5"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_EQ(r.output.find(": ok"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("episode_8: cannot open episode group"), std::string::npos) << r.output;
}

TEST_F(HostileDataset, MinariMissingEpisodeGroupDisagreesWithTotalEpisodes) {
  auto eps = forty_episodes();
  write_minari(file("main_data.hdf5"), make_arrays(11, 3, eps, 2), eps, "Hopper-v5", false);
  {
    auto f = h5::Handle(H5Fopen(file("main_data.hdf5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    ASSERT_GE(H5Ldelete(f.get(), "episode_8", H5P_DEFAULT), 0);
  }
  auto msg = load_error(file("main_data.hdf5"));
  EXPECT_NE(msg.find("total_episodes says 40 but the file has 39 episode groups"), std::string::npos) << msg;
}

TEST_F(HostileDataset, MinariEnvComesFromMetadataNotFromTheFirstNameInThePath) {
  // The case: a walker2d dataset stored under a folder named after halfcheetah.
  const std::vector<EpisodeSpec> eps = {{6, End::Timeout}, {4, End::Terminal}};
  auto dir = dir_ / "halfcheetah_study/mujoco/walker2d/medium-v0/data";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "main_data.hdf5").string();
  write_minari(path, make_arrays(17, 6, eps, 3), eps, "Walker2d-v5", false);
  EXPECT_EQ(load_dataset(path).env, "walker2d");
  // An explicit env that disagrees with the metadata names both.
  auto msg = load_error(path, "halfcheetah");
  EXPECT_NE(msg.find("--env = halfcheetah names halfcheetah"), std::string::npos) << msg;
  EXPECT_NE(msg.find("env_spec"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Walker2d-v5"), std::string::npos) << msg;
  // Without metadata the path names two envs: no guess.
  write_minari(path, make_arrays(17, 6, eps, 3), eps, "", false);
  msg = load_error(path);
  EXPECT_NE(msg.find("cannot tell the environment"), std::string::npos) << msg;
  EXPECT_EQ(load_dataset(path, "walker2d").env, "walker2d");
}

// HDF5 1.10 reads a global heap (variable-length strings, e.g. Minari's env_spec) forever when a
// free-space object in it has size 0 or 2^64 - 1 (found by fuzz_dataset). The file is refused before HDF5 reads it.
TEST_F(HostileDataset, GlobalHeapThatWouldLoopTheLibraryIsRefused) {
  const std::vector<EpisodeSpec> eps = {{6, End::Timeout}, {4, End::Terminal}};
  const auto path = (dir_ / "minari_heap.hdf5").string();
  write_minari(path, make_arrays(11, 3, eps, 3), eps, "Hopper-v5", false);
  ASSERT_EQ(load_dataset(path).env, "hopper") << "intact, it loads";
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Walk the first collection (8-byte lengths) to its free-space object and zero that size.
  const size_t heap = bytes.find("GCOL");
  ASSERT_NE(heap, std::string::npos) << "the env_spec string lives in a global heap";
  auto u64 = [&](size_t at) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  size_t q = heap + 16;
  while (bytes[q] != 0 || bytes[q + 1] != 0) q += 16 + (u64(q + 8) + 7) / 8 * 8;  // objects 1, 2, ...
  // Size 0 never advances; size 2^64 - 1 wraps the library's pointer back (both hung).
  for (const char fill : {'\x00', '\xff'}) {
    for (int i = 0; i < 8; ++i) bytes[q + 8 + i] = fill;
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), std::streamsize(bytes.size()));
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto msg = load_error(path);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30)) << "it returned (no hang)";
    EXPECT_NE(msg.find(path + ": corrupt HDF5 global heap at byte " + std::to_string(heap)), std::string::npos) << msg;
  }
}

// A variable-length string whose descriptor declares more characters than its heap object holds:
// libhdf5 1.10 would allocate and touch the declared length. The file is refused before HDF5 reads it.
TEST_F(HostileDataset, StringLongerThanItsHeapObjectIsRefused) {
  const std::vector<EpisodeSpec> eps = {{6, End::Timeout}, {4, End::Terminal}};
  const auto path = (dir_ / "minari_vlen.hdf5").string();
  write_minari(path, make_arrays(11, 3, eps, 3), eps, "Hopper-v5", false);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t heap = bytes.find("GCOL");
  ASSERT_NE(heap, std::string::npos) << "the env_spec string lives in a global heap";
  // The descriptors pointing into it: u32 length, the collection's 8-byte address, u32 index.
  const std::string address(reinterpret_cast<const char*>(&heap), 8);  // little-endian host
  size_t patched = 0;
  for (size_t at = bytes.find(address); at != std::string::npos; at = bytes.find(address, at + 1))
    if (at >= 4 && at != heap) {
      for (int i = 0; i < 4; ++i) bytes[at - 4 + i] = i == 3 ? '\x7f' : '\x00';  // 2^31 - 2^24 characters
      ++patched;
    }
  ASSERT_GT(patched, 0u);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto msg = load_error(path);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << "refused without reading it";
  EXPECT_NE(msg.find(path + ": corrupt variable-length data at byte "), std::string::npos) << msg;
  EXPECT_NE(msg.find("it declares 2130706432 elements"), std::string::npos) << msg;
}

// The inputs fuzz_dataset found (fuzz/regressions/): each is one clear error, quickly.
TEST(FuzzRegressions, EveryFoundDatasetIsAClearError) {
  const char* crashed = "the HDF5 library crashed reading this file (";
  const std::string dir = std::string(SEQRL_SOURCE_DIR) + "/fuzz/regressions/";
  const std::pair<const char*, const char*> found[] = {
      {"dataset-global-heap-loop.hdf5", "corrupt HDF5 global heap"},                       // hung in H5Aread
      {"dataset-global-heap-size-minus-1.hdf5", "corrupt HDF5 global heap at byte 8128"},  // hung in H5Aread
      {"dataset-float-76-bytes.hdf5", "stored float type is 76 bytes wide"},               // ASan: read past a chunk
      // SIGSEGV in libhdf5 (session 6); since refused before it reads the file.
      {"dataset-segv-local-heap.hdf5", "an object of 1191186392 bytes runs past its collection of 4096"},
      // libhdf5 allocated and touched the 4 GB the string declared (8 GB of memory, 20 s).
      // A rank-0 dataspace over a rank-2 chunk layout: libhdf5 allocated until the machine ran
      // out, or not, depending on where its garbage chunk sizes came from (ASLR).
      {"dataset-chunk-rank-differs-from-data.hdf5",
       "observations: stored chunk layout has rank 2 but the data has rank 0 (file corrupt)"},
      {"dataset-vlen-length-past-heap-object.hdf5",
       "corrupt variable-length data at byte 2792 (it declares 4278190086 elements, but the global heap object it "
       "points to holds 6 bytes)"},
      // libhdf5 reads past the object header decoding these enums (ASan in fuzz_dataset): under
      // ASan the reading child dies first; without it the type check names the dataset.
      {"dataset-enum-base-wider-than-enum.hdf5",
       kAsan ? crashed : "episode_1/truncations: stored enum type is 1 bytes over a 2817-byte base integer"},
      {"dataset-enum-2050-members.hdf5", kAsan ? crashed
                                               : "episode_0/terminations: stored enum type is not a bool (expected "
                                                 "h5py's {FALSE: 0, TRUE: 1}; it has 2050 members"},
  };
  for (const auto& [file, expected] : found) {
    const auto t0 = std::chrono::steady_clock::now();
    auto msg = load_error(dir + file);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30)) << file;
    EXPECT_NE(msg.find(dir + file + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find(expected), std::string::npos) << msg;
  }
}

TEST_F(HostileDataset, D4rlMetadataAndFileNameMustAgree) {
  auto a = make_arrays(17, 6, {{10, End::Timeout}}, 4);
  write_d4rl(file("halfcheetah-medium-v2.hdf5"), a, {{"env", "Walker2d-v3"}});
  auto msg = load_error(file("halfcheetah-medium-v2.hdf5"));
  EXPECT_NE(msg.find("metadata/env \"Walker2d-v3\" names walker2d"), std::string::npos) << msg;
  EXPECT_NE(msg.find("file name halfcheetah-medium-v2.hdf5 names halfcheetah"), std::string::npos) << msg;
  // A file name naming two envs is not used.
  write_d4rl(file("halfcheetah-vs-walker2d.hdf5"), a);
  msg = load_error(file("halfcheetah-vs-walker2d.hdf5"));
  EXPECT_NE(msg.find("cannot tell the environment"), std::string::npos) << msg;
  EXPECT_EQ(load_dataset(file("halfcheetah-vs-walker2d.hdf5"), "walker2d").env, "walker2d");
  // An explicit env against the file name.
  msg = load_error(file("halfcheetah-medium-v2.hdf5"), "hopper");
  EXPECT_NE(msg.find("disagree"), std::string::npos) << msg;
}

// A valid file whose `observations` declares `rows` rows but stores none (never written).
void write_declared_rows(const std::string& path, int64_t rows, bool chunked, hsize_t chunk_rows = 1024) {
  auto a = make_arrays(11, 3, {{10, End::Timeout}}, 5);
  write_d4rl(path, a);
  auto f = h5::Handle(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  ASSERT_GE(H5Ldelete(f.get(), "observations", H5P_DEFAULT), 0);
  hsize_t dims[2] = {hsize_t(rows), 11};
  h5::Handle space(H5Screate_simple(2, dims, nullptr));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (chunked) {
    hsize_t chunk[2] = {chunk_rows, 11};
    H5Pset_chunk(dcpl.get(), 2, chunk);
    H5Pset_deflate(dcpl.get(), 4);
  }
  h5::Handle d(
      H5Dcreate2(f.get(), "observations", H5T_NATIVE_FLOAT, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
  ASSERT_TRUE(d.valid());
}

TEST_F(HostileDataset, DeclaredSizeBeyondStorageIsCheckedBeforeAllocating) {
  for (bool chunked : {false, true}) {
    write_declared_rows(file("hopper.hdf5"), 100'000'000'000, chunked);
    auto msg = load_error(file("hopper.hdf5"));
    EXPECT_NE(msg.find("hopper.hdf5: observations: declares shape 100000000000 x 11"), std::string::npos)
        << chunked << " " << msg;
    EXPECT_NE(msg.find("file truncated or corrupt"), std::string::npos) << msg;
  }
  // A small declared size is read as usual (fill values) only when it is plausible for chunked
  // data; contiguous storage must hold every declared byte.
  write_declared_rows(file("hopper.hdf5"), 10, false);
  EXPECT_NE(load_error(file("hopper.hdf5")).find("stores 0 bytes"), std::string::npos);
  // 880 KB declared is plausible for compressed chunks, but not in 20,000 chunks with no bytes
  // stored: libhdf5 keeps state per chunk (fuzz/regressions).
  write_declared_rows(file("hopper.hdf5"), 20'000, true, 1);
  auto msg = load_error(file("hopper.hdf5"));
  EXPECT_NE(msg.find("observations: declares shape 20000 x 11 in 20000 chunks, but the file stores 0 bytes for it, "
                     "enough for at most 64"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace seqrl::test
