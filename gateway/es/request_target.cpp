#include "esgate/es/request_target.hpp"

#include "esgate/util/utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace esgate::es {
namespace {

target_error fail(std::string reason) { return target_error{std::move(reason)}; }

// target_error is constructible from a string, so string values need the explicit tag.
boost::system::result<std::string, target_error> ok_string(std::string s) {
  return {boost::system::in_place_value, std::move(s)};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RestUtils.decodeComponent, minus its leniencies: `%%` and malformed escapes are errors.
boost::system::result<std::string, target_error> percent_decode(std::string_view s,
                                                                bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) {
        return fail("invalid escape sequence: '%' must be followed by two hex digits");
      }
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) {
        return fail("invalid escape sequence: '%' must be followed by two hex digits");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return ok_string(std::move(out));
}

// Code points no index name, id or endpoint needs, which some normalizer along the way could
// turn into something meaningful (`/`, `\`, `.`, `%`, `,`, `<`, ...) or hide from a reader.
bool forbidden_code_point(std::uint32_t cp) {
  if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) return true;  // C0, DEL, C1
  if (cp == 0xad || cp == 0x61c) return true;                              // soft hyphen, ALM
  if (cp >= 0x200b && cp <= 0x200f) return true;                           // zero-width, LRM/RLM
  if (cp >= 0x202a && cp <= 0x202e) return true;  // bidi embeddings/overrides (RLO)
  if (cp >= 0x2060 && cp <= 0x2069) return true;  // word joiner, invisible ops, bidi isolates
  if (cp == 0xfeff || cp == 0xfffe || cp == 0xffff) return true;
  if (cp >= 0xfff9 && cp <= 0xfffb) return true;  // interlinear annotation controls
  if (cp >= 0xff01 && cp <= 0xff5e) return true;  // fullwidth ASCII variants (U+FF0F solidus)
  if (cp >= 0xfe50 && cp <= 0xfe6b) return true;  // small form variants (NFKC -> ASCII)
  switch (cp) {
    case 0x2024:  // one dot leader
    case 0x2025:  // two dot leader
    case 0x2044:  // fraction slash
    case 0x2215:  // division slash
    case 0x2216:  // set minus
    case 0x29f5:  // reverse solidus operator
    case 0x29f8:  // big solidus
    case 0x29f9:  // big reverse solidus
      return true;
    default:
      return false;
  }
}

enum class utf8_check { ok, invalid, forbidden };

// Strict UTF-8 (no overlong forms, surrogates or values above U+10FFFF); `strict_chars` also
// refuses forbidden_code_point, otherwise only controls except TAB/LF/CR.
utf8_check check_utf8(std::string_view s, bool strict_chars) {
  for (std::size_t i = 0; i < s.size();) {
    const auto decoded = util::next_code_point(s, i);
    if (!decoded) return utf8_check::invalid;
    const char32_t cp = *decoded;
    if (strict_chars) {
      if (forbidden_code_point(cp)) return utf8_check::forbidden;
    } else if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
               (cp >= 0x80 && cp <= 0x9f)) {
      return utf8_check::forbidden;
    }
  }
  return utf8_check::ok;
}

// True when `s` contains `%XX`: what a second decoding pass would turn into another character.
bool has_escape(std::string_view s) {
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] == '%' && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) return true;
  }
  return false;
}

// A decoded `/` is acceptable only inside the braces of a `<...>` date-math item, where ES
// requires it to be percent-encoded; everywhere else `%2F` is a path-confusion vector.
bool slashes_only_in_date_math(std::string_view segment) {
  std::size_t start = 0;
  while (start <= segment.size()) {
    auto comma = segment.find(',', start);
    if (comma == std::string_view::npos) comma = segment.size();
    std::string_view item = segment.substr(start, comma - start);
    start = comma + 1;
    if (item.find('/') == std::string_view::npos) continue;
    if (!item.empty() && item.front() == '-') item.remove_prefix(1);
    if (item.size() < 2 || item.front() != '<' || item.back() != '>') return false;
    int depth = 0;
    for (char c : item) {
      if (c == '{') ++depth;
      if (c == '}' && depth > 0) --depth;
      if (c == '/' && depth == 0) return false;
    }
  }
  return true;
}

bool raw_byte_allowed(unsigned char c) { return c > 0x20 && c < 0x7f; }

boost::system::result<std::string, target_error> decode_segment(std::string_view raw) {
  auto decoded = percent_decode(raw, false);
  if (!decoded) return decoded.error();
  const std::string& s = *decoded;
  if (s == "." || s == "..") return fail("path must not contain '.' or '..' segments");
  switch (check_utf8(s, true)) {
    case utf8_check::invalid:
      return fail("path segment is not valid UTF-8 after decoding");
    case utf8_check::forbidden:
      return fail("path segment contains a control, format or look-alike character");
    case utf8_check::ok:
      break;
  }
  if (has_escape(s)) return fail("path segment is percent-encoded twice");
  if (s.find('\\') != std::string::npos) return fail("path must not contain '\\' (%5C)");
  if (s.find('/') != std::string::npos && !slashes_only_in_date_math(s)) {
    return fail("path must not contain an encoded '/' (%2F) outside a date math expression");
  }
  return decoded;
}

