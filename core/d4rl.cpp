#include "core/d4rl.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace seqrl {

const std::vector<D4rlReference>& d4rl_references() {
  static const std::vector<D4rlReference> references = {
      {"halfcheetah", -280.178953, 12135.0},
      {"hopper", -20.272305, 3234.3},
      {"walker2d", 1.629008, 4592.3},
  };
  return references;
}

const D4rlReference* find_d4rl_reference(const std::string& text) {
  std::string t;
  for (unsigned char c : text)
    if (c != '_') t += static_cast<char>(std::tolower(c));
  for (const auto& r : d4rl_references())
    if (t.find(r.env) != std::string::npos) return &r;
  return nullptr;
}

std::string d4rl_env_list() {
  std::string list;
  for (const auto& r : d4rl_references()) list += (list.empty() ? "" : ", ") + std::string(r.env);
  return list;
}

double d4rl_normalized_score(const std::string& env, double ret) {
  const auto* r = find_d4rl_reference(env);
  if (!r) throw Error("env '" + env + "': no D4RL reference scores, expected one of " + d4rl_env_list());
  return 100.0 * (ret - r->random) / (r->expert - r->random);
}

}  // namespace seqrl
