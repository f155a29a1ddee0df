// Kind names, keep-alive parsing (Elasticsearch's TimeValue rules), scroll ids in request
// bodies (ES's ClearScrollRequest / SearchScrollRequest parsing) and owner tags.
#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

#include "esgate/cursor/cursor.hpp"

namespace esgate::cursor {

namespace json = boost::json;

std::string_view to_string(kind k) {
  switch (k) {
    case kind::scroll:
      return "scroll";
    case kind::pit:
      return "pit";
    case kind::async_search:
      return "async_search";
    case kind::eql_async:
      return "eql_async";
    case kind::esql_async:
      return "esql_async";
    case kind::sql:
      return "sql";
    case kind::task:
      return "task";
  }
  return "unknown";
}

// ---- keep-alive ----------------------------------------------------------------------------

namespace {

// Bindings outliving every sane keep-alive are capped here (ES caps scroll and PIT keep-alives
// at search.max_keep_alive, 24h by default); a binding that expires first only makes the
// context unusable through the gateway, which fails closed.
constexpr std::int64_t max_keep_alive_seconds = 3650LL * 24 * 3600;

// Java's String.trim(): every char <= ' ' at either end.
std::string_view java_trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Long.parseLong: optional sign, ASCII digits, within int64.
std::optional<std::int64_t> parse_long(std::string_view s) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) return std::nullopt;
  }
  if (s.empty() || s == "-") return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

struct unit {
  std::string_view suffix;
  std::int64_t num;  // seconds = ceil(value * num / den)
  std::int64_t den;
};

std::optional<std::chrono::seconds> to_seconds(std::int64_t v, const unit& u) {
  if (v == -1) return std::nullopt;  // -1: no expiry / not a keep-alive we can bind to
  if (v < -1) return std::nullopt;   // "negative durations are not supported"
  std::int64_t secs;
  if (u.den > 1) {
    secs = v / u.den + (v % u.den != 0 ? 1 : 0);
  } else if (v > max_keep_alive_seconds / u.num) {
    secs = max_keep_alive_seconds;
  } else {
    secs = v * u.num;
  }
  return std::chrono::seconds(std::clamp<std::int64_t>(secs, 1, max_keep_alive_seconds));
}

}  // namespace

// TimeValue.parseTimeValue: units checked in this order on the trimmed, lower-cased value, except
// minutes, which are matched case-sensitively on the raw value ("M" is months, not minutes).
std::optional<std::chrono::seconds> parse_keep_alive(std::string_view value) {
  const std::string normalized = ascii_lower(java_trim(value));
  static constexpr unit units[] = {{"nanos", 1, 1'000'000'000},
                                   {"micros", 1, 1'000'000},
                                   {"ms", 1, 1000},
                                   {"s", 1, 1},
                                   {"m", 60, 1},
                                   {"h", 3600, 1},
                                   {"d", 86400, 1}};
  for (const auto& u : units) {
    const bool match = u.suffix == "m" ? value.ends_with("m") : normalized.ends_with(u.suffix);
    if (!match) continue;
    std::string_view num(normalized);
    num.remove_suffix(u.suffix.size());
    auto v = parse_long(java_trim(num));
    if (!v) return std::nullopt;
    return to_seconds(*v, u);
  }
  // "-0*1" is -1 (no keep-alive), "0+" is zero: the shortest binding.
  const std::string_view n(normalized);
  if (!n.empty() && n.find_first_not_of('0') == std::string_view::npos)
    return std::chrono::seconds(1);
  return std::nullopt;
}

// ---- scroll ids in bodies ------------------------------------------------------------------

namespace {

// Collects the top-level `scroll_id` values the way ClearScrollRequest.fromXContent reads them
// (a scalar or an array of scalars, each as its text) — a superset of what SearchScrollRequest
// accepts (strings only). Every occurrence is kept, so a repeated key cannot hide an id.
struct scroll_body_handler {
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);

  std::size_t depth = 0;
  bool root_object = false;
  std::string key;
  bool in_field = false;  // the current depth-1 key is scroll_id
  bool in_array = false;  // inside scroll_id's array (depth 2)
  std::string text;
  std::vector<std::string> ids;

  bool collecting() const { return in_field && (depth == 1 || (in_array && depth == 2)); }
  bool take(std::string_view s) {
    if (collecting()) {
      text.append(s);
      ids.push_back(std::move(text));
    }
    text.clear();
    if (depth == 1) in_field = false;
    return true;
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) {
    if (depth == 1 && in_field) in_array = true;
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    if (--depth == 1) in_field = in_array = false;
    return true;
  }
  bool on_object_begin(json::error_code&) {
    if (depth == 0) root_object = true;
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    if (--depth == 1) in_field = in_array = false;
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (collecting()) text.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    return take(std::string_view(s.data(), s.size()));
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (depth == 1 && key.size() < 16) key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (depth != 1) return true;
    key.append(s.data(), s.size());
    in_field = key == "scroll_id";
    key.clear();
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    if (collecting()) text.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, json::string_view s, json::error_code&) {
    return take(std::string_view(s.data(), s.size()));
  }
  bool on_uint64(std::uint64_t, json::string_view s, json::error_code&) {
    return take(std::string_view(s.data(), s.size()));
  }
  bool on_double(double, json::string_view s, json::error_code&) {
    return take(std::string_view(s.data(), s.size()));
  }
  bool on_bool(bool b, json::error_code&) { return take(b ? "true" : "false"); }
  bool on_null(json::error_code&) {
    text.clear();
    if (depth == 1) in_field = false;
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

}  // namespace

std::vector<std::string> scroll_ids_in_body(std::string_view body) {
  const std::string_view trimmed = java_trim(body);
  if (trimmed.empty()) return {};
  json::parse_options o;
  o.allow_comments = true;  // ES's JsonXContent enables ALLOW_COMMENTS
  o.max_depth = 1000;       // Jackson's nesting limit
  json::basic_parser<scroll_body_handler> p(o);
  json::error_code ec;
  // ES reads the first object and ignores what follows it, as this does (more = true).
  p.write_some(true, trimmed.data(), trimmed.size(), ec);
  auto& h = p.handler();
  if (!ec && p.done() && h.root_object) return std::move(h.ids);
  if (!ec && p.done()) return {};  // JSON but not an object: ES rejects it ("Malformed content")
  // Not JSON (ES's legacy plain-text form, or YAML/CBOR/Smile, which ES may accept under their
  // own content types): the whole body is the id. It is bound to nobody, so the owner check
  // denies it: fail closed rather than forward ids the gateway could not read.
  return {std::string(trimmed)};
}

// ---- owner tags ----------------------------------------------------------------------------

namespace {

// A realm name with ':' would make `user:<realm>:<username>` ambiguous; escaping ':' and '%'
// keeps tags injective while leaving every real realm name unchanged.
std::string escape_realm(std::string_view realm) {
  std::string out;
  out.reserve(realm.size());
  for (char c : realm) {
    if (c == '%')
      out += "%25";
    else if (c == ':')
      out += "%3A";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string owner_tag(bool is_api_key, std::string_view api_key_id, std::string_view realm,
                      std::string_view username) {
  if (is_api_key) return "api_key:" + std::string(api_key_id);
  return "user:" + escape_realm(realm) + ":" + std::string(username);
}

}  // namespace esgate::cursor
