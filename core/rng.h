// A std::mt19937_64 as text and back (the standard's stream format), for checkpoints that
// resume bit-exactly.
#pragma once
#include <random>
#include <string>

namespace seqrl {

std::string rng_to_text(const std::mt19937_64& rng);
// Throws seqrl::Error "<what>: corrupt random generator state ..." and leaves `rng` unchanged
// when `text` is not a saved state.
void rng_from_text(std::mt19937_64& rng, const std::string& text, const std::string& what);

}  // namespace seqrl
