#pragma once

// Request classification: HTTP method + decoded path segments -> Elasticsearch endpoint ->
// transport action -> what must be authorized.
//
// The endpoint table is generated from the official specification's endpoint list
// (scripts/gen_routes.py -> gateway/es/routes_generated.cpp, committed). Everything here is
// plain data; the policy module decides what an identity may do with it.
//
// Matching follows Elasticsearch's RestController/PathTrie so that the gateway classifies a
// request exactly as the node will dispatch it:
//   * a literal segment beats a `{param}` at the same position, with backtracking;
//   * the trie is searched in ES's four modes (explicit only, wildcard at the root, wildcard at
//     the leaf, wildcards anywhere) and the first pattern that has a handler for the method wins;
//   * a path that some pattern matches but never with this method -> 405 (ES's "Incorrect HTTP
//     method for uri [...] and method [...], allowed: [...]"); OPTIONS -> 200 with `Allow`;
//   * nothing matches -> ES answers 400 "no handler found for uri [...] and method [...]".
//   * a parameter may be any segment, even one starting with `_` or empty: ES does not reject
//     those in the router, so neither do we (an empty `{index}` means "all indices" to ES!).
//
// Caveats the caller must handle (see the report in the commit):
//   * ES matches the *raw* path and decodes parameters afterwards; we match decoded segments.
//     Forward a path rebuilt from the canonical segments so that ES sees what we classified.
//   * ES merges query-string parameters into the same map as path parameters, so
//     `GET /_search?index=secret` searches `secret`. Query parameters whose name is a path
//     parameter name (see `path_param_names()`) must be rejected or treated as targets.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace esgate::es {

// HTTP methods known to Elasticsearch (RestRequest.Method), in ES's enum order, as bits.
enum class http_method : std::uint16_t {
  get = 1u << 0,
  post = 1u << 1,
  put = 1u << 2,
  del = 1u << 3,
  options = 1u << 4,
  head = 1u << 5,
  patch = 1u << 6,
  trace = 1u << 7,
  connect = 1u << 8,
};

// A set of http_method bits.
using method_set = std::uint16_t;

constexpr method_set bit(http_method m) noexcept { return static_cast<method_set>(m); }

// Case-sensitive like ES ("get" is not a method). nullopt for anything else.
std::optional<http_method> parse_method(std::string_view text) noexcept;
std::string_view method_name(http_method m) noexcept;
// "GET,POST" in ES enum order (the `Allow` header value).
std::string format_methods(method_set methods, std::string_view separator = ",");

enum class endpoint_kind : std::uint8_t {
  cluster,          // cluster action: cluster privileges only, no index authorization
  index,            // `action` authorized on every index named by `index_param` (and
                    // `second_index_param`); no index param = all indices the identity sees
  index_name_only,  // `action` checked by name on any index (ES shouldAuthorizeIndexActionNameOnly)
                    // then `target_action` per target named by the body / URL / context
  served,           // answered by the gateway itself (API keys, _authenticate, _has_privileges)
  always,           // granted without a privilege check (clear scroll, close PIT, sql cursor close)
  unclassified,     // unknown semantics: denied unless the identity holds cluster `all`
};

// What the request body may name that must be authorized too.
enum class body_targets : std::uint8_t {
  none,
  bulk,            // NDJSON action lines with `_index` (bulk)
  msearch,         // NDJSON header lines with `index` (msearch, msearch/template, fleet msearch)
  docs,            // `docs[]._index` (mget, mtermvectors, simulate ingest)
  reindex,         // `source.index` (read), `dest.index` (write), `source.remote` (SSRF)
  query_language,  // FROM/index in a query string (SQL, ES|QL)
  pit,             // search bodies may carry `pit.id`, whose indices ES authorizes
  alias_actions,   // POST /_aliases `actions[]` (index + alias names)
  index_aliases,   // create-index / rollover bodies may add `aliases`
  opaque,          // names indices in ways the gateway does not parse: treat targets as `*`
};

// Requests that address a context created by an earlier request (threats.md A13): ES binds
// these to the *upstream* identity, which is the gateway's, so the gateway must bind them to
// the issuing key itself.
enum class context_kind : std::uint8_t {
  none,
  scroll,
  pit,
  async_search,
  eql_async,
  esql_async,
  sql_async,
  sql_cursor,
  task,
};

