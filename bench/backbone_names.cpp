#include "bench/backbone_names.h"

#include "core/error.h"
#include "models/backbone.h"

namespace seqrl::bench {

std::vector<std::string> backbone_names(const std::vector<std::string>& requested) {
  std::vector<std::string> names;
  for (const auto& n : requested) {
    if (n != "all") {
      try {
        backbone_info(n);
      } catch (const Error& e) {
        throw UsageError(e.what());
      }
      names.push_back(n);
      continue;
    }
    for (const auto& info : backbone_registry()) names.push_back(info.name);
  }
  return names;
}

}  // namespace seqrl::bench
