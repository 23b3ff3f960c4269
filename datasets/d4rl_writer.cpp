#include "datasets/d4rl_writer.h"

#include "core/atomic_file.h"
#include "datasets/hdf5_io.h"

namespace seqrl {

void write_d4rl(const std::string& path, const D4rlArrays& data,
                const std::map<std::string, std::string>& metadata_strings, const D4rlWriteOptions& options) {
  const std::pair<const char*, const torch::Tensor*> keys[] = {
      {"observations", &data.observations},
      {"actions", &data.actions},
      {"rewards", &data.rewards},
      {"terminals", &data.terminals},
      {"timeouts", &data.timeouts},
      {"next_observations", &data.next_observations},
      {"infos/qpos", &data.qpos},
      {"infos/qvel", &data.qvel},
      {"infos/action_log_probs", &data.action_log_probs},
  };
  write_atomic_with(path, [&](const std::string& tmp) {
    auto file = h5::create_file(tmp);
    for (const auto& [key, tensor] : keys)
      if (tensor->defined()) h5::write_tensor(file.get(), key, *tensor, options.gzip_level, path);
    for (const auto& [key, value] : metadata_strings) h5::write_string(file.get(), "metadata/" + key, value, path);
    file.reset();  // flush and close before the rename
  });
}

}  // namespace seqrl
