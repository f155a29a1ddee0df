#include "esgate/observability/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <cstdlib>

namespace esgate::observability {

void init_logging(std::string_view level) {
  std::string lvl(level);
  if (lvl.empty()) {
    const char* env = std::getenv("ESGATE_LOG_LEVEL");
    lvl = env ? env : "info";
  }
  auto logger = spdlog::stderr_logger_mt("esgate");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %-5l %v");
  logger->set_level(spdlog::level::from_str(lvl));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace esgate::observability
