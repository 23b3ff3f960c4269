// `seqrl export`'s writer: a decision model and its scaling as a .sqp policy file for the
// LibTorch-free runtime (layout: runtime/sqp_format.h, reader: runtime/sqp.h).
#pragma once
#include <string>

#include "eval/evaluate.h"
#include "models/decision_model.h"

namespace seqrl {

// The file's bytes: header, state normalization, then every named parameter of `model` in
// float32. Throws seqrl::Error if a weight is not finite or a name or size does not fit.
std::string encode_policy(DecisionModel& model, const PolicyScaling& scaling, const std::string& env,
                          double target_return);

// encode_policy written atomically to `path`.
void export_policy(const std::string& path, DecisionModel& model, const PolicyScaling& scaling, const std::string& env,
                   double target_return);

}  // namespace seqrl
