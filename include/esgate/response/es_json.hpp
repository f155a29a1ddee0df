#pragma once
// Elasticsearch's response-shaping parameters, applied by the gateway to responses it builds or
// rewrites (spliced bulk/msearch/mget answers), so they read exactly as the cluster's would:
//  - `filter_path` (XContent filtering, FilterPath.java): comma-separated paths of dot-separated
//    names; `*` matches one level and may be a part of a name (`items.*.error`, `*.status`),
//    `**` one or more levels, a leading `-` excludes (inclusions apply first, then exclusions),
//    `\.` escapes a dot in a name; objects and arrays left empty by the
//    filter are dropped (ES drops an `items` array whose elements all filtered away); an array
//    element that matches nothing is removed (positions of the others shift, as in ES).
//  - `pretty`: Jackson's pretty printer as ES configures it: two-space indent for objects and
//    arrays, `"key" : value`, empty containers as `{ }` and `[ ]`, a trailing newline.
//  - `human` and `error_trace` are left to Elasticsearch (they are forwarded).
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::response {

// Filters `v` in place; an empty `filter_path` keeps everything. A value filtered to nothing
// becomes an empty object (ES answers `{}`).
void apply_filter_path(boost::json::value& v, std::string_view filter_path);

// An element to put back into an array of an upstream response at its original position
// (a denied bulk item, msearch response or mget doc).
struct spliced_item {
  std::size_t position = 0;  // index in the final array
  boost::json::value item;
};

// The final body of a rewritten multi-item response:
//  - `upstream_body`: the upstream's JSON answer (for the items that were forwarded), or empty
//    when nothing was forwarded (the gateway builds `{"errors":true,"took":0,"items":[...]}`
//    for bulk (ES 8 BulkResponse order), `{"took":0,"responses":[...]}` for msearch,
//    `{"docs":[...]}` for mget);
//  - `array_key`: "items", "responses" or "docs";
//  - `inserts`, sorted by position, are merged with the upstream's array elements in order;
//  - `set_errors`: bulk sets `"errors": true` when anything was inserted;
//  - then `filter_path` and `pretty` are applied as Elasticsearch would.
// Without filter_path and pretty the upstream elements are copied byte for byte (ES writes stored
// `_source` raw then); with either, the document is re-generated, as ES re-generates it.
// `filter_path` and `pretty` must not have been forwarded upstream: a filtered upstream array no
// longer has one element per forwarded item.
// nullopt when `upstream_body` is not a JSON object with that array (the session answers 502).
std::optional<std::string> splice_response(std::string_view upstream_body,
                                           std::string_view array_key,
                                           std::vector<spliced_item> inserts, bool set_errors,
                                           std::string_view filter_path, bool pretty);

// A spliced response as parts, for a gather write: runs of the upstream body (views into it, so
// it must outlive them) between the gateway's own bytes. Megabyte bulk answers are then neither
// copied nor given fresh memory (bench/RESULTS.md: both cost more than the splice itself).
struct spliced_body {
  std::deque<std::string> own;          // the gateway's bytes (a deque: views stay valid)
  std::vector<std::string_view> parts;  // in order: views into the upstream body or `own`
  std::size_t size() const;
  std::string flatten() const;
};

// splice_response() as parts. nullopt when the byte splice does not apply (filter_path or pretty
// asked for, an empty upstream body: splice_response() rebuilds those) or the upstream body has
// not the expected shape.
std::optional<spliced_body> splice_response_parts(std::string_view upstream_body,
                                                  std::string_view array_key,
                                                  std::vector<spliced_item> inserts,
                                                  bool set_errors, std::string_view filter_path,
                                                  bool pretty);

// Compact (Elasticsearch's default) or pretty serialisation, as Jackson writes it: strings
// escape only `"`, backslash and control characters (`\n`-style or `\u00XX`), doubles as Java's
// Double.toString (`1.0`, `0.5`, `1.0E-5`), a pretty document ends with a newline.
std::string serialize_es(const boost::json::value& v, bool pretty);

// Parses a JSON text like boost::json::parse, but with correctly rounded doubles (Boost 1.81's
// parser may be one ulp off, which would print `2.8700000000000001` instead of `2.87`).
// nullopt when `text` is not one valid JSON value.
std::optional<boost::json::value> parse_es(std::string_view text, boost::json::storage_ptr sp = {});

// ES reads `pretty` present with an empty value, or "true", as on.
bool pretty_requested(const std::string* value_or_null);

// RestRequest.paramAsBoolean: absent or blank → `default_value`, "" → true, "true"/"false";
// nullopt for anything else (ES answers 400 illegal_argument_exception "Failed to parse value
// [<v>] as only [true] or [false] are allowed.").
std::optional<bool> param_as_boolean(const std::string* value_or_null, bool default_value);

}  // namespace esgate::response
