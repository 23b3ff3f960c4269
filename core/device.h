// Where a run computes: the `run.device` setting ("auto", "cpu", "cuda" or "cuda:N").
#pragma once
#include <torch/torch.h>

#include <string>

namespace seqrl {

// True when `spec` is one of the accepted spellings (checked before a run folder exists).
bool valid_device_spec(const std::string& spec);

// "auto" is CUDA device 0 when LibTorch sees one, else the CPU. Throws seqrl::Error naming
// `key` when the spelling is wrong or the CUDA device asked for does not exist.
torch::Device resolve_device(const std::string& spec, const std::string& key = "run.device");

// The kernel family OpenBLAS chose for LibTorch's CPU matmuls on this machine ("SkylakeX",
// "Haswell", ...; openblas_get_corename), or "" when LibTorch's BLAS is not OpenBLAS. Float
// results, and so rollouts and SAC runs, differ between families: suite records name theirs.
std::string blas_kernels();

}  // namespace seqrl
