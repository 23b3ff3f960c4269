#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

#include "core/error.h"

namespace seqrl {
namespace {

std::shared_ptr<spdlog::logger> make_default() {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("seqrl", console);
  // Runs started side by side (sweep, train --seeds) share a terminal: the parent names each
  // child in SEQRL_RUN_TAG, and every console line of that child carries it.
  const char* tag = std::getenv("SEQRL_RUN_TAG");
  logger->set_pattern(tag && *tag ? std::string("[%H:%M:%S] [") + tag + "] [%^%l%$] %v" : "[%H:%M:%S] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  return logger;
}

std::shared_ptr<spdlog::logger>& logger() {
  static auto l = make_default();
  return l;
}

}  // namespace

void set_log_level(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") throw UsageError("--log-level: unknown level '" + level + "'");
  logger()->set_level(lvl);
}

void log_to_file(const std::string& path) {
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  logger()->sinks().push_back(file);
  logger()->flush_on(spdlog::level::info);
}

}  // namespace seqrl
