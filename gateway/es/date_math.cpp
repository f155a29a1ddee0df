#include "esgate/es/date_math.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace esgate::es {
namespace {

using std::int64_t;

constexpr int64_t ms_per_second = 1000;
constexpr int64_t ms_per_minute = 60 * ms_per_second;
constexpr int64_t ms_per_hour = 60 * ms_per_minute;
constexpr int64_t ms_per_day = 24 * ms_per_hour;

// Years outside this range cannot be printed by `yyyy` without a sign or era, so they are
// refused instead of risking a name that differs from Elasticsearch's.
constexpr int min_year = 1;
constexpr int max_year = 9999;

date_math_error parse_error(std::string reason) {
  return date_math_error{"parse_exception", std::move(reason)};
}

date_math_error argument_error(std::string reason) {
  return date_math_error{"illegal_argument_exception", std::move(reason)};
}

// date_math_error is constructible from a string, so string values need the explicit tag.
boost::system::result<std::string, date_math_error> ok_string(std::string s) {
  return {boost::system::in_place_value, std::move(s)};
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Local civil time as milliseconds since 1970-01-01T00:00 in the chosen fixed offset.
struct civil {
  int year;
  unsigned month;
  unsigned day;
  int64_t ms_of_day;
};

civil to_civil(int64_t local_ms) {
  const int64_t days = floor_div(local_ms, ms_per_day);
  const std::chrono::year_month_day ymd{
      std::chrono::sys_days{std::chrono::days{static_cast<std::chrono::days::rep>(days)}}};
  return civil{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()), local_ms - days * ms_per_day};
}

int64_t from_civil(int year, unsigned month, unsigned day, int64_t ms_of_day) {
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                        std::chrono::day{day}};
  const auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return static_cast<int64_t>(days) * ms_per_day + ms_of_day;
}

unsigned last_day(int year, unsigned month) {
  const std::chrono::year_month_day_last ymdl{
      std::chrono::year{year}, std::chrono::month_day_last{std::chrono::month{month}}};
  return static_cast<unsigned>(ymdl.day());
}

bool in_range(int64_t local_ms) {
  // Cheap pre-check before converting: +-10000 years in ms fits comfortably in int64.
  constexpr int64_t bound = int64_t{10000} * 366 * ms_per_day;
  if (local_ms < -bound || local_ms > bound) return false;
  const int y = to_civil(local_ms).year;
  return y >= min_year && y <= max_year;
}

// java.time plusMonths: keep the day of month unless the target month is shorter.
int64_t add_months(int64_t local_ms, int64_t months) {
  const civil c = to_civil(local_ms);
  const int64_t total = int64_t{c.year} * 12 + (c.month - 1) + months;
  const int64_t y = floor_div(total, 12);
  if (y < min_year || y > max_year) return INT64_MIN;
  const unsigned m = static_cast<unsigned>(total - y * 12) + 1;
  const unsigned d = std::min(c.day, last_day(static_cast<int>(y), m));
  return from_civil(static_cast<int>(y), m, d, c.ms_of_day);
}