boost::system::result<void, target_error> add_param(query_params& query, std::string_view raw_name,
                                                    std::string_view raw_value) {
  auto name = percent_decode(raw_name, true);
  if (!name) return name.error();
  auto value = percent_decode(raw_value, true);
  if (!value) return value.error();
  if (check_utf8(*name, true) != utf8_check::ok || has_escape(*name)) {
    return fail("invalid query parameter name");
  }
  switch (check_utf8(*value, false)) {
    case utf8_check::invalid:
      return fail("query parameter [" + *name + "] is not valid UTF-8 after decoding");
    case utf8_check::forbidden:
      return fail("query parameter [" + *name + "] contains a control character");
    case utf8_check::ok:
      break;
  }
  if (std::any_of(query.begin(), query.end(), [&](const auto& p) { return p.first == *name; })) {
    return fail("request contains duplicate parameter [" + *name + "]");
  }
  query.emplace_back(std::move(*name), std::move(*value));
  return {};
}

// RestUtils.decodeQueryString: `&` and `;` separate; `name` alone means an empty value; the
// first `=` splits; an empty name before `=` makes ES read what follows as a name.
boost::system::result<query_params, target_error> parse_query(std::string_view q) {
  query_params out;
  std::optional<std::string_view> name;
  std::size_t pos = 0;
  std::size_t i = 0;
  for (; i < q.size(); ++i) {
    const char c = q[i];
    if (c == '=' && !name) {
      if (pos != i) name = q.substr(pos, i - pos);
      pos = i + 1;
    } else if (c == '&' || c == ';') {
      if (!name && pos != i) {
        if (auto r = add_param(out, q.substr(pos, i - pos), {}); !r) return r.error();
      } else if (name) {
        if (auto r = add_param(out, *name, q.substr(pos, i - pos)); !r) return r.error();
        name.reset();
      }
      pos = i + 1;
    }
  }
  if (pos != i) {
    const std::string_view rest = q.substr(pos, i - pos);
    auto r = name ? add_param(out, *name, rest) : add_param(out, rest, {});
    if (!r) return r.error();
  } else if (name) {
    if (auto r = add_param(out, *name, {}); !r) return r.error();
  }
  return out;
}

void append_encoded(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || c == ',' || c == '*';
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
}

}  // namespace

boost::system::result<request_target, target_error> parse_request_target(std::string_view target) {
  if (target.empty()) return fail("request target must not be empty");
  if (target.size() > max_target_bytes) {
    return fail("request target is longer than " + std::to_string(max_target_bytes) + " bytes");
  }
  if (target.front() != '/') return fail("request target must be in origin-form ('/...')");
  for (char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (!raw_byte_allowed(c)) return fail("request target contains an invalid character");
    if (c == '\\') return fail("request target must not contain '\\'");
    if (c == '#') return fail("request target must not contain a fragment ('#')");
  }

  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  if (path.find(';') != std::string_view::npos) {
    return fail("path must not contain ';' (encode it as %3B)");
  }

  request_target out;
  std::string_view body = path.substr(1);
  if (!body.empty() && body.back() == '/') body.remove_suffix(1);  // `/books/_search/`
  if (!body.empty() || path.size() > 1) {
    // path.size() > 1 with an empty body is `//`: one empty segment, refused below.
    if (static_cast<std::size_t>(std::count(body.begin(), body.end(), '/')) + 1 >
        max_path_segments) {
      return fail("path has more than " + std::to_string(max_path_segments) + " segments");
    }
    std::size_t start = 0;
    while (start <= body.size()) {
      auto slash = body.find('/', start);
      if (slash == std::string_view::npos) slash = body.size();
      const std::string_view raw = body.substr(start, slash - start);
      start = slash + 1;
      if (raw.empty()) return fail("path must not contain empty segments ('//')");
      auto seg = decode_segment(raw);
      if (!seg) return seg.error();
      out.segments.push_back(std::move(*seg));
    }
  }

  if (qmark != std::string_view::npos) {
    auto q = parse_query(target.substr(qmark + 1));
    if (!q) return q.error();
    out.query = std::move(*q);
  }
  return out;
}

std::string encode_path_segment(std::string_view segment) {
  std::string out;
  append_encoded(out, segment);
  // Keep the `.`/`..` meaning out of reach of any normalizer between us and ES.
  if (!segment.empty() && segment.find_first_not_of('.') == std::string_view::npos) {
    out.clear();
    for (std::size_t i = 0; i < segment.size(); ++i) out += "%2E";
  }
  return out;
}

std::string encode_query_component(std::string_view component) {
  std::string out;
  append_encoded(out, component);
  return out;
}

std::string build_upstream_target(const std::vector<std::string>& segments,
                                  const query_params& query) {
  std::string out;
  for (const auto& seg : segments) {
    out += '/';
    out += encode_path_segment(seg);
  }
  if (out.empty()) out = "/";
  char sep = '?';
  for (const auto& [name, value] : query) {
    out += sep;
    sep = '&';
    append_encoded(out, name);
    out += '=';
    append_encoded(out, value);
  }
  return out;
}

std::string build_upstream_target(const request_target& target) {
  return build_upstream_target(target.segments, target.query);
}

std::optional<std::string_view> find_query_param(const query_params& query,
                                                 std::string_view name) noexcept {
  for (const auto& [n, v] : query) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

bool has_source_param(const query_params& query) noexcept {
  return find_query_param(query, "source").has_value();
}

}  // namespace esgate::es
