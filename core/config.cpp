#include "core/config.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"

namespace seqrl {
namespace fs = std::filesystem;

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  // Too far to be a typo: more than half the word changed.
  if (best_d == std::string::npos || best_d > std::max<size_t>(3, word.size() / 2)) return "";
  return best;
}

std::string number_text(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e16) {  // whole numbers in full: 1000000, not 1e+06
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

namespace {

// A resolved document larger than this (counting every alias expansion) is refused: a few
// hundred bytes of nested aliases would otherwise expand to billions of nodes.
constexpr size_t kMaxConfigNodes = 100'000;

// Adds the nodes of `node` with aliases expanded to `count`, stopping once it passes `limit`.
void count_expanded(const YAML::Node& node, size_t limit, size_t& count) {
  if (++count > limit) return;
  if (node.IsSequence() || node.IsMap())
    for (const auto& item : node) {
      if (node.IsMap()) {
        count_expanded(item.first, limit, count);
        count_expanded(item.second, limit, count);
      } else {
        count_expanded(item, limit, count);
      }
      if (count > limit) return;
    }
}

std::string show(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

template <typename T>
bool scalar_as(const YAML::Node& node, T& out) {
  if (!node.IsScalar()) return false;
  try {
    out = node.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

// Valid UTF-8 without control characters: what config.yaml can hold and read back unchanged.
bool printable_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += len;
  }
  return true;
}

bool parse_text(const YAML::Node& node, std::string& out) { return scalar_as(node, out) && printable_utf8(out); }

bool parse_double(const YAML::Node& node, double& out) {
  if (!scalar_as(node, out)) return false;
  return std::isfinite(out);  // NaN/Inf are never valid settings
}

bool parse_int64(const YAML::Node& node, int64_t& out) {
  if (scalar_as(node, out)) return true;
  // Accept 1e5-style integers written as floats, but only exact ones.
  double d;
  if (parse_double(node, d) && d == std::floor(d) && std::fabs(d) < 9e15) {
    out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

std::string range_text(double lo, double hi) { return "[" + number_text(lo) + ", " + number_text(hi) + "]"; }

// Doubles as YAML scalars in their shortest exact form (0.1, not 0.10000000000000001).
YAML::Node number_node(double v) { return YAML::Node(number_text(v)); }

YAML::Node flow_list(YAML::Node n) {
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

std::string line_of(const YAML::Node& node) { return "line " + std::to_string(node.Mark().line + 1); }

}  // namespace

void Config::add_entry(const std::string& key, Entry entry) {
  if (entries_.count(key)) throw std::logic_error("config key declared twice: " + key);
  entries_.emplace(key, std::move(entry));
  order_.push_back(key);
}

// How one type of setting is checked and written: `parse` turns a YAML node into a checked
// value (nothing when the node is not one), `node` writes a value in its canonical form.
template <typename T>
struct Fields::Kind {
  std::string type, expected;
  std::function<std::optional<T>(const YAML::Node&)> parse;
  std::function<YAML::Node(const T&)> node = [](const T& v) { return YAML::Node(v); };
  bool is_path = false;
};

template <typename T>
void Fields::field(const std::string& key, T& value, const Kind<T>& kind, const std::string& help) {
  if (mode_ == Mode::read) {
    // The key's value is canonical and was checked when it was set: it parses.
    value = *kind.parse(config_.entries_.at(key).value);
    return;
  }
  auto normalize = [parse = kind.parse, node = kind.node](const YAML::Node& in, YAML::Node& out) {
    auto v = parse(in);
    if (v) out = node(*v);
    return v.has_value();
  };
  config_.add_entry(key, {kind.type, kind.expected, help, normalize, kind.node(value), kind.is_path});
}

void Fields::rename(const std::string& old_key, const std::string& new_key) {
  if (mode_ == Mode::declare) config_.rename(old_key, new_key);
}

namespace {

// A value in [lo, hi] read by `parse_one`, or nothing.
template <typename T, typename Parse>
std::optional<T> in_range(const YAML::Node& n, T lo, T hi, Parse parse_one) {
  auto v = parse_one(n);
  if (!v || *v < lo || *v > hi) return std::nullopt;
  return v;
}

std::optional<int64_t> int64_of(const YAML::Node& n) {
  int64_t v;
  return parse_int64(n, v) ? std::optional<int64_t>(v) : std::nullopt;
}
std::optional<double> double_of(const YAML::Node& n) {
  double v;
  return parse_double(n, v) ? std::optional<double>(v) : std::nullopt;
}

// A list whose items each pass `item`; a single scalar is a list of one.
template <typename T, typename Item>
std::optional<std::vector<T>> list_of(const YAML::Node& n, Item item) {
  std::vector<T> out;
  const auto items = n.IsSequence() ? n : YAML::Node(std::vector<YAML::Node>{n});
  for (const auto& node : items) {
    auto v = item(node);
    if (!v) return std::nullopt;
    out.push_back(static_cast<T>(*v));
  }
  return out;
}

}  // namespace

void Fields::add(const std::string& key, bool& value, const std::string& help) {
  field<bool>(key, value,
              {"bool", "true or false",
               [](const YAML::Node& n) {
                 bool v;
                 return scalar_as(n, v) ? std::optional<bool>(v) : std::nullopt;
               }},
              help);
}

void Fields::add(const std::string& key, int64_t& value, int64_t lo, int64_t hi, const std::string& help) {
  field<int64_t>(key, value,
                 {"int", "an integer in " + range_text(double(lo), double(hi)),
                  [=](const YAML::Node& n) { return in_range<int64_t>(n, lo, hi, int64_of); }},
                 help);
}

void Fields::add(const std::string& key, int& value, int lo, int hi, const std::string& help) {
  field<int>(key, value,
             {"int", "an integer in " + range_text(lo, hi),
              [=](const YAML::Node& n) {
                auto v = in_range<int64_t>(n, lo, hi, int64_of);
                return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
              }},
             help);
}

void Fields::add(const std::string& key, double& value, double lo, double hi, const std::string& help) {
  field<double>(key, value,
                {"float", "a number in " + range_text(lo, hi),
                 [=](const YAML::Node& n) { return in_range<double>(n, lo, hi, double_of); }, number_node},
                help);
}

void Fields::add_integer_valued(const std::string& key, double& value, double lo, double hi, const std::string& help) {
  field<double>(key, value,
                {"int", "an integer in " + range_text(lo, hi),
                 [=](const YAML::Node& n) {
                   auto v = int64_of(n);
                   if (!v || double(*v) < lo || double(*v) > hi) return std::optional<double>();
                   return std::optional<double>(double(*v));
                 },
                 number_node},
                help);
}

void Fields::add(const std::string& key, std::string& value, std::vector<std::string> choices,
                 const std::string& help) {
  std::string expected = "a string (printable UTF-8)";
  if (!choices.empty()) {
    expected = "one of";
    for (const auto& c : choices) expected += " " + c;
  }
  field<std::string>(key, value,
                     {"string", expected,
                      [=](const YAML::Node& n) {
                        std::string v;
                        if (!parse_text(n, v)) return std::optional<std::string>();
                        if (!choices.empty() && std::find(choices.begin(), choices.end(), v) == choices.end())
                          return std::optional<std::string>();
                        return std::optional<std::string>(v);
                      }},
                     help);
}

bool is_dataset_name(const std::string& value) { return value.rfind("seqrl:", 0) == 0 || value.rfind("d4rl:", 0) == 0; }

void Fields::add_path(const std::string& key, std::string& value, const std::string& help) {
  Kind<std::string> kind{"path", "a non-empty path of printable UTF-8", [](const YAML::Node& n) {
                           std::string v;
                           if (!parse_text(n, v) || v.empty()) return std::optional<std::string>();
                           return std::optional<std::string>(v);
                         }};
  kind.is_path = true;
  field<std::string>(key, value, kind, help);
}

void Fields::add(const std::string& key, std::vector<double>& value, double lo, double hi, const std::string& help) {
  field<std::vector<double>>(
      key, value,
      {"list<float>", "a list of numbers in " + range_text(lo, hi),
       [=](const YAML::Node& n) {
         return list_of<double>(n, [=](const YAML::Node& item) { return in_range<double>(item, lo, hi, double_of); });
       },
       [](const std::vector<double>& v) {
         YAML::Node n(YAML::NodeType::Sequence);
         for (double x : v) n.push_back(number_node(x));
         return flow_list(n);
       }},
      help);
}

void Fields::add(const std::string& key, std::vector<int>& value, int lo, int hi, const std::string& help) {
  field<std::vector<int>>(key, value,
                          {"list<int>", "a list of integers in " + range_text(lo, hi),
                           [=](const YAML::Node& n) {
                             return list_of<int>(
                                 n, [=](const YAML::Node& item) { return in_range<int64_t>(item, lo, hi, int64_of); });
                           },
                           [](const std::vector<int>& v) { return flow_list(YAML::Node(v)); }},
                          help);
}

void Config::flatten(const YAML::Node& node, const std::string& prefix, const std::string& source,
                     const std::string& base_dir, std::set<std::string>& seen) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar())
        throw Error(source + ": " + line_of(kv.first) + ": a key must be a plain name, not a " +
                    (kv.first.IsSequence() ? "list"
                     : kv.first.IsMap()    ? "mapping"
                                           : "null"));
      auto k = kv.first.Scalar();
      if (prefix.empty() && k == "defaults") continue;
      flatten(kv.second, prefix.empty() ? k : prefix + "." + k, source, base_dir, seen);
    }
    return;
  }
  if (prefix.empty()) throw Error(source + ": expected a mapping of settings at the top level");
  const std::string key = current_name(prefix, source);
  // yaml-cpp keeps both entries of a repeated key; one would silently win.
  if (!seen.insert(key).second) throw Error(source + ": " + line_of(node) + ": duplicate key '" + key + "'");
  pending_[key] = {node, source, base_dir};
}

void Config::rename(const std::string& old_key, const std::string& new_key) { renamed_[old_key] = new_key; }

std::string Config::current_name(const std::string& key, const std::string& source) const {
  auto it = renamed_.find(key);
  if (it == renamed_.end()) return key;
  spdlog::warn("{}: '{}' is the former name of '{}'; read as that", source, key, it->second);
  return it->second;
}

namespace {

// Parses YAML text; every failure (syntax, depth, alias bombs) becomes one Error naming `source`.
YAML::Node parse_document(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(source + ": not valid YAML (line " + std::to_string(e.mark.line + 1) + "): " + e.msg);
  }
  size_t count = 0;
  count_expanded(root, kMaxConfigNodes, count);
  if (count > kMaxConfigNodes)
    throw Error(source + ": document too large: more than " + std::to_string(kMaxConfigNodes) +
                " nodes once aliases are expanded");
  if (root.IsNull()) throw Error(source + ": empty config (no settings); expected a mapping of settings");
  if (!root.IsMap()) throw Error(source + ": expected a mapping of settings at the top level");
  return root;
}

}  // namespace

