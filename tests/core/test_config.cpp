// Config: precedence (built-in < yaml < overrides), `defaults` chains, validation messages.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/config.h"
#include "core/error.h"

namespace fs = std::filesystem;
using seqrl::Config;

namespace {

struct Settings {
  int steps = 100;
  double lr = 1e-4;
  bool amp = false;
  std::string backbone = "transformer";
  std::vector<double> targets{3600, 1800};
  std::vector<int> seeds{0};
  void bind(Config& c) {
    c.add("train.steps", &steps, 1, 1000000, "optimizer steps");
    c.add("train.lr", &lr, 0.0, 1.0, "learning rate");
    c.add("train.amp", &amp, "mixed precision");
    c.add("model.backbone", &backbone, {"transformer", "mingru"}, "sequence backbone");
    c.add("eval.targets", &targets, -1e6, 1e6, "target returns");
    c.add("run.seeds", &seeds, 0, 1000, "seeds");
  }
};

class ConfigTest : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("seqrl_cfg_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = (dir / name).string();
    std::ofstream(p) << text;
    return p;
  }
  // The message of the seqrl::Error that `f` throws (fails the test if none).
  template <typename F>
  std::string error_of(F f) {
    try {
      f();
    } catch (const seqrl::Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected seqrl::Error";
    return "";
  }
};

TEST_F(ConfigTest, BuiltInDefaultsSurviveWhenNothingIsSet) {
  Settings s;
  Config c;
  s.bind(c);
  c.resolve();
  EXPECT_EQ(s.steps, 100);
  EXPECT_EQ(s.backbone, "transformer");
}

TEST_F(ConfigTest, YamlOverridesDefaultsAndCommandLineOverridesYaml) {
  Settings s;
  Config c;
  s.bind(c);
  c.load_yaml(write("x.yaml", "train:\n  steps: 2000\n  lr: 0.001\nmodel:\n  backbone: mingru\n"));
  c.apply_overrides({"train.steps=50", "eval.targets=[1,2,3]"});
  c.resolve();
  EXPECT_EQ(s.steps, 50);           // override beats yaml
  EXPECT_DOUBLE_EQ(s.lr, 0.001);    // yaml beats default
  EXPECT_EQ(s.backbone, "mingru");
  EXPECT_EQ(s.targets, (std::vector<double>{1, 2, 3}));
  EXPECT_FALSE(s.amp);              // untouched default
}

TEST_F(ConfigTest, DefaultsChainIsMergedFirstAndFileWins) {
  write("base.yaml", "train:\n  steps: 7\n  lr: 0.5\n");
  write("mid.yaml", "defaults: base.yaml\ntrain:\n  lr: 0.25\n");
  Settings s;
  Config c;
  s.bind(c);
  c.load_yaml(write("top.yaml", "defaults: [mid.yaml]\ntrain:\n  amp: true\n"));
  c.resolve();
  EXPECT_EQ(s.steps, 7);
  EXPECT_DOUBLE_EQ(s.lr, 0.25);
  EXPECT_TRUE(s.amp);
}

TEST_F(ConfigTest, DefaultsCycleIsAnError) {
  write("a.yaml", "defaults: b.yaml\n");
  auto b = write("b.yaml", "defaults: a.yaml\n");
  Settings s;
  Config c;
  s.bind(c);
  EXPECT_NE(error_of([&] { c.load_yaml(b); }).find("includes itself"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeyNamesKeyFileAndClosestValidKey) {
  Settings s;
  Config c;
  s.bind(c);
  auto path = write("typo.yaml", "train:\n  step: 5\n");
  c.load_yaml(path);
  auto msg = error_of([&] { c.resolve(); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key 'train.step'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'train.steps'"), std::string::npos) << msg;
}

TEST_F(ConfigTest, UnknownOverrideKeyIsNamedWithItsSource) {
  Settings s;
  Config c;
  s.bind(c);
  c.apply_overrides({"model.backbon=mingru"});
  auto msg = error_of([&] { c.resolve(); });
  EXPECT_NE(msg.find("command line"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'model.backbone'"), std::string::npos) << msg;
}

TEST_F(ConfigTest, WrongTypeAndRangeNameKeyValueAndExpectation) {
  struct Case {
    std::string override_text, key_value, expected;
  } cases[] = {
      {"train.steps=abc", "train.steps = abc", "an integer in [1, 1000000]"},
      {"train.steps=0", "train.steps = 0", "an integer in [1, 1000000]"},
      {"train.steps=2.5", "train.steps = 2.5", "an integer"},
      {"train.lr=2", "train.lr = 2", "a number in [0, 1]"},
      {"train.lr=.nan", "train.lr = .nan", "a number"},
      {"train.amp=maybe", "train.amp = maybe", "true or false"},
      {"model.backbone=rnn", "model.backbone = rnn", "one of transformer mingru"},
      {"eval.targets=[1,x]", "eval.targets = [1, x]", "a list of numbers"},
  };
  for (const auto& k : cases) {
    Settings s;
    Config c;
    s.bind(c);
    c.apply_overrides({k.override_text});
    auto msg = error_of([&] { c.resolve(); });
    EXPECT_NE(msg.find(k.key_value), std::string::npos) << k.override_text << " -> " << msg;
    EXPECT_NE(msg.find(k.expected), std::string::npos) << k.override_text << " -> " << msg;
  }
}

TEST_F(ConfigTest, ExactIntegersWrittenAsFloatsAreAccepted) {
  Settings s;
  Config c;
  s.bind(c);
  c.apply_overrides({"train.steps=1e5"});
  c.resolve();
  EXPECT_EQ(s.steps, 100000);
}

TEST_F(ConfigTest, MalformedOverrideIsAUsageError) {
  Settings s;
  Config c;
  s.bind(c);
  try {
    c.apply_overrides({"train.steps"});
    FAIL() << "expected UsageError";
  } catch (const seqrl::UsageError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("key=value"), std::string::npos);
  }
}

TEST_F(ConfigTest, BrokenYamlNamesFileAndLine) {
  Settings s;
  Config c;
  s.bind(c);
  auto path = write("bad.yaml", "train:\n  steps: [1, 2\n");
  auto msg = error_of([&] { c.load_yaml(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("not valid YAML"), std::string::npos) << msg;
}

TEST_F(ConfigTest, MissingFileIsNamed) {
  Settings s;
  Config c;
  s.bind(c);
  auto msg = error_of([&] { c.load_yaml((dir / "nope.yaml").string()); });
  EXPECT_NE(msg.find("nope.yaml: config file not found"), std::string::npos) << msg;
}

TEST_F(ConfigTest, ResolvedYamlRoundTripsThroughANewConfig) {
  Settings a;
  Config ca;
  a.bind(ca);
  ca.apply_overrides({"train.steps=42", "model.backbone=mingru", "eval.targets=[5]", "run.seeds=[3,4]"});
  ca.resolve();
  auto saved = write("resolved.yaml", ca.to_yaml());

  Settings b;
  Config cb;
  b.bind(cb);
  cb.load_yaml(saved);
  cb.resolve();
  EXPECT_EQ(b.steps, 42);
  EXPECT_EQ(b.backbone, "mingru");
  EXPECT_EQ(b.targets, std::vector<double>{5});
  EXPECT_EQ(b.seeds, (std::vector<int>{3, 4}));
  EXPECT_DOUBLE_EQ(b.lr, a.lr);
}

TEST(EditDistance, ClosestMatchIgnoresFarCandidates) {
  EXPECT_EQ(seqrl::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(seqrl::closest_match("train.stpes", {"train.steps", "eval.seed"}), "train.steps");
  EXPECT_EQ(seqrl::closest_match("zzzzzzzzzzzz", {"train.steps"}), "");
}

// ---- Hostile configs (issue 15) ----

TEST_F(ConfigTest, AliasBombIsRefusedQuicklyNamingTheFile) {
  // Nine levels of nine aliases: ~300 bytes that expand to 9^9 nodes.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string prev(1, char(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  }
  bomb += "train:\n  lr: *i\n";
  auto path = write("bomb.yaml", bomb);
  Settings s;
  Config c;
  s.bind(c);
  auto t0 = std::chrono::steady_clock::now();
  auto msg = error_of([&] { c.load_yaml(path); });
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_NE(msg.find("bomb.yaml: document too large"), std::string::npos) << msg;
}

TEST_F(ConfigTest, DuplicateKeysAreAnErrorNamingFileLineAndKey) {
  Settings s;
  Config c;
  s.bind(c);
  auto msg = error_of([&] { c.load_yaml(write("dup.yaml", "train:\n  steps: 1\n  lr: 0.1\n  steps: 2\n")); });
  EXPECT_NE(msg.find("dup.yaml: line 4: duplicate key 'train.steps'"), std::string::npos) << msg;
  // The same key spelled nested and dotted is a duplicate too.
  Config c2;
  s.bind(c2);
  msg = error_of([&] { c2.load_yaml(write("dup2.yaml", "train:\n  steps: 1\ntrain.steps: 2\n")); });
  EXPECT_NE(msg.find("duplicate key 'train.steps'"), std::string::npos) << msg;
  // A file overriding its `defaults` is not a duplicate.
  write("base.yaml", "train:\n  steps: 3\n");
  Config c3;
  s.bind(c3);
  c3.load_yaml(write("top.yaml", "defaults: base.yaml\ntrain:\n  steps: 4\n"));
  c3.resolve();
  EXPECT_EQ(s.steps, 4);
}

TEST_F(ConfigTest, EmptyYamlIsAnErrorNamingTheFile) {
  for (const char* text : {"", "\n# only a comment\n", "~\n"}) {
    Settings s;
    Config c;
    s.bind(c);
    auto msg = error_of([&] { c.load_yaml(write("empty.yaml", text)); });
    EXPECT_NE(msg.find("empty.yaml: empty config"), std::string::npos) << msg;
  }
}

TEST_F(ConfigTest, ComplexKeysAndYamlCppMessagesNameTheFile) {
  Settings s;
  Config c;
  s.bind(c);
  auto msg = error_of([&] { c.load_yaml(write("complex.yaml", "? [a, b] : 1\n")); });
  EXPECT_NE(msg.find("complex.yaml: line 1: a key must be a plain name"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("bad conversion"), std::string::npos) << msg;
  msg = error_of([&] { c.load_yaml(write("deep.yaml", "train: " + std::string(5000, '[') + "\n")); });
  EXPECT_NE(msg.find("deep.yaml: not valid YAML"), std::string::npos) << msg;
  msg = error_of([&] { c.load_yaml(write("defaults.yaml", "defaults: {a: 1}\n")); });
  EXPECT_NE(msg.find("defaults.yaml: `defaults` must be a path"), std::string::npos) << msg;
}

TEST_F(ConfigTest, IntegerValuedOptionsRejectFractions) {
  double chunk = 64;
  for (const char* bad : {"2.5", "2.7", "1e-1", "true", "[1]"}) {
    Config c;
    c.add_integer_valued("model.mlstm.chunk", &chunk, 1, 1 << 20, "chunk");
    c.apply_overrides({std::string("model.mlstm.chunk=") + bad});
    auto msg = error_of([&] { c.resolve(); });
    EXPECT_NE(msg.find("model.mlstm.chunk = " + std::string(bad) + ": expected an integer in [1, 1048576]"),
              std::string::npos) << msg;
  }
  Config c;
  c.add_integer_valued("model.mlstm.chunk", &chunk, 1, 1 << 20, "chunk");
  c.apply_overrides({"model.mlstm.chunk=1e3"});
  c.resolve();
  EXPECT_EQ(chunk, 1000.0);
}

TEST_F(ConfigTest, PathsAreTakenVerbatimFromTheCommandLine) {
  // The text is the file name (not YAML), made absolute against the current folder.
  std::string path = "default.hdf5";
  for (const std::string value : {"a #b.hdf5", "!!binary x.hdf5", "\"quoted\".hdf5", "[x].hdf5", "null", "~"}) {
    Config c;
    c.add_path("data.path", &path, "dataset");
    c.apply_overrides({"data.path=" + value});
    c.resolve();
    EXPECT_EQ(path, (fs::current_path() / value).string());
  }
  for (const std::string value : {"/abs/a #b.hdf5", "seqrl:hopper-medium", "d4rl:walker2d-medium-replay"}) {
    Config c;
    c.add_path("data.path", &path, "dataset");
    c.apply_overrides({"data.path=" + value});
    c.resolve();
    EXPECT_EQ(path, value);
  }
  Config c;
  c.add_path("data.path", &path, "dataset");
  c.apply_overrides({"data.path="});
  auto msg = error_of([&] { c.resolve(); });
  EXPECT_NE(msg.find("command line: data.path = \"\": expected a non-empty path"), std::string::npos) << msg;
  // Control characters and invalid UTF-8 could not be read back from config.yaml (found by fuzz_config).
  for (const std::string value : {std::string("a\x10" "b.hdf5"), std::string("mi\x9b\x8a.hdf5")}) {
    Config c2;
    c2.add_path("data.path", &path, "dataset");
    c2.apply_overrides({"data.path=" + value});
    EXPECT_NE(error_of([&] { c2.resolve(); }).find("printable UTF-8"), std::string::npos) << value;
  }
}

TEST_F(ConfigTest, PathsInAFileResolveAgainstItsFolderButDatasetNamesStayNames) {
  fs::create_directories(dir / "configs" / "deeper");
  write("configs/base.yaml", "data:\n  path: seqrl:hopper-medium\nrun:\n  out_dir: ../runs\n");
  const auto cfg = write("configs/deeper/exp.yaml", "defaults: ../base.yaml\nmodel:\n  file: ./w/../weights.pt\n");
  std::string data, out_dir, file;
  Config c;
  c.add_path("data.path", &data, "dataset");
  c.add_path("run.out_dir", &out_dir, "runs");
  c.add_path("model.file", &file, "weights");
  c.load_yaml(cfg);
  c.resolve();
  EXPECT_EQ(data, "seqrl:hopper-medium");  // a dataset name (datasets/suite.h), not a path
  EXPECT_EQ(out_dir, (dir / "runs").string());  // relative to base.yaml, which set it
  EXPECT_EQ(file, (dir / "configs" / "deeper" / "weights.pt").string());
  // The same for d4rl: names, an absolute path, and the resolved text loaded again.
  std::string d4rl;
  Config again;
  again.add_path("data.path", &d4rl, "dataset");
  again.add_path("run.out_dir", &out_dir, "runs");
  again.add_path("model.file", &file, "weights");
  again.load_yaml(write("configs/d4rl.yaml", "data:\n  path: d4rl:hopper-medium-replay\nrun:\n  out_dir: " +
                                                  (dir / "abs").string() + "\n"));
  again.resolve();
  EXPECT_EQ(d4rl, "d4rl:hopper-medium-replay");
  EXPECT_EQ(out_dir, (dir / "abs").string());
}

TEST(NumberText, ShortestTextThatRoundTripsExactly) {
  EXPECT_EQ(seqrl::number_text(0.1), "0.1");
  EXPECT_EQ(seqrl::number_text(1e-4), "0.0001");
  EXPECT_EQ(seqrl::number_text(3e-4), "0.0003");
  EXPECT_EQ(seqrl::number_text(1099511627776.0), "1099511627776");
  EXPECT_EQ(seqrl::number_text(-1e9), "-1000000000");
  EXPECT_EQ(seqrl::number_text(1e300), "1e+300");
  // Random doubles: the text reads back bit-identically (naive check with strtod).
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  for (int i = 0; i < 10000; ++i) {
    double v = u(rng) * std::pow(10.0, double(int(rng() % 40) - 20));
    auto text = seqrl::number_text(v);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
    EXPECT_LE(text.size(), 24u) << text;
  }
}

TEST_F(ConfigTest, ResolvedYamlPrintsNumbersReadablyAndExactly) {
  Settings s;
  Config c;
  s.bind(c);
  c.apply_overrides({"train.lr=0.1", "eval.targets=[0.1, 3600, 0.3]"});
  c.resolve();
  auto text = c.to_yaml();
  EXPECT_NE(text.find("lr: 0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("targets: [0.1, 3600, 0.3]"), std::string::npos) << text;
  EXPECT_EQ(text.find("0000000"), std::string::npos) << text;
  EXPECT_NE(c.describe().find("an integer in [1, 1000000]"), std::string::npos) << c.describe();
  Settings t;
  Config c2;
  t.bind(c2);
  c2.load_yaml_text(text, "resolved");
  c2.resolve();
  EXPECT_EQ(t.lr, 0.1);
  EXPECT_EQ(t.targets, (std::vector<double>{0.1, 3600, 0.3}));
}

}  // namespace

namespace {
TEST_F(ConfigTest, FormerKeyNamesAreReadAsTheCurrentOnes) {
  Settings s;
  Config c;
  s.bind(c);
  c.rename("train.iterations", "train.steps");
  c.load_yaml(write("old.yaml", "train:\n  iterations: 7\n"));
  c.resolve();
  EXPECT_EQ(s.steps, 7) << "an old run folder's config.yaml still loads";
  EXPECT_EQ(c.to_yaml().find("iterations"), std::string::npos) << "written back under the current name";

  Config c2;
  s.bind(c2);
  c2.rename("train.iterations", "train.steps");
  c2.apply_overrides({"train.iterations=9"});
  c2.resolve();
  EXPECT_EQ(s.steps, 9);

  // Both names in one file would let one silently win: a duplicate key.
  Config c3;
  s.bind(c3);
  c3.rename("train.iterations", "train.steps");
  auto msg = error_of([&] { c3.load_yaml(write("both.yaml", "train:\n  steps: 1\n  iterations: 2\n")); });
  EXPECT_NE(msg.find("duplicate key 'train.steps'"), std::string::npos) << msg;
}
}  // namespace
