#include "esgate/es/date_math.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono;
using esgate::es::resolve_date_math;

system_clock::time_point at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
                            int ms = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} +
         milliseconds{ms};
}

// 2024-03-15 (a Friday) 22:45:30.250 UTC
const auto now = at(2024, 3, 15, 22, 45, 30, 250);

struct ok_case {
  std::string name;
  system_clock::time_point now;
  std::string expected;
};

struct err_case {
  std::string name;
  std::string type;
  std::string reason_part;
};

const std::vector<ok_case> resolved = {
    {"books", now, "books"},  // not date math: unchanged
    {"<books", now, "<books"},
    {"books>", now, "books>"},
    {"<static>", now, "static"},
    {"<static{now/d}>", now, "static2024.03.15"},
    {"<logs-{now/d}>", now, "logs-2024.03.15"},
    {"<logs-{now}>", now, "logs-2024.03.15"},
    {"<logs-{now-1d/d}>", now, "logs-2024.03.14"},
    {"<logs-{now+1d}>", now, "logs-2024.03.16"},
    {"<logs-{now-15d}>", now, "logs-2024.02.29"},  // leap year
    {"<logs-{now/M{yyyy.MM}}>", now, "logs-2024.03"},
    {"<logs-{now-1M/M{yyyy.MM}}>", now, "logs-2024.02"},
    {"<logs-{now/y{yyyy}}>", now, "logs-2024"},
    {"<logs-{now-1y/y{yy}}>", now, "logs-23"},
    {"<logs-{now/w}>", now, "logs-2024.03.11"},  // weeks start on Monday
    {"<logs-{now/w}>", at(2024, 3, 11, 0, 0, 1), "logs-2024.03.11"},
    {"<logs-{now/w}>", at(2024, 3, 17, 23, 59), "logs-2024.03.11"},
    {"<logs-{now-2w/d}>", now, "logs-2024.03.01"},
    {"<logs-{now/h{yyyy.MM.dd.HH}}>", now, "logs-2024.03.15.22"},
    {"<logs-{now/H{HH:mm}}>", now, "logs-22:00"},
    {"<logs-{now+90m{HH:mm:ss}}>", now, "logs-00:15:30"},
    {"<logs-{now+90m}>", now, "logs-2024.03.16"},
    {"<logs-{now/m{HH.mm.ss}}>", now, "logs-22.45.00"},
    {"<logs-{now-1s/s{HH.mm.ss}}>", now, "logs-22.45.29"},
    {"<x-{now/d{yyyy.MM.dd|+12:00}}>", now, "x-2024.03.16"},
    {"<x-{now/d{yyyy.MM.dd|-12:00}}>", now, "x-2024.03.15"},
    {"<x-{now{HH:mm|+05:30}}>", now, "x-04:15"},
    {"<x-{now{HH:mm|+0530}}>", now, "x-04:15"},
    {"<x-{now{HH|+05}}>", now, "x-03"},
    {"<x-{now{HH|Z}}>", now, "x-22"},
    {"<x-{now{HH|UTC}}>", now, "x-22"},
    {"<x-{now{HH|UTC+01:00}}>", now, "x-23"},
    {"<x-{now/d{yyyy.MM.dd|+12:00}}-{now/d}>", now, "x-2024.03.16-2024.03.15"},
    {"<logs-{now/M{uuuu-MM}}>", now, "logs-2024-03"},
    {"<logs-{now{yyyy'T'HH}}>", now, "logs-2024T22"},
    {"<logs-{now{dd''MM}}>", now, "logs-15'03"},
    {"<logs-{now+1M}>", at(2024, 1, 31), "logs-2024.02.29"},  // month end clamps
    {"<logs-{now+1y}>", at(2024, 2, 29), "logs-2025.02.28"},
    {"<logs-{now-1M}>", at(2024, 3, 31), "logs-2024.02.29"},
    {"<logs-{now+1d}>", at(2023, 12, 31, 12), "logs-2024.01.01"},
    {"<logs-{now/d}>", at(1970, 1, 1), "logs-1970.01.01"},
    {"<logs-{now/d}>", at(1969, 12, 31, 23, 59, 59), "logs-1969.12.31"},
    {"<logs-{now/w}>", at(1970, 1, 1, 5), "logs-1969.12.29"},
    {"<elastic\\{ON\\}-{now/M}>", now, "elastic{ON}-2024.03.01"},
    {"<a\\\\b-{now/d}>", now, "a\\b-2024.03.15"},
};

