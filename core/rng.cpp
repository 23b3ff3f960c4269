#include "core/rng.h"

#include <sstream>

#include "core/error.h"

namespace seqrl {

std::string rng_to_text(const std::mt19937_64& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

void rng_from_text(std::mt19937_64& rng, const std::string& text, const std::string& what) {
  std::istringstream in(text);
  std::mt19937_64 read;
  in >> read;
  if (in.fail()) throw Error(what + ": corrupt random generator state (expected a saved std::mt19937_64 state)");
  rng = read;
}

}  // namespace seqrl
