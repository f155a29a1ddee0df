#pragma once
// Pieces of authorize() that tests exercise directly.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/es/authorize.hpp"
#include "esgate/es/index_expression.hpp"

namespace esgate::es::detail {

// Which names of the metadata a wildcard may reach.
enum class name_domain { all, aliases, data_streams };

// es::narrow()'s semantics (left to right, exclusions remove what was gathered, literals kept
// as-is so authorization can deny them), over the metadata lists in place: no copy of the name
// lists per request. Besides narrow's visibility rule (a `.` name needs `hidden` or a pattern
// starting with `.`), names listed in `metadata.hidden` need expand_wildcards `hidden`.
// The views point into `expression` and `metadata`.
std::vector<std::string_view> resolve_names(const std::vector<index_item>& expression,
                                            const cluster_metadata& metadata,
                                            const std::function<bool(std::string_view)>& authorized,
                                            expand_wildcards expand, name_domain domain);

// Whether an index, alias or data stream of that name exists.
bool name_exists(const cluster_metadata& metadata, std::string_view name);

// The route that spells an omitted expression parameter out (`/_cat/indices` ->
// `/_cat/indices/{index}`), or null.
struct insert_variant {
  const endpoint* ep = nullptr;
  std::string_view param;
};
insert_variant variant_with_expression(const endpoint& ep);

// Path parameter names of every route of the same API (`search`: {index}): the handler reads
// these from the query string when the matched route does not bind them.
const std::vector<std::string_view>& family_path_params(const endpoint& ep);

// ES's 403 reason for index actions: `on indices [a] and restricted indices [.x]`.
std::string index_denial(std::string_view action, const policy::identity& who,
                         const std::vector<std::string_view>& denied);
std::string cluster_denial(std::string_view action, const policy::identity& who);
// Name-only denial (no "on indices"): ES's wording for bulk & co (§9.1).
std::string index_action_denial(std::string_view action, const policy::identity& who);

}  // namespace esgate::es::detail
