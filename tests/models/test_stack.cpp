// The backbone registry (models/registry.cpp) and the shared residual stack (models/block.cpp).
// The stack is driven by a trivial mixer defined here — y_t = a ⊙ Σ_{s≤t} x_s + c ⊙ max_{s≤t} x_s,
// two state tensors — and compared with a hand-written float64 loop of
//   per layer: x += mixer(LayerNorm1 x); x += fc2 gelu(fc1 LayerNorm2 x);  then a final LayerNorm.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/backbone.h"
#include "models/block.h"

namespace seqrl {
namespace {

// The Error `make` throws; fails the test when it throws nothing.
template <typename Make>
std::string error_of(Make make) {
  try {
    make();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected seqrl::Error";
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

BackboneConfig small_config() {
  BackboneConfig config;
  config.dim = 6;
  config.layers = 2;
  config.dropout = 0.0;
  return config;
}

TEST(Registry, UnknownBackboneNameListsTheValidNames) {
  for (const auto& message :
       {error_of([] { backbone_info("rnn"); }), error_of([] { make_backbone("rnn", small_config()); })}) {
    EXPECT_TRUE(contains(message, "model.backbone")) << message;
    EXPECT_TRUE(contains(message, "'rnn'")) << message;
    for (const auto& info : backbone_registry()) EXPECT_TRUE(contains(message, info.name)) << message;
  }
}

// Every models/*.cpp that defines a BackboneRegistrar: the backbone names it registers,
// read from the source, independently of what the linker kept.
std::vector<std::string> registered_in_sources() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SEQRL_SOURCE_DIR) + "/models")) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::regex registrar(
        R"re(BackboneRegistrar registrar\(\s*(?:stack_backbone|BackboneInfo)\(?\s*\{?\s*"([a-z0-9_]+)")re");
    for (std::sregex_iterator it(text.begin(), text.end(), registrar), end; it != end; ++it) names.push_back((*it)[1]);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Registry, HoldsEveryBackboneOfTheSourceTreeSortedWithUniqueNamesAndDefaultsInRange) {
  std::vector<std::string> registered;
  for (const auto& info : backbone_registry()) registered.push_back(info.name);
  const auto in_sources = registered_in_sources();
  EXPECT_GE(in_sources.size(), 11u);  // the regex still finds the built-in registrars
  EXPECT_EQ(registered, in_sources);  // none dropped by the static link, sorted, no duplicates
  for (const auto& info : backbone_registry()) {
    SCOPED_TRACE(info.name);
    EXPECT_EQ(&backbone_info(info.name), &info);  // lookup finds this entry, not a namesake
    EXPECT_FALSE(info.help.empty());
    for (const auto& opt : info.options) {
      EXPECT_LE(opt.lo, opt.value) << opt.name;
      EXPECT_LE(opt.value, opt.hi) << opt.name;
    }
  }
}

TEST(Registry, UnknownOptionIsRejectedNamingItsKeyAndTheValidOnes) {
  auto config = small_config();
  config.options = {{"expand", 2}, {"bogus", 1}};
  auto message = error_of([&] { make_backbone("mingru", config); });
  EXPECT_TRUE(contains(message, "model.mingru.bogus")) << message;
  EXPECT_TRUE(contains(message, "expand")) << message;

  config.options = {{"expand", 2}};  // an option of mingru, not of lstm
  message = error_of([&] { make_backbone("lstm", config); });
  EXPECT_TRUE(contains(message, "model.lstm.expand")) << message;
  EXPECT_TRUE(contains(message, "(none)")) << message;
}

TEST(Registry, OutOfRangeOptionIsRejectedNamingItsKeyAndRange) {
  auto config = small_config();
  config.options = {{"chunk", 0}};
  auto message = error_of([&] { make_backbone("mlstm", config); });
  EXPECT_TRUE(contains(message, "model.mlstm.chunk")) << message;
  EXPECT_TRUE(contains(message, "[1, ")) << message;
  config.options = {{"heads", 2}};  // heads is model.heads, shared by every head-wise backbone
  message = error_of([&] { make_backbone("mlstm", config); });
  EXPECT_TRUE(contains(message, "model.mlstm.heads")) << message;
  EXPECT_TRUE(contains(message, "set model.heads")) << message;
  config.options = {};
  config.heads = 4;  // does not divide dim 6
  message = error_of([&] { make_backbone("mlstm", config); });
  EXPECT_TRUE(contains(message, "model.heads: 4 does not divide")) << message;
  config.options = {{"expand", std::nan("")}};  // NaN compares false with everything: still rejected
  EXPECT_TRUE(contains(error_of([&] { make_backbone("mingru", config); }), "model.mingru.expand"));
}

