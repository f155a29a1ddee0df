// Opening and continuing contexts (see context_binding.hpp).
#include "context_binding.hpp"

#include <boost/json.hpp>

#include "esgate/http/es_error.hpp"

namespace esgate::app {
namespace {

namespace json = boost::json;

std::chrono::seconds keep_alive_or(const es::query_params& q, std::string_view name,
                                   std::chrono::seconds fallback) {
  const auto v = es::find_query_param(q, name);
  if (!v) return fallback;
  return cursor::parse_keep_alive(*v).value_or(fallback);
}

constexpr std::chrono::seconds k_async_default{5 * 24 * 3600};  // ES's async keep_alive default
constexpr std::chrono::seconds k_task_results{7 * 24 * 3600};

void split_ids(std::string_view list, cursor::kind k, std::vector<cursor::context_ref>& out) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto id = list.substr(0, comma);
    if (!id.empty()) out.push_back({k, std::string(id)});
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

std::optional<json::object> body_object(std::string_view body) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

cursor::kind cursor_kind_of(es::context_kind k) {
  switch (k) {
    case es::context_kind::scroll:
      return cursor::kind::scroll;
    case es::context_kind::pit:
      return cursor::kind::pit;
    case es::context_kind::async_search:
      return cursor::kind::async_search;
    case es::context_kind::eql_async:
      return cursor::kind::eql_async;
    case es::context_kind::esql_async:
      return cursor::kind::esql_async;
    case es::context_kind::task:
      return cursor::kind::task;
    default:
      return cursor::kind::sql;
  }
}

std::optional<opening> opening_of(const es::authz_decision& d, const es::request_target& t) {
  if (d.ep == nullptr) return std::nullopt;
  const std::string_view name = d.ep->name;
  const auto& q = t.query;
  opening o;
  bool any = false;
  if (const auto scroll = es::find_query_param(q, "scroll");
      scroll && (name == "search" || name == "search_template" || name == "scroll")) {
    o.scroll = true;
    o.ttl = cursor::parse_keep_alive(*scroll).value_or(std::chrono::seconds(300));
    any = true;
  }
  if (name == "scroll") {  // a continuation may hand out a new id
    o.scroll = true;
    if (o.ttl.count() == 0) o.ttl = std::chrono::seconds(300);
    any = true;
  }
  if (name == "open_point_in_time") {
    o.id_kind = cursor::kind::pit;
    o.ttl = keep_alive_or(q, "keep_alive", std::chrono::seconds(300));
    any = true;
  } else if (name == "async_search.submit") {
    o.id_kind = cursor::kind::async_search;
    o.ttl = keep_alive_or(q, "keep_alive", k_async_default);
    any = true;
  } else if (name == "eql.search") {
    o.id_kind = cursor::kind::eql_async;
    o.ttl = keep_alive_or(q, "keep_alive", k_async_default);
    any = true;
  } else if (name == "esql.async_query") {
    o.id_kind = cursor::kind::esql_async;
    o.ttl = keep_alive_or(q, "keep_alive", k_async_default);
    any = true;
  } else if (name == "sql.query") {
    o.id_kind = cursor::kind::sql;
    o.sql_cursor = true;
    o.ttl = keep_alive_or(q, "keep_alive", k_async_default);
    any = true;
  }
  if (const auto w = es::find_query_param(q, "wait_for_completion"); w && *w == "false") {
    o.task = true;
    if (o.ttl < k_task_results) o.ttl = k_task_results;
    any = true;
  }
  if (!any) return std::nullopt;
  return o;
}

std::vector<cursor::context_ref> continuation_ids(const es::authz_decision& d,
                                                  const es::request_target& t,
                                                  std::string_view body) {
  std::vector<cursor::context_ref> out;
  const auto k = cursor_kind_of(d.continues);
  if (d.continues == es::context_kind::scroll) {
    split_ids(d.context_id, k, out);
    if (const auto q = es::find_query_param(t.query, "scroll_id")) split_ids(*q, k, out);
    for (auto& id : cursor::scroll_ids_in_body(body)) split_ids(id, k, out);
    return out;
  }
  if (!d.context_id.empty()) out.push_back({k, d.context_id});
  if (d.continues == es::context_kind::pit) {
    if (auto o = body_object(body)) {
      if (const auto* id = o->if_contains("id"); id && id->is_string())
        out.push_back({k, std::string(id->as_string())});
    }
  }
  return out;
}

std::optional<std::chrono::seconds> extension_of(const es::authz_decision& d,
                                                 const es::request_target& t,
                                                 std::string_view body) {
  if (d.continues != es::context_kind::scroll && d.continues != es::context_kind::async_search &&
      d.continues != es::context_kind::eql_async && d.continues != es::context_kind::esql_async &&
      d.continues != es::context_kind::sql_async)
    return std::nullopt;
  for (const auto* name : {"scroll", "keep_alive"}) {
    if (const auto v = es::find_query_param(t.query, name)) return cursor::parse_keep_alive(*v);
  }
  if (auto o = body_object(body)) {
    if (const auto* v = o->if_contains("scroll"); v && v->is_string())
      return cursor::parse_keep_alive(v->as_string());
  }
  return std::nullopt;
}

http::gateway_response context_missing(cursor::kind k, std::string_view id) {
  switch (k) {
    case cursor::kind::scroll:
    case cursor::kind::pit:
      // What ES answers for a context that expired or never existed on the node.
      return http::es_error(404, "search_context_missing_exception",
                            "No search context found for id [" +
                                std::string(id.substr(0, 64)) + "]");
    case cursor::kind::task:
      return http::es_error(404, "resource_not_found_exception",
                            "task [" + std::string(id.substr(0, 128)) +
                                "] isn't running and hasn't stored its results");
    default:
      return http::es_error(404, "resource_not_found_exception", std::string(id.substr(0, 256)));
  }
}

}  // namespace esgate::app
