// The backbone registry, built from the SEQRL_BACKBONES X-macro in models/backbone.h: every
// name there has a `BackboneInfo <name>_backbone()` defined in models/<name>.cpp.
#include <sstream>
#include <stdexcept>

#include "core/error.h"
#include "models/backbone.h"

namespace seqrl {

#define SEQRL_DECLARE_BACKBONE(name) BackboneInfo name##_backbone();
SEQRL_BACKBONES(SEQRL_DECLARE_BACKBONE)
#undef SEQRL_DECLARE_BACKBONE

double BackboneConfig::option(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) throw std::out_of_range("backbone option '" + name + "' is not set");
  return it->second;
}

const std::vector<BackboneInfo>& backbone_registry() {
#define SEQRL_BACKBONE_INFO(name) name##_backbone(),
  static const std::vector<BackboneInfo> registry = {SEQRL_BACKBONES(SEQRL_BACKBONE_INFO)};
#undef SEQRL_BACKBONE_INFO
  return registry;
}

namespace {

std::string valid_names() {
  std::string names;
  for (const auto& info : backbone_registry()) names += (names.empty() ? "" : ", ") + info.name;
  return names;
}

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

const BackboneInfo& backbone_info(const std::string& name) {
  for (const auto& info : backbone_registry())
    if (info.name == name) return info;
  throw Error("model.backbone: unknown backbone '" + name + "'; expected one of: " + valid_names());
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
    if (!known) {
      std::string names;
      for (const auto& opt : info.options) names += (names.empty() ? "" : ", ") + opt.name;
      throw Error(prefix + key + ": unknown option for backbone '" + name + "'; expected one of: " +
                  (names.empty() ? "(none)" : names));
    }
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
