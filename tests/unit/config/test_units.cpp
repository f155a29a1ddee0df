// Durations and sizes: Elasticsearch TimeValue / ByteSizeValue spellings.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "esgate/config/settings.hpp"

using esgate::config::duration;
using esgate::config::parse_duration;
using esgate::config::parse_size;

namespace {

constexpr std::optional<std::int64_t> none = std::nullopt;

std::optional<std::int64_t> ms(std::string_view text) {
  auto d = parse_duration(text);
  if (!d) return std::nullopt;
  return d->count();
}

}  // namespace

TEST_CASE("parse_duration accepts Elasticsearch time values", "[config][units]") {
  struct row {
    std::string_view text;
    std::optional<std::int64_t> millis;
  };
  const row rows[] = {
      {"500ms", 500},
      {"10s", 10'000},
      {"5m", 300'000},
      {"1h", 3'600'000},
      {"7d", 604'800'000},
      {"0", 0},
      {"0s", 0},
      {"0ms", 0},
      {"1000000nanos", 1},
      {"1500000nanos", 2},  // sub-millisecond rounds up: never turns a timeout into "none"
      {"1nanos", 1},
      {"0nanos", 0},
      {"2000micros", 2},
      {"1micros", 1},
      {"10S", 10'000},  // Elasticsearch lower-cases before reading the unit
      {"5M", 300'000},  // ... so M is minutes too, never months
      {"  30s  ", 30'000},
      {"10 s", 10'000},
      {"007s", 7'000},
      {"106751991167d", 9'223'372'036'828'800'000},
      {"106751991168d", none},  // overflows milliseconds in int64
      {"9223372036854775807ms", 9'223'372'036'854'775'807},
      {"9223372036854775808ms", none},
      {"99999999999999999999999s", none},
      {"", none},
      {"s", none},
      {"10", none},  // a unit is required except for 0
      {"-1", none},  // "disabled" has no meaning for esgate's durations
      {"-5s", none},
      {"+5s", none},
      {"1.5s", none},  // Elasticsearch: fractional time values are not supported
      {"10sec", none},
      {"10 seconds", none},
      {"5min", none},
      {"1w", none},
      {"1y", none},
      {"s10", none},
      {"10s10", none},
      {"0x10s", none},
      {"1e3ms", none},
      {"10ss", none},
      {std::string_view("10\0s", 4), none},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(ms(r.text) == r.millis);
  }
}

TEST_CASE("parse_size accepts Elasticsearch byte sizes", "[config][units]") {
  constexpr std::uint64_t k = 1024;
  struct row {
    std::string_view text;
    std::optional<std::uint64_t> bytes;
  };
  const row rows[] = {
      {"512kb", 512 * k},
      {"100mb", 100 * k * k},
      {"1gb", k * k * k},
      {"2tb", 2 * k * k * k * k},
      {"1pb", k * k * k * k * k},
      {"10b", 10},
      {"0b", 0},
      {"0", 0},
      {"4096", 4096},  // plain integers are bytes
      {"16KB", 16 * k},
      {"16Kb", 16 * k},
      {"16k", 16 * k},
      {"1m", k * k},
      {"1g", k * k * k},
      {"1.5gb", 3 * k * k * k / 2},
      {"0.5kb", 512},
      {"1.0001kb", 1024},  // fraction truncated like Elasticsearch's (long) cast
      {" 8 mb ", 8 * k * k},
      {"16383pb", 16383 * k * k * k * k * k},
      {"16384pb", std::nullopt},  // 2^64: overflow
      {"18446744073709551615", UINT64_MAX},
      {"18446744073709551616", std::nullopt},
      {"", std::nullopt},
      {"kb", std::nullopt},
      {"-1", std::nullopt},
      {"-1kb", std::nullopt},
      {"+1kb", std::nullopt},
      {"1.5b", std::nullopt},  // no fractional bytes
      {"1.5", std::nullopt},
      {"1.kb", std::nullopt},
      {".5kb", std::nullopt},
      {"1..5kb", std::nullopt},
      {"1e3kb", std::nullopt},
      {"1kib", std::nullopt},
      {"10 megabytes", std::nullopt},
      {"0x400", std::nullopt},
      {"1.1234567890123456789gb", std::nullopt},  // more digits than any real setting needs
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(parse_size(r.text) == r.bytes);
  }
}