TEST(Registry, RejectsBadSharedSettings) {
  auto bad = [](auto edit) {
    auto config = small_config();
    edit(config);
    return error_of([&] { make_backbone("gru", config); });
  };
  EXPECT_TRUE(contains(bad([](BackboneConfig& c) { c.dim = 0; }), "model.dim"));
  EXPECT_TRUE(contains(bad([](BackboneConfig& c) { c.layers = 0; }), "model.layers"));
  EXPECT_TRUE(contains(bad([](BackboneConfig& c) { c.heads = 0; }), "model.heads"));
  EXPECT_TRUE(contains(bad([](BackboneConfig& c) { c.dropout = 1.0; }), "model.dropout"));
  EXPECT_TRUE(contains(bad([](BackboneConfig& c) { c.max_tokens = 0; }), "model.max_tokens"));
}

// y_t = a ⊙ (running sum) + c ⊙ (running max); state {sum, max}.
class SumMaxMixerImpl : public MixerImpl {
 public:
  explicit SumMaxMixerImpl(int64_t dim) {
    sum_weight_ = register_parameter("sum_weight", torch::randn({dim}));
    max_weight_ = register_parameter("max_weight", torch::randn({dim}));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return sum_weight_ * x.cumsum(1) + max_weight_ * std::get<0>(x.cummax(1));
  }
  LayerState initial_state(int64_t batch) override {
    auto options = module_options(*this);
    return {torch::zeros({batch, sum_weight_.size(0)}, options),
            torch::full({batch, sum_weight_.size(0)}, -std::numeric_limits<double>::infinity(), options)};
  }
  torch::Tensor step(const torch::Tensor& x_t, LayerState& state) override {
    state = {state[0] + x_t, torch::maximum(state[1], x_t)};
    return sum_weight_ * state[0] + max_weight_ * state[1];
  }

 private:
  torch::Tensor sum_weight_, max_weight_;
};

// A registrar run after start-up (in a child process, to leave this process's registry as built):
// the backbone is found and built by name; registering a name twice, or an empty one, is one
// line on stderr and exit code 1.
TEST(Registry, RegistersAtRuntimeAndRejectsADuplicateOrEmptyNameWithOneLine) {
  auto sum_max = [](const BackboneConfig& c, int64_t) -> Mixer { return std::make_shared<SumMaxMixerImpl>(c.dim); };
  EXPECT_EXIT(
      {
        const BackboneRegistrar registrar(stack_backbone("sum_max", "running sum and max", {}, sum_max));
        auto y = make_backbone("sum_max", small_config())->forward(torch::randn({1, 3, 6}));
        std::fprintf(stderr, "built %s\n", y.size(1) == 3 ? "sum_max" : "?");
        BackboneRegistrar again(stack_backbone("sum_max", "again", {}, sum_max));
      },
      ::testing::ExitedWithCode(1),
      "built sum_max\nseqrl: error: cannot register backbone 'sum_max': the name is already registered");
  EXPECT_EXIT(BackboneRegistrar(stack_backbone("", "nameless", {}, sum_max)), ::testing::ExitedWithCode(1),
              "cannot register backbone '': the name is empty");
}

constexpr double kMlpRatio = 2.0;

// A float64 stack of SumMaxMixers in eval mode; every parameter random (LayerNorms included,
// so swapping norm1/norm2 or skipping one shows).
Backbone sum_max_stack(BackboneConfig config, std::vector<int64_t>* built_layers = nullptr) {
  torch::manual_seed(5);
  auto stack = make_residual_stack(
      config,
      [built_layers](const BackboneConfig& c, int64_t layer) -> Mixer {
        if (built_layers) built_layers->push_back(layer);
        return std::make_shared<SumMaxMixerImpl>(c.dim);
      },
      kMlpRatio);
  stack->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : stack->parameters()) p.uniform_(-1.0, 1.0);
  stack->eval();
  return stack;
}

