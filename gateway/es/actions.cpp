// Small helpers around the endpoint table: methods, per-request action refinement, and the
// error texts ES uses when routing fails.

#include <array>
#include <cstddef>

#include "esgate/es/routes.hpp"

namespace esgate::es {
namespace {

struct method_entry {
  std::string_view name;
  http_method method;
};

// ES enum order (RestRequest.Method): also the order used when listing allowed methods.
constexpr std::array<method_entry, 9> k_methods{{
    {"GET", http_method::get},
    {"POST", http_method::post},
    {"PUT", http_method::put},
    {"DELETE", http_method::del},
    {"OPTIONS", http_method::options},
    {"HEAD", http_method::head},
    {"PATCH", http_method::patch},
    {"TRACE", http_method::trace},
    {"CONNECT", http_method::connect},
}};

constexpr std::string_view k_op_index = "indices:data/write/index:op_type/index";
constexpr std::string_view k_op_create = "indices:data/write/index:op_type/create";

// DocWriteRequest.OpType.fromString lower-cases its input (Locale.ROOT: ASCII only here).
bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<http_method> parse_method(std::string_view text) noexcept {
  for (const auto& e : k_methods) {
    if (e.name == text) return e.method;
  }
  return std::nullopt;
}

std::string_view method_name(http_method m) noexcept {
  for (const auto& e : k_methods) {
    if (e.method == m) return e.name;
  }
  return {};
}

std::string format_methods(method_set methods, std::string_view separator) {
  std::string out;
  for (const auto& e : k_methods) {
    if ((methods & bit(e.method)) == 0) continue;
    if (!out.empty()) out += separator;
    out += e.name;
  }
  return out;
}

std::string_view effective_action(const endpoint& ep,
                                  std::optional<std::string_view> op_type) noexcept {
  switch (ep.op_type) {
    case op_type_rule::none:
      return ep.action;
    case op_type_rule::default_index:
      if (op_type && iequals_ascii(*op_type, "create")) return k_op_create;
      return k_op_index;
    case op_type_rule::default_create:
      // Only an explicit op_type=index overrides the auto-id default (putIfAbsent).
      if (!op_type || iequals_ascii(*op_type, "create")) return k_op_create;
      return k_op_index;
  }
  return ep.action;
}

std::string method_not_allowed_reason(std::string_view uri, std::string_view method,
                                      const route_method_not_allowed& r) {
  std::string msg;
  if (r.unknown_method) {
    msg.append("Unexpected http method: ").append(method);
  } else {
    msg.append("Incorrect HTTP method for uri [")
        .append(uri)
        .append("] and method [")
        .append(method)
        .append("]");
  }
  if (r.allowed != 0)
    msg.append(", allowed: [").append(format_methods(r.allowed, ", ")).append("]");
  return msg;
}

std::string no_handler_reason(std::string_view uri, std::string_view method) {
  std::string msg;
  msg.append("no handler found for uri [")
      .append(uri)
      .append("] and method [")
      .append(method)
      .append("]");
  return msg;
}

std::string_view to_string(endpoint_kind k) noexcept {
  switch (k) {
    case endpoint_kind::cluster:
      return "cluster";
    case endpoint_kind::index:
      return "index";
    case endpoint_kind::index_name_only:
      return "index_name_only";
    case endpoint_kind::served:
      return "served";
    case endpoint_kind::always:
      return "always";
    case endpoint_kind::unclassified:
      return "unclassified";
  }
  return "?";
}

std::string_view to_string(body_targets b) noexcept {
  switch (b) {
    case body_targets::none:
      return "none";
    case body_targets::bulk:
      return "bulk";
    case body_targets::msearch:
      return "msearch";
    case body_targets::docs:
      return "docs";
    case body_targets::reindex:
      return "reindex";
    case body_targets::query_language:
      return "query_language";
    case body_targets::pit:
      return "pit";
    case body_targets::alias_actions:
      return "alias_actions";
    case body_targets::index_aliases:
      return "index_aliases";
    case body_targets::opaque:
      return "opaque";
  }
  return "?";
}

std::string_view to_string(context_kind c) noexcept {
  switch (c) {
    case context_kind::none:
      return "none";
    case context_kind::scroll:
      return "scroll";
    case context_kind::pit:
      return "pit";
    case context_kind::async_search:
      return "async_search";
    case context_kind::eql_async:
      return "eql_async";
    case context_kind::esql_async:
      return "esql_async";
    case context_kind::sql_async:
      return "sql_async";
    case context_kind::sql_cursor:
      return "sql_cursor";
    case context_kind::task:
      return "task";
  }
  return "?";
}

}  // namespace esgate::es
