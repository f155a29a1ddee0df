// The response-side id sniffer: a Boost.JSON SAX parse of the streamed body that keeps only the
// top-level string fields naming a context. Everything deeper (hits, aggregations, the async
// `response` object) flows through the parser without being stored, so a response costs a
// parse and no allocation beyond the parser's own stack and the few captured values.
#include <boost/json/basic_parser_impl.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/cursor/cursor.hpp"

namespace esgate::cursor {

namespace json = boost::json;

namespace {

// Longest value kept: ids are a few hundred bytes (a scroll id over many shards a few KiB).
// Longer values are dropped rather than truncated, so a partial id is never bound.
constexpr std::size_t max_value_size = 64 * 1024;
// Longer than every key we look for ("_scroll_id"): a longer key cannot match.
constexpr std::size_t max_key_size = 16;

json::parse_options sniffer_options() {
  json::parse_options o;
  // ES never writes comments, and Boost.JSON 1.81 trips an assertion on a number following a
  // top-level comment (found by fuzz_id_sniffer): keep them off.
  o.allow_comments = false;
  // Hits carry users' documents, which can nest deeper than Boost's default of 32; ES's own
  // parser allows 1000 (Jackson's default). A limit still bounds the parser's stack.
  o.max_depth = 10000;
  // A stray invalid byte inside a hit must not stop the sniffer before a late `pit_id`.
  o.allow_invalid_utf8 = true;
  return o;
}

struct handler {
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);

  std::optional<kind> id_kind;
  bool want_scroll = false;
  bool want_task = false;
  bool want_cursor = false;

  std::size_t depth = 0;
  std::string key;  // the depth-1 key being read (capped)
  bool key_too_long = false;
  std::optional<kind> pending;  // the last depth-1 key names a context; its value comes next
  std::string value;
  bool value_too_long = false;
  std::vector<context_ref> found;

  std::optional<kind> field_kind(std::string_view k) const {
    if (k == "_scroll_id" && want_scroll) return kind::scroll;
    if (k == "pit_id") return kind::pit;
    if (k == "id") return id_kind;
    if (k == "cursor" && want_cursor) return kind::sql;
    if (k == "task" && want_task) return kind::task;
    return std::nullopt;
  }

  // A value that is not a depth-1 string ends the expectation set by its key.
  bool not_a_string() {
    if (depth == 1) pending.reset();
    return true;
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) {
    not_a_string();
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    --depth;
    return true;
  }
  bool on_object_begin(json::error_code&) {
    not_a_string();
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    --depth;
    return true;
  }
  void append_value(json::string_view s) {
    if (value_too_long) return;
    if (value.size() + s.size() > max_value_size) {
      value_too_long = true;
      value.clear();
      return;
    }
    value.append(s.data(), s.size());
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (depth == 1 && pending) append_value(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    if (depth != 1 || !pending) return true;
    append_value(s);
    if (!value_too_long) found.push_back({*pending, std::move(value)});
    pending.reset();
    value.clear();
    value_too_long = false;
    return true;
  }
  void append_key(json::string_view s) {
    if (key_too_long) return;
    if (key.size() + s.size() > max_key_size) {
      key_too_long = true;
      return;
    }
    key.append(s.data(), s.size());
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (depth == 1) append_key(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (depth != 1) return true;
    append_key(s);
    pending = key_too_long ? std::nullopt : field_kind(key);
    key.clear();
    key_too_long = false;
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return not_a_string(); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return not_a_string(); }
  bool on_double(double, json::string_view, json::error_code&) { return not_a_string(); }
  bool on_bool(bool, json::error_code&) { return not_a_string(); }
  bool on_null(json::error_code&) { return not_a_string(); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

}  // namespace

struct id_sniffer::state {
  json::basic_parser<handler> parser;
  bool stopped = false;

  explicit state(const json::parse_options& o) : parser(o) {}
};

id_sniffer::id_sniffer(std::optional<kind> id_kind, bool want_scroll, bool want_task,
                       bool want_cursor)
    : s_(std::make_unique<state>(sniffer_options())) {
  auto& h = s_->parser.handler();
  h.id_kind = id_kind;
  h.want_scroll = want_scroll;
  h.want_task = want_task;
  h.want_cursor = want_cursor;
}

id_sniffer::~id_sniffer() = default;
id_sniffer::id_sniffer(id_sniffer&&) noexcept = default;

void id_sniffer::feed(std::string_view bytes) {
  if (!s_ || s_->stopped || bytes.empty()) return;
  json::error_code ec;
  s_->parser.write_some(true, bytes.data(), bytes.size(), ec);
  // Not JSON, or the document is complete (anything after it is not ours to read): stop.
  if (ec || s_->parser.done()) s_->stopped = true;
}

std::vector<context_ref> id_sniffer::found() const {
  if (!s_) return {};
  return s_->parser.handler().found;
}

}  // namespace esgate::cursor
