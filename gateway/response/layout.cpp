// Finding the elements of a multi-item answer's array, for the byte splice (splice.cpp).
//
// The checked path validates with Boost.JSON and then follows the structure; the fast path does
// both in one pass for the texts Elasticsearch writes in bulk answers (ASCII strings without
// escapes), which makes the two passes over a 5 MB answer ~3x cheaper (bench/RESULTS.md).
#include "esgate/response/layout.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace esgate::response {
namespace {

namespace json = boost::json;

// Validation only: the byte splice must not trust a scanner with malformed input.
struct validating_handler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t, json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

bool valid_json(std::string_view text) {
  json::parse_options opts;
  opts.max_depth = 1000;  // as parse_es
  json::basic_parser<validating_handler> parser(opts);
  json::error_code ec;
  std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
  return !ec && n == text.size() && parser.done();
}

// Follows the structure of a text valid_json() accepted (so strings are closed and brackets
// balanced; it checks nothing itself).
class scanner {
 public:
  explicit scanner(std::string_view text) : t_(text) {}

  std::optional<array_layout> scan(std::string_view array_key) {
    array_layout out;
    ws();
    if (at_end() || t_[i_] != '{') return std::nullopt;
    out.object_open = i_++;
    ws();
    while (!at_end() && t_[i_] != '}') {
      byte_span key_span{i_, 0};
      skip_string();
      key_span.end = i_;
      ws();
      ++i_;  // ':'
      ws();
      std::string key = decode_key(key_span);
      if (key == array_key) {
        // A repeated key: the last occurrence counts, as in the DOM (Boost.JSON keeps the last).
        out.elements.clear();
        out.array_inner.reset();
        if (t_[i_] != '[') {
          skip_value();
        } else if (!scan_array(out)) {
          return std::nullopt;
        }
      } else {
        byte_span value{i_, 0};
        skip_value();
        value.end = i_;
        if (key == "errors") out.errors_value = value;
      }
      ws();
      if (!at_end() && t_[i_] == ',') ++i_;
      ws();
    }
    if (!out.array_inner) return std::nullopt;
    return out;
  }

 private:
  bool at_end() const { return i_ >= t_.size(); }

  void ws() {
    while (!at_end() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }

  void skip_string() {
    ++i_;  // opening quote
    while (t_[i_] != '"') i_ += t_[i_] == '\\' ? 2 : 1;
    ++i_;
  }

  void skip_value() {
    char c = t_[i_];
    if (c == '"') return skip_string();
    if (c == '{' || c == '[') {
      std::size_t depth = 0;
      do {
        c = t_[i_];
        if (c == '"') {
          skip_string();
          continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') --depth;
        ++i_;
      } while (depth > 0);
      return;
    }
    while (!at_end() && t_[i_] != ',' && t_[i_] != '}' && t_[i_] != ']' && t_[i_] != ' ' &&
           t_[i_] != '\t' && t_[i_] != '\n' && t_[i_] != '\r')
      ++i_;
  }

  bool scan_array(array_layout& out) {
    ++i_;  // '['
    out.elements.clear();
    byte_span inner{i_, 0};
    ws();
    while (t_[i_] != ']') {
      byte_span element{i_, 0};
      skip_value();
      element.end = i_;
      out.elements.push_back(element);
      ws();
      if (t_[i_] == ',') ++i_;
      ws();
    }
    inner.end = i_++;
    out.array_inner = inner;
    return true;
  }

  std::string decode_key(byte_span s) const {
    std::string_view quoted = t_.substr(s.begin, s.end - s.begin);
    std::string_view raw = quoted.substr(1, quoted.size() - 2);
    if (raw.find('\\') == std::string_view::npos) return std::string(raw);
    json::error_code ec;
    json::value v = json::parse(json::string_view(quoted.data(), quoted.size()), ec);
    return ec ? std::string() : std::string(v.get_string());
  }

  std::string_view t_;
  std::size_t i_ = 0;
};

// One pass that validates and finds the layout, for a subset of JSON: strings of printable ASCII
// without escapes, nesting up to fast_max_depth, numbers up to fast_max_number characters. On
// that subset JSON's grammar is all Boost.JSON checks, so what this accepts Boost accepts, with
// the same layout (fuzz_filter_path compares both). Anything else, valid or not, gives nullopt
// and the checked path decides.
class fast_scanner {
 public:
  fast_scanner(std::string_view text, std::string_view array_key)
      : base_(text.data()), p_(text.data()), end_(text.data() + text.size()), key_(array_key) {}

  std::optional<array_layout> scan() {
    ws();
    if (p_ == end_ || *p_ != '{') return std::nullopt;
    out_.object_open = offset();
    if (!document()) return std::nullopt;
    if (!out_.array_inner) return std::nullopt;
    return std::move(out_);
  }

 private:
  static constexpr std::size_t fast_max_depth = 64;
  static constexpr std::ptrdiff_t fast_max_number = 32;

  std::size_t offset() const { return static_cast<std::size_t>(p_ - base_); }

  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // At an opening quote: to just past the closing one. False at a backslash, a control
  // character, a byte above 0x7F or the end of the text.
  bool string() {
    ++p_;
#if defined(__SSE2__)
    // 16 bytes at a time: the strings of a bulk answer are short, so one step usually ends one.
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end_ - p_ >= 16) {
      const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      // Signed compare: bytes 0x80-0xFF are negative, so "< 0x20" also catches non-ASCII.
      const __m128i stop =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                       _mm_cmplt_epi8(chunk, space));
      const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
      if (mask == 0) {
        p_ += 16;
        continue;
      }
      p_ += __builtin_ctz(mask);
      if (*p_ != '"') return false;
      ++p_;
      return true;
    }
#endif
    for (; p_ != end_; ++p_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c > 0x7F) return false;
    }
    return false;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; what follows is checked by the caller.
  bool number() {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !digit(*p_)) return false;
    if (*p_++ != '0')
      while (p_ != end_ && digit(*p_)) ++p_;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    // Longer numbers may overflow Boost's exponent arithmetic: the checked path knows.
    return p_ - start <= fast_max_number;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }

