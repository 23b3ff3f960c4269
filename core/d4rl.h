// The D4RL reference returns of the locomotion environments and the normalized score, in one
// place: datasets/ reports it for dataset statistics, envs/ and eval/ for rollouts.
// Numbers: Farama-Foundation/D4RL, d4rl/infos.py (REF_MIN_SCORE / REF_MAX_SCORE, the -v2 sets).
#pragma once
#include <string>
#include <vector>

namespace seqrl {

struct D4rlReference {
  const char* env;        // "halfcheetah", "hopper", "walker2d"
  double random, expert;  // returns of a random and of an expert policy
};

const std::vector<D4rlReference>& d4rl_references();
// The env whose name occurs in `text` (case-insensitive, '_' ignored: "Hopper-v3",
// "walker2d_medium-v2.hdf5", "half_cheetah"), or nullptr.
const D4rlReference* find_d4rl_reference(const std::string& text);
// "halfcheetah, hopper, walker2d", for error messages.
std::string d4rl_env_list();
// D4RL normalized score x100: 100 * (ret - random) / (expert - random). Throws seqrl::Error
// naming `env` and the valid names when it has no reference returns.
double d4rl_normalized_score(const std::string& env, double ret);

}  // namespace seqrl
