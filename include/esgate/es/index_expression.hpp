#pragma once
// Elasticsearch index expressions: the `{index}` path segment (already percent-decoded once by
// parse_request_target) or an `_index`/`index` value from a request body.
//
// Follows es-security-reference.md §7.2 (IndexAbstractionResolver / IndexNameExpressionResolver):
//  - comma split, no trimming (ES does not trim either); empty items are errors;
//  - `_all` alone means "everything"; inside a list it is an (invalid) literal name;
//  - `*` anywhere makes an item a wildcard (ES index expressions know no `?` wildcard);
//  - `-x` is an exclusion only if a wildcard appeared earlier in the list, else it is the literal
//    `-x`, which then fails name validation (names may not start with `-`);
//  - `<...>` date math is resolved first with the injected `now`; a resolved name that contains
//    `*` is a wildcard (ES checks for wildcards after resolving date math);
//  - remote `cluster:index` and `::data`/`::failures` selectors are refused (not supported);
//  - literal names are validated like MetadataCreateIndexService.validateIndexOrAliasName plus
//    the lowercase rule; names starting with `.` stay legal (reads of restricted indices are an
//    authorization question, not a syntax one).
// Known gap: the lowercase rule is checked for ASCII only; non-ASCII upper-case names pass here
// and are simply names no role grants unless an operator wrote them.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace esgate::es {

enum class item_kind {
  literal,             // a concrete name to authorize as-is
  wildcard,            // contains `*`; narrowed to authorized names
  exclusion,           // `-x` after a wildcard; `text` is `x` (may itself be a wildcard)
  all,                 // `_all` alone
  date_math_resolved,  // `<...>` resolved to the concrete name in `text`
};

struct index_item {
  item_kind kind;
  std::string text;

  friend bool operator==(const index_item&, const index_item&) = default;
};

// 400 error: `type` is the ES exception type (`invalid_index_name_exception`,
// `illegal_argument_exception`, `parse_exception`), `reason` its message.
struct expression_error {
  std::string type;
  std::string reason;
};

// Longest index name in bytes (MetadataCreateIndexService.MAX_INDEX_NAME_BYTES).
inline constexpr std::size_t max_index_name_bytes = 255;

// Parses an index expression. An empty `expression` is an error (an absent index is the caller's
// "all" case, not this function's).
boost::system::result<std::vector<index_item>, expression_error> parse_index_expression(
    std::string_view expression, std::chrono::system_clock::time_point now);

// Validates a concrete index/alias/data-stream name as Elasticsearch does on creation
// (`Invalid index name [x], must be lowercase` ...). Leading `.` is accepted.
std::optional<expression_error> validate_index_name(std::string_view name);

// True for wildcard items and for exclusions whose text contains `*`.
bool is_wildcard(const index_item& item) noexcept;

// `*`-only glob (Regex.simpleMatch), case-sensitive, linear time in pattern + name.
bool simple_match(std::string_view pattern, std::string_view name) noexcept;

// The `expand_wildcards` request parameter. The gateway cannot see open/closed state, so `open`
// and `closed` only matter together: with neither, wildcards expand to nothing (`none`).
struct expand_wildcards {
  bool open = true;
  bool closed = false;
  bool hidden = false;
};

// Parses `open,hidden`, `all`, `none`, ... (empty = the default). Unknown values are errors.
boost::system::result<expand_wildcards, expression_error> parse_expand_wildcards(
    std::string_view value);

using name_predicate = std::function<bool(std::string_view)>;

// ES's left-to-right resolution over the names that exist (`known_names`: indices, aliases and
// data streams). Wildcards and `_all` contribute only authorized, visible known names (a name
// starting with `.` counts as hidden: matched only when the pattern itself starts with `.` or
// `expand_wildcards` includes hidden); exclusions remove from what was gathered so far; literal
// and date-math names are kept as-is so authorization can deny them. The result is in first-seen
// order without duplicates; an empty result is the caller's `allow_no_indices` decision.
std::vector<std::string> narrow(const std::vector<index_item>& expression,
                                const std::vector<std::string>& known_names,
                                const name_predicate& authorized, expand_wildcards expand = {});

}  // namespace esgate::es
