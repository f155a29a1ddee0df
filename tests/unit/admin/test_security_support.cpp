// Pure helpers of the security API: TimeValue, name rules, strict JSON, dates, paths.
#include <catch2/catch.hpp>

#include "esgate/admin/security_api.hpp"
#include "security_api_support.hpp"

#include <cstdint>

using namespace esgate::admin;
using namespace esgate::admin::detail;

TEST_CASE("TimeValue: units and ES error wording (ref §2.4)", "[admin][pure]") {
  struct row {
    const char* text;
    std::int64_t ms;    // when ok
    const char* error;  // when not
  };
  const row rows[] = {
      {"1d", 86'400'000, nullptr},
      {"30m", 1'800'000, nullptr},
      {"2h", 7'200'000, nullptr},
      {"10s", 10'000, nullptr},
      {"1500ms", 1500, nullptr},
      {"7D", 604'800'000, nullptr},
      {" 5s ", 5000, nullptr},
      {"2000000micros", 2000, nullptr},
      {"3000000000nanos", 3000, nullptr},
      {"-1", -1, nullptr},
      {"0", 0, nullptr},
      {"000", 0, nullptr},
      {"1.5d", 0, "failed to parse [1.5d], fractional time values are not supported"},
      {"10", 0,
       "failed to parse setting [expiration] with value [10] as a time value: unit is missing or "
       "unrecognized"},
      {"1M", 0,
       "failed to parse setting [expiration] with value [1M] as a time value: unit is missing or "
       "unrecognized"},
      {"1w", 0,
       "failed to parse setting [expiration] with value [1w] as a time value: unit is missing or "
       "unrecognized"},
      {"", 0,
       "failed to parse setting [expiration] with value [] as a time value: unit is missing or "
       "unrecognized"},
      {"xd", 0, "failed to parse [xd]"},
      {"-5s", 0,
       "failed to parse setting [expiration] with value [-5s] as a time value: negative durations "
       "are not supported"},
      // Long.parseLong overflows, Double.parseDouble does not: ES says "fractional".
      {"99999999999999999999d", 0,
       "failed to parse [99999999999999999999d], fractional time values are not supported"},
      {"9223372036854775807d", 0, "failed to parse [9223372036854775807d]"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto v = parse_time_value_ms(r.text, "expiration");
    if (r.error) {
      REQUIRE(std::holds_alternative<std::string>(v));
      CHECK(std::get<std::string>(v) == r.error);
    } else {
      REQUIRE(std::holds_alternative<std::int64_t>(v));
      CHECK(std::get<std::int64_t>(v) == r.ms);
    }
  }
}

TEST_CASE("expiration is now plus whole seconds", "[admin][pure]") {
  CHECK(expiration_from(1000, 86'400'000) == 86'401'000);
  CHECK(expiration_from(1000, 500) == 1000);  // 500ms: already expired, as ES
  CHECK(expiration_from(1000, 1999) == 2000);
  CHECK(expiration_from(1000, -1) == 1000);
  CHECK_FALSE(expiration_from(1000, std::int64_t{1} << 60).has_value());
}

TEST_CASE("name rules count UTF-16 units and Java whitespace", "[admin][pure]") {
  CHECK(utf16_length("abc") == 3);
  CHECK(utf16_length("\xC3\xA9") == 1);          // é
  CHECK(utf16_length("\xE2\x82\xAC") == 1);      // €
  CHECK(utf16_length("\xF0\x9F\x98\x80") == 2);  // 😀 is a surrogate pair
  CHECK(has_java_whitespace_edges(" a"));
  CHECK(has_java_whitespace_edges("a\t"));
  CHECK(has_java_whitespace_edges(std::string("a\x01", 2)));
  CHECK_FALSE(has_java_whitespace_edges("a b"));
  CHECK_FALSE(has_java_whitespace_edges(""));
}

TEST_CASE("validation reasons split and renumber", "[admin][pure]") {
  CHECK(split_validation_reason("Validation Failed: 1: a;") == std::vector<std::string>{"a"});
  CHECK(split_validation_reason("Validation Failed: 1: a [x];2: b;c;3: d;") ==
        std::vector<std::string>{"a [x]", "b;c", "d"});
  CHECK(validation_failed({"x", "y"}).reason == "Validation Failed: 1: x;2: y;");
  CHECK(validation_failed({"x"}).type == "action_request_validation_exception");
}

TEST_CASE("strict JSON bodies", "[admin][pure]") {
  struct row {
    std::string body;
    const char* reason_part;  // nullptr = ok
  };
  const row rows[] = {
      {R"({"a":1,"b":{"c":[1,2]}})", nullptr},
      {R"({"name":"a","name":"b"})", "Duplicate field 'name'"},
      {R"({"x":{"k":1,"k":2}})", "Duplicate field 'k'"},
      {R"({"x":[{"k":1},{"k":2}]})", nullptr},  // same key in sibling objects is fine
      {R"({"a":1} x)", "failed to parse the request body"},
      {R"({"a":)", "failed to parse the request body"},
      {"{\"a\":\"\xff\"}", "failed to parse the request body"},
      {std::string(70, '[') + std::string(70, ']'), "nested more than 64 levels"},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    auto v = parse_json_body(r.body);
    if (!r.reason_part) {
      CHECK(std::holds_alternative<boost::json::value>(v));
      continue;
    }
    REQUIRE(std::holds_alternative<api_error>(v));
    const auto& e = std::get<api_error>(v);
    CHECK(e.status == 400);
    CHECK(e.type == "x_content_parse_exception");
    CHECK_THAT(e.reason, Catch::Contains(r.reason_part));
  }
}

TEST_CASE("dates: epoch millis, ISO-8601, date math", "[admin][pure]") {
  const std::int64_t now = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  struct row {
    const char* text;
    std::optional<std::int64_t> ms;
  };
  const row rows[] = {
      {"0", 0},
      {"1700000000000", 1'700'000'000'000},
      {"2023-11-14", 1'699'920'000'000},
      {"2023-11-14T22:13:20Z", 1'700'000'000'000},
      {"2023-11-14T22:13:20.5Z", 1'700'000'000'500},
      {"2023-11-15T00:13:20+02:00", 1'700'000'000'000},
      {"2024", 1'704'067'200'000},
      {"now", now},
      {"now-1d", now - 86'400'000},
      {"now+1h", now + 3'600'000},
      {"now/d", 1'699'920'000'000},
      {"now-1M/M", 1'696'118'400'000},         // 2023-10-01
      {"2023-01-31||+1M", 1'677'542'400'000},  // clamps to 2023-02-28
      {"2023-13-01", std::nullopt},
      {"yesterday", std::nullopt},
      {"now-1x", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    CHECK(parse_date_millis(r.text, now) == r.ms);
  }
  CHECK(format_date_time(1'700'000'000'123) == "2023-11-14T22:13:20.123Z");
  CHECK(format_date_time(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_date_time(-1) == "1969-12-31T23:59:59.999Z");
  // The ends of the range print without overflowing (stored dates are any int64).
  CHECK(format_date_time(INT64_MAX) == "292278994-08-17T07:12:55.807Z");
  CHECK(format_date_time(INT64_MIN) == "-292275055-05-16T16:47:04.192Z");
}

TEST_CASE("dates: math at the ends of the int64 range fails, never overflows", "[admin][pure]") {
  // Found by fuzzing the query API's bodies: each of these was a signed overflow (UB).
  const std::int64_t now = 1'700'000'000'000;
  struct row {
    const char* text;
    std::optional<std::int64_t> ms;
  };
  const row rows[] = {
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
      {"9223372036854775807||+1d", std::nullopt},
      {"9223372036854775807||+1s", std::nullopt},
      {"9223372036854775807||+999999999y", std::nullopt},
      {"9223372036854775807||+1M", std::nullopt},
      {"-9223372036854775808||-1s", std::nullopt},
      {"-9223372036854775808||-1M", std::nullopt},
      {"-9223372036854775808||/M", std::nullopt},
      {"-9223372036854775808||/y", std::nullopt},
      {"-9223372036854775808||/d", std::nullopt},
      {"-9223372036854775808||/w", std::nullopt},
      {"-9223372036854775808||/s", std::nullopt},
      {"9223372036854775807||/s", 9'223'372'036'854'775'000},
      {"9223372036854775807||-1s", INT64_MAX - 1000},
      {"9223372036854775807||/h", 9'223'372'036'854'000'000},
      {"now+999999999y", std::nullopt},
      {"now-999999999y", std::nullopt},
      {"now+999999999w", now + 999'999'999LL * 7 * 86'400'000},
      {"now-1000000000d", std::nullopt},  // ten digits: not a number of ours
  };
  for (const auto& r : rows) {
    INFO(r.text);
    CHECK(parse_date_millis(r.text, now) == r.ms);
  }
}

TEST_CASE("paths served by the security API", "[admin][pure]") {
  using segs = std::vector<std::string>;
  struct row {
    segs path;
    bool served;
  };
  const row rows[] = {
      {{"_security", "api_key"}, true},
      {{"_security", "api_key", "VuaCfGcBCdbkQm-e5aOx"}, true},
      {{"_security", "api_key", "_bulk_update"}, true},
      {{"_security", "api_key", "grant"}, true},
      {{"_security", "api_key", "a,b", "_clear_cache"}, true},
      {{"_security", "_query", "api_key"}, true},
      {{"_security", "_authenticate"}, true},
      {{"_security", "user", "_has_privileges"}, true},
      {{"_security", "user", "alice", "_has_privileges"}, true},
      {{"_security", "cross_cluster", "api_key"}, true},
      {{"_security", "user"}, false},
      {{"_security", "user", "alice"}, false},
      {{"_security", "user", "_privileges"}, false},
      {{"_security", "role"}, false},
      {{"_security", "api_key", "x", "y"}, false},
      {{"_security"}, false},
      {{"api_key"}, false},
      {{"books", "_search"}, false},
      {{}, false},
  };
  for (const auto& r : rows) {
    INFO(r.path.size());
    CHECK(is_security_api(r.path) == r.served);
  }
}

TEST_CASE("bool parameters as ES paramAsBoolean", "[admin][pure]") {
  CHECK(parse_bool_param("") == true);
  CHECK(parse_bool_param("true") == true);
  CHECK(parse_bool_param("false") == false);
  CHECK_FALSE(parse_bool_param("yes").has_value());
  CHECK_FALSE(parse_bool_param("TRUE").has_value());
}
