#pragma once
// The authorizer behind the body rules (bulk items, msearch headers, mget docs, reindex source and
// destination, indices named inside queries): the same resolution as the path's (authorize.hpp
// rule 5) applied to one target named in a body. Pure, like authorize().
#include <chrono>
#include <string_view>

#include "esgate/body/targets.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/es/index_expression.hpp"

namespace esgate::es {

struct body_target_context {
  const policy::identity& who;
  std::chrono::system_clock::time_point now;   // date math
  const cluster_metadata* metadata = nullptr;  // names that exist (narrowing, auto-create)
  expand_wildcards expand;                     // the request's expand_wildcards
  bool ignore_unavailable = false;             // the request's ignore_unavailable
  authz_trace* trace = nullptr;                // esgate explain only (authorize.hpp)
};

// `single` (bulk items, mget docs, reindex dest): `expression` is one concrete name, date math
// resolved; a list or wildcard is an invalid name (400, as ES reports it per item). Writes that
// may create a missing index also need indices:admin/auto_create on it (es-security-reference
// §9.2), checked against `metadata` (no metadata = assume missing: fail closed).
// Otherwise (msearch headers, reindex source): literals must each be authorized (403 naming
// every denied one), wildcards and `_all`/empty are narrowed to authorized visible names.
body::target_verdict authorize_body_target(const body_target_context& ctx, std::string_view action,
                                           std::string_view expression, bool single);

}  // namespace esgate::es