  // A value starts at p_ inside a container at depth_ (1: a member of the root object).
  void value_begins() {
    if (depth_ == 1 && member_is_array_) {
      // A repeated key: the last occurrence counts, as in the DOM (Boost.JSON keeps the last).
      out_.elements.clear();
      out_.array_inner.reset();
      array_begin_ = offset() + 1;
      in_array_ = *p_ == '[';
    } else if (depth_ == 1 && member_is_errors_) {
      errors_begin_ = offset();
    } else if (depth_ == 2 && in_array_) {
      element_begin_ = offset();
    }
  }

  // The value that began in the container at depth_ ends just before p_.
  void value_ends() {
    if (depth_ == 1 && member_is_array_) {
      if (in_array_) out_.array_inner = byte_span{array_begin_, offset() - 1};
      in_array_ = false;
    } else if (depth_ == 1 && member_is_errors_) {
      out_.errors_value = byte_span{errors_begin_, offset()};
    } else if (depth_ == 2 && in_array_) {
      out_.elements.push_back(byte_span{element_begin_, offset()});
    }
  }

  bool document() {
  value:
    ws();
    if (p_ == end_) return false;
    value_begins();
    switch (*p_) {
      case '{':
      case '[': {
        if (depth_ == fast_max_depth) return false;
        const char open = *p_++;
        stack_[depth_++] = open;
        ws();
        if (p_ != end_ && *p_ == (open == '{' ? '}' : ']')) {
          ++p_;
          --depth_;
          goto after;
        }
        if (open == '{') goto key;
        goto value;
      }
      case '"':
        if (!string()) return false;
        goto after;
      case 't':
        if (!literal("true")) return false;
        goto after;
      case 'f':
        if (!literal("false")) return false;
        goto after;
      case 'n':
        if (!literal("null")) return false;
        goto after;
      default:
        if (!number()) return false;
        goto after;
    }
  after:
    value_ends();
    ws();
    if (depth_ == 0) return p_ == end_;
    if (p_ == end_) return false;
    if (*p_ == ',') {
      ++p_;
      if (stack_[depth_ - 1] == '{') goto key;
      goto value;
    }
    if (*p_ == (stack_[depth_ - 1] == '{' ? '}' : ']')) {
      ++p_;
      --depth_;
      goto after;
    }
    return false;
  key:
    ws();
    if (p_ == end_ || *p_ != '"') return false;
    {
      const char* key_begin = p_ + 1;
      if (!string()) return false;
      if (depth_ == 1) {
        const std::string_view name(key_begin, static_cast<std::size_t>(p_ - 1 - key_begin));
        member_is_array_ = name == key_;
        member_is_errors_ = name == "errors";
      }
    }
    ws();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    goto value;
  }

  const char* base_;
  const char* p_;
  const char* end_;
  std::string_view key_;
  array_layout out_;
  char stack_[fast_max_depth] = {};
  std::size_t depth_ = 0;
  bool member_is_array_ = false;   // the current member of the root is the array's key
  bool member_is_errors_ = false;  // ... is `errors`
  bool in_array_ = false;          // inside that member's array
  std::size_t array_begin_ = 0, errors_begin_ = 0, element_begin_ = 0;
};
}  // namespace

std::optional<array_layout> scan_layout_checked(std::string_view text, std::string_view array_key) {
  if (!valid_json(text)) return std::nullopt;
  return scanner(text).scan(array_key);
}

std::optional<array_layout> scan_layout_fast(std::string_view text, std::string_view array_key) {
  return fast_scanner(text, array_key).scan();
}

}  // namespace esgate::response
