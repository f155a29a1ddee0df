// A DOM parser that builds boost::json values like boost::json::parse, except for doubles: Boost
// 1.81 computes them as mantissa * 10^exp, which can be one ulp off, and a rewritten response
// would then print `0.30000000000000004` where Elasticsearch wrote `0.3`. std::from_chars rounds
// correctly, so re-serialising (shortest round-trip) gives back what Elasticsearch wrote.
#include "esgate/response/es_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <exception>
#include <string>

namespace esgate::response {
namespace {

namespace json = boost::json;

class dom_handler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit dom_handler(json::storage_ptr sp) : stack_(std::move(sp)) {}

  json::value release() { return stack_.release(); }
  void reset(json::storage_ptr sp) { stack_.reset(std::move(sp)); }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    stack_.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack_.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack_.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    double exact = 0;
    const char* first = number_.data();
    const char* last = first + number_.size();
    auto [ptr, ec] = std::from_chars(first, last, exact);
    // Out of range (1e400) keeps Boost's answer (an infinity or zero), as Jackson's would be.
    if (ec == std::errc{} && ptr == last) d = exact;
    number_.clear();
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack_.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  json::value_stack stack_;
  std::string number_;
};

}  // namespace

std::optional<boost::json::value> parse_es(std::string_view text, boost::json::storage_ptr sp) {
  try {
    json::parse_options opts;
    opts.max_depth = 1000;  // Jackson's default nesting limit; Boost's 32 would reject _source
    json::basic_parser<dom_handler> parser(opts, sp);
    parser.handler().reset(sp);
    json::error_code ec;
    std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
    if (ec || n != text.size() || !parser.done()) return std::nullopt;
    return parser.handler().release();
  } catch (const std::exception&) {  // size limits, allocation failure: not a usable document
    return std::nullopt;
  }
}

}  // namespace esgate::response