void Config::load_yaml_recursive(const std::string& path, std::vector<std::string>& chain) {
  const auto canonical = fs::weakly_canonical(path).string();
  if (std::find(chain.begin(), chain.end(), canonical) != chain.end())
    throw Error(path + ": `defaults` chain includes itself");
  if (!fs::is_regular_file(path)) throw Error(path + ": config file not found (or not a regular file)");
  auto root = parse_document(read_file(path), path);
  chain.push_back(canonical);
  if (auto defaults = root["defaults"]) {
    std::vector<std::string> bases;
    if (defaults.IsScalar()) {
      bases.push_back(defaults.Scalar());
    } else if (defaults.IsSequence()) {
      for (const auto& d : defaults) {
        if (!d.IsScalar()) throw Error(path + ": `defaults` must be a path or a list of paths");
        bases.push_back(d.Scalar());
      }
    } else {
      throw Error(path + ": `defaults` must be a path or a list of paths");
    }
    for (const auto& base : bases) {
      fs::path p = base;
      if (p.is_relative()) p = fs::path(path).parent_path() / p;
      load_yaml_recursive(p.string(), chain);
    }
  }
  chain.pop_back();
  std::set<std::string> seen;
  flatten(root, "", path, fs::absolute(path).parent_path().string(), seen);
}

