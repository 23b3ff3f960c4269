// libFuzzer target: the config loader (core/config.h) on arbitrary text. The input is a YAML
// document, optionally followed by a line "---overrides---" and one `key=value` override per
// line. Every failure must be a seqrl::Error; anything else (another exception, a crash, a hang,
// a sanitizer report) is a finding. A document that resolves must round-trip through to_yaml().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"

namespace {

// One key of every kind the config supports, as the trainer declares them.
struct Settings {
  bool flag = false;
  int count = 3;
  int64_t steps = 100;
  double lr = 1e-4, chunk = 64;
  std::string backbone = "transformer", path = "data.hdf5", name = "dt";
  std::vector<double> targets{3600, 1800};
  std::vector<int> seeds{0};
  void fields(seqrl::Fields& f) {
    f.add("run.flag", flag, "a bool");
    f.add("model.layers", count, 1, 256, "an int");
    f.add("train.steps", steps, 1, int64_t(1) << 40, "an int64");
    f.add("train.lr", lr, 0.0, 10.0, "a float");
    f.add_integer_valued("model.mlstm.chunk", chunk, 1, 1 << 20, "a whole number in a double");
    f.add("model.backbone", backbone, {"transformer", "mingru"}, "a choice");
    f.add_path("data.path", path, "a path");
    f.add("run.name", name, {}, "a string");
    f.add("eval.targets", targets, -1e9, 1e9, "a list of floats");
    f.add("run.seeds", seeds, 0, 1000, "a list of ints");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string marker = "\n---overrides---\n";
  const auto split = input.find(marker);
  const std::string document = input.substr(0, split);
  std::vector<std::string> overrides;
  if (split != std::string::npos) {
    std::istringstream lines(input.substr(split + marker.size()));
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  }
  seqrl::Config c;
  c.declare<Settings>();
  std::string resolved;
  try {
    c.load_yaml_text(document, "fuzz.yaml");
    c.apply_overrides(overrides);
    c.resolve();
    resolved = c.to_yaml();
    if (seqrl::Config::yaml_of(c.get<Settings>()) != resolved) std::abort();  // the struct writes the same
  } catch (const seqrl::Error&) {
    return 0;
  }
  // The resolved config reads back to the same values.
  seqrl::Config c2;
  c2.declare<Settings>();
  c2.load_yaml_text(resolved, "resolved.yaml");
  c2.resolve();
  const auto s = c.get<Settings>(), t = c2.get<Settings>();
  if (c2.to_yaml() != resolved || t.lr != s.lr || t.targets != s.targets || t.path != s.path || t.name != s.name)
    std::abort();
  return 0;
}
