// esgate-fuzz-deps: esgate::response
// Input: a filter_path, a newline, then a JSON document (the client controls both, the upstream
// the document). Filtering and splicing must never crash; an empty filter is the identity; an
// inclusion filter applied twice gives what it gave once; serialize_es output parses back to the
// same value; the byte splice and the DOM splice agree; the fast layout pass accepts only what
// the checked one accepts, with the same layout.
#include <boost/json.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "esgate/response/es_json.hpp"
#include "esgate/response/layout.hpp"

namespace response = esgate::response;
namespace json = boost::json;

namespace {

bool all_finite(const json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  if (auto* a = v.if_array()) {
    for (const auto& e : *a)
      if (!all_finite(e)) return false;
  }
  if (auto* o = v.if_object()) {
    for (const auto& m : *o)
      if (!all_finite(m.value())) return false;
  }
  return true;
}

// The filter without its exclusion tokens.
std::string inclusions(std::string_view filter) {
  std::string out;
  std::size_t start = 0;
  while (start <= filter.size()) {
    std::size_t comma = filter.find(',', start);
    if (comma == std::string_view::npos) comma = filter.size();
    std::string_view token = filter.substr(start, comma - start);
    start = comma + 1;
    // Java's trim (every char <= ' '), as the filter itself is read.
    while (!token.empty() && static_cast<unsigned char>(token.front()) <= ' ')
      token.remove_prefix(1);
    if (!token.empty() && token.front() == '-') continue;
    out.append(token);
    out.push_back(',');
  }
  return out;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t nl = input.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view filter = input.substr(0, nl);
  std::string_view doc = input.substr(nl + 1);

  for (std::string_view key : {"items", "docs"}) {
    auto fast = response::scan_layout_fast(doc, key);
    if (fast) {
      auto checked = response::scan_layout_checked(doc, key);
      check(checked.has_value() && *checked == *fast);
    }
  }

  auto original = response::parse_es(doc);
  if (!original) {
    // An empty body means "nothing forwarded": the gateway builds the whole response.
    auto built = response::splice_response(doc, "items", {}, true, filter, false);
    check(doc.empty() == built.has_value());
    return 0;
  }

  json::value same = *original;
  response::apply_filter_path(same, "");
  check(same == *original);

  json::value filtered = *original;
  response::apply_filter_path(filtered, filter);
  std::string compact = response::serialize_es(filtered, false);
  std::string pretty = response::serialize_es(filtered, true);
  if (all_finite(filtered)) {
    check(response::parse_es(compact) == filtered);
    check(response::parse_es(pretty) == filtered);
  }

  std::string inc = inclusions(filter);
  json::value once = *original;
  response::apply_filter_path(once, inc);
  json::value twice = once;
  response::apply_filter_path(twice, inc);
  check(once == twice);

  // Byte splice (compact, unfiltered) and DOM splice (pretty) must describe the same document.
  auto raw = response::splice_response(doc, "items", {}, true, "", false);
  auto dom = response::splice_response(doc, "items", {}, true, "", true);
  check(raw.has_value() == dom.has_value());
  if (raw && all_finite(*original)) check(response::parse_es(*raw) == response::parse_es(*dom));
  if (raw) {
    std::vector<response::spliced_item> inserts;
    inserts.push_back({0, json::object{{"index", json::object{{"status", 403}}}}});
    auto spliced = response::splice_response(doc, "items", std::move(inserts), true, filter, false);
    check(spliced.has_value());
  }
  return 0;
}