void Config::load_yaml(const std::string& path) {
  std::vector<std::string> chain;
  load_yaml_recursive(path, chain);
}

void Config::load_yaml_text(const std::string& text, const std::string& source, const std::string& base_dir) {
  auto root = parse_document(text, source);
  std::set<std::string> seen;
  flatten(root, "", source, base_dir.empty() ? fs::current_path().string() : base_dir, seen);
}

void Config::apply_overrides(const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("override '" + o + "': expected key=value (e.g. train.steps=2000)");
    auto key = current_name(o.substr(0, eq), "command line");
    auto text = o.substr(eq + 1);
    auto entry = entries_.find(key);
    YAML::Node value;
    if (entry != entries_.end() && entry->second.is_path) {
      value = YAML::Node(text);  // "a #b.hdf5" and "!!binary x" are file names, not YAML
    } else {
      try {
        value = YAML::Load(text);
      } catch (const YAML::Exception&) {
        value = YAML::Node(text);
      }
      if (value.IsNull() && !text.empty()) value = YAML::Node(text);
      size_t count = 0;
      count_expanded(value, kMaxConfigNodes, count);
      if (count > kMaxConfigNodes) throw UsageError("override '" + key + "': value too large");
    }
    pending_[key] = {value, "command line", fs::current_path().string()};
  }
}

