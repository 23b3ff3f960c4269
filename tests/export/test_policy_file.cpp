// The .sqp file and the C API's failure paths: every kind of bad file gets NULL and a one-line
// message naming the source and what was wrong; misuse returns SQP_ERROR with a message. And the
// runtime's linear kernel and LayerNorm against float64 loops.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include "core/error.h"
#include "eval/policy_export.h"
#include "runtime/ops.h"
#include "runtime/sqp.h"
#include "runtime/sqp_format.h"
#include "tests/agents/dt_fixture.h"

using namespace seqrl;

namespace {

DecisionModel small_model(const std::string& backbone) {
  DecisionModelConfig c;
  c.state_dim = 11;
  c.act_dim = 3;
  c.context = 4;
  c.max_ep_len = 50;
  c.backbone = backbone;
  c.backbone_config.dim = 16;
  c.backbone_config.layers = 2;
  return DecisionModel(c);
}

PolicyScaling unit_scaling() { return {torch::zeros({11}), torch::ones({11}), 1000}; }

std::string exported(const std::string& backbone = "mingru") {
  auto model = small_model(backbone);
  return encode_policy(model, unit_scaling(), "hopper", 1800);
}

// sqp_load_memory's message for these bytes ("" if it loaded).
std::string load_error(const std::string& bytes) {
  char err[512];
  sqp_policy* p = sqp_load_memory(bytes.data(), bytes.size(), "bad.sqp", err, sizeof err);
  if (p) {
    sqp_free(p);
    return "";
  }
  EXPECT_EQ(std::string(err).find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(std::string(err).rfind("bad.sqp: ", 0), 0u) << err;
  return err;
}

void put_u32(std::string& bytes, size_t offset, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<char>(v >> (8 * i) & 0xff);
}

TEST(PolicyFile, ExportedFileLoadsWithItsHeader) {
  auto bytes = exported();
  char err[512];
  sqp_policy* p = sqp_load_memory(bytes.data(), bytes.size(), "good.sqp", err, sizeof err);
  ASSERT_NE(p, nullptr) << err;
  const auto* info = sqp_info(p);
  EXPECT_STREQ(info->backbone, "mingru");
  EXPECT_STREQ(info->env, "hopper");
  EXPECT_EQ(info->state_dim, 11);
  EXPECT_EQ(info->act_dim, 3);
  EXPECT_EQ(info->dim, 16);
  EXPECT_EQ(info->layers, 2);
  EXPECT_EQ(info->reward_scale, 1000);
  EXPECT_EQ(info->target_return, 1800);
  EXPECT_EQ(bytes.substr(0, 8), SQP_MAGIC);
  sqp_free(p);
}

TEST(PolicyFile, TruncatedAnywhereIsRejected) {
  auto bytes = exported();
  for (size_t size : {size_t(0), size_t(7), size_t(20), size_t(127), size_t(200), bytes.size() / 2, bytes.size() - 1}) {
    auto message = load_error(bytes.substr(0, size));
    EXPECT_NE(message.find("truncated"), std::string::npos) << size << ": " << message;
  }
}

TEST(PolicyFile, WrongMagicVersionOrDtypeIsRejected) {
  auto bytes = exported();
  auto magic = bytes;
  magic[0] = 'X';
  EXPECT_NE(load_error(magic).find("not a seqrl policy file"), std::string::npos);
  auto version = bytes;
  put_u32(version, 8, 2);
  EXPECT_NE(load_error(version).find("format version 2 is not supported; expected 1"), std::string::npos);
  auto dtype = bytes;
  put_u32(dtype, 12, 2);
  EXPECT_NE(load_error(dtype).find("dtype 2"), std::string::npos);
}

TEST(PolicyFile, SizesThatDoNotAddUpAreRejected) {
  auto bytes = exported();
  EXPECT_NE(load_error(bytes + "junk").find("bytes after the last"), std::string::npos);
  auto wider = bytes;
  put_u32(wider, 88, 17);  // dim 17, the tensors are 16 wide
  EXPECT_NE(load_error(wider).find("expected shape"), std::string::npos) << load_error(wider);
  auto more = bytes;
  put_u32(more, 108, 1000);  // tensor_count larger than the file holds
  EXPECT_NE(load_error(more).find("truncated"), std::string::npos);
  auto zero = bytes;
  put_u32(zero, 80, 0);
  EXPECT_NE(load_error(zero).find("state_dim: 0 is out of range"), std::string::npos);
}

TEST(PolicyFile, NonFiniteValuesAreRejected) {
  auto bytes = exported();
  float nan = std::nanf("");
  std::memcpy(&bytes[bytes.size() - 4], &nan, 4);  // the last value of the last tensor
  EXPECT_NE(load_error(bytes).find("is not finite"), std::string::npos) << load_error(bytes);
  auto std0 = exported();
  std::memset(&std0[128 + 4 * 11], 0, 4);  // state_std[0] = 0
  EXPECT_NE(load_error(std0).find("state_std[0]: expected > 0"), std::string::npos);
}

TEST(PolicyFile, UnsupportedBackboneNamesTheSupportedOnes) {
  auto bytes = exported();
  std::memcpy(&bytes[16], "rnn\0\0\0", 6);
  auto message = load_error(bytes);
  EXPECT_NE(message.find("backbone 'rnn' has no runtime support; supported: "), std::string::npos) << message;
  EXPECT_NE(message.find("mingru"), std::string::npos);
}

TEST(PolicyFile, MissingFileNamesThePath) {
  char err[512];
  EXPECT_EQ(sqp_load("/nonexistent/policy.sqp", err, sizeof err), nullptr);
  EXPECT_STREQ(err, "/nonexistent/policy.sqp: cannot open for reading");
}

TEST(PolicyFile, ExportRejectsNonFiniteWeights) {
  auto model = small_model("mingru");
  {
    torch::NoGradGuard no_grad;
    model->named_parameters()["action_head.bias"][0] = std::nan("");
  }
  try {
    encode_policy(model, unit_scaling(), "hopper", 1800);
    FAIL() << "expected an error";
  } catch (const seqrl::Error& e) {
    EXPECT_STREQ(e.what(), "export: action_head.bias has non-finite values");
  }
}

TEST(PolicyFile, ExportCliFailsWithOneLineForAMissingRun) {
  std::string out;
  EXPECT_EQ(seqrl::testing::run_command(std::string(SEQRL_CLI) + " export /nonexistent/run -o /tmp/x.sqp", &out), 1);
  EXPECT_NE(out.find("/nonexistent/run"), std::string::npos) << out;
}

TEST(RuntimeApi, MisuseIsAnErrorValueWithAMessage) {
  auto bytes = exported();
  char err[512];
  sqp_policy* p = sqp_load_memory(bytes.data(), bytes.size(), "good.sqp", err, sizeof err);
  ASSERT_NE(p, nullptr) << err;
  double obs[11] = {}, action[3];
  EXPECT_EQ(sqp_act(p, obs, action), SQP_ERROR);
  EXPECT_STREQ(sqp_error(p), "sqp_act: call sqp_reset first");
  EXPECT_EQ(sqp_reset(p, 1800), SQP_OK);
  obs[4] = std::nan("");
  EXPECT_EQ(sqp_act(p, obs, action), SQP_ERROR);
  EXPECT_STREQ(sqp_error(p), "sqp_act: obs[4] is not finite");
  obs[4] = 0;
  EXPECT_EQ(sqp_act(p, obs, action), SQP_OK);
  EXPECT_STREQ(sqp_error(p), "");
  for (double a : action) EXPECT_LT(std::abs(a), 1.0);
  EXPECT_EQ(sqp_observe(p, action, std::nan("")), SQP_ERROR);
  EXPECT_EQ(sqp_act(nullptr, obs, action), SQP_ERROR);
  sqp_free(p);
}

// Linear over 1..7 rows with widths that are not multiples of the kernel's blocks, against a
// float64 loop; LayerNorm likewise.
TEST(RuntimeOps, LinearAndLayerNormMatchFloat64Loops) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (int in : {1, 7, 64}) {
    for (int out : {1, 13, 40, 67}) {
      std::vector<float> w(size_t(in) * out), b(out), x(size_t(7) * in);
      for (auto* v : {&w, &b, &x})
        for (auto& e : *v) e = normal(rng);
      auto linear = sqp::Linear::from(w.data(), b.data(), in, out);
      for (int rows = 1; rows <= 7; ++rows) {
        std::vector<float> y(size_t(rows) * out, -1.0f);
        linear.apply(x.data(), rows, y.data());
        for (int r = 0; r < rows; ++r)
          for (int o = 0; o < out; ++o) {
            double ref = b[o];
            for (int i = 0; i < in; ++i) ref += double(w[size_t(o) * in + i]) * x[size_t(r) * in + i];
            ASSERT_NEAR(y[size_t(r) * out + o], ref, 1e-5 * (1 + std::abs(ref))) << in << "x" << out << " row " << r;
          }
      }
    }
  }
  const int dim = 37;
  sqp::LayerNorm norm{std::vector<float>(dim), std::vector<float>(dim)};
  std::vector<float> x(dim), y(dim);
  for (int i = 0; i < dim; ++i) norm.weight[i] = normal(rng), norm.bias[i] = normal(rng), x[i] = 3 + 2 * normal(rng);
  norm.apply(x.data(), y.data());
  double mean = 0, var = 0;
  for (float v : x) mean += v / double(dim);
  for (float v : x) var += (v - mean) * (v - mean) / dim;
  for (int i = 0; i < dim; ++i)
    EXPECT_NEAR(y[i], (x[i] - mean) / std::sqrt(var + 1e-5) * norm.weight[i] + norm.bias[i], 1e-5);
}

}  // namespace