// JavaDateMathParser.parseMath with roundUp = false.
boost::system::result<int64_t, date_math_error> apply_math(std::string_view math, int64_t t) {
  const auto fail = [&](std::string msg) { return parse_error(std::move(msg)); };
  std::size_t i = 0;
  while (i < math.size()) {
    const char op = math[i++];
    bool round = false;
    int64_t sign = 1;
    if (op == '/') {
      round = true;
    } else if (op == '-') {
      sign = -1;
    } else if (op != '+') {
      return fail("operator not supported for date math [" + std::string(math) + "]");
    }
    if (i >= math.size()) return fail("truncated date math [" + std::string(math) + "]");
    int64_t num = 1;
    if (math[i] >= '0' && math[i] <= '9') {
      num = 0;
      const std::size_t from = i;
      while (i < math.size() && math[i] >= '0' && math[i] <= '9') {
        num = num * 10 + (math[i] - '0');
        // Elasticsearch parses with Integer.parseInt: anything above int max is an error there.
        if (i - from >= 10 || num > INT32_MAX) {
          return fail("failed to parse date math number in [" + std::string(math) + "]");
        }
        ++i;
      }
      if (i >= math.size()) return fail("truncated date math [" + std::string(math) + "]");
    }
    if (round && num != 1) {
      return fail("rounding `/` can only be used on single unit types [" + std::string(math) + "]");
    }
    const char unit = math[i++];
    const int64_t n = sign * num;
    const civil c = to_civil(t);
    switch (unit) {
      case 'y':
        t = round ? from_civil(c.year, 1, 1, 0) : add_months(t, n * 12);
        break;
      case 'M':
        t = round ? from_civil(c.year, c.month, 1, 0) : add_months(t, n);
        break;
      case 'w':
        if (round) {
          const int64_t days = floor_div(t, ms_per_day);
          // 1970-01-01 was a Thursday; Monday-based weekday index 0..6.
          const int64_t since_monday = ((days + 3) % 7 + 7) % 7;
          t = (days - since_monday) * ms_per_day;
        } else {
          t += n * 7 * ms_per_day;
        }
        break;
      case 'd':
        t = round ? t - c.ms_of_day : t + n * ms_per_day;
        break;
      case 'h':
      case 'H':
        t = round ? t - (c.ms_of_day % ms_per_hour) : t + n * ms_per_hour;
        break;
      case 'm':
        t = round ? t - (c.ms_of_day % ms_per_minute) : t + n * ms_per_minute;
        break;
      case 's':
        t = round ? t - (c.ms_of_day % ms_per_second) : t + n * ms_per_second;
        break;
      default:
        return fail("unit [" + std::string(1, unit) + "] not supported for date math [" +
                    std::string(math) + "]");
    }
    if (t == INT64_MIN || !in_range(t)) {
      return fail("date math result out of range [" + std::string(math) + "]");
    }
  }
  return t;
}

// Parses the time zone part after `|`: fixed offsets only.
std::optional<int64_t> parse_offset_seconds(std::string_view tz) {
  bool prefixed = false;
  for (std::string_view prefix : {"UTC", "GMT", "UT"}) {
    if (tz.substr(0, prefix.size()) == prefix) {
      tz.remove_prefix(prefix.size());
      if (tz.empty()) return 0;
      prefixed = true;
      break;
    }
  }
  if (tz == "Z" && !prefixed) return 0;
  if (tz.size() < 2 || (tz[0] != '+' && tz[0] != '-')) return std::nullopt;
  const int64_t sign = tz[0] == '-' ? -1 : 1;
  tz.remove_prefix(1);
  const auto digits2 = [](std::string_view s, std::size_t at) -> std::optional<int> {
    if (s.size() < at + 2) return std::nullopt;
    const char a = s[at], b = s[at + 1];
    if (a < '0' || a > '9' || b < '0' || b > '9') return std::nullopt;
    return (a - '0') * 10 + (b - '0');
  };
  int h = 0, m = 0, s = 0;
  if (tz.size() == 1) {
    if (tz[0] < '0' || tz[0] > '9') return std::nullopt;
    h = tz[0] - '0';
  } else {
    const auto hh = digits2(tz, 0);
    if (!hh) return std::nullopt;
    h = *hh;
    std::string_view rest = tz.substr(2);
    const bool colon = !rest.empty() && rest[0] == ':';
    if (colon) rest.remove_prefix(1);
    if (!rest.empty()) {
      const auto mm = digits2(rest, 0);
      if (!mm || (rest.size() != 2 && rest.size() != 5 && rest.size() != 4)) return std::nullopt;
      m = *mm;
      rest.remove_prefix(2);
      if (!rest.empty()) {
        if (colon) {
          if (rest[0] != ':') return std::nullopt;
          rest.remove_prefix(1);
        }
        const auto ss = digits2(rest, 0);
        if (!ss || rest.size() != 2) return std::nullopt;
        s = *ss;
      }
    } else if (colon) {
      return std::nullopt;
    }
  }
  if (h > 18 || m > 59 || s > 59 || (h == 18 && (m != 0 || s != 0))) return std::nullopt;
  return sign * (int64_t{h} * 3600 + int64_t{m} * 60 + s);
}

