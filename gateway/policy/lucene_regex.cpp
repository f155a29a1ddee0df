// Lucene RegExp → RE2 translation for `/.../` index-name patterns (es-security-reference.md §7.1).
//
// Lucene's grammar (org.apache.lucene.util.automaton.RegExp) with the operators ES enables:
//   union  ::= inter ( '|' inter )*        inter ::= concat ( '&' inter )?   (rejected here)
//   concat ::= repeat+                     repeat ::= compl ( '?' | '*' | '+' | '{n}' | '{n,}' |
//   '{n,m}' )* compl  ::= '~' compl (rejected) | class class  ::= '[' '^'? ( char | char '-' char
//   )+ ']' | simple simple ::= '.' | '#' | '@' | '"' string '"' | '(' ')' | '(' union ')' | '<' ...
//   '>' (rejected) | char char   ::= '\' unit | unit
// A character that cannot start anything else is a literal, even `*` or `{` at the start of a
// concatenation, as in Lucene. Every output node is wrapped so that RE2 sees a regular
// expression with the same language; RE2 then matches in linear time.
#include <cstdint>
#include <cstdio>
#include <string>

#include "esgate/policy/index_pattern.hpp"
#include "esgate/util/utf8.hpp"
#include "glob.hpp"

namespace esgate::policy {

namespace {

constexpr int max_repeat = 1000;  // RE2's limit for {n,m}

class translator {
 public:
  explicit translator(std::string_view s) : s_(s) {}

  std::variant<std::string, pattern_error> run() {
    std::string out = parse_union();
    if (failed()) return pattern_error{error_};
    if (pos_ < s_.size())
      return pattern_error{"end-of-string expected at position " + std::to_string(pos_)};
    return "(?s)" + out;
  }