// How single-document index requests pick their item action (`op_type` query parameter).
enum class op_type_rule : std::uint8_t {
  none,
  default_index,   // PUT|POST /{index}/_doc/{id}: op_type/index unless ?op_type=create
  default_create,  // POST /{index}/_doc (auto id): op_type/create unless ?op_type=index
};

// Where the action name comes from.
enum class action_origin : std::uint8_t {
  es,       // a real ES transport action name
  derived,  // not known exactly: a plausible name the spec's annotated privilege grants
  none,     // unclassified, or answered by the REST layer without a transport action
};

struct endpoint {
  std::string_view name;  // spec name, e.g. "indices.get_mapping" (rows share names)
  std::string_view path;  // spec path pattern, e.g. "/{index}/_mapping"
  std::span<const std::string_view> segments;  // the pattern split on '/', "{index}" kept
  method_set methods;
  std::string_view action;  // transport action ("" when kind is unclassified)
  endpoint_kind kind;
  action_origin origin;
  std::string_view index_param;         // path param carrying the index expression, or ""
  std::string_view second_index_param;  // another name authorized like the index (alias
                                        // names, resize/rollover targets), or ""
  bool multi_target;                    // comma lists / wildcards allowed (false: single doc APIs)
  bool body_names_targets;              // == (body != body_targets::none)
  body_targets body;
  std::string_view target_action;   // per-target action besides `action` (e.g. the search
                                    // run by *_by_query, the per-line search of msearch)
  std::string_view cluster_action;  // cluster action also required (cat APIs), or ""
  context_kind context;
  std::string_view context_param;  // path param with the context id ("" = body/query)
  op_type_rule op_type;
  std::span<const std::string_view> spec_index_privileges;    // "any one suffices"
  std::span<const std::string_view> spec_cluster_privileges;  // "any one suffices"
};

// The whole generated table, in the spec file's order (sorted by name).
std::span<const endpoint> all_endpoints() noexcept;

// Every `{param}` name used by any pattern, sorted, unique.
std::span<const std::string_view> path_param_names() noexcept;

struct route_match {
  const endpoint* ep = nullptr;
  // (param name from ep's pattern, decoded segment value), in path order.
  std::vector<std::pair<std::string_view, std::string>> params;

  // The value of a bound parameter, or nullopt.
  std::optional<std::string_view> param(std::string_view name) const noexcept;
};

// Some pattern matches the path but not with this method (405, or the method is not one ES
// knows). `unknown_method` selects ES's "Unexpected http method: X" wording.
struct route_method_not_allowed {
  method_set allowed = 0;
  bool unknown_method = false;
};

// OPTIONS on a path: ES answers 200 with `Allow: <allowed>` (header omitted when empty).
struct route_options {
  method_set allowed = 0;
};

// Nothing matches: ES answers 400 `{"error":"no handler found for uri [..] and method [..]"}`.
struct route_not_found {};

using route_result =
    std::variant<route_match, route_method_not_allowed, route_options, route_not_found>;

// `segments` are the decoded path segments, split on '/', without the leading empty one:
// "/" -> {}, "/_search" -> {"_search"}, "//_search" -> {"", "_search"}. Trailing empty
// segments are ignored as ES's String.split does ("/_search/" == "/_search").
route_result resolve_route(std::string_view method, const std::vector<std::string>& segments);

// Convenience: the match, or nullopt for every other outcome.
std::optional<route_match> match_route(std::string_view method,
                                       const std::vector<std::string>& segments);

// The transport action for this request: `ep.action`, except for single-document index
// requests where `op_type` (the query parameter, if present) selects
// indices:data/write/index:op_type/{index|create} as ES's RestIndexAction does. An unknown
// op_type value (ES answers 400) yields the stricter op_type/index.
std::string_view effective_action(const endpoint& ep,
                                  std::optional<std::string_view> op_type) noexcept;

// ES's 405 reason text: "Incorrect HTTP method for uri [<uri>] and method [<M>], allowed:
// [GET, POST]" (or "Unexpected http method: <M>, allowed: [...]" for unknown methods).
std::string method_not_allowed_reason(std::string_view uri, std::string_view method,
                                      const route_method_not_allowed& r);

// ES's 400 text: "no handler found for uri [<uri>] and method [<M>]".
std::string no_handler_reason(std::string_view uri, std::string_view method);

std::string_view to_string(endpoint_kind k) noexcept;
std::string_view to_string(body_targets b) noexcept;
std::string_view to_string(context_kind c) noexcept;

}  // namespace esgate::es
