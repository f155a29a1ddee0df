// Putting the gateway's own items (denied bulk items, msearch responses, mget docs) back into an
// upstream multi-item answer at their original positions.
//
// Without filter_path or pretty, Elasticsearch writes stored `_source` bytes as they were indexed
// (JsonXContentGenerator.writeRawField copies raw JSON when it neither filters nor pretty
// prints), so the upstream body is spliced as bytes: its elements are copied verbatim and only
// the array and `errors` are rewritten. With filter_path or pretty, Elasticsearch re-parses raw
// fields and writes them through the generator too, which the DOM path here reproduces.
#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <exception>

#include "esgate/response/es_json.hpp"

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

struct span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Where the parts of the top-level object are, in text valid_json() accepted (so strings are
// closed and brackets balanced; only the structure needs following).
struct layout {
  std::size_t object_open = 0;      // offset of the root `{`
  std::optional<span> array_inner;  // between `[` and `]` of array_key (its last occurrence)
  std::vector<span> elements;
  std::optional<span> errors_value;  // the value of `errors` (its last occurrence)
};

class scanner {
 public:
  explicit scanner(std::string_view text) : t_(text) {}

  std::optional<layout> scan(std::string_view array_key) {
    layout out;
    ws();
    if (at_end() || t_[i_] != '{') return std::nullopt;
    out.object_open = i_++;
    ws();
    while (!at_end() && t_[i_] != '}') {
      span key_span{i_, 0};
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
        span value{i_, 0};
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
    while (!at_end() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
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

  bool scan_array(layout& out) {
    ++i_;  // '['
    out.elements.clear();
    span inner{i_, 0};
    ws();
    while (t_[i_] != ']') {
      span element{i_, 0};
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

  std::string decode_key(span s) const {
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

// Whether ES would install a filtering generator (any non-blank comma-separated token).
bool filtering_requested(std::string_view filter_path) {
  for (char c : filter_path)
    if (c != ',' && static_cast<unsigned char>(c) > ' ') return true;
  return false;
}

// Inserts sorted by position; false when two claim the same position or one is past the end.
bool check_positions(std::vector<spliced_item>& inserts, std::size_t total) {
  std::stable_sort(inserts.begin(), inserts.end(),
                   [](const spliced_item& a, const spliced_item& b) {
                     return a.position < b.position;
                   });
  for (std::size_t i = 0; i < inserts.size(); ++i) {
    if (inserts[i].position >= total) return false;
    if (i > 0 && inserts[i].position == inserts[i - 1].position) return false;
  }
  return true;
}

// The upstream body with the inserts put between its elements and `errors` set, as parts. Runs of
// consecutive upstream elements are one view each (with the separators between them as the
// upstream wrote them): a bulk answer with 28 denied items among 28,000 is ~60 parts.
spliced_body splice_bytes(std::string_view body, const layout& l,
                          const std::vector<spliced_item>& inserts, bool set_errors) {
  spliced_body out;
  auto copy_upstream = [&](std::size_t begin, std::size_t end) {
    if (end > begin) out.parts.push_back(body.substr(begin, end - begin));
  };
  auto add_own = [&](std::string bytes) { out.parts.push_back(out.own.emplace_back(std::move(bytes))); };
  // What precedes the array: `errors` is before or after it in the object; edited in place.
  const bool mark_errors = set_errors && !inserts.empty();
  std::size_t copied = 0;
  auto copy_until = [&](std::size_t until) {  // upstream bytes up to `until`, editing `errors`
    if (mark_errors && l.errors_value && l.errors_value->begin >= copied &&
        l.errors_value->end <= until) {
      copy_upstream(copied, l.errors_value->begin);
      out.parts.push_back("true");
      copied = l.errors_value->end;
    }
    copy_upstream(copied, until);
    copied = until;
  };
  if (mark_errors && !l.errors_value) {
    copy_until(l.object_open + 1);
    out.parts.push_back("\"errors\":true,");
  }
  copy_until(l.array_inner->begin);
  const std::size_t total = l.elements.size() + inserts.size();
  std::size_t next_insert = 0, next_element = 0;
  std::optional<std::size_t> run_begin;  // start of the current run of upstream elements
  std::size_t run_end = 0;
  auto flush_run = [&] {
    if (run_begin) copy_upstream(*run_begin, run_end);
    run_begin.reset();
  };
  for (std::size_t pos = 0; pos < total; ++pos) {
    if (next_insert < inserts.size() && inserts[next_insert].position == pos) {
      flush_run();
      std::string item = pos > 0 ? "," : "";
      item += serialize_es(inserts[next_insert++].item, false);
      if (pos + 1 < total && !(next_insert < inserts.size() &&
                               inserts[next_insert].position == pos + 1))
        item += ',';  // an upstream element follows
      add_own(std::move(item));
    } else {
      const span& e = l.elements[next_element++];
      if (!run_begin) run_begin = e.begin;
      run_end = e.end;
    }
  }
  flush_run();
  copied = l.array_inner->end;
  copy_until(body.size());
  return out;
}

// The body Elasticsearch would have sent had every item been answered by the gateway.
json::object build_empty(std::string_view array_key, bool errors, json::storage_ptr sp) {
  json::object o(sp);
  if (array_key == "items") {  // BulkResponse.toXContentChunked (8.x): errors, took, items
    o.emplace("errors", errors);
    o.emplace("took", 0);
  } else if (array_key == "responses") {  // MultiSearchResponse: took, responses
    o.emplace("took", 0);
  }
  o.emplace(array_key, json::array(sp));
  return o;
}

void set_errors_true(json::object& o) {
  if (auto* e = o.if_contains("errors")) {
    *e = true;
    return;
  }
  json::object rebuilt(o.storage());
  rebuilt.reserve(o.size() + 1);
  rebuilt.emplace("errors", true);
  for (auto& m : o) rebuilt.emplace(m.key(), std::move(m.value()));
  o = std::move(rebuilt);
}

std::optional<std::string> splice_dom(std::string_view body, std::string_view array_key,
                                      std::vector<spliced_item>& inserts, bool set_errors,
                                      std::string_view filter_path, bool pretty) {
  json::monotonic_resource mr;
  json::storage_ptr sp(&mr);
  json::value root;
  if (body.empty()) {
    root = build_empty(array_key, set_errors && !inserts.empty(), sp);
  } else {
    auto parsed = parse_es(body, sp);
    if (!parsed || !parsed->is_object()) return std::nullopt;
    root = std::move(*parsed);
  }
  json::object& o = root.get_object();
  auto* upstream = o.if_contains(array_key);
  if (upstream == nullptr || !upstream->is_array()) return std::nullopt;
  json::array& elements = upstream->get_array();
  std::size_t total = elements.size() + inserts.size();
  if (!check_positions(inserts, total)) return std::nullopt;
  json::array merged(sp);
  merged.reserve(total);
  std::size_t next_insert = 0, next_element = 0;
  for (std::size_t pos = 0; pos < total; ++pos) {
    if (next_insert < inserts.size() && inserts[next_insert].position == pos)
      merged.emplace_back(std::move(inserts[next_insert++].item));
    else
      merged.emplace_back(std::move(elements[next_element++]));
  }
  *upstream = std::move(merged);
  if (set_errors && !inserts.empty()) set_errors_true(o);
  apply_filter_path(root, filter_path);
  return serialize_es(root, pretty);
}

}  // namespace

std::optional<std::string> splice_response(std::string_view upstream_body,
                                           std::string_view array_key,
                                           std::vector<spliced_item> inserts, bool set_errors,
                                           std::string_view filter_path, bool pretty) {
  try {
    if (upstream_body.empty() || pretty || filtering_requested(filter_path))
      return splice_dom(upstream_body, array_key, inserts, set_errors, filter_path, pretty);
    if (!valid_json(upstream_body)) return std::nullopt;
    auto l = scanner(upstream_body).scan(array_key);
    if (!l) return std::nullopt;
    if (!check_positions(inserts, l->elements.size() + inserts.size())) return std::nullopt;
    return splice_bytes(upstream_body, *l, inserts, set_errors).flatten();
  } catch (const std::exception&) {  // allocation failure: the session answers 502
    return std::nullopt;
  }
}

std::optional<spliced_body> splice_response_parts(std::string_view upstream_body,
                                                  std::string_view array_key,
                                                  std::vector<spliced_item> inserts,
                                                  bool set_errors, std::string_view filter_path,
                                                  bool pretty) {
  try {
    if (upstream_body.empty() || pretty || filtering_requested(filter_path)) return std::nullopt;
    if (!valid_json(upstream_body)) return std::nullopt;
    auto l = scanner(upstream_body).scan(array_key);
    if (!l) return std::nullopt;
    if (!check_positions(inserts, l->elements.size() + inserts.size())) return std::nullopt;
    return splice_bytes(upstream_body, *l, inserts, set_errors);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::size_t spliced_body::size() const {
  std::size_t n = 0;
  for (auto p : parts) n += p.size();
  return n;
}

std::string spliced_body::flatten() const {
  std::string out;
  out.reserve(size());
  for (auto p : parts) out.append(p);
  return out;
}

}  // namespace esgate::response
