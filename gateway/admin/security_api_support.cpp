#include "security_api_support.hpp"

#include "esgate/policy/role_descriptor.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <set>

#include "esgate/http/es_error.hpp"

namespace esgate::admin::detail {

namespace json = boost::json;

api_error bad_request(std::string type, std::string reason) {
  return api_error{400, std::move(type), std::move(reason)};
}

api_error illegal_argument(std::string reason) {
  return bad_request("illegal_argument_exception", std::move(reason));
}

api_error validation_failed(const std::vector<std::string>& messages) {
  std::string reason = "Validation Failed: ";
  int i = 0;
  for (const auto& m : messages) reason += std::to_string(++i) + ": " + m + ";";
  return bad_request("action_request_validation_exception", std::move(reason));
}

std::vector<std::string> split_validation_reason(std::string_view reason) {
  constexpr std::string_view head = "Validation Failed: ";
  if (reason.substr(0, head.size()) == head) reason.remove_prefix(head.size());
  // Items are "<n>: <message>;" with n counting up from 1; split where the next number starts.
  std::vector<std::string> out;
  int n = 1;
  std::size_t pos = 0;
  while (pos < reason.size()) {
    const std::string start = std::to_string(n) + ": ";
    if (reason.substr(pos, start.size()) != start) break;
    pos += start.size();
    const std::string next = ";" + std::to_string(n + 1) + ": ";
    std::size_t end = reason.find(next, pos);
    if (end == std::string_view::npos) {
      std::string_view last = reason.substr(pos);
      if (!last.empty() && last.back() == ';') last.remove_suffix(1);
      out.emplace_back(last);
      break;
    }
    out.emplace_back(reason.substr(pos, end - pos));
    pos = end + 1;
    ++n;
  }
  if (out.empty() && !reason.empty()) out.emplace_back(reason);
  return out;
}

http::gateway_response error_response(const api_error& e) {
  return http::es_error(e.status, e.type, e.reason);
}

http::gateway_response json_response(const json::value& body, int status) {
  http::gateway_response r;
  r.status = status;
  r.body = json::serialize(body);
  http::add_standard_headers(r);
  return r;
}

// ---- strict JSON ----------------------------------------------------------------------------

namespace {

// A basic_parser handler that only watches object keys: every open object keeps the set of keys
// seen so far, and a repeated one stops the parse.
struct duplicate_key_handler {
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);

  std::vector<std::set<std::string>> objects;
  std::string key;
  std::string duplicate;  // set when the parse was stopped for a repeated key

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    objects.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key.append(s.data(), s.size());
    if (!objects.back().insert(key).second) {
      duplicate = std::move(key);
      key.clear();
      ec = json::error::syntax;
      return false;
    }
    key.clear();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "[" + std::to_string(line) + ":" + std::to_string(col) + "] ";
}

}  // namespace

std::variant<json::value, api_error> parse_json_body(std::string_view body, std::size_t max_depth) {
  json::parse_options opt;
  opt.max_depth = max_depth;
  {
    json::basic_parser<duplicate_key_handler> p(opt);
    json::error_code ec;
    std::size_t n = p.write_some(false, body.data(), body.size(), ec);
    if (!p.handler().duplicate.empty())
      return bad_request("x_content_parse_exception",
                         position(body, n) + "Duplicate field '" + p.handler().duplicate + "'");
    if (!ec && n != body.size()) ec = json::error::extra_data;
    if (ec) {
      std::string what =
          ec == json::error::too_deep
              ? "the request body is nested more than " + std::to_string(max_depth) + " levels deep"
              : "failed to parse the request body: " + ec.message();
      return bad_request("x_content_parse_exception", position(body, n) + what);
    }
  }
  json::error_code ec;
  json::value v = json::parse(json::string_view(body.data(), body.size()), ec, {}, opt);
  if (ec) return bad_request("x_content_parse_exception", "failed to parse the request body");
  return v;
}

std::string token_name(const json::value& v) { return esgate::policy::json_token_name(v); }

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

std::variant<std::optional<json::value>, api_error> read_json_body(std::string_view body,
                                                                   bool required) {
  if (is_blank(body)) {
    if (required) return bad_request("parse_exception", "request body is required");
    return std::optional<json::value>{};
  }
  auto v = parse_json_body(body);
  if (auto* e = std::get_if<api_error>(&v)) return *e;
  return std::optional<json::value>(std::move(std::get<json::value>(v)));
}

