#include "esgate/observability/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <string>

#include "esgate/observability/audit.hpp"

namespace esgate::observability {

namespace {

constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%e%z %-5l %v";

// %* in the JSON pattern: the message as a JSON string, escaped like the audit log (quotes,
// control characters, invalid UTF-8), so a hostile user name in a message cannot break the line.
class json_message final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string s;
    append_json_string(s, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message>();
  }
};

}  // namespace

void init_logging(std::string_view level) {
  std::string lvl(level);
  if (lvl.empty()) {
    const char* env = std::getenv("ESGATE_LOG_LEVEL");
    lvl = env ? env : "info";
  }
  auto logger = spdlog::get("esgate");
  if (!logger) logger = spdlog::stderr_logger_mt("esgate");
  logger->set_pattern(text_pattern);
  logger->set_level(spdlog::level::from_str(lvl));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void configure_logging(std::string_view level, std::string_view format) {
  auto logger = spdlog::default_logger();
  const char* env = std::getenv("ESGATE_LOG_LEVEL");
  std::string lvl = env && *env ? env : std::string(level);
  if (!lvl.empty()) logger->set_level(spdlog::level::from_str(lvl));
  if (format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<json_message>('*').set_pattern(
        R"({"@timestamp":"%Y-%m-%dT%H:%M:%S.%fZ","log.level":"%l","log.logger":"esgate","message":%*})");
    logger->set_formatter(std::move(f));
  } else {
    logger->set_pattern(text_pattern);
  }
}

}  // namespace esgate::observability
