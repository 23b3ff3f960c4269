// The runtime acts like LibTorch: for every registered backbone, a model trained for a few
// steps, exported by `seqrl export`, gives the same actions through runtime/sqp.h as
// DecisionModel's recurrent acting over a 1000-step recorded episode (≤ 1e-5, float32).
#include <gtest/gtest.h>

#include <memory>

#include "agents/dt.h"
#include "models/backbone.h"
#include "runtime/sqp.h"
#include "tests/export/runtime_fixture.h"

namespace fs = std::filesystem;
using namespace seqrl;
using namespace seqrl::testing;

namespace {

using Policy = std::unique_ptr<sqp_policy, void (*)(sqp_policy*)>;

std::vector<std::string> registered_backbones() {
  std::vector<std::string> names;
  for (const auto& info : backbone_registry()) names.push_back(info.name);
  return names;
}

class RuntimeEquality : public ::testing::TestWithParam<std::string> {};

TEST_P(RuntimeEquality, ActionsEqualLibTorchRecurrentActingOver1000Steps) {
  const auto backbone = GetParam();
  auto dir = temp_dir("runtime_eq_" + backbone);
  std::string out;
  auto run = train_tiny_run(dir, backbone, &out);
  ASSERT_FALSE(run.empty()) << out;
  auto file = export_tiny_run(dir, run, &out);
  ASSERT_FALSE(file.empty()) << out;

  char err[512];
  Policy rt(sqp_load(file.c_str(), err, sizeof err), sqp_free);
  ASSERT_TRUE(rt) << "backbone '" << backbone << "' is registered but the runtime cannot act with it: " << err;
  const auto* info = sqp_info(rt.get());
  EXPECT_EQ(std::string(info->backbone), backbone);
  EXPECT_EQ(info->target_return, 1800);

  auto policy = load_trained_policy(run.string(), "cpu");
  torch::NoGradGuard no_grad;
  const int obs_dim = 11, act_dim = 3;
  ASSERT_EQ(info->state_dim, obs_dim);
  // The recorded episode: observations and rewards from a fixed generator; the actions fed
  // back are LibTorch's, as evaluation feeds them.
  torch::manual_seed(7);
  auto observations = (torch::randn({1000, obs_dim}, torch::kFloat64) * 2.0 + 0.5).contiguous();
  auto rewards = (torch::rand({1000}, torch::kFloat64) * 3.0).contiguous();
  const double target = 1800, scale = policy.scaling.reward_scale;
  auto mean = policy.scaling.state_mean.to(torch::kFloat32), std = policy.scaling.state_std.to(torch::kFloat32);
  auto state = policy.model->begin(1);
  auto rtg = torch::full({1, 1}, target / scale, torch::kFloat32);
  ASSERT_EQ(sqp_reset(rt.get(), target), SQP_OK);
  double worst = 0;
  int64_t worst_step = 0;
  for (int64_t t = 0; t < 1000; ++t) {
    auto obs = observations[t];
    auto s = ((obs.to(torch::kFloat32) - mean) / std).unsqueeze(0);
    auto timestep = torch::full({1}, std::min<int64_t>(t, 499), torch::kInt64);
    auto expected = policy.model->act(state, rtg, s, timestep).to(torch::kFloat64).contiguous();
    double action[3];
    ASSERT_EQ(sqp_act(rt.get(), obs.data_ptr<double>(), action), SQP_OK) << sqp_error(rt.get());
    for (int i = 0; i < act_dim; ++i) {
      double diff = std::abs(action[i] - expected[0][i].item<double>());
      if (diff > worst) worst = diff, worst_step = t;
    }
    policy.model->observe_action(state, expected.to(torch::kFloat32), timestep);
    auto reward = rewards[t].item<double>();
    ASSERT_EQ(sqp_observe(rt.get(), expected.data_ptr<double>(), reward), SQP_OK) << sqp_error(rt.get());
    rtg = rtg - torch::full({1, 1}, reward, torch::kFloat64).to(torch::kFloat32) / scale;
  }
  EXPECT_LE(worst, 1e-5) << backbone << ": largest action difference at step " << worst_step;
  RecordProperty("max_abs_action_difference", std::to_string(worst));
  std::printf("%s: max |runtime - libtorch| = %.3g (step %ld)\n", backbone.c_str(), worst, long(worst_step));
}

INSTANTIATE_TEST_SUITE_P(EveryBackbone, RuntimeEquality, ::testing::ValuesIn(registered_backbones()),
                         [](const auto& info) { return info.param; });

}  // namespace
