// JSON output byte-for-byte as Elasticsearch's Jackson generator writes it (UTF8JsonGenerator,
// and the DefaultPrettyPrinter that JsonXContentGenerator.usePrettyPrint() installs: a
// DefaultIndenter("  ", "\n") for objects and arrays, " : " between name and value, `{ }` / `[ ]`
// for empty containers; AbstractRestChannel adds lfAtEnd() to pretty responses).
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "esgate/response/es_json.hpp"

namespace esgate::response {
namespace {

namespace json = boost::json;

// Jackson's CharTypes.sOutputEscapes128: the five short escapes, every other control character
// as \u00XX with upper-case hex; `/`, DEL and non-ASCII (written as UTF-8) are left alone.
void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

template <class Int>
void append_integer(std::string& out, Int i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, r.ptr);
}

// Java's Double.toString (JDK 19+, which Elasticsearch 8 bundles): the shortest decimal that
// rounds back to the double; plain notation with at least one fraction digit for
// 1e-3 <= |d| < 1e7, otherwise `d.dddE<exp>`. Jackson quotes the non-finite values
// (QUOTE_NON_NUMERIC_NUMBERS is on by default).
void append_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "\"NaN\"";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return;
  }
  if (d == 0) {
    out += std::signbit(d) ? "-0.0" : "0.0";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));  // [-]d[.ddd]e(+|-)dd
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  std::size_t e_pos = sci.find('e');
  std::string digits;
  digits.reserve(17);
  for (char c : sci.substr(0, e_pos))
    if (c != '.') digits.push_back(c);
  int exp = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
  double magnitude = std::fabs(d);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-exp - 1), '0');
      out += digits;
      return;
    }
    auto int_len = static_cast<std::size_t>(exp) + 1;
    if (digits.size() <= int_len) {
      out += digits;
      out.append(int_len - digits.size(), '0');
      out += ".0";
    } else {
      out.append(digits, 0, int_len);
      out.push_back('.');
      out.append(digits, int_len);
    }
    return;
  }
  out.push_back(digits[0]);
  out.push_back('.');
  out += digits.size() > 1 ? std::string_view(digits).substr(1) : std::string_view("0");
  out.push_back('E');
  append_integer(out, exp);
}

void newline_indent(std::string& out, int level) {
  out.push_back('\n');
  out.append(static_cast<std::size_t>(level) * 2, ' ');
}

void write(std::string& out, const json::value& v, bool pretty, int level);

void write_object(std::string& out, const json::object& o, bool pretty, int level) {
  if (o.empty()) {
    out += pretty ? "{ }" : "{}";
    return;
  }
  out.push_back('{');
  bool first = true;
  for (const auto& member : o) {
    if (!first) out.push_back(',');
    first = false;
    if (pretty) newline_indent(out, level + 1);
    append_string(out, member.key());
    out += pretty ? " : " : ":";
    write(out, member.value(), pretty, level + 1);
  }
  if (pretty) newline_indent(out, level);
  out.push_back('}');
}

void write_array(std::string& out, const json::array& a, bool pretty, int level) {
  if (a.empty()) {
    out += pretty ? "[ ]" : "[]";
    return;
  }
  out.push_back('[');
  bool first = true;
  for (const auto& element : a) {
    if (!first) out.push_back(',');
    first = false;
    if (pretty) newline_indent(out, level + 1);
    write(out, element, pretty, level + 1);
  }
  if (pretty) newline_indent(out, level);
  out.push_back(']');
}

void write(std::string& out, const json::value& v, bool pretty, int level) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: append_integer(out, v.get_int64()); break;
    case json::kind::uint64: append_integer(out, v.get_uint64()); break;
    case json::kind::double_: append_double(out, v.get_double()); break;
    case json::kind::string: append_string(out, v.get_string()); break;
    case json::kind::array: write_array(out, v.get_array(), pretty, level); break;
    case json::kind::object: write_object(out, v.get_object(), pretty, level); break;
  }
}

}  // namespace

std::string serialize_es(const boost::json::value& v, bool pretty) {
  std::string out;
  write(out, v, pretty, 0);
  if (pretty) out.push_back('\n');
  return out;
}

}  // namespace esgate::response
