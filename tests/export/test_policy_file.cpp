// The .sqp file and the C API's failure paths: every kind of bad file gets NULL and a one-line
// message naming the source and what was wrong; misuse returns SQP_ERROR with a message. And the
// runtime's linear kernel and LayerNorm against float64 loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include "core/error.h"
#include "eval/policy_export.h"
#include "runtime/min_rnn.h"
#include "runtime/ops.h"
#include "runtime/sqp.h"
#include "runtime/sqp_format.h"
#include "tests/agents/dt_fixture.h"

using namespace seqrl;

namespace {

DecisionModel small_model(const std::string& backbone, int64_t context = 4) {
  DecisionModelConfig c;
  c.state_dim = 11;
  c.act_dim = 3;
  c.context = context;
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

// encode_policy's message for this model ("" if it exported).
std::string export_error(DecisionModel& model, PolicyDtype dtype = PolicyDtype::float32) {
  try {
    encode_policy(model, unit_scaling(), "hopper", 1800, dtype);
    return "";
  } catch (const seqrl::Error& e) {
    return e.what();
  }
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

uint32_t get_u32(const std::string& bytes, size_t offset) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(bytes[offset + i]);
  return v;
}

// Where each tensor record's fields are, walking the layout of runtime/sqp_format.h.
struct TensorRecord {
  std::string name;
  size_t dtype_offset = 0, values_offset = 0, values_bytes = 0;
};

std::vector<TensorRecord> tensor_records(const std::string& bytes) {
  std::vector<TensorRecord> records;
  size_t pos = SQP_HEADER_SIZE + 2 * 4 * size_t(get_u32(bytes, 80));  // past state_mean, state_std
  for (uint32_t t = 0, count = get_u32(bytes, 108); t < count; ++t) {
    TensorRecord r;
    const uint32_t len = get_u32(bytes, pos);
    r.name = bytes.substr(pos + 4, len);
    pos += 4 + len;
    const uint32_t rank = get_u32(bytes, pos);
    size_t numel = 1;
    for (uint32_t d = 0; d < rank; ++d) numel *= get_u32(bytes, pos + 4 + 4 * d);
    r.dtype_offset = pos + 4 + 4 * rank;
    r.values_offset = r.dtype_offset + 4;
    r.values_bytes = numel * (get_u32(bytes, r.dtype_offset) == SQP_DTYPE_F16 ? 2 : 4);
    pos = r.values_offset + r.values_bytes;
    records.push_back(r);
  }
  EXPECT_EQ(pos, bytes.size());
  return records;
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
  EXPECT_STREQ(info->weights, "float32");
  EXPECT_EQ(bytes.substr(0, 8), SQP_MAGIC);
  sqp_free(p);
  // The same bytes with int8 matrices; a flag the runtime does not know is refused by name.
  p = sqp_load_memory_ex(bytes.data(), bytes.size(), "good.sqp", SQP_LOAD_INT8, err, sizeof err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_STREQ(sqp_info(p)->weights, "int8");
  EXPECT_EQ(sqp_reset(p, 1800), SQP_OK);
  double obs[11] = {}, action[3];
  EXPECT_EQ(sqp_act(p, obs, action), SQP_OK) << sqp_error(p);
  sqp_free(p);
  EXPECT_EQ(sqp_load_memory_ex(bytes.data(), bytes.size(), "good.sqp", 2, err, sizeof err), nullptr);
  EXPECT_STREQ(err, "good.sqp: unknown load flags 2; expected 0 or SQP_LOAD_INT8");
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
  put_u32(version, 8, 1);
  EXPECT_NE(load_error(version).find("format version 1 is not supported; expected 2"), std::string::npos);
  auto dtype = bytes;
  put_u32(dtype, 12, 3);
  EXPECT_NE(load_error(dtype).find("dtype 3 is not supported; expected 1 (float32) or 2 (float16)"), std::string::npos);
  const auto first = tensor_records(bytes).front();
  auto tensor_dtype = bytes;
  put_u32(tensor_dtype, first.dtype_offset, 7);
  EXPECT_NE(load_error(tensor_dtype).find("tensor '" + first.name + "': dtype 7 is not supported"), std::string::npos)
      << load_error(tensor_dtype);
  auto mixed = bytes;  // a float16 tensor in a file whose header says float32
  put_u32(mixed, first.dtype_offset, SQP_DTYPE_F16);
  EXPECT_NE(load_error(mixed).find("is float16 but the header says every tensor is float32"), std::string::npos)
      << load_error(mixed);
}

// A float16 export holds its weight matrices rounded to float16 in half the bytes; vectors and
// the backbone's recurrence parameters (LRU's ν, θ, γ; S4's step and A) stay float32. The
// reader widens the binary16 values exactly.
TEST(PolicyFile, Float16ExportRoundsTheWeightMatricesOnly) {
  for (const std::string backbone : {"lru", "s4"}) {
    auto model = small_model(backbone);
    auto full = encode_policy(model, unit_scaling(), "hopper", 1800);
    auto half = encode_policy(model, unit_scaling(), "hopper", 1800, PolicyDtype::float16);
    EXPECT_LT(half.size(), full.size() * 0.65) << backbone;
    EXPECT_EQ(load_error(half), "");
    char err[512];
    sqp_policy* p = sqp_load_memory(half.data(), half.size(), "half.sqp", err, sizeof err);
    ASSERT_NE(p, nullptr) << err;
    EXPECT_STREQ(sqp_info(p)->weights, "float16");
    sqp_free(p);
    auto file = sqp::parse_policy_file(half, "half.sqp");
    EXPECT_EQ(file.dtype, SQP_DTYPE_F16);
    EXPECT_EQ(sqp::parse_policy_file(full, "full.sqp").dtype, SQP_DTYPE_F32);
    const std::string mixer = "backbone.layers.0.mixer.";
    const std::vector<std::string> float32 = backbone == "lru"
                                                 ? std::vector<std::string>{"nu_log", "theta_log", "gamma_log", "D"}
                                                 : std::vector<std::string>{"log_dt", "A_log_re", "A_im", "D"};
    const std::vector<std::string> float16 =
        backbone == "lru" ? std::vector<std::string>{"B_re", "C_im"} : std::vector<std::string>{"C_re", "out.weight"};
    for (const auto& leaf : float32) EXPECT_EQ(file.tensors.at(mixer + leaf).dtype, SQP_DTYPE_F32) << leaf;
    for (const auto& leaf : float16) EXPECT_EQ(file.tensors.at(mixer + leaf).dtype, SQP_DTYPE_F16) << leaf;
    EXPECT_EQ(file.tensors.at("backbone.layers.1.fc1.weight").dtype, SQP_DTYPE_F16);
    EXPECT_EQ(file.tensors.at("backbone.layers.1.fc1.bias").dtype, SQP_DTYPE_F32);
    size_t checked = 0;
    for (const auto& item : model->named_parameters()) {
      const auto& stored = file.tensors.at(item.key());
      auto expected = item.value().detach().flatten().contiguous();
      if (stored.dtype == SQP_DTYPE_F16) expected = expected.to(torch::kHalf).to(torch::kFloat32).contiguous();
      ASSERT_EQ(stored.values.size(), size_t(expected.numel())) << item.key();
      for (size_t i = 0; i < stored.values.size(); ++i)
        ASSERT_EQ(stored.values[i], expected.data_ptr<float>()[i]) << item.key() << "[" << i << "]";
      ++checked;
    }
    EXPECT_EQ(checked, file.tensors.size());
  }
}

TEST(PolicyFile, BadFloat16FilesAreRejected) {
  auto model = small_model("mingru");
  auto half = encode_policy(model, unit_scaling(), "hopper", 1800, PolicyDtype::float16);
  for (size_t size : {size_t(130), half.size() / 2, half.size() - 1})
    EXPECT_NE(load_error(half.substr(0, size)).find("truncated"), std::string::npos) << size;
  const auto records = tensor_records(half);
  auto f16 = std::find_if(records.begin(), records.end(),
                          [&](const TensorRecord& r) { return get_u32(half, r.dtype_offset) == SQP_DTYPE_F16; });
  ASSERT_NE(f16, records.end());
  for (uint16_t bits : {uint16_t(0x7c00), uint16_t(0xfc00), uint16_t(0x7e00)}) {  // +inf, -inf, NaN
    auto bad = half;
    bad[f16->values_offset + 2] = static_cast<char>(bits & 0xff),
                             bad[f16->values_offset + 3] = static_cast<char>(bits >> 8);
    EXPECT_NE(load_error(bad).find("tensor '" + f16->name + "': value 1 is not finite"), std::string::npos)
        << load_error(bad);
  }
}

TEST(PolicyFile, Float16ExportRejectsWeightsBeyondItsRange) {
  auto model = small_model("mingru");
  {
    torch::NoGradGuard no_grad;
    model->parameters()[0].view(-1)[0] = 70000.0f;  // finite in float32, beyond float16's 65504
  }
  EXPECT_EQ(export_error(model), "");
  EXPECT_NE(export_error(model, PolicyDtype::float16).find("beyond float16's range"), std::string::npos)
      << export_error(model, PolicyDtype::float16);
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

// The KV cache is sized from max_tokens before any weight is read: a file may not ask for more
// than 3 x the longest context a config accepts, or a few kilobytes could claim gigabytes.
TEST(PolicyFile, KvCacheLongerThanAnyContextIsRejected) {
  auto bytes = exported("transformer");
  ASSERT_EQ(get_u32(bytes, 104), 12u);  // 3 * context 4
  auto longest = bytes;
  put_u32(longest, 104, SQP_MAX_TOKENS);
  EXPECT_EQ(load_error(longest), "");
  auto longer = bytes;
  put_u32(longer, 104, SQP_MAX_TOKENS + 1);
  EXPECT_NE(load_error(longer).find("max_tokens: 12289 is out of range [1, 12288]"), std::string::npos)
      << load_error(longer);
  put_u32(longer, 104, 0xffffffffu);
  EXPECT_NE(load_error(longer).find("max_tokens: 4294967295 is out of range"), std::string::npos);
}

TEST(PolicyFile, ExportRejectsAContextTheFormatCannotHold) {
  auto model = small_model("transformer", SQP_MAX_TOKENS / 3 + 1);
  EXPECT_EQ(export_error(model), "export: max_tokens = 12291 (3 * model.context) is above the format's 12288");
}

// Finite weights can still overflow: a file whose state embedding is 3e38 everywhere makes the
// embedding inf and its norm NaN. sqp_act says so instead of returning a NaN action, and the
// episode must be reset before acting again.
TEST(RuntimeApi, OverflowingArithmeticIsAnErrorNotANanAction) {
  auto bytes = exported();
  for (const auto& r : tensor_records(bytes))
    if (r.name == "embed_state.weight")
      for (size_t at = r.values_offset; at < r.values_offset + r.values_bytes; at += 4) {
        const float huge = 3e38f;
        std::memcpy(&bytes[at], &huge, 4);
      }
  char err[512];
  sqp_policy* p = sqp_load_memory(bytes.data(), bytes.size(), "huge.sqp", err, sizeof err);
  ASSERT_NE(p, nullptr) << err;
  double obs[11], action[3];
  std::fill(obs, obs + 11, 1.0);
  ASSERT_EQ(sqp_reset(p, 1800), SQP_OK);
  EXPECT_EQ(sqp_act(p, obs, action), SQP_ERROR);
  EXPECT_STREQ(sqp_error(p), "sqp_act: action[0] is not finite: the policy's arithmetic overflowed; call sqp_reset");
  EXPECT_EQ(sqp_act(p, obs, action), SQP_ERROR);
  EXPECT_STREQ(sqp_error(p), "sqp_act: call sqp_reset first");
  sqp_free(p);
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
  EXPECT_EQ(export_error(model), "export: action_head.bias has non-finite values");
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
// float64 loop, with float32 and float16 weights; LayerNorm likewise.
TEST(RuntimeOps, LinearAndLayerNormMatchFloat64Loops) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  // Twice: float32 weights, then weights rounded to float16 as a float16 file holds them, which
  // the runtime keeps in binary16 where the CPU widens it in hardware (x86-64 F16C).
  for (bool half : {false, true}) {
    for (int in : {1, 7, 64}) {
      for (int out : {1, 13, 40, 67}) {
        std::vector<float> w(size_t(in) * out), b(out), x(size_t(7) * in);
        for (auto* v : {&w, &b, &x})
          for (auto& e : *v) e = normal(rng);
        if (half) {
          auto rounded = torch::from_blob(w.data(), {int64_t(w.size())}).to(torch::kHalf).to(torch::kFloat32);
          std::copy(rounded.data_ptr<float>(), rounded.data_ptr<float>() + w.size(), w.begin());
        }
        auto linear = sqp::Linear::from(w.data(), b.data(), in, out);
#if defined(__x86_64__)
        EXPECT_EQ(linear.weight_t_half.empty(), !(half && __builtin_cpu_supports("f16c"))) << in << "x" << out;
#endif
        for (int rows = 1; rows <= 7; ++rows) {
          std::vector<float> y(size_t(rows) * out, -1.0f);
          linear.apply(x.data(), rows, y.data());
          for (int r = 0; r < rows; ++r)
            for (int o = 0; o < out; ++o) {
              double ref = b[o];
              for (int i = 0; i < in; ++i) ref += double(w[size_t(o) * in + i]) * x[size_t(r) * in + i];
              ASSERT_NEAR(y[size_t(r) * out + o], ref, 1e-5 * (1 + std::abs(ref)))
                  << (half ? "float16 " : "") << in << "x" << out << " row " << r;
            }
        }
      }
    }
  }
  // Rows: 1 value, a tail after the 16-wide sums, none; and a mean 10^7 deviations from zero,
  // with the first value (the one-pass sums' shift) an outlier at 4 deviations. x − mean is a
  // float32 subtraction of the rounded mean, as in torch's layer_norm (the reference rounds it
  // too: at 10^7 deviations that rounding alone is up to a third of a deviation).
  for (int dim : {1, 37, 128}) {
    for (double offset : {3.0, 1e3}) {
      const double spread = offset > 10 ? 1e-4 : 2.0;
      sqp::LayerNorm norm{std::vector<float>(dim), std::vector<float>(dim)};
      std::vector<float> x(dim), y(dim);
      for (int i = 0; i < dim; ++i)
        norm.weight[i] = normal(rng), norm.bias[i] = normal(rng), x[i] = float(offset + spread * normal(rng));
      x[0] = float(offset + 4 * spread);
      norm.apply(x.data(), y.data());
      double mean = 0, var = 0;
      for (float v : x) mean += v / double(dim);
      for (float v : x) var += (v - mean) * (v - mean) / dim;
      for (int i = 0; i < dim; ++i)
        EXPECT_NEAR(y[i], (x[i] - double(float(mean))) / std::sqrt(var + 1e-5) * norm.weight[i] + norm.bias[i],
                    1e-5 * (1 + std::abs(y[i])))
            << dim << " offset " << offset;
    }
  }
}

// The int8 rounding as runtime/ops.h defines it, written out independently: m = max |x|, the
// float32 factor 127 / m, round half to even, scale m / 127.
float reference_quantize(const float* x, int n, std::vector<int>& q) {
  float m = 0;
  for (int i = 0; i < n; ++i) m = std::max(m, std::abs(x[i]));
  q.assign(n, 0);
  if (m < 0x1p-100f) return 0;  // a row this small counts as zero
  const float inv = 127.0f / m;
  for (int i = 0; i < n; ++i) q[i] = int(std::nearbyint(x[i] * inv));
  return m / 127.0f;
}

// Linear in int8 (SQP_LOAD_INT8) on random rows, widths that are not multiples of the kernel's
// 4-input groups or 16/64/128-output blocks, against (a) its definition, summed in float64 from
// independently rounded integers, and (b) the float64 product of the unrounded values, within
// the rounding's exact error bound Σ |x||e_w| + |w||e_x| + |e_x||e_w| (|e| ≤ half a step).
TEST(RuntimeOps, Int8LinearMatchesItsDefinitionAndTheRoundingBound) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  for (int in : {1, 7, 64, 130, 1100}) {  // 1100: past the float-exact sums, apply_portable sums integers
    for (int out : {1, 13, 67, 130, 384}) {
      std::vector<float> w(size_t(in) * out), b(out), x(size_t(7) * in);
      for (auto* v : {&w, &b, &x})
        for (auto& e : *v) e = normal(rng);
      for (int i = 0; i < in; ++i) x[i] *= 30;  // one row of a larger scale
      auto linear = sqp::Linear::from(w.data(), b.data(), in, out, sqp::Precision::int8);
      ASSERT_FALSE(linear.weight_q.empty());
      std::vector<std::vector<int>> qw(out);
      std::vector<float> sw(out);
      for (int o = 0; o < out; ++o) sw[o] = reference_quantize(&w[size_t(o) * in], in, qw[o]);
      for (int rows = 1; rows <= 7; ++rows) {
        std::vector<float> y(size_t(rows) * out, -1.0f), y_portable(y);
        linear.apply(x.data(), rows, y.data());
        linear.apply_portable(x.data(), rows, y_portable.data());
        ASSERT_EQ(y, y_portable) << in << "x" << out << " rows " << rows;
        for (int r = 0; r < rows; ++r) {
          std::vector<int> qx;
          const float* xr = &x[size_t(r) * in];
          const float sx = reference_quantize(xr, in, qx);
          for (int o = 0; o < out; ++o) {
            int64_t acc = 0;
            double exact = b[o], bound = 0;
            for (int i = 0; i < in; ++i) {
              acc += int64_t(qx[i]) * qw[o][i];
              const double wi = w[size_t(o) * in + i];
              exact += wi * xr[i];
              bound += std::abs(xr[i]) * 0.5 * sw[o] + std::abs(wi) * 0.5 * sx + 0.25 * sx * sw[o];
            }
            const double defined = double(acc) * double(sx) * double(sw[o]) + b[o];
            const double got = y[size_t(r) * out + o];
            ASSERT_NEAR(got, defined, 1e-6 * (std::abs(double(acc) * sx * sw[o]) + std::abs(b[o])) + 1e-7)
                << in << "x" << out << " row " << r << " output " << o;
            ASSERT_LE(std::abs(got - exact), bound * (1 + 1e-5) + 1e-6) << in << "x" << out << " row " << r;
          }
        }
      }
    }
  }
  // A zero (or subnormal) row gives the bias; a NaN or an infinity anywhere in a row makes the whole row NaN,
  // so the runtime's non-finite-action check sees it, and leaves the other rows alone.
  std::vector<float> w(8 * 5), b(5);
  for (auto* v : {&w, &b})
    for (auto& e : *v) e = normal(rng);
  auto linear = sqp::Linear::from(w.data(), b.data(), 8, 5, sqp::Precision::int8);
  for (float bad : {0.0f, 1e-40f, NAN, INFINITY}) {
    std::vector<float> x(3 * 8, 0.5f), y(3 * 5);
    for (int i = 0; i < 8; ++i) x[8 + i] = 0;
    x[8 + 3] = bad;
    linear.apply(x.data(), 3, y.data());
    for (int o = 0; o < 5; ++o) {
      if (std::abs(bad) < 1.0f)  // zero, or small enough to count as zero
        EXPECT_EQ(y[5 + o], b[o]);
      else
        EXPECT_TRUE(std::isnan(y[5 + o])) << bad;
      EXPECT_TRUE(std::isfinite(y[o]) && std::isfinite(y[10 + o]));
      EXPECT_EQ(y[o], y[10 + o]);  // rows 0 and 2 are the same input
    }
  }
}

// quantize_row: the integers of its definition, within ±127, the scale times 127 at the largest |x|.
TEST(RuntimeOps, QuantizeRowRoundsToItsDefinition) {
  std::mt19937 rng(12);
  std::normal_distribution<float> normal(0.0f, 5.0f);
  for (int n : {1, 5, 16, 33, 512}) {
    std::vector<float> x(n);
    for (auto& v : x) v = normal(rng);
    x[n / 2] = 0.5f;  // a tie at some scale is possible; round half to even either way
    if (n == 33)      // subnormal and tiny values, where 127 / m overflows (they count as zero)
      for (auto& v : x) v *= 1e-40f;
    if (n == 16)
      for (auto& v : x) v *= 1e-25f;  // small but above kInt8Smallest: rounded as usual
    std::vector<int8_t> q(n);
    std::vector<int> expected;
    const float scale = sqp::quantize_row(x.data(), n, q.data());
    EXPECT_EQ(scale, reference_quantize(x.data(), n, expected));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(q[i], expected[i]) << n << " " << i;
      EXPECT_LE(std::abs(int(q[i])), 127);
      const double half_step = scale > 0 ? 0.5 * scale * (1 + 1e-6) : 0x1p-100;  // a zero row: |x| < 2^-100
      EXPECT_LE(std::abs(q[i] * double(scale) - x[i]), half_step) << n << " " << i;
    }
  }
}

// Loops over σ, tanh and g compiled as the runtime's cells are (SQP_ELEMENTWISE_CLONES), so
// that the test sees the vectorized code (FMA contractions included) as well as the scalar.
SQP_ELEMENTWISE_CLONES void sigmoid_tanh_g_loops(float* sigmoid, float* tanh, float* g, int n) {
  for (int i = 0; i < n; ++i) {
    sigmoid[i] = sqp::sigmoid(sigmoid[i]);
    tanh[i] = sqp::tanh_poly(tanh[i]);
    g[i] = sqp::min_rnn_g(g[i]);
  }
}

// e^x, σ, tanh and minGRU's g, in vector loops and as scalar functions, against float64 on
// random and edge inputs. exp_poly is exact to float32's rounding inside [−87, 88] and clamps
// outside it, which leaves σ and tanh within 1e-37 of their limits there.
TEST(RuntimeOps, ExpSigmoidTanhAndGMatchFloat64) {
  std::mt19937 rng(6);
  std::vector<float> x;
  for (float scale : {0.1f, 3.0f, 40.0f}) {
    std::normal_distribution<float> normal(0.0f, scale);
    for (int i = 0; i < 50000; ++i) x.push_back(normal(rng));
  }
  for (float edge : {0.0f,  -0.0f,  1e-30f, -1e-30f, 0.25f,  -0.25f,  0.2499999f, -0.2499999f, 86.9f,    -86.9f,
                     87.0f, -87.0f, 88.0f,  -88.0f,  100.0f, -100.0f, 1e30f,      -1e30f,      INFINITY, -INFINITY})
    x.push_back(edge);
  auto sig = x, tanh = x, g = x;
  sigmoid_tanh_g_loops(sig.data(), tanh.data(), g.data(), int(x.size()));
  double worst_exp = 0, worst_sigmoid = 0, worst_tanh = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    if (v >= -87 && v <= 88) {
      const double ref = std::exp(v), err = std::abs(sqp::exp_poly(x[i]) - ref) / ref;
      worst_exp = std::max(worst_exp, err);
      ASSERT_LE(err, 2.5e-7) << "exp(" << x[i] << ")";
    }
    const double sigmoid = 1.0 / (1.0 + std::exp(-v)), tanh_ref = std::tanh(v);
    const double sigmoid_err = std::abs(sig[i] - sigmoid), tanh_err = std::abs(tanh[i] - tanh_ref);
    worst_sigmoid = std::max(worst_sigmoid, sigmoid_err / (sigmoid + 1e-30));
    worst_tanh = std::max(worst_tanh, tanh_err / (std::abs(tanh_ref) + 1e-30));
    ASSERT_LE(sigmoid_err, 3e-7 * sigmoid + 1e-37) << "sigmoid(" << x[i] << ") = " << sig[i];
    ASSERT_LE(tanh_err, 6e-7 * std::abs(tanh_ref) + 1e-37) << "tanh(" << x[i] << ") = " << tanh[i];
    ASSERT_LE(std::abs(sqp::sigmoid(x[i]) - sigmoid), 3e-7 * sigmoid + 1e-37) << "scalar sigmoid(" << x[i] << ")";
    ASSERT_LE(std::abs(sqp::tanh_poly(x[i]) - tanh_ref), 6e-7 * std::abs(tanh_ref) + 1e-37)
        << "scalar tanh(" << x[i] << ")";
    const double g_ref = v >= 0 ? v + 0.5 : sigmoid;
    ASSERT_TRUE(g[i] == g_ref || std::abs(g[i] - g_ref) <= 3e-7 * std::abs(g_ref) + 1e-37)  // g(∞) = ∞
        << "g(" << x[i] << ") = " << g[i];
  }
  std::printf("worst relative error: exp %.3g, sigmoid %.3g, tanh %.3g\n", worst_exp, worst_sigmoid, worst_tanh);
  float nan[3] = {std::nanf(""), std::nanf(""), std::nanf("")};
  sigmoid_tanh_g_loops(&nan[0], &nan[1], &nan[2], 1);
  for (float v : nan) EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(std::isnan(sqp::exp_poly(std::nanf(""))));
}

SQP_ELEMENTWISE_CLONES void softplus_loop(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = sqp::softplus(x[i]);
}

// softplus (Mamba's Δ), in a vector loop and as the scalar function, against float64's
// log1p(exp(x)) on random and edge inputs: relative to float32's rounding where |x| ≤ 87 (e^−87 is
// where exp_poly clamps); below −87 it stays at e^−87 ≈ 1.6e-38.
TEST(RuntimeOps, SoftplusMatchesFloat64) {
  std::mt19937 rng(8);
  std::vector<float> x;
  for (float scale : {0.01f, 1.0f, 10.0f, 40.0f}) {
    std::normal_distribution<float> normal(0.0f, scale);
    for (int i = 0; i < 50000; ++i) x.push_back(normal(rng));
  }
  for (float edge : {0.0f, -0.0f, 1e-30f, -1e-30f, 19.99f, 20.0f, 20.01f, -20.0f, 86.9f, -86.9f, 87.0f, -87.0f, 100.0f,
                     -100.0f, 1e30f, -1e30f, INFINITY, -INFINITY})
    x.push_back(edge);
  auto softplus = x;
  softplus_loop(softplus.data(), int(x.size()));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    if (std::abs(v) > 87) {
      const double limit = v > 0 ? v : 0.0;  // +∞ equal
      EXPECT_TRUE(softplus[i] == limit || std::abs(softplus[i] - limit) <= 2e-38)
          << "softplus(" << x[i] << ") = " << softplus[i];
      continue;
    }
    // log(1 + e^v) without overflow; torch's threshold returns v itself above 20.
    const double ref = v > 20 ? v : std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v)));
    const double err = std::abs(softplus[i] - ref) / ref;
    worst = std::max(worst, err);
    ASSERT_LE(err, 6e-7) << "softplus(" << x[i] << ") = " << softplus[i];
    ASSERT_LE(std::abs(sqp::softplus(x[i]) - ref), 6e-7 * ref) << "scalar softplus(" << x[i] << ")";
  }
  std::printf("worst relative error: softplus %.3g\n", worst);
  float nan = std::nanf("");
  softplus_loop(&nan, 1);
  EXPECT_TRUE(std::isnan(nan));
}

