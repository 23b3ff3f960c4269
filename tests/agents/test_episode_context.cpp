// Episode-context training (train.context = episode): a forward over whole recorded episodes
// from their first step must be the policy that recurrent acting runs, for every backbone with
// a constant-size state; the transformer keeps window mode and asking otherwise is a config
// error; and the user path (`seqrl train` with the switch, then `seqrl eval --mode recurrent`).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "agents/dt.h"
#include "core/error.h"
#include "datasets/dataset.h"
#include "datasets/sampler.h"
#include "dt_fixture.h"
#include "models/decision_model.h"

namespace fs = std::filesystem;
using namespace seqrl;
using namespace seqrl::testing;

namespace {

const std::string kCli = SEQRL_CLI;
const std::string kEmbedded = std::string(SEQRL_SOURCE_DIR) + "/datasets/embedded/hopper-medium-seqrl.hdf5";

DecisionModel tiny_model(const std::string& backbone) {
  DecisionModelConfig c;
  c.state_dim = 11;
  c.act_dim = 3;
  c.context = 20;
  c.max_ep_len = 1000;
  c.backbone = backbone;
  c.backbone_config.dim = 16;
  c.backbone_config.layers = 2;
  c.backbone_config.heads = 2;
  c.backbone_config.dropout = 0.0;
  torch::manual_seed(3);
  DecisionModel model(c);
  model->to(torch::kFloat64);
  model->eval();
  return model;
}

// Four recorded episodes of the embedded Hopper dataset, as the episode sampler batches them
// (left-padded to the longest), in float64.
SequenceBatch recorded_episodes() {
  auto ds = load_dataset(kEmbedded, "hopper");
  SequenceSampler sampler(ds, {20, 1000.0, 1000}, 0);
  auto b = sampler.sample_episodes(4);
  b.states = b.states.to(torch::kFloat64);
  b.actions = b.actions.to(torch::kFloat64);
  b.rtg = b.rtg.to(torch::kFloat64);
  return b;
}

TEST(EpisodeContext, ForwardOverRecordedEpisodesEqualsRecurrentActingForEveryRecurrentBackbone) {
  const auto batch = recorded_episodes();
  const auto lengths = batch.mask.sum(1).to(torch::kLong);
  const int64_t width = batch.mask.size(1);
  ASSERT_GE(width, 500) << "the draw should include a long episode";
  ASSERT_LT(lengths.min().item<int64_t>(), width) << "the draw should include padding";
  std::set<std::string> growing;
  for (const auto& info : backbone_registry()) {
    SCOPED_TRACE(info.name);
    auto model = tiny_model(info.name);
    if (!model->backbone_state_is_constant()) {
      growing.insert(info.name);
      continue;
    }
    torch::NoGradGuard no_grad;
    const auto parallel = model->forward(batch.states, batch.actions, batch.rtg, batch.timesteps, batch.mask);
    for (int64_t r = 0; r < batch.mask.size(0); ++r) {
      const int64_t pad = width - lengths[r].item<int64_t>();
      // Step by step from the initial state, feeding the recorded actions as the actions taken.
      auto state = model->begin(1);
      double worst = 0;
      for (int64_t t = pad; t < width; ++t) {
        auto at = [&](const torch::Tensor& x) { return x[r][t].unsqueeze(0); };
        auto a = model->act(state, at(batch.rtg), at(batch.states), at(batch.timesteps));
        worst = std::max(worst, (a[0] - parallel[r][t]).abs().max().item<double>());
        model->observe_action(state, at(batch.actions), at(batch.timesteps));
      }
      EXPECT_LT(worst, 1e-9) << "episode row " << r << " (" << width - pad << " steps)";
      EXPECT_EQ(parallel[r].slice(0, 0, pad).abs().sum().item<double>(), 0.0) << "padding predicts 0";
    }
  }
  // The transformer's KV cache grows with the sequence: it keeps window mode. Every other
  // registered backbone carries a constant-size state.
  EXPECT_EQ(growing, (std::set<std::string>{"transformer"}));
}

TEST(EpisodeContext, TransformerWithEpisodeContextIsAConfigErrorBeforeAnyRunFolder) {
  DtConfig c;
  c.backbone = "transformer";
  c.train_context = "episode";
  EXPECT_THROW(check_train_context(c), Error);
  c.train_context = "window";
  EXPECT_NO_THROW(check_train_context(c));

  auto dir = temp_dir("episode_transformer");
  std::string out;
  int code = run_command(kCli + " train model.backbone=transformer train.context=episode run.out_dir=" +
                             (dir / "runs").string() + " data.path=" + kEmbedded,
                         &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("train.context = episode"), std::string::npos) << out;
  EXPECT_NE(out.find("transformer"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "runs")) << "no run folder for a config that cannot run";
  fs::remove_all(dir);
}

TEST(EpisodeContext, TrainWithTheSwitchThenEvalRecurrentFromTheCommandLine) {
  auto dir = temp_dir("episode_cli");
  auto data = write_hopper_like(dir);
  auto cfg = write_text(dir / "tiny.yaml", tiny_yaml(data, 10, 10));
  const auto runs = dir / "runs";
  std::string out;
  ASSERT_EQ(run_command(kCli + " train -c " + cfg + " train.context=episode train.batch_size=4 eval.modes=recurrent" +
                            " run.out_dir=" + runs.string(),
                        &out),
            0)
      << out;
  ASSERT_EQ(std::distance(fs::directory_iterator(runs), fs::directory_iterator{}), 1) << out;
  const auto run = fs::directory_iterator(runs)->path();
  auto eval = YAML::LoadFile((run / "eval.json").string());
  EXPECT_EQ(eval["train_context"].as<std::string>(), "episode");
  ASSERT_GE(eval["final"].size(), 1u);
  for (const auto& r : eval["final"]) EXPECT_EQ(r["mode"].as<std::string>(), "recurrent");
  EXPECT_EQ(YAML::LoadFile((run / "config.yaml").string())["train"]["context"].as<std::string>(), "episode");

  const auto json = dir / "eval-recurrent.json";
  ASSERT_EQ(
      run_command(
          kCli + " eval " + run.string() + " --mode recurrent --episodes 1 --target 1800 --out " + json.string(), &out),
      0)
      << out;
  EXPECT_NE(out.find("| 1800 | recurrent |"), std::string::npos) << out;
  auto results = YAML::LoadFile(json.string())["final"];
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["mode"].as<std::string>(), "recurrent");
  EXPECT_TRUE(std::isfinite(results[0]["return_mean"].as<double>()));
  fs::remove_all(dir);
}

}  // namespace
