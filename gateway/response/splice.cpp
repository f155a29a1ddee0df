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
#include "esgate/response/layout.hpp"

namespace esgate::response {
namespace {

namespace json = boost::json;

// Whether ES would install a filtering generator (any non-blank comma-separated token).
bool filtering_requested(std::string_view filter_path) {
  for (char c : filter_path)
    if (c != ',' && static_cast<unsigned char>(c) > ' ') return true;
  return false;
}

// Inserts sorted by position; false when two claim the same position or one is past the end.
bool check_positions(std::vector<spliced_item>& inserts, std::size_t total) {
  std::stable_sort(
      inserts.begin(), inserts.end(),
      [](const spliced_item& a, const spliced_item& b) { return a.position < b.position; });
  for (std::size_t i = 0; i < inserts.size(); ++i) {
    if (inserts[i].position >= total) return false;
    if (i > 0 && inserts[i].position == inserts[i - 1].position) return false;
  }
  return true;
}

// The upstream body with the inserts put between its elements and `errors` set, as parts. Runs of
// consecutive upstream elements are one view each (with the separators between them as the
// upstream wrote them): a bulk answer with 28 denied items among 28,000 is ~60 parts.
spliced_body splice_bytes(std::string_view body, const array_layout& l,
                          const std::vector<spliced_item>& inserts, bool set_errors) {
  spliced_body out;
  auto copy_upstream = [&](std::size_t begin, std::size_t end) {
    if (end > begin) out.parts.push_back(body.substr(begin, end - begin));
  };
  auto add_own = [&](std::string bytes) {
    out.parts.push_back(out.own.emplace_back(std::move(bytes)));
  };
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
      if (pos + 1 < total &&
          !(next_insert < inserts.size() && inserts[next_insert].position == pos + 1))
        item += ',';  // an upstream element follows
      add_own(std::move(item));
    } else {
      const byte_span& e = l.elements[next_element++];
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
    auto l = scan_layout(upstream_body, array_key);
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
    auto l = scan_layout(upstream_body, array_key);
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
