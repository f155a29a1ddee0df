#pragma once
// Bodies that name several targets besides `_bulk` (interface.md §6; es-security-reference §6):
// `_msearch` / `_msearch/template` (NDJSON header + body lines), `_mget` / `_mtermvectors`
// (`docs[]` / `ids`), `_reindex` (`source` / `dest`), and search-style query bodies that read
// other indices (terms lookup, more_like_this, percolate, indexed shapes).
//
// Each plan function parses a whole body (already decoded and inflated) and decides, through
// the authorizer callback, what to forward. Denied sub-requests are not forwarded; the plan holds
// the ES-shaped error to splice back at their position (response::splice_response). Structural
// errors are body_errors (400, ES's wording), nothing forwarded.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "esgate/body/targets.hpp"
#include "esgate/response/es_json.hpp"

namespace esgate::multi {

using body::body_error;
using body::target_authorizer;
using body::target_verdict;
using response::spliced_item;

struct multi_plan {
  std::string forward_body;          // what to send upstream (may equal the input)
  std::size_t forwarded = 0;         // sub-requests forwarded
  std::size_t total = 0;             // sub-requests in the request
  std::vector<spliced_item> denied;  // ES-shaped errors, by position among all sub-requests
  bool all_denied() const { return forwarded == 0 && total != 0; }
};

// `_msearch`: pairs of lines; a header line `{}` or `{"index": "a" | ["a","b"], ...}`, absent
// index = the path's `path_index` (absent = all). Each header's index expression is authorized
// with `action` (indices:data/read/search); narrowed wildcards rewrite that header line's
// `index` (re-serialising the header only; body lines are forwarded byte for byte). A denial
// becomes `{"error":{"root_cause":[{type,reason}],"type":..,"reason":..},"status":403}` (a
// bad_request verdict: its type, 400). Each body line is also checked like check_query_body: a
// lookup on a denied index fails that search alone (403 item).
// ES 8's framing (MultiSearchRequest.readMultiLineFormat): every line ends with `\n` (else 400
// "The msearch request must be terminated by a newline [\n]"); an empty or blank line is an
// empty header, not skipped; a last header without a body is ignored. An empty first line is
// refused: REST API compatibility 7 skips it, which would shift the pairing.
boost::system::result<multi_plan, body_error> plan_msearch(std::string_view body,
                                                           std::string_view path_index,
                                                           std::string_view action,
                                                           const target_authorizer& authorize);

// `_mget` / `_mtermvectors`: `{"docs":[{"_index":..,"_id":..,...}]}` (item `_index` over
// `path_index`) or `{"ids":[..]}` (all on `path_index`; a missing index is ES's 400); both may
// appear, items numbered in body order. Each doc index is asked with `single` = true. A nested
// `_index` (which MultiGetRequest.parseDocuments can read as the doc's own) is refused. Denied docs
// are removed from the forwarded `docs` and come back as
// `{"_index":..,"_id":..,"error":{"root_cause":[..],"type":"security_exception","reason":..}}`.
boost::system::result<multi_plan, body_error> plan_docs(std::string_view body,
                                                        std::string_view path_index,
                                                        std::string_view action,
                                                        const target_authorizer& authorize);

// `_reindex`: read (`indices:data/read/search`) on `source.index` (narrowed, rewritten when
// wildcards narrow), the write action implied by `dest.op_type` (index | create) on
// `dest.index`. `source.remote` is refused unless `may_use_remote` (cluster `all`, threats.md
// SSRF). A `script` may change `ctx._index` and set `ctx.op = "delete"`, so with a script the
// write action and `indices:data/write/delete` must be allowed on every index (`*`, not
// narrowed). The local source's query is checked like check_query_body. Any denial refuses the
// whole request (a 403 body_error); ES's parse and validation errors are 400s.
boost::system::result<std::string, body_error> plan_reindex(std::string_view body,
                                                            bool may_use_remote,
                                                            const target_authorizer& authorize);

// Search-style bodies (`_search`, `_count`, `_update_by_query`, `_delete_by_query`, `_explain`,
// ...): the indices the query itself reads — terms lookup (`terms: {field: {index: ..}}`),
// `more_like_this.like[]._index`, `percolate.index`, `geo_shape/shape.indexed_shape.index` —
// must each be readable (`indices:data/read/get` on that index, as ES checks). Returns the
// first denial (403) or a parse error; nullopt when every named index is allowed. A cheap
// substring pre-check skips bodies that cannot name an index (`"index"`, `"_index"`,
// `indexed_shape` — which defaults to the `shapes` index — or a `\u` escape that could spell
// one). Only the first JSON value is read (as ES's parsers do); invalid JSON → nullopt (ES
// answers its own parse error); nesting beyond Jackson's 1000 levels → 400.
std::optional<body_error> check_query_body(std::string_view body,
                                           const target_authorizer& authorize);

// The point-in-time id a search body carries (`"pit": {"id": ...}`), if any.
std::optional<std::string> pit_id_of(std::string_view body);

}  // namespace esgate::multi