const std::vector<err_case> errors = {
    {"<.mar}vel-{now/d}>", "parse_exception", "invalid character at position [5]"},
    {"<logs-{now/d>", "parse_exception", "date math placeholder is open ended"},
    {"<logs-{now/d{yyyy{MM}}}>", "parse_exception", "invalid character in placeholder"},
    {"<logs-{now/d{}}>", "parse_exception", "missing date format"},
    {"<logs-{now/d{yyyy}x}>", "parse_exception", "missing closing `}` for date math format"},
    {"<{now/d}>", "", ""},  // placeholder only: fine (checked separately below)
    {"<>", "parse_exception", "nothing captured"},
    {"<logs-{now*1d}>", "parse_exception", "operator not supported for date math [*1d]"},
    {"<logs-{now-}>", "parse_exception", "truncated date math [-]"},
    {"<logs-{now-1}>", "parse_exception", "truncated date math [-1]"},
    {"<logs-{now/2d}>", "parse_exception", "rounding `/` can only be used on single unit types"},
    {"<logs-{now-1q}>", "parse_exception", "unit [q] not supported for date math [-1q]"},
    {"<logs-{now-99999999999d}>", "parse_exception", "failed to parse date math number"},
    {"<logs-{now+9000y}>", "parse_exception", "out of range"},
    {"<logs-{now-2024y}>", "parse_exception", "out of range"},
    {"<logs-{2024-01-01||+1d}>", "parse_exception", "only [now] based date math"},
    {"<logs-{}>", "parse_exception", "only [now] based date math"},
    {"<logs-{now/d{YYYY.MM.dd}}>", "illegal_argument_exception",
     "unsupported pattern letters [YYYY]"},
    {"<logs-{now/d{yyyy.M.d}}>", "illegal_argument_exception", "unsupported pattern letters [M]"},
    {"<logs-{now/d{yyyy.MM.dd SSS}}>", "illegal_argument_exception", "[SSS]"},
    {"<logs-{now/d{yyy}}>", "illegal_argument_exception", "[yyy]"},
    {"<logs-{now/d{yyyy[MM]}}>", "illegal_argument_exception", "unsupported pattern character"},
    {"<logs-{now/d{yyyy'x}}>", "illegal_argument_exception", "incomplete string literal"},
    {"<logs-{now/d{yyyy|Europe/Paris}}>", "illegal_argument_exception", "unsupported time zone"},
    {"<logs-{now/d{yyyy|+19:00}}>", "illegal_argument_exception", "unsupported time zone"},
    {"<logs-{now/d{yyyy|+1:00}}>", "illegal_argument_exception", "unsupported time zone"},
    {"<logs-{now/d{yyyy|}}>", "illegal_argument_exception", "unsupported time zone"},
    {"<logs-{now/d{yyyy|UTCZ}}>", "illegal_argument_exception", "unsupported time zone"},
    // An escaped `}` stays in the format, where java.time reserves it.
    {"<x-{now/d{yyyy\\}MM}}>", "illegal_argument_exception", "unsupported pattern character [}]"},
};

}  // namespace

TEST_CASE("date math names resolve like Elasticsearch", "[date_math]") {
  for (const auto& c : resolved) {
    INFO("name: " << c.name);
    auto r = resolve_date_math(c.name, c.now);
    if (!r) FAIL("error: " << r.error().reason);
    CHECK(*r == c.expected);
  }
}

TEST_CASE("invalid date math is refused with an ES-like reason", "[date_math]") {
  for (const auto& c : errors) {
    INFO("name: " << c.name);
    auto r = resolve_date_math(c.name, now);
    if (c.type.empty()) {
      CHECK(r.has_value());
      continue;
    }
    if (r) {
      FAIL_CHECK("accepted, expected an error");
      continue;
    }
    CHECK(r.error().type == c.type);
    CHECK_THAT(r.error().reason, Catch::Matchers::Contains(c.reason_part));
  }
}

TEST_CASE("date math quotes the expression as Elasticsearch does", "[date_math]") {
  auto r = resolve_date_math("<.mar}vel-{now/d}>", now);
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().reason,
             Catch::Matchers::StartsWith("invalid dynamic name expression [.mar}vel-{now/d}>]"));
}

TEST_CASE("is_date_math needs both bounds", "[date_math]") {
  CHECK(esgate::es::is_date_math("<a>"));
  CHECK(esgate::es::is_date_math("<>"));
  CHECK_FALSE(esgate::es::is_date_math("<"));
  CHECK_FALSE(esgate::es::is_date_math("a<b>"));
  CHECK_FALSE(esgate::es::is_date_math("<a>b"));
  CHECK_FALSE(esgate::es::is_date_math(""));
}