 private:
  bool failed() const { return !error_.empty(); }
  std::string fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return {};
  }
  bool more() const { return pos_ < s_.size(); }
  char peek() const { return s_[pos_]; }
  bool match(char c) {
    if (more() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string parse_union() {
    std::string e = parse_concat();
    if (failed()) return {};
    bool alt = false;
    std::string out = "(?:" + e + ")";
    while (match('|')) {
      alt = true;
      std::string r = parse_concat();
      if (failed()) return {};
      out += "|(?:" + r + ")";
    }
    return alt ? "(?:" + out + ")" : e;
  }

  std::string parse_concat() {
    const std::size_t start = pos_;
    std::string out;
    while (more() && peek() != ')' && peek() != '|') {
      if (peek() == '&')
        return fail("intersection '&' (position " + std::to_string(pos_) + ") is not supported");
      out += parse_repeat();
      if (failed()) return {};
    }
    if (pos_ == start)
      return fail("empty expression at position " + std::to_string(pos_) +
                  " (an empty alternative or group is not allowed)");
    return out;
  }

  std::string parse_repeat() {
    std::string e = parse_compl();
    if (failed()) return {};
    while (more()) {
      const char c = peek();
      if (c == '?' || c == '*' || c == '+') {
        ++pos_;
        e = "(?:" + e + ")" + c;
      } else if (c == '{') {
        ++pos_;
        int n = 0;
        if (!parse_int(n)) return fail("integer expected at position " + std::to_string(pos_));
        std::string op = "{" + std::to_string(n);
        if (match(',')) {
          op += ",";
          if (more() && peek() >= '0' && peek() <= '9') {
            int m = 0;
            if (!parse_int(m)) return fail("integer expected at position " + std::to_string(pos_));
            if (m < n)
              return fail("invalid repetition {" + std::to_string(n) + "," + std::to_string(m) +
                          "}");
            op += std::to_string(m);
          }
        }
        if (!match('}')) return fail("expected '}' at position " + std::to_string(pos_));
        e = "(?:" + e + ")" + op + "}";
      } else {
        break;
      }
    }
    return e;
  }

  bool parse_int(int& v) {
    const std::size_t start = pos_;
    long long acc = 0;
    while (more() && peek() >= '0' && peek() <= '9') {
      acc = acc * 10 + (peek() - '0');
      if (acc > max_repeat) {
        error_ = "repetition count too large (at most " + std::to_string(max_repeat) + ")";
        return false;
      }
      ++pos_;
    }
    if (pos_ == start) return false;
    v = static_cast<int>(acc);
    return true;
  }

  std::string parse_compl() {
    if (more() && peek() == '~')
      return fail("complement '~' (position " + std::to_string(pos_) + ") is not supported");
    return parse_class();
  }

  std::string parse_class() {
    if (!match('[')) return parse_simple();
    std::string out = "[";
    if (match('^')) out += '^';
    bool first = true;
    while (more() && (first || peek() != ']')) {
      first = false;
      std::string lo;
      std::uint32_t lo_cp = 0;
      if (!class_item(lo, lo_cp)) return {};
      if (more() && peek() == '-' && pos_ + 1 < s_.size() && s_[pos_ + 1] != ']') {
        ++pos_;
        if (lo_cp == ~0u) return fail("invalid character range in class");
        std::string hi;
        std::uint32_t hi_cp = 0;
        if (!class_item(hi, hi_cp)) return {};
        if (hi_cp == ~0u || hi_cp < lo_cp) return fail("invalid character range in class");
        out += lo + "-" + hi;
      } else {
        out += lo;
      }
    }
    if (!match(']')) return fail("expected ']' at position " + std::to_string(pos_));
    return out + "]";
  }

  // One class member: a character (cp set) or a shorthand class (cp = ~0u).
  bool class_item(std::string& out, std::uint32_t& cp) {
    if (!more()) {
      fail("expected ']' at position " + std::to_string(pos_));
      return false;
    }
    if (peek() == '\\' && pos_ + 1 < s_.size()) {
      const char c = s_[pos_ + 1];
      if (c == 'd' || c == 'D' || c == 's' || c == 'S' || c == 'w' || c == 'W') {
        pos_ += 2;
        out = std::string("\\") + c;
        cp = ~0u;
        return true;
      }
      ++pos_;
    }
    cp = next_code_point();
    out = escape(cp);
    return true;
  }

  std::string parse_simple() {
    if (!more()) return fail("unexpected end-of-string");
    const char c = peek();
    switch (c) {
      case '.':
        ++pos_;
        return ".";
      case '@':
        ++pos_;
        return "(?:.*)";
      case '#':
        ++pos_;
        return "[^\\x00-\\x{10FFFF}]";  // the empty language
      case '<':
        return fail("numeric range or named automaton '<...>' (position " + std::to_string(pos_) +
                    ") is not supported");
      case '"': {
        ++pos_;
        std::string out = "(?:";
        while (more() && peek() != '"') out += escape(next_code_point());
        if (!match('"')) return fail("expected '\"' at position " + std::to_string(pos_));
        return out + ")";
      }
      case '(': {
        ++pos_;
        if (match(')')) return "(?:)";
        std::string e = parse_union();
        if (failed()) return {};
        if (!match(')')) return fail("expected ')' at position " + std::to_string(pos_));
        return "(?:" + e + ")";
      }
      default:
        break;
    }
    if (c == '\\' && pos_ + 1 < s_.size()) {
      const char n = s_[pos_ + 1];
      switch (n) {
        case 'd':
          pos_ += 2;
          return "[0-9]";
        case 'D':
          pos_ += 2;
          return "[^0-9]";
        case 's':
        case 'S':
        case 'w':
        case 'W':
          pos_ += 2;
          return std::string("\\") + n;
        default:
          ++pos_;
          break;
      }
    }
    return escape(next_code_point());
  }

  std::uint32_t next_code_point() {
    const std::size_t n = detail::unit_length(s_, pos_);
    const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s_[pos_ + i]); };
    std::uint32_t cp = 0;
    switch (n) {
      case 1:
        cp = b(0);
        break;
      case 2:
        cp = ((b(0) & 0x1Fu) << 6) | (b(1) & 0x3Fu);
        break;
      case 3:
        cp = ((b(0) & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
        break;
      default:
        cp = ((b(0) & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) |
             (b(3) & 0x3Fu);
        break;
    }
    pos_ += n;
    return cp;
  }

  static std::string escape(std::uint32_t cp) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
        cp == '_')
      return std::string(1, static_cast<char>(cp));
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\x{%X}", cp);
    return buf;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::variant<std::string, pattern_error> lucene_regex_to_re2(std::string_view body) {
  if (!util::is_valid_utf8(body)) return pattern_error{"the pattern is not valid UTF-8"};
  if (body.empty()) return std::string("(?s)");  // Lucene: the empty string only
  return translator(body).run();
}

}  // namespace esgate::policy
