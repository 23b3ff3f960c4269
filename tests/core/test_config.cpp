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
using seqrl::Fields;

namespace {

struct Settings {
  int steps = 100;
  double lr = 1e-4;
  bool amp = false;
  std::string backbone = "transformer";
  std::vector<double> targets{3600, 1800};
  std::vector<int> seeds{0};
  void fields(Fields& f) {
    f.add("train.steps", steps, 1, 1000000, "optimizer steps");
    f.add("train.lr", lr, 0.0, 1.0, "learning rate");
    f.add("train.amp", amp, "mixed precision");
    f.add("model.backbone", backbone, {"transformer", "mingru"}, "sequence backbone");
    f.add("eval.targets", targets, -1e6, 1e6, "target returns");
    f.add("run.seeds", seeds, 0, 1000, "seeds");
  }
};

// One integer-valued backbone option, and path settings, each in a struct of its own.
struct Chunk {
  double chunk = 64;
  void fields(Fields& f) { f.add_integer_valued("model.mlstm.chunk", chunk, 1, 1 << 20, "chunk"); }
};
struct Paths {
  std::string data = "default.hdf5", out_dir, file;
  void fields(Fields& f) {
    f.add_path("data.path", data, "dataset");
    f.add_path("run.out_dir", out_dir, "runs");
    f.add_path("model.file", file, "weights");
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
  Config c;
  c.declare<Settings>();
  c.resolve();
  const auto s = c.get<Settings>();
  EXPECT_EQ(s.steps, 100);
  EXPECT_EQ(s.backbone, "transformer");
}

TEST_F(ConfigTest, YamlOverridesDefaultsAndCommandLineOverridesYaml) {
  Config c;
  c.declare<Settings>();
  c.load_yaml(write("x.yaml", "train:\n  steps: 2000\n  lr: 0.001\nmodel:\n  backbone: mingru\n"));
  c.apply_overrides({"train.steps=50", "eval.targets=[1,2,3]"});
  c.resolve();
  const auto s = c.get<Settings>();
  EXPECT_EQ(s.steps, 50);         // override beats yaml
  EXPECT_DOUBLE_EQ(s.lr, 0.001);  // yaml beats default
  EXPECT_EQ(s.backbone, "mingru");
  EXPECT_EQ(s.targets, (std::vector<double>{1, 2, 3}));
  EXPECT_FALSE(s.amp);  // untouched default
}

TEST_F(ConfigTest, DefaultsChainIsMergedFirstAndFileWins) {
  write("base.yaml", "train:\n  steps: 7\n  lr: 0.5\n");
  write("mid.yaml", "defaults: base.yaml\ntrain:\n  lr: 0.25\n");
  Config c;
  c.declare<Settings>();
  c.load_yaml(write("top.yaml", "defaults: [mid.yaml]\ntrain:\n  amp: true\n"));
  c.resolve();
  const auto s = c.get<Settings>();
  EXPECT_EQ(s.steps, 7);
  EXPECT_DOUBLE_EQ(s.lr, 0.25);
  EXPECT_TRUE(s.amp);
}

TEST_F(ConfigTest, DefaultsCycleIsAnError) {
  write("a.yaml", "defaults: b.yaml\n");
  auto b = write("b.yaml", "defaults: a.yaml\n");
  Config c;
  c.declare<Settings>();
  EXPECT_NE(error_of([&] { c.load_yaml(b); }).find("includes itself"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeyNamesKeyFileAndClosestValidKey) {
  Config c;
  c.declare<Settings>();
  auto path = write("typo.yaml", "train:\n  step: 5\n");
  c.load_yaml(path);
  auto msg = error_of([&] { c.resolve(); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key 'train.step'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'train.steps'"), std::string::npos) << msg;
}

TEST_F(ConfigTest, UnknownOverrideKeyIsNamedWithItsSource) {
  Config c;
  c.declare<Settings>();
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
    Config c;
    c.declare<Settings>();
    c.apply_overrides({k.override_text});
    auto msg = error_of([&] { c.resolve(); });
    EXPECT_NE(msg.find(k.key_value), std::string::npos) << k.override_text << " -> " << msg;
    EXPECT_NE(msg.find(k.expected), std::string::npos) << k.override_text << " -> " << msg;
  }
}

TEST_F(ConfigTest, ExactIntegersWrittenAsFloatsAreAccepted) {
  Config c;
  c.declare<Settings>();
  c.apply_overrides({"train.steps=1e5"});
  c.resolve();
  EXPECT_EQ(c.get<Settings>().steps, 100000);
}

TEST_F(ConfigTest, MalformedOverrideIsAUsageError) {
  Config c;
  c.declare<Settings>();
  try {
    c.apply_overrides({"train.steps"});
    FAIL() << "expected UsageError";
  } catch (const seqrl::UsageError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("key=value"), std::string::npos);
  }
}

TEST_F(ConfigTest, BrokenYamlNamesFileAndLine) {
  Config c;
  c.declare<Settings>();
  auto path = write("bad.yaml", "train:\n  steps: [1, 2\n");
  auto msg = error_of([&] { c.load_yaml(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("not valid YAML"), std::string::npos) << msg;
}

TEST_F(ConfigTest, MissingFileIsNamed) {
  Config c;
  c.declare<Settings>();
  auto msg = error_of([&] { c.load_yaml((dir / "nope.yaml").string()); });
  EXPECT_NE(msg.find("nope.yaml: config file not found"), std::string::npos) << msg;
}

TEST_F(ConfigTest, ResolvedYamlRoundTripsThroughANewConfig) {
  Config ca;
  ca.declare<Settings>();
  ca.apply_overrides({"train.steps=42", "model.backbone=mingru", "eval.targets=[5]", "run.seeds=[3,4]"});
  ca.resolve();
  auto saved = write("resolved.yaml", ca.to_yaml());

  Config cb;
  cb.declare<Settings>();
  cb.load_yaml(saved);
  cb.resolve();
  const auto a = ca.get<Settings>(), b = cb.get<Settings>();
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
  Config c;
  c.declare<Settings>();
  auto t0 = std::chrono::steady_clock::now();
  auto msg = error_of([&] { c.load_yaml(path); });
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_NE(msg.find("bomb.yaml: document too large"), std::string::npos) << msg;
}

TEST_F(ConfigTest, DuplicateKeysAreAnErrorNamingFileLineAndKey) {
  Config c;
  c.declare<Settings>();
  auto msg = error_of([&] { c.load_yaml(write("dup.yaml", "train:\n  steps: 1\n  lr: 0.1\n  steps: 2\n")); });
  EXPECT_NE(msg.find("dup.yaml: line 4: duplicate key 'train.steps'"), std::string::npos) << msg;
  // The same key spelled nested and dotted is a duplicate too.
  Config c2;
  c2.declare<Settings>();
  msg = error_of([&] { c2.load_yaml(write("dup2.yaml", "train:\n  steps: 1\ntrain.steps: 2\n")); });
  EXPECT_NE(msg.find("duplicate key 'train.steps'"), std::string::npos) << msg;
  // A file overriding its `defaults` is not a duplicate.
  write("base.yaml", "train:\n  steps: 3\n");
  Config c3;
  c3.declare<Settings>();
  c3.load_yaml(write("top.yaml", "defaults: base.yaml\ntrain:\n  steps: 4\n"));
  c3.resolve();
  EXPECT_EQ(c3.get<Settings>().steps, 4);
}

TEST_F(ConfigTest, EmptyYamlIsAnErrorNamingTheFile) {
  for (const char* text : {"", "\n# only a comment\n", "~\n"}) {
    Config c;
    c.declare<Settings>();
    auto msg = error_of([&] { c.load_yaml(write("empty.yaml", text)); });
    EXPECT_NE(msg.find("empty.yaml: empty config"), std::string::npos) << msg;
  }
}

TEST_F(ConfigTest, ComplexKeysAndYamlCppMessagesNameTheFile) {
  Config c;
  c.declare<Settings>();
  auto msg = error_of([&] { c.load_yaml(write("complex.yaml", "? [a, b] : 1\n")); });
  EXPECT_NE(msg.find("complex.yaml: line 1: a key must be a plain name"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("bad conversion"), std::string::npos) << msg;
  msg = error_of([&] { c.load_yaml(write("deep.yaml", "train: " + std::string(5000, '[') + "\n")); });
  EXPECT_NE(msg.find("deep.yaml: not valid YAML"), std::string::npos) << msg;
  msg = error_of([&] { c.load_yaml(write("defaults.yaml", "defaults: {a: 1}\n")); });
  EXPECT_NE(msg.find("defaults.yaml: `defaults` must be a path"), std::string::npos) << msg;
}

TEST_F(ConfigTest, IntegerValuedOptionsRejectFractions) {
  for (const char* bad : {"2.5", "2.7", "1e-1", "true", "[1]"}) {
    Config c;
    c.declare<Chunk>();
    c.apply_overrides({std::string("model.mlstm.chunk=") + bad});
    auto msg = error_of([&] { c.resolve(); });
    EXPECT_NE(msg.find("model.mlstm.chunk = " + std::string(bad) + ": expected an integer in [1, 1048576]"),
              std::string::npos)
        << msg;
  }
  Config c;
  c.declare<Chunk>();
  c.apply_overrides({"model.mlstm.chunk=1e3"});
  c.resolve();
  EXPECT_EQ(c.get<Chunk>().chunk, 1000.0);
}

TEST_F(ConfigTest, PathsAreTakenVerbatimFromTheCommandLine) {
  // The text is the file name (not YAML), made absolute against the current folder.
  for (const std::string value : {"a #b.hdf5", "!!binary x.hdf5", "\"quoted\".hdf5", "[x].hdf5", "null", "~"}) {
    Config c;
    c.declare<Paths>();
    c.apply_overrides({"data.path=" + value});
    c.resolve();
    EXPECT_EQ(c.get<Paths>().data, (fs::current_path() / value).string());
  }
  for (const std::string value : {"/abs/a #b.hdf5", "seqrl:hopper-medium", "d4rl:walker2d-medium-replay"}) {
    Config c;
    c.declare<Paths>();
    c.apply_overrides({"data.path=" + value});
    c.resolve();
    EXPECT_EQ(c.get<Paths>().data, value);
  }
  Config c;
  c.declare<Paths>();
  c.apply_overrides({"data.path="});
  auto msg = error_of([&] { c.resolve(); });
  EXPECT_NE(msg.find("command line: data.path = \"\": expected a non-empty path"), std::string::npos) << msg;
  // Control characters and invalid UTF-8 could not be read back from config.yaml (found by fuzz_config).
  for (const std::string value : {std::string("a\x10"
                                              "b.hdf5"),
                                  std::string("mi\x9b\x8a.hdf5")}) {
    Config c2;
    c2.declare<Paths>();
    c2.apply_overrides({"data.path=" + value});
    EXPECT_NE(error_of([&] { c2.resolve(); }).find("printable UTF-8"), std::string::npos) << value;
  }
}

TEST_F(ConfigTest, PathsInAFileResolveAgainstItsFolderButDatasetNamesStayNames) {
  fs::create_directories(dir / "configs" / "deeper");
  write("configs/base.yaml", "data:\n  path: seqrl:hopper-medium\nrun:\n  out_dir: ../runs\n");
  const auto cfg = write("configs/deeper/exp.yaml", "defaults: ../base.yaml\nmodel:\n  file: ./w/../weights.pt\n");
  Config c;
  c.declare<Paths>();
  c.load_yaml(cfg);
  c.resolve();
  const auto p = c.get<Paths>();
  EXPECT_EQ(p.data, "seqrl:hopper-medium");       // a dataset name (datasets/suite.h), not a path
  EXPECT_EQ(p.out_dir, (dir / "runs").string());  // relative to base.yaml, which set it
  EXPECT_EQ(p.file, (dir / "configs" / "deeper" / "weights.pt").string());
  // The same for d4rl: names, an absolute path, and the resolved text loaded again.
  Config again;
  again.declare<Paths>();
  again.load_yaml(write("configs/d4rl.yaml",
                        "data:\n  path: d4rl:hopper-medium-replay\nrun:\n  out_dir: " + (dir / "abs").string() + "\n"));
  again.resolve();
  EXPECT_EQ(again.get<Paths>().data, "d4rl:hopper-medium-replay");
  EXPECT_EQ(again.get<Paths>().out_dir, (dir / "abs").string());
}

// A default path is relative to where seqrl runs. The resolved config names it absolutely, so a
// run's config.yaml read back from the run folder means the same file (found by fuzz_config).
TEST_F(ConfigTest, DefaultPathsResolveAgainstTheCurrentFolderAndReadBackTheSame) {
  struct Data {
    std::string data = "datasets/default.hdf5";
    void fields(Fields& f) { f.add_path("data.path", data, "dataset"); }
  };
  Config c;
  c.declare<Data>();
  c.resolve();
  const auto p = c.get<Data>();
  EXPECT_EQ(p.data, (fs::current_path() / "datasets/default.hdf5").string());
  fs::create_directories(dir / "run");
  Config back;
  back.declare<Data>();
  back.load_yaml(write("run/config.yaml", c.to_yaml()));
  back.resolve();
  EXPECT_EQ(back.get<Data>().data, p.data);
  EXPECT_EQ(back.to_yaml(), c.to_yaml());
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
  Config c;
  c.declare<Settings>();
  c.apply_overrides({"train.lr=0.1", "eval.targets=[0.1, 3600, 0.3]"});
  c.resolve();
  auto text = c.to_yaml();
  EXPECT_NE(text.find("lr: 0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("targets: [0.1, 3600, 0.3]"), std::string::npos) << text;
  EXPECT_EQ(text.find("0000000"), std::string::npos) << text;
  EXPECT_NE(c.describe().find("an integer in [1, 1000000]"), std::string::npos) << c.describe();
  Config c2;
  c2.declare<Settings>();
  c2.load_yaml_text(text, "resolved");
  c2.resolve();
  const auto t = c2.get<Settings>();
  EXPECT_EQ(t.lr, 0.1);
  EXPECT_EQ(t.targets, (std::vector<double>{0.1, 3600, 0.3}));
}

}  // namespace

namespace {
TEST_F(ConfigTest, FormerKeyNamesAreReadAsTheCurrentOnes) {
  Config c;
  c.declare<Settings>();
  c.rename("train.iterations", "train.steps");
  c.load_yaml(write("old.yaml", "train:\n  iterations: 7\n"));
  c.resolve();
  EXPECT_EQ(c.get<Settings>().steps, 7) << "an old run folder's config.yaml still loads";
  EXPECT_EQ(c.to_yaml().find("iterations"), std::string::npos) << "written back under the current name";

  Config c2;
  c2.declare<Settings>();
  c2.rename("train.iterations", "train.steps");
  c2.apply_overrides({"train.iterations=9"});
  c2.resolve();
  EXPECT_EQ(c2.get<Settings>().steps, 9);

  // Both names in one file would let one silently win: a duplicate key.
  Config c3;
  c3.declare<Settings>();
  c3.rename("train.iterations", "train.steps");
  auto msg = error_of([&] { c3.load_yaml(write("both.yaml", "train:\n  steps: 1\n  iterations: 2\n")); });
  EXPECT_NE(msg.find("duplicate key 'train.steps'"), std::string::npos) << msg;
}
}  // namespace

namespace {
// Issue 17: one field list per struct declares, reads and writes it; Config keeps no pointer.
TEST_F(ConfigTest, OneFieldListDeclaresReadsAndWritesAStruct) {
  Config c;
  {
    Settings defaults;  // gone before the config is used: nothing may point into it
    defaults.steps = 321;
    defaults.targets = {7, 8};
    c.declare(defaults);
  }
  c.apply_overrides({"train.lr=0.5"});
  c.resolve();
  auto s = c.get<Settings>();
  EXPECT_EQ(s.steps, 321) << "the declared struct's values are the defaults";
  EXPECT_EQ(s.targets, (std::vector<double>{7, 8}));
  EXPECT_EQ(s.lr, 0.5);
  s.steps = 5;  // a copy: changing it changes nothing in the config
  EXPECT_EQ(c.get<Settings>().steps, 321);
  EXPECT_EQ(c.value_text("train.steps"), "321");

  // A struct written as YAML reads back as the same struct, and is what the config writes.
  EXPECT_EQ(Config::yaml_of(c.get<Settings>()), c.to_yaml());
  s.backbone = "mingru";
  s.seeds = {4, 5, 6};
  s.amp = true;
  Config back;
  back.declare<Settings>();
  back.load_yaml_text(Config::yaml_of(s), "written");
  back.resolve();
  const auto t = back.get<Settings>();
  EXPECT_EQ(t.steps, 5);
  EXPECT_EQ(t.lr, 0.5);
  EXPECT_EQ(t.backbone, "mingru");
  EXPECT_EQ(t.seeds, (std::vector<int>{4, 5, 6}));
  EXPECT_TRUE(t.amp);
  EXPECT_EQ(t.targets, (std::vector<double>{7, 8}));
}
}  // namespace
