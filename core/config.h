// Typed, validated configuration. Each module keeps its settings in a plain struct (CORL
// style: config on top) whose `fields(Fields&)` lists every field once, with its key and range;
// the struct's initial values are the built-in defaults. That one list declares the keys,
// reads resolved values into a struct and writes a struct as YAML; Config keeps no pointer into
// any struct. Precedence: built-in defaults < YAML file (with its `defaults:` chain) <
// command-line overrides `a.b=value`.
//
//   struct TrainConfig {
//     int64_t steps = 1000;
//     void fields(Fields& f) { f.add("train.steps", steps, 1, 100'000'000, "optimizer steps"); }
//   };
//   Config cfg;
//   cfg.declare<TrainConfig>();
//   cfg.load_yaml("configs/hopper-medium.yaml");
//   cfg.apply_overrides({"train.steps=2000"});
//   cfg.resolve();                        // validates every value
//   auto train = cfg.get<TrainConfig>();  // a struct holding the resolved values
//   Config::yaml_of(train);               // that struct as YAML (every key)
//
// Errors are seqrl::Error naming the key, the value, where it came from and what was
// expected; an unknown key also names the closest valid key.
//
// Path settings (add_path) given relative in a YAML file resolve against that file's folder,
// on the command line against the current folder; either way they are stored absolute, so a
// config works from any folder and a run's saved config.yaml means the same file later.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace seqrl {

class Config;

// A config struct's field list, run by Config in one of two ways: declaring the keys (the
// struct's values become the defaults) or reading resolved values into the struct.
class Fields {
 public:
  void add(const std::string& key, bool& value, const std::string& help);
  void add(const std::string& key, int& value, int lo, int hi, const std::string& help);
  void add(const std::string& key, int64_t& value, int64_t lo, int64_t hi, const std::string& help);
  void add(const std::string& key, double& value, double lo, double hi, const std::string& help);
  // A whole number kept in a double (backbone options): 2.5 is rejected, 1e3 accepted.
  void add_integer_valued(const std::string& key, double& value, double lo, double hi, const std::string& help);
  // choices empty: any string.
  void add(const std::string& key, std::string& value, std::vector<std::string> choices, const std::string& help);
  // A file or folder path, non-empty, stored absolute (see above). From the command line the
  // text is taken verbatim (not parsed as YAML, so `#`, `!!tag` and quotes stay part of the
  // name). A dataset name (`seqrl:...`, `d4rl:...`, datasets/suite.h) is a name, not a path:
  // kept as it is.
  void add_path(const std::string& key, std::string& value, const std::string& help);
  void add(const std::string& key, std::vector<double>& value, double lo, double hi, const std::string& help);
  void add(const std::string& key, std::vector<int>& value, int lo, int hi, const std::string& help);
  // Config::rename, declared beside the field it names.
  void rename(const std::string& old_key, const std::string& new_key);

 private:
  friend class Config;
  enum class Mode { declare, read };
  Fields(Mode mode, Config& config) : mode_(mode), config_(config) {}
  template <typename T>
  struct Kind;
  template <typename T>
  void field(const std::string& key, T& value, const Kind<T>& kind, const std::string& help);
  Mode mode_;
  Config& config_;
};

class Config {
 public:
  // Declares every key of `defaults.fields()`, with its values as the built-in defaults.
  template <class S>
  void declare(S defaults = S{}) {
    Fields f(Fields::Mode::declare, *this);
    defaults.fields(f);
  }
  // A struct holding the current values of its keys (the resolved ones after resolve()).
  template <class S>
  S get() const {
    S s;
    Fields f(Fields::Mode::read, const_cast<Config&>(*this));  // read mode only reads
    s.fields(f);
    return s;
  }
  // `s` as nested YAML: every key of its field list, as config.yaml holds it.
  template <class S>
  static std::string yaml_of(S s) {
    Config c;
    c.declare(std::move(s));
    return c.to_yaml();
  }

  // A key's former name: configs and run folders written by an older seqrl (e.g. run.root,
  // now run.out_dir) still load; the old name is read as `new_key` with a warning naming the
  // source. Giving both names in one file is a duplicate key.
  void rename(const std::string& old_key, const std::string& new_key);
  // Reads a YAML file; its optional top-level `defaults:` (a path or list of paths, relative
  // to the file) is merged first, in order, so the file's own values win. An empty file, a
  // repeated key, a non-scalar key or a document over 100k nodes (aliases expanded) is an error
  // naming the file.
  void load_yaml(const std::string& path);
  // The same for YAML text (e.g. a config stored inside a checkpoint); `source` names it in errors,
  // relative paths in it resolve against `base_dir` (empty: the current folder).
  void load_yaml_text(const std::string& text, const std::string& source, const std::string& base_dir = "");
  // Each override is "dotted.key=value"; value is parsed as a YAML scalar or flow list.
  void apply_overrides(const std::vector<std::string>& overrides);
  // Validates every pending value and makes it the key's value. Call once after loading.
  void resolve();

  // The current value of a declared key as flow YAML ("0.1", "[1, 2]").
  std::string value_text(const std::string& key) const;
  std::vector<std::string> keys() const;
  // The resolved configuration as nested YAML (every key, defaults included).
  std::string to_yaml() const;
  // Key listing with types, ranges, defaults and help, for `--help`-style output.
  std::string describe() const;

 private:
  friend class Fields;
  struct Entry {
    std::string type;      // "bool", "int", "float", "string", "list<float>", "list<int>"
    std::string expected;  // human text: "an integer in [1, 100]"
    std::string help;
    // Parses and range-checks `in`; on success `out` is the value in its canonical form.
    std::function<bool(const YAML::Node& in, YAML::Node& out)> normalize;
    YAML::Node value;      // canonical: the default until resolve() sets it
    bool is_path = false;  // add_path: stored absolute, text verbatim on the command line
  };
  struct Pending {
    YAML::Node value;
    std::string source;    // "configs/x.yaml" or "command line"
    std::string base_dir;  // where relative paths in `value` start
  };
  void add_entry(const std::string& key, Entry entry);
  // `seen`: the dotted keys already set by this document (a repeat is an error).
  void flatten(const YAML::Node& node, const std::string& prefix, const std::string& source,
               const std::string& base_dir, std::set<std::string>& seen);
  void load_yaml_recursive(const std::string& path, std::vector<std::string>& chain);

  std::map<std::string, Entry> entries_;
  std::vector<std::string> order_;
  std::map<std::string, Pending> pending_;
  std::map<std::string, std::string> renamed_;  // old key -> current key
  // `key` under its current name (warns when it is a former one).
  std::string current_name(const std::string& key, const std::string& source) const;
};

// True for a dataset name, "seqrl:<name>" or "d4rl:<name>" (datasets/suite.h): a name, not a
// path, so add_path keeps it as it is.
bool is_dataset_name(const std::string& value);

// The shortest decimal text that reads back as exactly `v` (0.1, 0.0003, 1099511627776).
std::string number_text(double v);
// A nested YAML mapping as "dotted.key" -> value in flow style ("[1800, 3600]"), for comparing
// resolved configs key by key.
std::map<std::string, std::string> flatten_yaml(const YAML::Node& node);

// Levenshtein distance, used for "did you mean" hints (also by the CLI).
size_t edit_distance(const std::string& a, const std::string& b);
// The candidate closest to `word`, or "" if none is reasonably close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace seqrl
