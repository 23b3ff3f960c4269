// The compiled MuJoCo model of an environment, shared read-only by every Env of that name
// (mj_step only reads mjModel, so one copy serves all threads).
#pragma once
#include <mujoco/mujoco.h>

#include <memory>
#include <string>

namespace seqrl {

// Compiles the built-in MJCF of `env` (a name env_spec accepts) once per process, from memory
// (MuJoCo's virtual file system), so no file path is involved. Throws seqrl::Error on failure.
std::shared_ptr<const mjModel> env_model(const std::string& env);

}  // namespace seqrl
