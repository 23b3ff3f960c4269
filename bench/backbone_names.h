// The backbones a bench command runs: names as given on its command line, "all" expanding to
// every registered backbone in registry order.
#pragma once
#include <string>
#include <vector>

namespace seqrl::bench {

// Throws seqrl::UsageError naming an unknown backbone (and the valid names).
std::vector<std::string> backbone_names(const std::vector<std::string>& requested);

}  // namespace seqrl::bench
