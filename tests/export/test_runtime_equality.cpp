// The runtime acts like LibTorch: for every registered backbone, a model trained for a few
// steps, exported by `seqrl export`, gives the same actions through runtime/sqp.h as
// DecisionModel's recurrent acting over a 1000-step recorded episode (≤ 1e-5, float32; a
// float16 export against the model with the matrices the file stores in float16 rounded).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "agents/dt.h"
#include "models/backbone.h"
#include "runtime/ops.h"
#include "runtime/sqp.h"
#include "runtime/sqp_file.h"
#include "runtime/sqp_format.h"
#include "tests/export/allocation_counter.h"
#include "tests/export/runtime_fixture.h"

namespace fs = std::filesystem;
using namespace seqrl;
using namespace seqrl::testing;

namespace {

using Policy = std::unique_ptr<sqp_policy, void (*)(sqp_policy*)>;

// The largest action difference SQP_LOAD_INT8 may make over the episode (actions are in (−1, 1)).
// Measured (session 18): 0.007–0.03 for ten backbones, 0.048 for mlstm (float16 moves mlstm 20x
// more than the others too); a wrong product or rounding gives differences of order 1.
constexpr double kInt8ActionBound = 0.1;

std::vector<std::string> registered_backbones() {
  std::vector<std::string> names;
  for (const auto& info : backbone_registry()) names.push_back(info.name);
  return names;
}

// The largest |runtime action - LibTorch action| over a 1000-step recorded episode, and its step;
// and the heap allocations the runtime made in sqp_reset, sqp_act and sqp_observe (issue 18: none
// once loaded, so that a control loop's step time has no allocator in it).
struct Difference {
  double worst = 0;
  int64_t step = 0;
  long allocations = 0;
};

Difference compare_over_recorded_episode(const std::string& file, DecisionModel& model, const PolicyScaling& scaling,
                                         unsigned load_flags = 0) {
  char err[512];
  Policy rt(sqp_load_ex(file.c_str(), load_flags, err, sizeof err), sqp_free);
  EXPECT_TRUE(rt) << err;
  if (!rt) return {1e9, -1};
  torch::NoGradGuard no_grad;
  const int obs_dim = 11, act_dim = 3;
  EXPECT_EQ(sqp_info(rt.get())->state_dim, obs_dim);
  // The recorded episode: observations and rewards from a fixed generator; the actions fed
  // back are LibTorch's, as evaluation feeds them.
  torch::manual_seed(7);
  auto observations = (torch::randn({1000, obs_dim}, torch::kFloat64) * 2.0 + 0.5).contiguous();
  auto rewards = (torch::rand({1000}, torch::kFloat64) * 3.0).contiguous();
  const double target = 1800, scale = scaling.reward_scale;
  auto mean = scaling.state_mean.to(torch::kFloat32), std = scaling.state_std.to(torch::kFloat32);
  auto state = model->begin(1);
  auto rtg = torch::full({1, 1}, target / scale, torch::kFloat32);
  Difference d;
  auto counting_allocations = [&d](auto&& call) {  // the runtime call's status
    CountedAllocations counted;
    const int status = call();
    d.allocations += counted.count();
    return status;
  };
  EXPECT_EQ(counting_allocations([&] { return sqp_reset(rt.get(), target); }), SQP_OK);
  for (int64_t t = 0; t < 1000; ++t) {
    auto obs = observations[t];
    auto s = ((obs.to(torch::kFloat32) - mean) / std).unsqueeze(0);
    auto timestep = torch::full({1}, std::min<int64_t>(t, 499), torch::kInt64);
    auto expected = model->act(state, rtg, s, timestep).to(torch::kFloat64).contiguous();
    double action[3];
    if (counting_allocations([&] { return sqp_act(rt.get(), obs.data_ptr<double>(), action); }) != SQP_OK) {
      ADD_FAILURE() << sqp_error(rt.get());
      return {1e9, t};
    }
    for (int i = 0; i < act_dim; ++i) {
      double diff = std::abs(action[i] - expected[0][i].item<double>());
      if (diff > d.worst) d.worst = diff, d.step = t;
    }
    model->observe_action(state, expected.to(torch::kFloat32), timestep);
    auto reward = rewards[t].item<double>();
    EXPECT_EQ(counting_allocations([&] { return sqp_observe(rt.get(), expected.data_ptr<double>(), reward); }), SQP_OK)
        << sqp_error(rt.get());
    rtg = rtg - torch::full({1, 1}, reward, torch::kFloat64).to(torch::kFloat32) / scale;
  }
  return d;
}

// The counter behind the allocation checks below sees what they rely on: std::vector's and the
// runtime's cache-line-aligned allocations, and nothing outside its scope.
TEST(AllocationCounter, CountsOperatorNewInItsScopeOnly) {
  std::vector<int> before(16);
  CountedAllocations counted;
  EXPECT_EQ(counted.count(), 0);
  std::vector<float> plain(100);
  EXPECT_EQ(counted.count(), 1);
  sqp::AlignedVector<float> aligned(100);
  EXPECT_EQ(counted.count(), 2);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned.data()) % 64, 0u);
  std::string text(100, 'x');
  EXPECT_EQ(counted.count(), 3);
}