// GELU (erf form), the vector loop and the scalar function, against float64's erf on random and
// edge inputs: the rational erf keeps the error near float32's rounding.
TEST(RuntimeOps, GeluMatchesFloat64Erf) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(100000);
  for (auto& v : x) v = normal(rng);
  for (float edge : {0.0f, -0.0f, 1e-30f, -1e-30f, 5.37f, -5.37f, 5.38f, -5.38f, 30.0f, -30.0f, 1e30f, -1e30f})
    x.push_back(edge);
  auto y = x;
  sqp::gelu_inplace(y.data(), int(y.size()));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = 0.5 * double(x[i]) * (1.0 + std::erf(double(x[i]) / std::sqrt(2.0)));
    const double err = std::abs(y[i] - ref);
    worst = std::max(worst, err);
    ASSERT_LE(err, 1e-6 + 2.5e-7 * std::abs(ref)) << "gelu(" << x[i] << ") = " << y[i] << ", expected " << ref;
    ASSERT_LE(std::abs(sqp::gelu(x[i]) - ref), 1e-6 + 2.5e-7 * std::abs(ref)) << "scalar gelu(" << x[i] << ")";
  }
  std::printf("worst |gelu - float64| = %.3g\n", worst);
  float nan = std::nanf("");
  sqp::gelu_inplace(&nan, 1);
  EXPECT_TRUE(std::isnan(nan));
}

}  // namespace