void Config::resolve() {
  for (const auto& [key, p] : pending_) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      auto hint = closest_match(key, order_);
      throw Error(p.source + ": unknown key '" + key + "'" +
                  (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
    }
    auto& e = it->second;
    if (!e.normalize(p.value, e.value))
      throw Error(p.source + ": " + key + " = " + show(p.value) + ": expected " + e.expected);
    if (e.is_path && !is_dataset_name(e.value.Scalar()))  // an absolute path stays as it is
      e.value = YAML::Node((fs::path(p.base_dir) / e.value.Scalar()).lexically_normal().string());
  }
  pending_.clear();
  // A default path is relative to where seqrl runs; made absolute here, so that the resolved
  // config (a run's config.yaml, read from the run folder) names the same file (fuzz finding).
  for (auto& [key, e] : entries_)
    if (e.is_path && !e.value.Scalar().empty() && !is_dataset_name(e.value.Scalar()) &&
        fs::path(e.value.Scalar()).is_relative())
      e.value = YAML::Node((fs::current_path() / e.value.Scalar()).lexically_normal().string());
}

std::vector<std::string> Config::keys() const { return order_; }

namespace {

// Builds the nested mapping for the keys under `prefix` (declaration order kept).
YAML::Node nest(const std::vector<std::string>& keys, const std::string& prefix,
                const std::function<YAML::Node(const std::string&)>& value_of) {
  YAML::Node node(YAML::NodeType::Map);
  std::vector<std::string> done;
  for (const auto& key : keys) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    auto rest = key.substr(prefix.size());
    auto dot = rest.find('.');
    auto head = rest.substr(0, dot);
    if (std::find(done.begin(), done.end(), head) != done.end()) continue;
    done.push_back(head);
    node[head] = dot == std::string::npos ? value_of(key) : nest(keys, prefix + head + ".", value_of);
  }
  return node;
}

}  // namespace

std::string Config::value_text(const std::string& key) const { return show(entries_.at(key).value); }

std::map<std::string, std::string> flatten_yaml(const YAML::Node& node) {
  std::map<std::string, std::string> out;
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n,
                                                                        const std::string& prefix) {
    if (n.IsMap()) {
      for (const auto& kv : n)
        walk(kv.second, prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>());
      return;
    }
    out[prefix] = show(n);
  };
  walk(node, "");
  return out;
}

std::string Config::to_yaml() const {
  YAML::Emitter out;
  out << nest(order_, "", [this](const std::string& key) { return entries_.at(key).value; });
  return std::string(out.c_str()) + "\n";
}

std::string Config::describe() const {
  std::ostringstream ss;
  for (const auto& key : order_) {
    const auto& e = entries_.at(key);
    ss << "  " << key << " = " << show(e.value) << "    # " << e.help << " (" << e.expected << ")\n";
  }
  return ss.str();
}

}  // namespace seqrl
