// Logging: spdlog to the console (stderr), plus the run folder's log.txt once a run starts.
// With SEQRL_RUN_TAG set in the environment, console lines carry "[<tag>]".
#pragma once
#include <spdlog/spdlog.h>

#include <string>

namespace seqrl {

// "trace" .. "off"; throws seqrl::UsageError on an unknown level.
void set_log_level(const std::string& level);
// Adds a file sink (appending) so every later log line also lands in `path`.
void log_to_file(const std::string& path);

}  // namespace seqrl
