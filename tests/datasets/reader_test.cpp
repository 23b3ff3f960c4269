// Reading the D4RL flat layout (v0/v1/v2 variants) and the Minari layout exactly.
// Layouts: Farama-Foundation/D4RL (d4rl/offline_env.py), Farama-Foundation/Minari
// (docs/content/dataset_standards.md).
#include <gtest/gtest.h>

#include "core/error.h"
#include "datasets/d4rl_writer.h"
#include "datasets/dataset.h"
#include "datasets/hdf5_io.h"
#include "tests/datasets/dataset_files.h"

namespace seqrl::test {
namespace {

using DatasetReader = DatasetFiles;

// hopper-medium style: terminals, timeouts and an unfinished tail (facts: 94-step tail).
const std::vector<EpisodeSpec> kHopperEpisodes = {
    {30, End::Terminal}, {50, End::Timeout}, {7, End::Terminal}, {12, End::Unfinished}};

void expect_same_data(const Dataset& ds, const D4rlArrays& a) {
  EXPECT_TRUE(torch::equal(ds.observations, a.observations.to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(ds.actions, a.actions.to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(ds.rewards, a.rewards.reshape({-1}).to(torch::kFloat)));
  EXPECT_TRUE(ds.observations.is_contiguous() && ds.actions.is_contiguous() && ds.rewards.is_contiguous());
  EXPECT_EQ(ds.observations.scalar_type(), torch::kFloat);
}

// Episode boundaries and returns against the spec, returns summed naively in float64.
void expect_episodes(const Dataset& ds, const std::vector<EpisodeSpec>& spec, const torch::Tensor& rewards) {
  ASSERT_EQ(ds.episodes.size(), spec.size());
  auto r = rewards.reshape({-1}).to(torch::kFloat).to(torch::kDouble);
  int64_t start = 0;
  for (size_t i = 0; i < spec.size(); ++i) {
    const auto& ep = ds.episodes[i];
    EXPECT_EQ(ep.start, start) << i;
    EXPECT_EQ(ep.length, spec[i].length) << i;
    EXPECT_EQ(ep.terminal, spec[i].end == End::Terminal) << i;
    EXPECT_EQ(ep.timeout, spec[i].end == End::Timeout) << i;
    double ret = 0;
    for (int64_t j = start; j < start + spec[i].length; ++j) ret += r[j].item<double>();
    EXPECT_NEAR(ep.ret, ret, 1e-9 * std::abs(ret) + 1e-12) << i;
    start += spec[i].length;
  }
}

TEST_F(DatasetReader, D4rlV2Float32RoundTrip) {
  auto a = make_arrays(11, 3, kHopperEpisodes, 1);
  write_d4rl(file("hopper-medium-v2.hdf5"), a, {{"algorithm", "SAC"}});
  auto ds = load_dataset(file("hopper-medium-v2.hdf5"));
  EXPECT_EQ(ds.env, "hopper");
  EXPECT_EQ(ds.layout, "d4rl");
  EXPECT_EQ(ds.obs_dim, 11);
  EXPECT_EQ(ds.act_dim, 3);
  expect_same_data(ds, a);
  expect_episodes(ds, kHopperEpisodes, a.rewards);
}

TEST_F(DatasetReader, WriterUsesH5pyBoolEnumAndGzipChunks) {
  auto a = make_arrays(11, 3, kHopperEpisodes, 2);
  write_d4rl(file("hopper.hdf5"), a, {{"policy/name", "sac"}});
  auto f = h5::open_file(file("hopper.hdf5"));
  for (const char* key : {"terminals", "timeouts"}) {
    auto d = h5::open_dataset(f.get(), key, "t");
    h5::Handle type(H5Dget_type(d.get()));
    ASSERT_EQ(H5Tget_class(type.get()), H5T_ENUM) << key;
    EXPECT_EQ(H5Tget_size(type.get()), 1u);
    ASSERT_EQ(H5Tget_nmembers(type.get()), 2);
    char name[16];
    int8_t v = 0;
    H5Tenum_nameof(type.get(), &v, name, sizeof name);
    EXPECT_STREQ(name, "FALSE");
    v = 1;
    H5Tenum_nameof(type.get(), &v, name, sizeof name);
    EXPECT_STREQ(name, "TRUE");
    h5::Handle dcpl(H5Dget_create_plist(d.get()));
    EXPECT_EQ(H5Pget_layout(dcpl.get()), H5D_CHUNKED);
    EXPECT_GE(H5Pget_nfilters(dcpl.get()), 1);
  }
  for (const char* key :
       {"next_observations", "infos/qpos", "infos/qvel", "infos/action_log_probs", "metadata/policy/name"})
    EXPECT_TRUE(h5::is_dataset(f.get(), key)) << key;
  EXPECT_EQ(h5::string_dataset(f.get(), "metadata/policy/name"), "sac");
}

TEST_F(DatasetReader, MediumReplayFloat64AndColumnRewards) {
  // medium-replay files are float64 throughout; some files store rewards as (N, 1).
  auto a = make_arrays(17, 6, {{40, End::Timeout}, {25, End::Terminal}}, 3);
  a.observations = a.observations.to(torch::kDouble) * 1.0000001;
  a.actions = a.actions.to(torch::kDouble);
  a.rewards = a.rewards.to(torch::kDouble).reshape({-1, 1}) * 1.0000001;
  write_d4rl(file("walker2d-medium-replay-v2.hdf5"), a);
  auto ds = load_dataset(file("walker2d-medium-replay-v2.hdf5"));
  EXPECT_EQ(ds.env, "walker2d");
  expect_same_data(ds, a);  // converted to float32 exactly as torch rounds
  expect_episodes(ds, {{40, End::Timeout}, {25, End::Terminal}}, a.rewards);
}

TEST_F(DatasetReader, FlagsAsUint8IntAndFloat) {
  for (auto dtype : {torch::kUInt8, torch::kInt32, torch::kFloat, torch::kDouble}) {
    auto a = make_arrays(11, 3, kHopperEpisodes, 4);
    a.terminals = a.terminals.to(dtype);
    a.timeouts = a.timeouts.to(dtype);
    write_d4rl(file("hopper.hdf5"), a);
    auto ds = load_dataset(file("hopper.hdf5"));
    expect_episodes(ds, kHopperEpisodes, a.rewards);
  }
}

TEST_F(DatasetReader, OldVersionWithoutTimeoutsCutsAt1000Steps) {
  // v0/v1: no timeouts key; Gym's 1000-step limit still ends episodes.
  auto a = make_arrays(17, 6,
                       {{1000, End::Unfinished},
                        {1000, End::Unfinished},
                        {300, End::Terminal},
                        {1000, End::Unfinished},
                        {20, End::Unfinished}},
                       5);
  a.timeouts = torch::Tensor();
  write_d4rl(file("halfcheetah-medium-v0.hdf5"), a, {}, {0});
  auto ds = load_dataset(file("halfcheetah-medium-v0.hdf5"));
  expect_episodes(
      ds,
      {{1000, End::Timeout}, {1000, End::Timeout}, {300, End::Terminal}, {1000, End::Timeout}, {20, End::Unfinished}},
      a.rewards);
}

TEST_F(DatasetReader, EnvFromArgumentMetadataOrFileName) {
  auto a = make_arrays(17, 6, {{10, End::Timeout}}, 6);
  write_d4rl(file("walker2d_medium-v2.hdf5"), a);
  EXPECT_EQ(load_dataset(file("walker2d_medium-v2.hdf5")).env, "walker2d");
  EXPECT_EQ(load_dataset(file("walker2d_medium-v2.hdf5"), "Walker2d-v3").env, "walker2d");
  write_d4rl(file("data.hdf5"), a, {{"env", "Walker2d-v3"}});
  EXPECT_EQ(load_dataset(file("data.hdf5")).env, "walker2d");
  write_d4rl(file("plain.hdf5"), a);
  try {
    load_dataset(file("plain.hdf5"));
    FAIL() << "expected an error asking for --env";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--env"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_dataset(file("plain.hdf5"), "ant"), Error);
}

TEST_F(DatasetReader, MinariLayout) {
  const std::vector<EpisodeSpec> eps = {{15, End::Terminal}, {20, End::Timeout}, {9, End::Unfinished}};
  auto a = make_arrays(11, 3, eps, 7);
  for (bool column_flags : {false, true}) {
    std::filesystem::create_directories(dir_ / "mujoco/medium-v0/data");
    const auto path = (dir_ / "mujoco/medium-v0/data/main_data.hdf5").string();
    write_minari(path, a, eps, "Hopper-v5", column_flags);
    for (const auto& p : {path, (dir_ / "mujoco/medium-v0").string()}) {
      auto ds = load_dataset(p);
      EXPECT_EQ(ds.layout, "minari");
      EXPECT_EQ(ds.env, "hopper");
      EXPECT_EQ(ds.path, path);
      // The (T+1)-th observation of each episode is dropped; rewards were float64.
      expect_same_data(ds, a);
      expect_episodes(ds, eps, a.rewards);
      auto st = dataset_stats(ds);
      EXPECT_FALSE(st.has_normalized);  // Minari returns are not D4RL-comparable
    }
  }
}

TEST_F(DatasetReader, MinariEnvFromFolderNameWhenNoMetadata) {
  const std::vector<EpisodeSpec> eps = {{5, End::Terminal}};
  auto a = make_arrays(17, 6, eps, 8);
  std::filesystem::create_directories(dir_ / "halfcheetah-expert-v0/data");
  const auto path = (dir_ / "halfcheetah-expert-v0/data/main_data.hdf5").string();
  write_minari(path, a, eps, "", false);
  EXPECT_EQ(load_dataset(path).env, "halfcheetah");
}

}  // namespace
}  // namespace seqrl::test
