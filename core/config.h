// Typed, validated configuration. Each module keeps its settings in a plain struct (CORL
// style: config on top) and declares every field here with its range; the struct's initial
// values are the built-in defaults. Precedence: built-in defaults < YAML file (with its
// `defaults:` chain) < command-line overrides `a.b=value`.
//
//   Config cfg;
//   cfg.add("train.steps", &train.steps, 1, 100'000'000, "optimizer steps");
//   cfg.load_yaml("configs/hopper-medium.yaml");
//   cfg.apply_overrides({"train.steps=2000"});
//   cfg.resolve();            // validates and writes the values into the structs
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

class Config {
 public:
  void add(const std::string& key, bool* value, const std::string& help);
  void add(const std::string& key, int* value, int lo, int hi, const std::string& help);
  void add(const std::string& key, int64_t* value, int64_t lo, int64_t hi, const std::string& help);
  void add(const std::string& key, double* value, double lo, double hi, const std::string& help);
  // A whole number kept in a double (backbone options): 2.5 is rejected, 1e3 accepted.
  void add_integer_valued(const std::string& key, double* value, double lo, double hi, const std::string& help);
  // choices empty: any string.
  void add(const std::string& key, std::string* value, std::vector<std::string> choices, const std::string& help);
  // A file or folder path, non-empty, stored absolute (see above). From the command line the
  // text is taken verbatim (not parsed as YAML, so `#`, `!!tag` and quotes stay part of the
  // name). A dataset name (`seqrl:...`, `d4rl:...`, datasets/suite.h) is a name, not a path:
  // kept as it is.
  void add_path(const std::string& key, std::string* value, const std::string& help);
  void add(const std::string& key, std::vector<double>* value, double lo, double hi, const std::string& help);
  void add(const std::string& key, std::vector<int>* value, int lo, int hi, const std::string& help);

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
  // Validates every pending value and stores it in its field. Call once after loading.
  void resolve();

  // The current value of a declared key as flow YAML ("0.1", "[1, 2]").
  std::string value_text(const std::string& key) const;
  std::vector<std::string> keys() const;
  // The resolved configuration as nested YAML (every key, defaults included).
  std::string to_yaml() const;
  // Key listing with types, ranges, defaults and help, for `--help`-style output.
  std::string describe() const;

 private:
  struct Entry {
    std::string type;  // "bool", "int", "float", "string", "list<float>", "list<int>"
    std::string expected;  // human text: "an integer in [1, 100]"
    std::string help;
    // Parses and range-checks `node`; on success stores into the field, else returns the reason.
    std::function<bool(const YAML::Node& node)> store;
    std::function<YAML::Node()> current;
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
