#pragma once
// The query API's DSL evaluated in memory over key records (es-security-reference §1.5). Pure.
//
// Supported: bool (must / filter / should / must_not, minimum_should_match), match_all, ids,
// term, terms, prefix, wildcard (case_insensitive), range (gt/gte/lt/lte; dates as millis, ISO
// or date math; strings compare as keywords), exists, match (as term: every field is a keyword).
// Fields (ApiKeyFieldNameTranslators): username, realm_name (alias realm), name, type, creation,
// expiration, invalidated, invalidation, metadata, metadata.<path> (flattened: every leaf is a
// keyword). Everything else is refused with Elasticsearch's 400 wording.
#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "esgate/keystore/key_record.hpp"
#include "security_api_support.hpp"

namespace esgate::admin::detail {

struct query_node;

struct sort_spec {
  std::string field;  // canonical field name, or "_doc"
  bool descending = false;
  bool missing_first = false;
  bool format_date = false;  // dates come back as strings ("format" was given)
};

struct query_request {
  std::shared_ptr<const query_node> query;  // nullptr = match_all
  std::int64_t from = 0;
  std::int64_t size = 10;
  std::vector<sort_spec> sort;
  std::optional<boost::json::array> search_after;
};

inline constexpr std::int64_t max_result_window = 10'000;

// `body` may be null (no body = match_all). Unknown top-level fields, unsupported query types and
// fields, bad paging values are 400s in Elasticsearch's words.
std::variant<query_request, api_error> parse_query_request(const boost::json::value* body,
                                                           std::int64_t now_ms);

// A query alone (used by the tests and by parse_query_request).
std::variant<std::shared_ptr<const query_node>, api_error> parse_query(const boost::json::value& q,
                                                                       std::int64_t now_ms);
bool matches(const query_node& q, const keystore::key_record& rec);

struct query_hit {
  const keystore::key_record* record;
  boost::json::array sort_values;  // empty when the request had no sort
};

struct query_result {
  std::size_t total = 0;  // matches before paging
  std::vector<query_hit> hits;
};

// `candidates` are in index order (their position is the `_doc` sort value) and already narrowed
// to what the caller may see. The result points into `candidates`.
std::variant<query_result, api_error> run_query(
    const query_request& req, const std::vector<keystore::key_record>& candidates);

}  // namespace esgate::admin::detail
