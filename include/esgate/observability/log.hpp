#pragma once
// Structured-enough logging on stderr via spdlog (one line per event). Never log a secret:
// callers pass ids and usernames, never Authorization values, passwords or API key secrets.
#include <spdlog/spdlog.h>

namespace esgate::observability {

// level: "trace" | "debug" | "info" | "warn" | "error"; reads ESGATE_LOG_LEVEL when empty.
void init_logging(std::string_view level = {});

}  // namespace esgate::observability
