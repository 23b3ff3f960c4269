// Peak memory that one piece of work (a training pass) adds on top of what was already held
// when it started, in MiB: on a CUDA device the caching allocator's peak of allocated bytes,
// on the CPU the process's peak resident set (Linux /proc). Empty when it cannot be measured.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <optional>

namespace seqrl::bench {

std::optional<double> peak_mib_during(const torch::Device& device, const std::function<void()>& work);

}  // namespace seqrl::bench