api_error wrong_type(std::string_view parser, std::string_view field, const json::value& v) {
  return bad_request("x_content_parse_exception",
                     "[" + std::string(parser) + "] " + std::string(field) +
                         " doesn't support values of type: " + token_name(v));
}

api_error unknown_field(std::string_view parser, std::string_view field) {
  return bad_request("x_content_parse_exception",
                     "[" + std::string(parser) + "] unknown field [" + std::string(field) + "]");
}

// ---- TimeValue ------------------------------------------------------------------------------

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view java_trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Java's Long.parseLong: optional sign, digits only.
std::optional<std::int64_t> java_parse_long(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view digits = s;
  if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t v = 0;
  std::string_view t = s.front() == '+' ? s.substr(1) : s;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return v;
}

// Java's Double.parseDouble accepts things like "1.5", ".5", "1e3", "NaN".
bool java_parses_double(std::string_view s) {
  if (s.empty()) return false;
  if (s == "NaN" || s == "Infinity" || s == "-Infinity" || s == "+Infinity") return true;
  std::string_view t = s;
  if (t.front() == '+' || t.front() == '-') t.remove_prefix(1);
  if (!t.empty() && (t.back() == 'd' || t.back() == 'D' || t.back() == 'f' || t.back() == 'F'))
    t.remove_suffix(1);
  if (t.empty()) return false;
  double d = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
  return ec == std::errc() && p == t.data() + t.size();
}

}  // namespace

std::variant<std::int64_t, std::string> parse_time_value_ms(std::string_view text,
                                                            std::string_view setting) {
  const std::string s(text);
  const std::string normalized = lower(java_trim(text));
  struct unit {
    std::string_view suffix;
    // milliseconds = value * mul / div
    std::int64_t mul, div;
  };
  std::optional<unit> u;
  if (ends_with(normalized, "nanos"))
    u = unit{"nanos", 1, 1'000'000};
  else if (ends_with(normalized, "micros"))
    u = unit{"micros", 1, 1000};
  else if (ends_with(normalized, "ms"))
    u = unit{"ms", 1, 1};
  else if (ends_with(normalized, "s"))
    u = unit{"s", 1000, 1};
  else if (ends_with(java_trim(text), "m"))  // case-sensitive: `M` would be months
    u = unit{"m", 60'000, 1};
  else if (ends_with(normalized, "h"))
    u = unit{"h", 3'600'000, 1};
  else if (ends_with(normalized, "d"))
    u = unit{"d", 86'400'000, 1};
  if (!u) {
    const std::string_view n = normalized;
    if (n.size() >= 1 && n.front() == '-' && n.back() == '1' &&
        std::all_of(n.begin() + 1, n.end() - 1, [](char c) { return c == '0'; }))
      return std::int64_t{-1};
    if (!n.empty() && std::all_of(n.begin(), n.end(), [](char c) { return c == '0'; }))
      return std::int64_t{0};
    return "failed to parse setting [" + std::string(setting) + "] with value [" + s +
           "] as a time value: unit is missing or unrecognized";
  }
  const std::string_view number =
      java_trim(std::string_view(normalized).substr(0, normalized.size() - u->suffix.size()));
  auto v = java_parse_long(number);
  if (!v) {
    if (java_parses_double(number))
      return "failed to parse [" + s + "], fractional time values are not supported";
    return "failed to parse [" + s + "]";
  }
  if (*v < -1)
    return "failed to parse setting [" + std::string(setting) + "] with value [" + s +
           "] as a time value: negative durations are not supported";
  if (u->mul > 1 && *v > std::numeric_limits<std::int64_t>::max() / u->mul)
    return "failed to parse [" + s + "]";
  return *v * u->mul / u->div;
}

std::optional<std::int64_t> expiration_from(std::int64_t now_ms, std::int64_t duration_ms) {
  const std::int64_t whole_seconds_ms = duration_ms / 1000 * 1000;  // truncates toward zero
  // Stay below 2^53 so every client's JSON parser reads the number exactly.
  constexpr std::int64_t max_ms = (std::int64_t{1} << 53) - 1;
  if (whole_seconds_ms > max_ms - now_ms) return std::nullopt;
  return now_ms + whole_seconds_ms;
}

std::size_t utf16_length(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    n += (c >= 0xF0) ? 2 : 1;          // 4-byte sequences are surrogate pairs in Java
  }
  return n;
}

bool has_java_whitespace_edges(std::string_view s) { return java_trim(s).size() != s.size(); }

