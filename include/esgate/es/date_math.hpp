#pragma once
// Elasticsearch date-math index names: `<logs-{now/d}>`, `<logs-{now-1d/d}>`,
// `<logs-{now/M{yyyy.MM}}>`, `<x-{now/d{yyyy.MM.dd|+12:00}}>`.
//
// Mirrors IndexNameExpressionResolver.DateMathExpressionResolver and JavaDateMathParser so the
// gateway authorizes the very name Elasticsearch will touch (threats.md A6: "evaluate date math
// server-side"). `now` is injected: this module never reads the clock.
//
// Supported subset (anything else is an error, never a guess):
//  - anchor `now` only (no `2024-01-01||+1d` anchors);
//  - operations `+N<unit>`, `-N<unit>`, `/<unit>` with units y M w d h H m s (rounding is down,
//    weeks start on Monday, month/year arithmetic clamps the day like java.time);
//  - format letters yyyy uuuu yy uu MM dd HH mm ss, quoted literals 'text', other non-letters
//    literal; default format `uuuu.MM.dd`;
//  - time zones as fixed offsets (`+12:00`, `-0530`, `+05`, `Z`, `UTC`, `GMT`, `UTC+01:00`);
//    region ids such as `Europe/Paris` are refused (no tz database in the pure core);
//  - escapes `\{`, `\}` and `\\` as in Elasticsearch.

#include <chrono>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

namespace esgate::es {

// An error to render as a 400 Elasticsearch error body: `type` is the ES exception type
// (`parse_exception` for ElasticsearchParseException, `illegal_argument_exception`), `reason`
// the ES-like message.
struct date_math_error {
  std::string type;
  std::string reason;
};

// True when `name` would be treated as date math by Elasticsearch: it starts with `<` and ends
// with `>`.
bool is_date_math(std::string_view name) noexcept;

// Resolves a date-math name at `now`. Names that are not date math are returned unchanged.
boost::system::result<std::string, date_math_error> resolve_date_math(
    std::string_view name, std::chrono::system_clock::time_point now);

}  // namespace esgate::es
