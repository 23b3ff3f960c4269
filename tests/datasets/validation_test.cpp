// Every broken-file case gives one seqrl::Error line naming the file, the key and the problem.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "datasets/d4rl_writer.h"
#include "datasets/dataset.h"
#include "datasets/hdf5_io.h"
#include "tests/datasets/dataset_files.h"

namespace seqrl::test {
namespace {

class DatasetValidation : public DatasetFiles {
 protected:
  // Loads `path` expecting an error whose message contains each of `parts`.
  void expect_error(const std::string& path, const std::vector<std::string>& parts, const std::string& env = "") {
    try {
      load_dataset(path, env);
      FAIL() << path << ": expected an error containing '" << parts[0] << "'";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(e.exit_code(), 1);
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
  }
  D4rlArrays hopper(uint64_t seed = 11) {
    return make_arrays(11, 3, {{30, End::Terminal}, {40, End::Timeout}, {5, End::Unfinished}}, seed);
  }
};

TEST_F(DatasetValidation, MissingFile) { expect_error(file("nope-hopper.hdf5"), {"nope-hopper.hdf5", "no such file"}); }

TEST_F(DatasetValidation, NotHdf5) {
  std::ofstream(file("hopper.hdf5")) << "observations,actions\n1,2\n";
  expect_error(file("hopper.hdf5"), {"hopper.hdf5", "not an HDF5 file"});
}

TEST_F(DatasetValidation, TruncatedFile) {
  write_d4rl(file("hopper.hdf5"), hopper(), {}, {0});
  auto size = std::filesystem::file_size(file("hopper.hdf5"));
  std::filesystem::resize_file(file("hopper.hdf5"), size / 2);
  expect_error(file("hopper.hdf5"), {"hopper.hdf5", "truncated"});
}

TEST_F(DatasetValidation, MissingRequiredKey) {
  for (const char* key : {"actions", "rewards", "terminals"}) {
    auto a = hopper();
    if (std::string(key) == "actions") a.actions = torch::Tensor();
    if (std::string(key) == "rewards") a.rewards = torch::Tensor();
    if (std::string(key) == "terminals") a.terminals = torch::Tensor();
    write_d4rl(file("hopper.hdf5"), a);
    expect_error(file("hopper.hdf5"), {"hopper.hdf5", "missing", std::string("'") + key + "'"});
  }
  auto a = hopper();
  a.observations = torch::Tensor();
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"missing", "'observations'"});
}

TEST_F(DatasetValidation, LengthMismatchNamesBothKeys) {
  auto a = hopper();
  a.actions = a.actions.narrow(0, 0, 74);
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"length mismatch", "actions has 74 rows", "observations has 75"});
  a = hopper();
  a.timeouts = torch::zeros({80}, torch::kBool);
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"timeouts has 80 rows", "observations has 75"});
  a = hopper();
  a.next_observations = a.next_observations.narrow(0, 0, 3);
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"next_observations has 3 rows", "observations has 75"});
}

TEST_F(DatasetValidation, NonFiniteNamesKeyAndFirstRow) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  struct Case {
    const char* key;
    int64_t row;
    double value;
  };
  for (const auto& c : {Case{"observations", 41, nan}, Case{"actions", 7, inf}, Case{"rewards", 60, -inf},
                        Case{"observations", 0, inf}}) {
    auto a = hopper();
    torch::Tensor& t = std::string(c.key) == "observations" ? a.observations
                       : std::string(c.key) == "actions"    ? a.actions
                                                            : a.rewards;
    t = t.to(torch::kDouble);  // as in medium-replay files
    if (t.dim() == 2)
      t[c.row][1] = c.value;
    else
      t[c.row] = c.value;
    if (t.dim() == 2) t[c.row + 3][0] = nan;  // a later bad row must not be the one reported
    write_d4rl(file("hopper.hdf5"), a);
    expect_error(file("hopper.hdf5"),
                 {"hopper.hdf5", std::string(c.key) + ": non-finite", "row " + std::to_string(c.row)});
  }
  // A float64 value too large for float32 would become Inf: rejected too.
  auto a = hopper();
  a.rewards = a.rewards.to(torch::kDouble);
  a.rewards[9] = 1e300;
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"rewards: non-finite", "row 9"});
}

TEST_F(DatasetValidation, EmptyDataset) {
  D4rlArrays a;
  a.observations = torch::zeros({0, 11});
  a.actions = torch::zeros({0, 3});
  a.rewards = torch::zeros({0});
  a.terminals = torch::zeros({0}, torch::kBool);
  a.timeouts = torch::zeros({0}, torch::kBool);
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"hopper.hdf5", "empty dataset"});
  // Minari file with no episode groups.
  {
    auto f = h5::create_file(file("main_data.hdf5"));
    h5::write_int_attr(f.get(), "total_episodes", 0, "t");
  }
  expect_error(file("main_data.hdf5"), {"empty dataset", "episode_N"}, "hopper");
}

TEST_F(DatasetValidation, DimsMustMatchEnv) {
  write_d4rl(file("hopper.hdf5"), make_arrays(17, 6, {{10, End::Timeout}}, 1));
  expect_error(file("hopper.hdf5"), {"do not match env hopper", "17", "11"});
  write_d4rl(file("walker.hdf5"), hopper());
  expect_error(file("walker.hdf5"), {"do not match env walker2d", "11", "17"}, "walker2d");
}

TEST_F(DatasetValidation, WrongRank) {
  auto a = hopper();
  a.observations = a.observations.reshape({-1});
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"observations: wrong rank", "[825]"});
  a = hopper();
  a.rewards = torch::stack({a.rewards, a.rewards}, 1);
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"rewards: wrong rank", "[75, 2]"});
  a = hopper();
  a.actions = a.actions.reshape({75, 3, 1});
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"actions: wrong rank"});
}

TEST_F(DatasetValidation, FlagsMustBeZeroOrOne) {
  auto a = hopper();
  a.terminals = a.terminals.to(torch::kUInt8);
  a.terminals[12] = 2;
  write_d4rl(file("hopper.hdf5"), a);
  expect_error(file("hopper.hdf5"), {"terminals: expected 0/1", "row 12"});
}

TEST_F(DatasetValidation, NonNumericData) {
  auto f = h5::create_file(file("hopper.hdf5"));
  h5::write_string(f.get(), "observations", "oops", "t");
  f.reset();
  expect_error(file("hopper.hdf5"), {"observations", "not numeric"});
}

TEST_F(DatasetValidation, MinariEpisodeLengths) {
  const std::vector<EpisodeSpec> eps = {{6, End::Terminal}, {4, End::Timeout}};
  auto a = make_arrays(11, 3, eps, 3);
  write_minari(file("main_data.hdf5"), a, eps, "Hopper-v5", false);
  {
    // Replace episode_1/actions with one row too many.
    h5::silence_errors();
    h5::Handle f(H5Fopen(file("main_data.hdf5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    H5Ldelete(f.get(), "episode_1/actions", H5P_DEFAULT);
    h5::write_tensor(f.get(), "episode_1/actions", torch::zeros({5, 3}), 0, "t");
  }
  expect_error(file("main_data.hdf5"), {"episode_1/observations has 5 rows", "episode_1/actions has 5"});
}

}  // namespace
}  // namespace seqrl::test