std::optional<bool> parse_bool_param(std::string_view v) {
  if (v.empty() || v == "true") return true;
  if (v == "false") return false;
  return std::nullopt;
}

// ---- dates ----------------------------------------------------------------------------------

namespace {

// Howard Hinnant's civil-from-days algorithms (proleptic Gregorian, UTC).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t y;
  unsigned m, d;
};

civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

constexpr std::int64_t day_ms = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  const std::int64_t r = a % b;
  return r < 0 ? r + b : r;
}

// Date math reaches the ends of the int64 range from client text ("9223372036854775807||+1d"):
// a date that does not fit is a parse failure (400), never an overflow.
std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<std::int64_t> start_of_day(std::int64_t days) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(days, day_ms, &r)) return std::nullopt;
  return r;
}

bool read_int(std::string_view& s, std::size_t digits, int& out) {
  if (s.size() < digits) return false;
  int v = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  s.remove_prefix(digits);
  return true;
}

std::optional<std::int64_t> parse_iso(std::string_view s) {
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
  std::int64_t millis = 0;
  if (!read_int(s, 4, y)) return std::nullopt;
  if (!s.empty() && s.front() == '-') {
    s.remove_prefix(1);
    if (!read_int(s, 2, mo)) return std::nullopt;
    if (!s.empty() && s.front() == '-') {
      s.remove_prefix(1);
      if (!read_int(s, 2, d)) return std::nullopt;
    }
  }
  if (!s.empty() && (s.front() == 'T' || s.front() == 't' || s.front() == ' ')) {
    s.remove_prefix(1);
    if (!read_int(s, 2, h)) return std::nullopt;
    if (!s.empty() && s.front() == ':') {
      s.remove_prefix(1);
      if (!read_int(s, 2, mi)) return std::nullopt;
      if (!s.empty() && s.front() == ':') {
        s.remove_prefix(1);
        if (!read_int(s, 2, sec)) return std::nullopt;
        if (!s.empty() && (s.front() == '.' || s.front() == ',')) {
          s.remove_prefix(1);
          std::size_t n = 0;
          std::int64_t frac = 0;
          while (!s.empty() && s.front() >= '0' && s.front() <= '9' && n < 9) {
            frac = frac * 10 + (s.front() - '0');
            s.remove_prefix(1);
            ++n;
          }
          if (n == 0) return std::nullopt;
          for (std::size_t i = n; i < 3; ++i) frac *= 10;
          for (std::size_t i = 3; i < n; ++i) frac /= 10;
          millis = frac;
        }
      }
    }
  }
  std::int64_t offset_min = 0;
  if (!s.empty()) {
    if (s == "Z" || s == "z") {
      s = {};
    } else if (s.front() == '+' || s.front() == '-') {
      const int sign = s.front() == '-' ? -1 : 1;
      s.remove_prefix(1);
      int oh = 0, om = 0;
      if (!read_int(s, 2, oh)) return std::nullopt;
      if (!s.empty() && s.front() == ':') s.remove_prefix(1);
      if (!s.empty() && !read_int(s, 2, om)) return std::nullopt;
      offset_min = sign * (oh * 60 + om);
    }
    if (!s.empty()) return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * day_ms + h * 3'600'000LL + mi * 60'000LL + sec * 1000LL + millis -
         offset_min * 60'000;
}

std::optional<std::int64_t> add_months(std::int64_t ms, std::int64_t months) {
  const std::int64_t days = floor_div(ms, day_ms);
  const std::int64_t in_day = floor_mod(ms, day_ms);
  civil c = civil_from_days(days);
  std::int64_t total = c.y * 12 + (c.m - 1) + months;
  const std::int64_t y = floor_div(total, 12);
  const unsigned m = static_cast<unsigned>(total - y * 12 + 1);
  unsigned d = c.d;
  static constexpr unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned last = month_days[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) last = 29;
  d = std::min(d, last);
  auto start = start_of_day(days_from_civil(y, m, d));
  if (!start) return std::nullopt;
  return checked_add(*start, in_day);
}

std::optional<std::int64_t> round_down(std::int64_t ms, char unit) {
  const std::int64_t days = floor_div(ms, day_ms);
  switch (unit) {
    case 's':
      return checked_add(ms, -floor_mod(ms, 1000));
    case 'm':
      return checked_add(ms, -floor_mod(ms, 60'000));
    case 'h':
    case 'H':
      return checked_add(ms, -floor_mod(ms, 3'600'000));
    case 'd':
      return start_of_day(days);
    case 'w': {
      // ISO weeks start on Monday; 1970-01-01 was a Thursday.
      const std::int64_t monday = days - ((days + 3) % 7 + 7) % 7;
      return start_of_day(monday);
    }
    case 'M': {
      civil c = civil_from_days(days);
      return start_of_day(days_from_civil(c.y, c.m, 1));
    }
    case 'y': {
      civil c = civil_from_days(days);
      return start_of_day(days_from_civil(c.y, 1, 1));
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::int64_t> apply_math(std::int64_t t, std::string_view math) {
  while (!math.empty()) {
    const char op = math.front();
    math.remove_prefix(1);
    if (op == '/') {
      if (math.empty()) return std::nullopt;
      auto r = round_down(t, math.front());
      if (!r) return std::nullopt;
      t = *r;
      math.remove_prefix(1);
      continue;
    }
    if (op != '+' && op != '-') return std::nullopt;
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (!math.empty() && math.front() >= '0' && math.front() <= '9' && digits < 9) {
      n = n * 10 + (math.front() - '0');
      math.remove_prefix(1);
      ++digits;
    }
    if (digits == 0) n = 1;
    if (math.empty()) return std::nullopt;
    const char unit = math.front();
    math.remove_prefix(1);
    if (op == '-') n = -n;
    std::optional<std::int64_t> next;
    switch (unit) {  // |n| < 10^9: n * unit fits, only the sum can overflow
      case 's':
        next = checked_add(t, n * 1000);
        break;
      case 'm':
        next = checked_add(t, n * 60'000);
        break;
      case 'h':
      case 'H':
        next = checked_add(t, n * 3'600'000);
        break;
      case 'd':
        next = checked_add(t, n * day_ms);
        break;
      case 'w':
        next = checked_add(t, n * 7 * day_ms);
        break;
      case 'M':
        next = add_months(t, n);
        break;
      case 'y':
        next = add_months(t, n * 12);
        break;
      default:
        return std::nullopt;
    }
    if (!next) return std::nullopt;
    t = *next;
  }
  return t;
}

}  // namespace

std::optional<std::int64_t> parse_date_millis(std::string_view text, std::int64_t now_ms) {
  if (text.empty()) return std::nullopt;
  if (text.substr(0, 3) == "now") return apply_math(now_ms, text.substr(3));
  if (auto bars = text.find("||"); bars != std::string_view::npos) {
    auto anchor = parse_date_millis(text.substr(0, bars), now_ms);
    if (!anchor) return std::nullopt;
    return apply_math(*anchor, text.substr(bars + 2));
  }
  // epoch_millis: digits, optionally negative (strict_date_optional_time||epoch_millis).
  if (auto v = java_parse_long(text); v && (text.size() != 4 || text.front() == '-')) return v;
  return parse_iso(text);
}

std::string format_date_time(std::int64_t ms) {
  const std::int64_t days = floor_div(ms, day_ms);
  std::int64_t rest = floor_mod(ms, day_ms);
  const civil c = civil_from_days(days);
  char buf[64];
  const int h = static_cast<int>(rest / 3'600'000);
  rest %= 3'600'000;
  const int mi = static_cast<int>(rest / 60'000);
  rest %= 60'000;
  const int s = static_cast<int>(rest / 1000);
  const int milli = static_cast<int>(rest % 1000);
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(c.y), c.m, c.d, h, mi, s, milli);
  return buf;
}

// ---- ApiKey object --------------------------------------------------------------------------

json::object render_api_key(const keystore::key_record& rec, const json::array* limited_by) {
  json::object o;
  o["id"] = rec.id;
  o["name"] = rec.name;
  o["type"] = rec.type.empty() ? "rest" : rec.type;
  o["creation"] = rec.creation;
  if (rec.expiration) o["expiration"] = *rec.expiration;
  o["invalidated"] = rec.invalidated;
  if (rec.invalidated && rec.invalidation) o["invalidation"] = *rec.invalidation;
  o["username"] = rec.username;
  o["realm"] = rec.realm;
  o["realm_type"] = rec.realm_type;
  o["metadata"] = rec.metadata;
  o["role_descriptors"] = rec.role_descriptors;
  if (limited_by) o["limited_by"] = *limited_by;
  if (rec.last_used) o["last_used"] = *rec.last_used;
  return o;
}

}  // namespace esgate::admin::detail
