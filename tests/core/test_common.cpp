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

TEST(ResolveDevice, CpuAlwaysAutoFollowsTheBuildCudaOnlyWithADevice) {
  EXPECT_EQ(resolve_device("cpu"), torch::Device(torch::kCPU));
  const bool cuda = torch::cuda::is_available();
  EXPECT_EQ(resolve_device("auto").is_cuda(), cuda);
  if (cuda) {
    EXPECT_EQ(resolve_device("cuda"), torch::Device(torch::kCUDA, 0));
    EXPECT_EQ(resolve_device("cuda:0"), torch::Device(torch::kCUDA, 0));
  }
  // Past the last device (none here without CUDA): an error naming the key and the spelling.
  const std::string missing = "cuda:" + std::to_string(cuda ? torch::cuda::device_count() : 0);
  for (const std::string spec : {missing, std::string(cuda ? "cuda:999" : "cuda")}) {
    try {
      resolve_device(spec, "--device");
      ADD_FAILURE() << "expected seqrl::Error for " << spec;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--device = " + spec), std::string::npos) << e.what();
    }
  }
}

TEST(ResolveDevice, SpellingsOtherThanAutoCpuCudaCudaNAreRefused) {
  for (const std::string ok : {"auto", "cpu", "cuda", "cuda:0", "cuda:12"}) EXPECT_TRUE(valid_device_spec(ok)) << ok;
  for (const std::string bad : {"", "gpu", "CPU", "cuda:", "cuda:x", "cuda:-1", "cuda:1a", "cuda:1234", " cuda"}) {
    EXPECT_FALSE(valid_device_spec(bad)) << bad;
    try {
      resolve_device(bad);
      ADD_FAILURE() << "expected seqrl::Error for '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("run.device = " + bad + ": expected auto, cpu, cuda or cuda:N"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace seqrl