using Row = std::vector<double>;

struct NaiveStack {
  std::vector<std::vector<Row>> out;                 // [B][T] rows of width D
  std::vector<std::vector<Row>> last_sum, last_max;  // [B][layer]: mixer state after the last step
};

// The stack, scalar by scalar, from the parameters of `stack` (layer l's are "layers.l.*").
NaiveStack naive_stack(const Backbone& stack, const torch::Tensor& x, int64_t layers) {
  auto params = stack->named_parameters();
  auto vec = [&](const std::string& name) {
    auto t = params[name].detach().contiguous();
    return Row(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  };
  auto layer_norm = [&](const Row& v, const std::string& name) {
    double mean = 0, var = 0;
    for (double e : v) mean += e / v.size();
    for (double e : v) var += (e - mean) * (e - mean) / v.size();
    Row w = vec(name + ".weight"), b = vec(name + ".bias"), y(v.size());
    for (size_t i = 0; i < v.size(); ++i) y[i] = (v[i] - mean) / std::sqrt(var + 1e-5) * w[i] + b[i];
    return y;
  };
  auto linear = [&](const Row& v, const std::string& name) {
    Row w = vec(name + ".weight"), b = vec(name + ".bias");
    Row y(b);
    for (size_t o = 0; o < y.size(); ++o)
      for (size_t i = 0; i < v.size(); ++i) y[o] += w[o * v.size() + i] * v[i];
    return y;
  };
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  NaiveStack result;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<Row> h(T);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < D; ++i) h[t].push_back(x[b][t][i].item<double>());
    result.last_sum.emplace_back();
    result.last_max.emplace_back();
    for (int64_t l = 0; l < layers; ++l) {
      const std::string prefix = "layers." + std::to_string(l) + ".";
      Row a = vec(prefix + "mixer.sum_weight"), c = vec(prefix + "mixer.max_weight");
      Row sum(D, 0.0), top(D, -INFINITY);
      for (int64_t t = 0; t < T; ++t) {
        Row u = layer_norm(h[t], prefix + "norm1");
        for (int64_t i = 0; i < D; ++i) {
          sum[i] += u[i];
          top[i] = std::max(top[i], u[i]);
          h[t][i] += a[i] * sum[i] + c[i] * top[i];
        }
        Row hidden = linear(layer_norm(h[t], prefix + "norm2"), prefix + "fc1");
        for (double& e : hidden) e = 0.5 * e * (1.0 + std::erf(e / std::sqrt(2.0)));
        Row mlp = linear(hidden, prefix + "fc2");
        for (int64_t i = 0; i < D; ++i) h[t][i] += mlp[i];
      }
      result.last_sum.back().push_back(sum);
      result.last_max.back().push_back(top);
    }
    std::vector<Row> y;
    for (const auto& row : h) y.push_back(layer_norm(row, "final_norm"));
    result.out.push_back(y);
  }
  return result;
}

// max |tensor − rows| over a [B, T, D] tensor and [B][T] rows.
double max_diff(const torch::Tensor& y, const std::vector<std::vector<Row>>& rows) {
  double worst = 0;
  for (size_t b = 0; b < rows.size(); ++b)
    for (size_t t = 0; t < rows[b].size(); ++t)
      for (size_t i = 0; i < rows[b][t].size(); ++i)
        worst = std::max(worst, std::abs(y[b][t][i].item<double>() - rows[b][t][i]));
  return worst;
}

TEST(ResidualStack, ComputesPreNormResidualLayersThenAFinalNorm) {
  auto config = small_config();
  config.dropout = 0.5;  // inactive in eval mode: the naive loop has no dropout
  auto stack = sum_max_stack(config);
  EXPECT_EQ(stack->named_parameters()["layers.0.fc1.weight"].sizes(), torch::IntArrayRef({12, 6}));  // ratio 2
  auto x = torch::randn({2, 7, 6}, torch::kFloat64) * 2;
  torch::NoGradGuard no_grad;
  auto y = stack->forward(x);
  EXPECT_LT(max_diff(y, naive_stack(stack, x, config.layers).out), 1e-12);
}

