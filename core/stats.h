// Summary statistics used by every report (datasets, evaluation, SAC, the collector, tables).
#pragma once
#include <utility>
#include <vector>

namespace seqrl {

// Mean and population std (the convention of D4RL tables: std over seeds/episodes); {0, 0}
// for no values.
std::pair<double, double> mean_std(const std::vector<double>& values);

}  // namespace seqrl