// One compiled java.time pattern element: a literal or a supported field.
struct format_token {
  enum class kind { literal, year4, year2, month, day, hour, minute, second } k;
  std::string text;
};

boost::system::result<std::vector<format_token>, date_math_error> compile_format(
    std::string_view pattern) {
  std::vector<format_token> out;
  const auto bad = [&](std::string why) {
    return argument_error("Invalid format: [" + std::string(pattern) + "]: " + std::move(why));
  };
  std::size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (letter) {
      std::size_t j = i;
      while (j < pattern.size() && pattern[j] == c) ++j;
      const std::string_view run = pattern.substr(i, j - i);
      using k = format_token::kind;
      std::optional<k> kind;
      if (run == "yyyy" || run == "uuuu") kind = k::year4;
      if (run == "yy" || run == "uu") kind = k::year2;
      if (run == "MM") kind = k::month;
      if (run == "dd") kind = k::day;
      if (run == "HH") kind = k::hour;
      if (run == "mm") kind = k::minute;
      if (run == "ss") kind = k::second;
      if (!kind) return bad("unsupported pattern letters [" + std::string(run) + "]");
      out.push_back({*kind, {}});
      i = j;
    } else if (c == '\'') {
      // Quoted literal; '' is a single quote, as in java.time.
      std::string lit;
      std::size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '\'') {
        lit = "'";
        j += 1;
      } else {
        bool closed = false;
        while (j < pattern.size()) {
          if (pattern[j] == '\'') {
            if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
              lit += '\'';
              j += 2;
              continue;
            }
            closed = true;
            ++j;
            break;
          }
          lit += pattern[j++];
        }
        if (!closed) return bad("Pattern ends with an incomplete string literal");
      }
      out.push_back({format_token::kind::literal, std::move(lit)});
      i = j;
    } else if (c == '[' || c == ']' || c == '{' || c == '}' || c == '#') {
      // Optional sections and reserved characters in java.time.
      return bad("unsupported pattern character [" + std::string(1, c) + "]");
    } else {
      out.push_back({format_token::kind::literal, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

void append_padded(std::string& out, int64_t v, int width) {
  std::string digits = std::to_string(v);
  if (static_cast<int>(digits.size()) < width) out.append(width - digits.size(), '0');
  out += digits;
}

std::string format_time(const std::vector<format_token>& tokens, int64_t local_ms) {
  const civil c = to_civil(local_ms);
  std::string out;
  for (const auto& t : tokens) {
    using k = format_token::kind;
    switch (t.k) {
      case k::literal:
        out += t.text;
        break;
      case k::year4:
        append_padded(out, c.year, 4);
        break;
      case k::year2:
        append_padded(out, c.year % 100, 2);
        break;
      case k::month:
        append_padded(out, c.month, 2);
        break;
      case k::day:
        append_padded(out, c.day, 2);
        break;
      case k::hour:
        append_padded(out, c.ms_of_day / ms_per_hour, 2);
        break;
      case k::minute:
        append_padded(out, (c.ms_of_day / ms_per_minute) % 60, 2);
        break;
      case k::second:
        append_padded(out, (c.ms_of_day / ms_per_second) % 60, 2);
        break;
    }
  }
  return out;
}

// Evaluates one `{...}` placeholder body, e.g. `now-1d/d{yyyy.MM.dd|+12:00}`.
boost::system::result<std::string, date_math_error> evaluate_placeholder(std::string_view ph,
                                                                         int64_t now_ms) {
  std::string_view math = ph;
  std::string_view pattern = "uuuu.MM.dd";
  int64_t offset_s = 0;
  const auto lb = ph.find('{');
  if (lb != std::string_view::npos) {
    if (ph.rfind('}') != ph.size() - 1) {
      return parse_error("invalid dynamic name expression [" + std::string(ph) +
                         "]. missing closing `}` for date math format");
    }
    if (lb == ph.size() - 2) {
      return parse_error("invalid dynamic name expression [" + std::string(ph) +
                         "]. missing date format");
    }
    math = ph.substr(0, lb);
    const std::string_view pattern_and_tz = ph.substr(lb + 1, ph.size() - lb - 2);
    const auto bar = pattern_and_tz.find('|');
    pattern = pattern_and_tz.substr(0, bar);
    if (bar != std::string_view::npos) {
      const std::string_view tz = pattern_and_tz.substr(bar + 1);
      const auto off = parse_offset_seconds(tz);
      if (!off) {
        return argument_error("unsupported time zone [" + std::string(tz) +
                              "]: only fixed offsets such as [+01:00] or [Z] are supported");
      }
      offset_s = *off;
    }
  }
  auto tokens = compile_format(pattern);
  if (!tokens) return tokens.error();
  if (math.substr(0, 3) != "now") {
    return parse_error("failed to parse date field [" + std::string(math) + "] with format [" +
                       std::string(pattern) + "]: only [now] based date math is supported");
  }
  auto t = apply_math(math.substr(3), now_ms + offset_s * ms_per_second);
  if (!t) return t.error();
  return ok_string(format_time(*tokens, *t));
}

}  // namespace

bool is_date_math(std::string_view name) noexcept {
  return name.size() >= 2 && name.front() == '<' && name.back() == '>';
}

boost::system::result<std::string, date_math_error> resolve_date_math(
    std::string_view name, std::chrono::system_clock::time_point now) {
  if (!is_date_math(name)) return ok_string(std::string(name));
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  if (!in_range(now_ms)) return parse_error("[now] is out of the supported date range");

  // Elasticsearch quotes the expression from after `<` to the end (the `>` included).
  const std::string quoted(name.substr(1));
  std::string out;
  std::string ph;
  bool escape = false;
  bool in_format = false;
  bool in_placeholder = false;
  const std::size_t end = name.size() - 1;
  for (std::size_t i = 1; i < end; ++i) {
    const bool escaped = escape;
    escape = false;
    const char c = name[i];
    if (c == '\\') {
      // An escaped backslash lands in the static part even inside a placeholder, as in ES.
      if (escaped) {
        out += c;
      } else {
        escape = true;
      }
      continue;
    }
    if (in_placeholder) {
      if (c == '{') {
        if (in_format && escaped) {
          ph += c;
        } else if (!in_format) {
          in_format = true;
          ph += c;
        } else {
          return parse_error("invalid dynamic name expression [" + quoted +
                             "]. invalid character in placeholder at position [" +
                             std::to_string(i) + "]");
        }
      } else if (c == '}') {
        if (in_format && escaped) {
          ph += c;
        } else if (in_format) {
          in_format = false;
          ph += c;
        } else {
          auto value = evaluate_placeholder(ph, now_ms);
          if (!value) return value.error();
          out += *value;
          ph.clear();
          in_placeholder = false;
        }
      } else {
        ph += c;
      }
    } else {
      if (c == '{' && !escaped) {
        in_placeholder = true;
      } else if (c == '}' && !escaped) {
        return parse_error("invalid dynamic name expression [" + quoted +
                           "]. invalid character at position [" + std::to_string(i) +
                           "]. `{` and `}` are reserved characters and should be escaped when "
                           "used as part of the index name using `\\` (e.g. `\\{text\\}`)");
      } else {
        out += c;
      }
    }
  }
  if (in_placeholder) {
    return parse_error("invalid dynamic name expression [" + quoted +
                       "]. date math placeholder is open ended");
  }
  if (out.empty()) return parse_error("nothing captured");
  return ok_string(std::move(out));
}

}  // namespace esgate::es
