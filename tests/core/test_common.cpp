// The helpers every library shares (core/): RNG state as text, mean/std, D4RL normalized
// score, the device rule. Each was written several times before; these pin the one copy.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/d4rl.h"
#include "core/device.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/stats.h"

namespace seqrl {
namespace {

TEST(RngText, RoundTripResumesTheSameStream) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 5; ++i) rng();
  std::mt19937_64 resumed;
  rng_from_text(resumed, rng_to_text(rng), "test");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(resumed(), rng());
}

TEST(RngText, CorruptTextIsAnErrorNamingItsSourceAndLeavesTheGeneratorAlone) {
  std::mt19937_64 rng(7), untouched(7);
  for (const std::string bad : {"", "not a state", "1 2 3"}) {
    try {
      rng_from_text(rng, bad, "run/progress.ckpt");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("run/progress.ckpt: corrupt random generator state"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(rng(), untouched());
}

TEST(MeanStd, IsMeanAndPopulationStdAgainstANaiveLoop) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(5.0, 2.0);
  std::vector<double> values;
  for (int i = 0; i < 37; ++i) values.push_back(normal(rng));
  long double sum = 0, sq = 0;
  for (double v : values) sum += v;
  const long double mean = sum / values.size();
  for (double v : values) sq += (v - mean) * (v - mean);
  auto [m, s] = mean_std(values);
  EXPECT_NEAR(m, double(mean), 1e-12);
  EXPECT_NEAR(s, double(std::sqrt(sq / values.size())), 1e-12);
  EXPECT_EQ(mean_std({}), (std::pair<double, double>{0.0, 0.0}));
  EXPECT_EQ(mean_std({4.0}), (std::pair<double, double>{4.0, 0.0}));
}

TEST(D4rl, NormalizedScoreUsesTheReferenceReturnsOfEverySpelling) {
  EXPECT_NEAR(d4rl_normalized_score("hopper", -20.272305), 0.0, 1e-12);
  EXPECT_NEAR(d4rl_normalized_score("hopper-medium-v2.hdf5", 3234.3), 100.0, 1e-12);
  EXPECT_NEAR(d4rl_normalized_score("Walker2d-v3", 1000.0), 100.0 * (1000.0 - 1.629008) / (4592.3 - 1.629008), 1e-12);
  EXPECT_NEAR(d4rl_normalized_score("half_cheetah", 0.0), 100.0 * 280.178953 / (12135.0 + 280.178953), 1e-12);
  EXPECT_EQ(find_d4rl_reference("ant-v3"), nullptr);
  try {
    d4rl_normalized_score("ant", 0.0);
    ADD_FAILURE() << "expected seqrl::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'ant'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("halfcheetah, hopper, walker2d"), std::string::npos) << e.what();
  }
}

TEST(PickDevice, CpuAlwaysAutoFollowsTheBuildCudaOnlyWithADevice) {
  EXPECT_EQ(pick_device("cpu"), torch::Device(torch::kCPU));
  const bool cuda = torch::cuda::is_available();
  EXPECT_EQ(pick_device("auto").is_cuda(), cuda);
  if (cuda) {
    EXPECT_TRUE(pick_device("cuda").is_cuda());
    return;
  }
  try {
    pick_device("cuda", "--device");
    ADD_FAILURE() << "expected seqrl::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--device = cuda"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace seqrl
