#pragma once
// Structured-enough logging on stderr via spdlog (one line per event). Never log a secret:
// callers pass ids and usernames, never Authorization values, passwords or API key secrets.
#include <spdlog/spdlog.h>

namespace esgate::observability {

// level: "trace" | "debug" | "info" | "warn" | "error"; reads ESGATE_LOG_LEVEL when empty.
void init_logging(std::string_view level = {});

// Applies logging.level and logging.format once esgate.yaml is read: "text" keeps the default
// pattern, "json" writes {"@timestamp","log.level","message"} objects with the message escaped.
// An ESGATE_LOG_LEVEL in the environment wins over `level`.
void configure_logging(std::string_view level, std::string_view format);

}  // namespace esgate::observability
