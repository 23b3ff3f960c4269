// `seqrl export`'s writer: a decision model and its scaling as a .sqp policy file for the
// LibTorch-free runtime (layout: runtime/sqp_format.h, reader: runtime/sqp.h).
#pragma once
#include <string>

#include "eval/evaluate.h"
#include "models/decision_model.h"

namespace seqrl {

// How the parameters are stored: float32 acts exactly like LibTorch; float16 stores the weight
// matrices in binary16, halving the bytes a step streams (the runtime still computes in
// float32), and acts like the model with those matrices rounded to float16.
enum class PolicyDtype { float32, float16 };

// The file's bytes: header, state normalization (float32), then every named parameter of
// `model` in `dtype`. Throws seqrl::Error if a weight is not finite (or beyond float16's range),
// or a name or size does not fit.
std::string encode_policy(DecisionModel& model, const PolicyScaling& scaling, const std::string& env,
                          double target_return, PolicyDtype dtype = PolicyDtype::float32);

// encode_policy written atomically to `path`.
void export_policy(const std::string& path, DecisionModel& model, const PolicyScaling& scaling, const std::string& env,
                   double target_return, PolicyDtype dtype = PolicyDtype::float32);

}  // namespace seqrl