class RuntimeEquality : public ::testing::TestWithParam<std::string> {};

// float32 files act like LibTorch; float16 files act like LibTorch with the parameters the file
// stores in float16 rounded (the runtime computes in float32 either way), both to 1e-5.
TEST_P(RuntimeEquality, ActionsEqualLibTorchRecurrentActingOver1000Steps) {
  const auto backbone = GetParam();
  auto dir = temp_dir("runtime_eq_" + backbone);
  std::string out;
  auto run = train_tiny_run(dir, backbone, &out);
  ASSERT_FALSE(run.empty()) << out;
  auto file = export_tiny_run(dir, run, &out);
  ASSERT_FALSE(file.empty()) << out;
  auto half_file = export_tiny_run(dir, run, &out, "float16");
  ASSERT_FALSE(half_file.empty()) << out;
  EXPECT_LT(fs::file_size(half_file), fs::file_size(file) * 0.6);

  char err[512];
  Policy rt(sqp_load(file.c_str(), err, sizeof err), sqp_free);
  ASSERT_TRUE(rt) << "backbone '" << backbone << "' is registered but the runtime cannot act with it: " << err;
  const auto* info = sqp_info(rt.get());
  EXPECT_EQ(std::string(info->backbone), backbone);
  EXPECT_EQ(info->target_return, 1800);

  auto policy = load_trained_policy(run.string(), "cpu");
  auto f32 = compare_over_recorded_episode(file, policy.model, policy.scaling);
  EXPECT_LE(f32.worst, 1e-5) << backbone << ": largest action difference at step " << f32.step;
  EXPECT_EQ(f32.allocations, 0) << backbone << ": heap allocations while resetting and acting";
  auto half_vs_unrounded = compare_over_recorded_episode(half_file, policy.model, policy.scaling);
  // int8 matrices approximate the policy; how closely is a property of the rounding (bounded per
  // product in RuntimeOps.Int8LinearMatchesItsDefinitionAndTheRoundingBound), measured here on
  // the whole episode with the actions fed back from LibTorch.
  auto int8 = compare_over_recorded_episode(file, policy.model, policy.scaling, SQP_LOAD_INT8);
  EXPECT_LE(int8.worst, kInt8ActionBound) << backbone << " (int8): largest action difference at step " << int8.step;
  EXPECT_EQ(int8.allocations, 0) << backbone << " (int8): heap allocations while resetting and acting";

  {  // round the parameters the file stores in float16, as it says per tensor
    std::ifstream in(half_file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto stored = sqp::parse_policy_file(bytes, half_file);
    torch::NoGradGuard no_grad;
    int rounded = 0;
    for (auto& item : policy.model->named_parameters())
      if (stored.tensors.at(item.key()).dtype == SQP_DTYPE_F16)
        item.value().copy_(item.value().to(torch::kHalf).to(torch::kFloat32)), ++rounded;
    EXPECT_GT(rounded, 0);
  }
  auto f16 = compare_over_recorded_episode(half_file, policy.model, policy.scaling);
  EXPECT_LE(f16.worst, 1e-5) << backbone
                             << " (float16 file against the rounded model): largest action difference at step "
                             << f16.step;
  EXPECT_EQ(f16.allocations, 0) << backbone << " (float16): heap allocations while resetting and acting";
  RecordProperty("max_abs_action_difference", std::to_string(f32.worst));
  RecordProperty("max_abs_action_difference_float16", std::to_string(f16.worst));
  RecordProperty("max_abs_action_difference_int8", std::to_string(int8.worst));
  std::printf(
      "%s: max |runtime - libtorch| = %.3g (step %ld); float16 file: %.3g against the rounded model, %.3g "
      "against the float32 one; int8: %.3g\n",
      backbone.c_str(), f32.worst, long(f32.step), f16.worst, half_vs_unrounded.worst, int8.worst);
}

INSTANTIATE_TEST_SUITE_P(EveryBackbone, RuntimeEquality, ::testing::ValuesIn(registered_backbones()),
                         [](const auto& info) { return info.param; });

}  // namespace