TEST(ResidualStack, BuildsOneMixerPerLayerInOrder) {
  auto config = small_config();
  config.layers = 3;
  std::vector<int64_t> built;
  auto stack = sum_max_stack(config, &built);
  EXPECT_EQ(built, (std::vector<int64_t>{0, 1, 2}));
  auto modules = stack->named_modules();
  for (const std::string layer : {"0", "1", "2"}) EXPECT_TRUE(modules.contains("layers." + layer + ".mixer"));
  EXPECT_FALSE(modules.contains("layers.3.mixer"));
  const auto state = stack->initial_state(4);
  ASSERT_EQ(state.size(), 3u);                                  // one entry per layer
  for (const auto& layer : state) EXPECT_EQ(layer.size(), 2u);  // sum and max
}

TEST(ResidualStack, DropoutActsOnBothBranchesOnlyInTraining) {
  auto config = small_config();
  config.dropout = 0.5;
  auto stack = sum_max_stack(config);
  auto params = stack->named_parameters();
  auto x = torch::randn({2, 9, 6}, torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto eval_out = stack->forward(x);
  EXPECT_TRUE(torch::equal(stack->forward(x), eval_out));
  stack->train();
  auto train_out = stack->forward(x);
  EXPECT_GT((train_out - eval_out).abs().max().item<double>(), 1e-3);
  EXPECT_GT((stack->forward(x) - train_out).abs().max().item<double>(), 1e-3);  // a fresh mask each call

  // Which branch is dropped: silence one branch at a time. With both silenced, the residual
  // stream passes through untouched — dropout is never applied to it.
  auto branch = [&](const std::vector<std::string>& names) {
    std::vector<torch::Tensor> tensors;
    for (const std::string layer : {"0", "1"})
      for (const auto& name : names) tensors.push_back(params["layers." + layer + "." + name]);
    return tensors;
  };
  auto mixer_params = branch({"mixer.sum_weight", "mixer.max_weight"}), mlp_params = branch({"fc2.weight", "fc2.bias"});
  auto train_minus_eval = [&] {
    stack->eval();
    auto reference = stack->forward(x);
    stack->train();
    return (stack->forward(x) - reference).abs().max().item<double>();
  };
  std::vector<torch::Tensor> mixer_saved;
  for (auto& p : mixer_params) mixer_saved.push_back(p.clone());
  for (auto& p : mixer_params) p.zero_();
  EXPECT_GT(train_minus_eval(), 1e-3);  // only the MLP branch is left, and it is dropped
  for (size_t i = 0; i < mixer_params.size(); ++i) mixer_params[i].copy_(mixer_saved[i]);
  for (auto& p : mlp_params) p.zero_();
  EXPECT_GT(train_minus_eval(), 1e-3);  // only the mixer branch is left, and it is dropped
  for (auto& p : mixer_params) p.zero_();
  EXPECT_EQ(train_minus_eval(), 0.0);
}

TEST(ResidualStack, StepEqualsForwardAndCarriesEachLayersState) {
  auto config = small_config();
  auto stack = sum_max_stack(config);
  auto x = torch::randn({2, 8, 6}, torch::kFloat64) * 2;
  torch::NoGradGuard no_grad;
  auto state = stack->initial_state(2);
  ASSERT_EQ(state.size(), 2u);
  std::vector<torch::Tensor> steps;
  for (int64_t t = 0; t < x.size(1); ++t) steps.push_back(stack->step(x.select(1, t), state));
  auto y_steps = torch::stack(steps, 1);
  EXPECT_LT((y_steps - stack->forward(x)).abs().max().item<double>(), 1e-12);

  // state[l] holds layer l's running sum and max of its normed input.
  auto naive = naive_stack(stack, x, config.layers);
  EXPECT_LT(max_diff(y_steps, naive.out), 1e-12);
  for (int64_t l = 0; l < config.layers; ++l) {
    EXPECT_LT(max_diff(state[l][0].unsqueeze(1), {{naive.last_sum[0][l]}, {naive.last_sum[1][l]}}), 1e-12);
    EXPECT_LT(max_diff(state[l][1].unsqueeze(1), {{naive.last_max[0][l]}, {naive.last_max[1][l]}}), 1e-12);
  }
}

}  // namespace
}  // namespace seqrl
