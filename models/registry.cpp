// The backbone registry, filled before main by the BackboneRegistrar in each backbone's file.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "core/error.h"
#include "models/backbone.h"

namespace seqrl {

double BackboneConfig::option(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) throw std::out_of_range("backbone option '" + name + "' is not set");
  return it->second;
}

namespace {

// A function-local static, so that registrars in other files' static initializers find it
// constructed whatever the initialization order.
std::vector<BackboneInfo>& mutable_registry() {
  static std::vector<BackboneInfo> registry;
  return registry;
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "(none)" : text;
}

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

BackboneRegistrar::BackboneRegistrar(BackboneInfo info) {
  auto& registry = mutable_registry();
  const auto at = std::lower_bound(registry.begin(), registry.end(), info.name,
                                   [](const BackboneInfo& a, const std::string& name) { return a.name < name; });
  const char* problem = info.name.empty()                               ? "the name is empty"
                        : !info.make                                    ? "it has no make function"
                        : at != registry.end() && at->name == info.name ? "the name is already registered"
                                                                        : nullptr;
  if (problem) {
    std::fprintf(stderr, "seqrl: error: cannot register backbone '%s': %s\n", info.name.c_str(), problem);
    std::exit(1);
  }
  registry.insert(at, std::move(info));
}

const std::vector<BackboneInfo>& backbone_registry() { return mutable_registry(); }

std::vector<std::string> backbone_names() {
  std::vector<std::string> names;
  for (const auto& info : backbone_registry()) names.push_back(info.name);
  return names;
}

const BackboneInfo& backbone_info(const std::string& name) {
  for (const auto& info : backbone_registry())
    if (info.name == name) return info;
  throw Error("model.backbone: unknown backbone '" + name + "'; expected one of: " + join(backbone_names()));
}

Backbone make_backbone(const std::string& name, BackboneConfig config) {
  const auto& info = backbone_info(name);
  const std::string prefix = "model." + name + ".";
  if (config.dim < 1) throw Error("model.dim: must be >= 1, got " + std::to_string(config.dim));
  if (config.layers < 1) throw Error("model.layers: must be >= 1, got " + std::to_string(config.layers));
  if (config.heads < 1) throw Error("model.heads: must be >= 1, got " + std::to_string(config.heads));
  if (!(config.dropout >= 0.0 && config.dropout < 1.0))
    throw Error("model.dropout: must be in [0, 1), got " + format_number(config.dropout));
  if (config.max_tokens < 1) throw Error("model.max_tokens: must be >= 1, got " + std::to_string(config.max_tokens));
  for (const auto& [key, value] : config.options) {
    bool known = false;
    for (const auto& opt : info.options) known = known || opt.name == key;
    if (known) continue;
    if (key == "heads")
      throw Error(prefix +
                  "heads: not an option of one backbone; set model.heads, the heads of every head-wise "
                  "backbone");
    std::vector<std::string> names;
    for (const auto& opt : info.options) names.push_back(opt.name);
    throw Error(prefix + key + ": unknown option for backbone '" + name + "'; expected one of: " + join(names));
  }
  for (const auto& opt : info.options) {
    auto [it, inserted] = config.options.emplace(opt.name, opt.value);
    if (!(it->second >= opt.lo && it->second <= opt.hi))
      throw Error(prefix + opt.name + ": must be in [" + format_number(opt.lo) + ", " + format_number(opt.hi) +
                  "], got " + format_number(it->second));
  }
  return info.make(config);
}

}  // namespace seqrl
