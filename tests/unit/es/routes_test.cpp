#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "esgate/es/routes.hpp"

namespace es = esgate::es;
using es::endpoint_kind;

namespace {

// "/a/b" -> {"a","b"}; "/" -> {}. No decoding: the tests give decoded text directly.
std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty() || path == "/") return out;
  if (path.front() == '/') path.remove_prefix(1);
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    out.emplace_back(
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

struct route_case {
  const char* method;
  const char* path;
  const char* name;
  const char* action;
  endpoint_kind kind;
  const char* index_param;  // expected ep->index_param
  const char* index_value;  // expected bound value of that param ("" = not bound)
};

constexpr auto C = endpoint_kind::cluster;
constexpr auto I = endpoint_kind::index;
constexpr auto N = endpoint_kind::index_name_only;
constexpr auto S = endpoint_kind::served;
constexpr auto A = endpoint_kind::always;

// clang-format off
const route_case k_cases[] = {
  // root
  {"GET", "/", "info", "cluster:monitor/main", C, "", ""},
  {"HEAD", "/", "ping", "cluster:monitor/main", C, "", ""},
  {"GET", "/_xpack", "xpack.info", "cluster:monitor/xpack/info", C, "", ""},
  {"GET", "/_xpack/usage", "xpack.usage", "cluster:monitor/xpack/usage", C, "", ""},
  {"GET", "/_license", "license.get", "cluster:monitor/xpack/license/get", C, "", ""},
  {"PUT", "/_license", "license.post", "cluster:admin/xpack/license/put", C, "", ""},
  // search family
  {"GET", "/_search", "search", "indices:data/read/search", I, "", ""},
  {"POST", "/logs-*,books/_search", "search", "indices:data/read/search", I, "index", "logs-*,books"},
  {"GET", "/*/_search", "search", "indices:data/read/search", I, "index", "*"},
  {"GET", "/_search/", "search", "indices:data/read/search", I, "", ""},
  {"GET", "//_search", "search", "indices:data/read/search", I, "index", ""},
  {"POST", "/_count", "count", "indices:data/read/search", I, "", ""},
  {"GET", "/logs/_count", "count", "indices:data/read/search", I, "index", "logs"},
  {"POST", "/_msearch", "msearch", "indices:data/read/msearch", N, "", ""},
  {"POST", "/logs/_msearch", "msearch", "indices:data/read/msearch", N, "index", "logs"},
  {"POST", "/logs/_search/template", "search_template", "indices:data/read/search/template", N, "index", "logs"},
  {"POST", "/_msearch/template", "msearch_template", "indices:data/read/msearch/template", N, "", ""},
  {"POST", "/logs/_mget", "mget", "indices:data/read/mget", N, "index", "logs"},
  {"GET", "/_mget", "mget", "indices:data/read/mget", N, "", ""},
  {"POST", "/_mtermvectors", "mtermvectors", "indices:data/read/mtv", N, "", ""},
  {"GET", "/logs/_termvectors/1", "termvectors", "indices:data/read/tv", I, "index", "logs"},
  {"GET", "/logs/_doc/1", "get", "indices:data/read/get", I, "index", "logs"},
  {"HEAD", "/logs/_doc/1", "exists", "indices:data/read/get", I, "index", "logs"},
  {"GET", "/logs/_source/1", "get_source", "indices:data/read/get", I, "index", "logs"},
  {"HEAD", "/logs/_source/1", "exists_source", "indices:data/read/get", I, "index", "logs"},
  {"POST", "/logs/_explain/1", "explain", "indices:data/read/explain", I, "index", "logs"},
  {"GET", "/logs/_field_caps", "field_caps", "indices:data/read/field_caps", I, "index", "logs"},
  {"POST", "/_search/scroll", "scroll", "indices:data/read/scroll", N, "", ""},
  {"GET", "/_search/scroll/abc", "scroll", "indices:data/read/scroll", N, "", ""},
  {"DELETE", "/_search/scroll", "clear_scroll", "indices:data/read/scroll/clear", A, "", ""},
  {"DELETE", "/_search/scroll/abc", "clear_scroll", "indices:data/read/scroll/clear", A, "", ""},
  {"POST", "/logs/_pit", "open_point_in_time", "indices:data/read/open_point_in_time", I, "index", "logs"},
  {"DELETE", "/_pit", "close_point_in_time", "indices:data/read/close_point_in_time", A, "", ""},
  {"POST", "/_async_search", "async_search.submit", "indices:data/read/async_search/submit", I, "", ""},
  {"POST", "/logs/_async_search", "async_search.submit", "indices:data/read/async_search/submit", I, "index", "logs"},
  {"GET", "/_async_search/abc", "async_search.get", "indices:data/read/async_search/get", N, "", ""},
  {"DELETE", "/_async_search/abc", "async_search.delete", "indices:data/read/async_search/delete", N, "", ""},
  {"GET", "/_async_search/status/abc", "async_search.status", "cluster:monitor/async_search/status", C, "", ""},
  {"POST", "/logs/_eql/search", "eql.search", "indices:data/read/eql", I, "index", "logs"},
  {"POST", "/_sql", "sql.query", "indices:data/read/sql", N, "", ""},
  {"POST", "/_sql/translate", "sql.translate", "indices:data/read/sql/translate", N, "", ""},
  {"POST", "/_sql/close", "sql.clear_cursor", "indices:data/read/sql/close_cursor", A, "", ""},
  {"POST", "/_query", "esql.query", "indices:data/read/esql", N, "", ""},
  {"POST", "/_query/async", "esql.async_query", "indices:data/read/esql", N, "", ""},
  {"GET", "/_query/async/abc", "esql.async_query_get", "indices:data/read/esql/async/get", N, "", ""},
  // writes
  {"POST", "/logs/_doc", "index", "indices:data/write/index:op_type/create", I, "index", "logs"},
  {"PUT", "/logs/_doc/1", "index", "indices:data/write/index:op_type/index", I, "index", "logs"},
  {"POST", "/logs/_doc/1", "index", "indices:data/write/index:op_type/index", I, "index", "logs"},
  {"PUT", "/logs/_create/1", "create", "indices:data/write/index:op_type/create", I, "index", "logs"},
  {"POST", "/logs/_update/1", "update", "indices:data/write/update", I, "index", "logs"},
  {"DELETE", "/logs/_doc/1", "delete", "indices:data/write/delete", I, "index", "logs"},
  {"POST", "/_bulk", "bulk", "indices:data/write/bulk", N, "", ""},
  {"PUT", "/logs/_bulk", "bulk", "indices:data/write/bulk", N, "index", "logs"},
  {"POST", "/logs/_delete_by_query", "delete_by_query", "indices:data/write/delete/byquery", I, "index", "logs"},
  {"POST", "/logs/_update_by_query", "update_by_query", "indices:data/write/update/byquery", I, "index", "logs"},
  {"POST", "/_reindex", "reindex", "indices:data/write/reindex", N, "", ""},
  {"POST", "/_reindex/t:1/_rethrottle", "reindex_rethrottle", "cluster:admin/reindex/rethrottle", C, "", ""},
  // index administration
  {"PUT", "/logs", "indices.create", "indices:admin/create", I, "index", "logs"},
  {"DELETE", "/logs", "indices.delete", "indices:admin/delete", I, "index", "logs"},
  {"GET", "/logs", "indices.get", "indices:admin/get", I, "index", "logs"},
  {"HEAD", "/logs", "indices.exists", "indices:admin/get", I, "index", "logs"},
  {"GET", "/_nope", "indices.get", "indices:admin/get", I, "index", "_nope"},  // as ES: a param
  {"POST", "/logs/_open", "indices.open", "indices:admin/open", I, "index", "logs"},
  {"POST", "/logs/_close", "indices.close", "indices:admin/close", I, "index", "logs"},
  {"POST", "/logs-w/_rollover", "indices.rollover", "indices:admin/rollover", I, "alias", "logs-w"},
  {"POST", "/logs-w/_rollover/logs-2", "indices.rollover", "indices:admin/rollover", I, "alias", "logs-w"},
  {"GET", "/_mapping", "indices.get_mapping", "indices:admin/mappings/get", I, "", ""},
  {"GET", "/logs/_mapping", "indices.get_mapping", "indices:admin/mappings/get", I, "index", "logs"},
  {"PUT", "/logs/_mapping", "indices.put_mapping", "indices:admin/mapping/put", I, "index", "logs"},
  {"GET", "/logs/_mapping/field/f", "indices.get_field_mapping", "indices:admin/mappings/fields/get", I, "index", "logs"},
  {"GET", "/_settings/index.blocks", "indices.get_settings", "indices:monitor/settings/get", I, "", ""},
  {"GET", "/logs/_settings", "indices.get_settings", "indices:monitor/settings/get", I, "index", "logs"},
  {"PUT", "/logs/_settings", "indices.put_settings", "indices:admin/settings/update", I, "index", "logs"},
  {"POST", "/logs/_refresh", "indices.refresh", "indices:admin/refresh", I, "index", "logs"},
  {"GET", "/_refresh", "indices.refresh", "indices:admin/refresh", I, "", ""},
  {"POST", "/logs/_flush", "indices.flush", "indices:admin/flush", I, "index", "logs"},
  {"POST", "/logs/_forcemerge", "indices.forcemerge", "indices:admin/forcemerge", I, "index", "logs"},
  {"GET", "/logs/_stats", "indices.stats", "indices:monitor/stats", I, "index", "logs"},
  {"GET", "/_stats/docs", "indices.stats", "indices:monitor/stats", I, "", ""},
  {"GET", "/logs/_segments", "indices.segments", "indices:monitor/segments", I, "index", "logs"},
  {"GET", "/logs/_recovery", "indices.recovery", "indices:monitor/recovery", I, "index", "logs"},
  {"POST", "/_aliases", "indices.update_aliases", "indices:admin/aliases", N, "", ""},
  {"PUT", "/logs/_alias/a1", "indices.put_alias", "indices:admin/aliases", I, "index", "logs"},
  {"DELETE", "/logs/_alias/a1", "indices.delete_alias", "indices:admin/aliases", I, "index", "logs"},
  {"GET", "/_alias/a1", "indices.get_alias", "indices:admin/aliases/get", I, "", ""},
  {"GET", "/logs/_alias", "indices.get_alias", "indices:admin/aliases/get", I, "index", "logs"},
  {"GET", "/_data_stream", "indices.get_data_stream", "indices:admin/data_stream/get", I, "", ""},
  {"GET", "/_data_stream/ds1", "indices.get_data_stream", "indices:admin/data_stream/get", I, "name", "ds1"},
  {"GET", "/_data_stream/_stats", "indices.data_streams_stats", "indices:monitor/data_stream/stats", I, "", ""},
  {"PUT", "/_data_stream/ds1", "indices.create_data_stream", "indices:admin/data_stream/create", I, "name", "ds1"},
  {"DELETE", "/_data_stream/ds1", "indices.delete_data_stream", "indices:admin/data_stream/delete", I, "name", "ds1"},
  {"POST", "/_data_stream/_modify", "indices.modify_data_stream", "indices:admin/data_stream/modify", N, "", ""},
  {"GET", "/_resolve/index/logs*", "indices.resolve_index", "indices:admin/resolve/index", I, "name", "logs*"},
  // templates and pipelines: cluster actions
  {"PUT", "/_index_template/t1", "indices.put_index_template", "indices:admin/index_template/put", C, "", ""},
  {"GET", "/_index_template", "indices.get_index_template", "indices:admin/index_template/get", C, "", ""},
  {"POST", "/_index_template/_simulate", "indices.simulate_template", "indices:admin/index_template/simulate", C, "", ""},
  {"PUT", "/_template/t1", "indices.put_template", "indices:admin/template/put", C, "", ""},
  {"PUT", "/_component_template/c1", "cluster.put_component_template", "cluster:admin/component_template/put", C, "", ""},
  {"GET", "/_component_template", "cluster.get_component_template", "cluster:admin/component_template/get", C, "", ""},
  {"PUT", "/_ingest/pipeline/p1", "ingest.put_pipeline", "cluster:admin/ingest/pipeline/put", C, "", ""},
  {"GET", "/_ingest/pipeline", "ingest.get_pipeline", "cluster:admin/ingest/pipeline/get", C, "", ""},
  {"DELETE", "/_ingest/pipeline/p1", "ingest.delete_pipeline", "cluster:admin/ingest/pipeline/delete", C, "", ""},
  {"POST", "/_ingest/pipeline/_simulate", "ingest.simulate", "cluster:admin/ingest/pipeline/simulate", C, "", ""},
  {"POST", "/_ingest/pipeline/p1/_simulate", "ingest.simulate", "cluster:admin/ingest/pipeline/simulate", C, "", ""},
  // cat
  {"GET", "/_cat", "cat.help", "", A, "", ""},
  {"GET", "/_cat/indices", "cat.indices", "indices:monitor/stats", I, "", ""},
  {"GET", "/_cat/indices/logs*", "cat.indices", "indices:monitor/stats", I, "index", "logs*"},
  {"GET", "/_cat/count/logs", "cat.count", "indices:data/read/search", I, "index", "logs"},
  {"GET", "/_cat/aliases", "cat.aliases", "indices:admin/aliases/get", I, "", ""},
  {"GET", "/_cat/health", "cat.health", "cluster:monitor/health", C, "", ""},
  {"GET", "/_cat/shards/logs", "cat.shards", "indices:monitor/stats", I, "index", "logs"},
  // cluster and nodes
  {"GET", "/_cluster/health", "cluster.health", "cluster:monitor/health", C, "", ""},
  {"GET", "/_cluster/health/logs", "cluster.health", "cluster:monitor/health", C, "", ""},
  {"GET", "/_cluster/state", "cluster.state", "cluster:monitor/state", C, "", ""},
  {"GET", "/_cluster/stats", "cluster.stats", "cluster:monitor/stats", C, "", ""},
  {"GET", "/_cluster/settings", "cluster.get_settings", "cluster:monitor/settings", C, "", ""},
  {"PUT", "/_cluster/settings", "cluster.put_settings", "cluster:admin/settings/update", C, "", ""},
  {"GET", "/_nodes", "nodes.info", "cluster:monitor/nodes/info", C, "", ""},
  {"GET", "/_nodes/stats", "nodes.stats", "cluster:monitor/nodes/stats", C, "", ""},
  {"GET", "/_nodes/n1/stats", "nodes.stats", "cluster:monitor/nodes/stats", C, "", ""},
  {"GET", "/_nodes/n1/jvm", "nodes.info", "cluster:monitor/nodes/info", C, "", ""},
  {"GET", "/_nodes/shutdown", "shutdown.get_node", "cluster:admin/shutdown/get", C, "", ""},
  {"GET", "/_tasks", "tasks.list", "cluster:monitor/tasks/lists", C, "", ""},
  {"GET", "/_tasks/n1:1", "tasks.get", "cluster:monitor/task/get", C, "", ""},
  {"POST", "/_tasks/_cancel", "tasks.cancel", "cluster:admin/tasks/cancel", C, "", ""},
  {"GET", "/_snapshot/_status", "snapshot.status", "cluster:admin/snapshot/status", C, "", ""},
  {"GET", "/_snapshot/r1", "snapshot.get_repository", "cluster:admin/repository/get", C, "", ""},
  {"PUT", "/_snapshot/r1/s1", "snapshot.create", "cluster:admin/snapshot/create", C, "", ""},
  {"GET", "/_ilm/policy", "ilm.get_lifecycle", "cluster:admin/ilm/get", C, "", ""},
  {"GET", "/logs/_ilm/explain", "ilm.explain_lifecycle", "indices:admin/ilm/explain", I, "index", "logs"},
  // security: served by the gateway
  {"POST", "/_security/api_key", "security.create_api_key", "cluster:admin/xpack/security/api_key/create", S, "", ""},
  {"PUT", "/_security/api_key", "security.create_api_key", "cluster:admin/xpack/security/api_key/create", S, "", ""},
  {"GET", "/_security/api_key", "security.get_api_key", "cluster:admin/xpack/security/api_key/get", S, "", ""},
  {"DELETE", "/_security/api_key", "security.invalidate_api_key", "cluster:admin/xpack/security/api_key/invalidate", S, "", ""},
  {"PUT", "/_security/api_key/k1", "security.update_api_key", "cluster:admin/xpack/security/api_key/update", S, "", ""},
  {"POST", "/_security/api_key/_bulk_update", "security.bulk_update_api_keys", "cluster:admin/xpack/security/api_key/bulk_update", S, "", ""},
  {"POST", "/_security/api_key/grant", "security.grant_api_key", "cluster:admin/xpack/security/api_key/grant", S, "", ""},
  {"GET", "/_security/_query/api_key", "security.query_api_keys", "cluster:admin/xpack/security/api_key/query", S, "", ""},
  {"GET", "/_security/_authenticate", "security.authenticate", "cluster:admin/xpack/security/user/authenticate", S, "", ""},
  {"POST", "/_security/user/_has_privileges", "security.has_privileges", "cluster:admin/xpack/security/user/has_privileges", S, "", ""},
  {"GET", "/_security/user/bob/_has_privileges", "security.has_privileges", "cluster:admin/xpack/security/user/has_privileges", S, "", ""},
  // security: forwarded
  {"GET", "/_security/user/bob", "security.get_user", "cluster:admin/xpack/security/user/get", C, "", ""},
  {"GET", "/_security/user/_privileges", "security.get_user_privileges", "cluster:admin/xpack/security/user/list_privileges", C, "", ""},
  {"PUT", "/_security/user/_password", "security.change_password", "cluster:admin/xpack/security/user/change_password", C, "", ""},
  {"PUT", "/_security/role/r1", "security.put_role", "cluster:admin/xpack/security/role/put", C, "", ""},
};
// clang-format on

}  // namespace

TEST_CASE("routes: method + path -> endpoint, action, kind, index param", "[es][routes]") {
  for (const auto& c : k_cases) {
    INFO(c.method << " " << c.path);
    const auto m = es::match_route(c.method, split(c.path));
    REQUIRE(m.has_value());
    REQUIRE(m->ep != nullptr);
    CHECK(m->ep->name == c.name);
    CHECK(m->ep->action == c.action);
    CHECK(m->ep->kind == c.kind);
    CHECK(m->ep->index_param == c.index_param);
    if (std::string_view{c.index_param}.empty()) continue;
    const auto v = m->param(c.index_param);
    REQUIRE(v.has_value());
    CHECK(*v == c.index_value);
  }
  CHECK(std::size(k_cases) >= 80);
}

TEST_CASE("routes: bound parameters", "[es][routes]") {
  auto m = es::match_route("PUT", split("/logs/_alias/a1"));
  REQUIRE(m);
  CHECK(m->ep->second_index_param == "name");
  CHECK(m->param("index") == std::optional<std::string_view>{"logs"});
  CHECK(m->param("name") == std::optional<std::string_view>{"a1"});
  CHECK_FALSE(m->param("id"));

  m = es::match_route("GET", split("/_search/scroll/c2Nhbg=="));
  REQUIRE(m);
  CHECK(m->ep->context == es::context_kind::scroll);
  CHECK(m->ep->context_param == "scroll_id");
  CHECK(m->param("scroll_id") == std::optional<std::string_view>{"c2Nhbg=="});

  // Decoded segments keep what the caller decoded (e.g. an encoded '/' inside an id).
  m = es::match_route("GET", {"logs", "_doc", "a/b"});
  REQUIRE(m);
  CHECK(m->ep->name == "get");
  CHECK(m->param("id") == std::optional<std::string_view>{"a/b"});

  m = es::match_route("GET", split("/_nodes/n1"));
  REQUIRE(m);
  CHECK(m->ep->name == "nodes.info");
  CHECK(m->params.size() == 1);

  m = es::match_route("POST", split("/logs-w/_rollover/logs-2"));
  REQUIRE(m);
  CHECK(m->ep->second_index_param == "new_index");
  CHECK(m->param("new_index") == std::optional<std::string_view>{"logs-2"});
}

TEST_CASE("routes: literal segments beat parameters", "[es][routes]") {
  struct lit {
    const char* method;
    const char* path;
    const char* name;
  };
  const lit cases[] = {
      {"GET", "/_cluster/health", "cluster.health"},  // not /{index}/...
      {"GET", "/_search", "search"},                  // not GET /{index}
      {"GET", "/_mapping", "indices.get_mapping"},    // not GET /{index}
      {"GET", "/_stats", "indices.stats"},
      {"GET", "/_alias", "indices.get_alias"},
      {"GET", "/_data_stream/_stats", "indices.data_streams_stats"},
      {"GET", "/_security/user/_privileges", "security.get_user_privileges"},
      {"GET", "/_snapshot/_status", "snapshot.status"},
      {"GET", "/_nodes/hot_threads", "nodes.hot_threads"},
      {"GET", "/_nodes/usage", "nodes.usage"},
      {"GET", "/_transform/_preview", "transform.preview_transform"},
      {"GET", "/_ml/anomaly_detectors/_stats", "ml.get_job_stats"},
      {"PUT", "/_inference/completion/x/_update", "inference.update"},
      {"GET", "/_inference/_region_policy", "inference.get_region_policy"},
      {"POST", "/_data_stream/_promote/ds", "indices.promote_data_stream"},
      {"GET", "/_cat", "cat.help"},
  };
  for (const auto& c : cases) {
    INFO(c.method << " " << c.path);
    const auto m = es::match_route(c.method, split(c.path));
    REQUIRE(m);
    CHECK(m->ep->name == c.name);
  }
}

TEST_CASE("routes: 405 and OPTIONS like Elasticsearch", "[es][routes]") {
  struct bad {
    const char* method;
    const char* path;
    es::method_set allowed;
  };
  using es::bit;
  using es::http_method;
  const auto G = bit(http_method::get);
  const auto P = bit(http_method::post);
  const auto U = bit(http_method::put);
  const auto D = bit(http_method::del);
  const auto H = bit(http_method::head);
  const bad cases[] = {
      {"POST", "/", static_cast<es::method_set>(G | H)},
      {"DELETE", "/_search", static_cast<es::method_set>(G | P)},
      {"GET", "/logs/_doc", P},
      {"POST", "/_cluster/health", G},
      {"GET", "/_security/api_key/k1", U},
      {"PUT", "/_security/api_key/_bulk_update", P},
      {"PATCH", "/logs/_doc/1", static_cast<es::method_set>(G | P | U | D | H)},
      {"DELETE", "/_bulk", static_cast<es::method_set>(P | U)},
  };
  for (const auto& c : cases) {
    INFO(c.method << " " << c.path);
    const auto r = es::resolve_route(c.method, split(c.path));
    const auto* na = std::get_if<es::route_method_not_allowed>(&r);
    REQUIRE(na != nullptr);
    CHECK(na->allowed == c.allowed);
    CHECK_FALSE(na->unknown_method);
  }

  const auto r = es::resolve_route("POST", split("/_cluster/health"));
  CHECK(
      es::method_not_allowed_reason("/_cluster/health?pretty", "POST",
                                    std::get<es::route_method_not_allowed>(r)) ==
      "Incorrect HTTP method for uri [/_cluster/health?pretty] and method [POST], allowed: [GET]");
  CHECK(es::format_methods(static_cast<es::method_set>(H | G | D)) == "GET,DELETE,HEAD");

  // Methods ES does not know, or spelled in the wrong case.
  for (const char* m : {"FOO", "get", "", "GET ", "PROPFIND"}) {
    INFO(m);
    const auto u = es::resolve_route(m, split("/_search"));
    const auto* na = std::get_if<es::route_method_not_allowed>(&u);
    REQUIRE(na != nullptr);
    CHECK(na->unknown_method);
    CHECK(na->allowed == static_cast<es::method_set>(G | P));
  }
  CHECK(es::method_not_allowed_reason("/_search", "FOO", {G, true}) ==
        "Unexpected http method: FOO, allowed: [GET]");

  const auto o = es::resolve_route("OPTIONS", split("/_search"));
  REQUIRE(std::holds_alternative<es::route_options>(o));
  CHECK(std::get<es::route_options>(o).allowed == static_cast<es::method_set>(G | P));
  const auto o2 = es::resolve_route("OPTIONS", split("/a/b/c/d/e/f/g"));
  REQUIRE(std::holds_alternative<es::route_options>(o2));
  CHECK(std::get<es::route_options>(o2).allowed == 0);
}

TEST_CASE("routes: unknown paths", "[es][routes]") {
  const char* paths[] = {
      "/a/b/c/d/e/f/g", "/_cluster/heath", "/logs/_doc/1/extra", "/_security/nope/x/y/z",
      "/logs/_nope",    "/_cat/nope",      "/_nodes/a/b/c/d",    "/logs/_search/template/x",
  };
  for (const char* p : paths) {
    INFO(p);
    const auto r = es::resolve_route("GET", split(p));
    CHECK(std::holds_alternative<es::route_not_found>(r));
    CHECK_FALSE(es::match_route("GET", split(p)));
  }
  CHECK(es::no_handler_reason("/x/y", "GET") == "no handler found for uri [/x/y] and method [GET]");
  // Long and odd segments must not confuse the matcher.
  std::vector<std::string> big(200, "x");
  CHECK(std::holds_alternative<es::route_not_found>(es::resolve_route("GET", big)));
  CHECK(es::match_route("GET", {std::string(100000, 'a'), "_search"}));
  CHECK(es::match_route("GET", {std::string("lo\0gs", 5), "_search"}));
  // Only trailing empty segments are dropped (Java's split): interior ones are parameters.
  CHECK(es::match_route("GET", {"_search", "", ""})->ep->name == "search");
  CHECK(es::match_route("GET", {"", ""})->ep->name == "info");
}

TEST_CASE("routes: effective action honours op_type", "[es][routes]") {
  const auto put_id = es::match_route("PUT", split("/logs/_doc/1"));
  const auto auto_id = es::match_route("POST", split("/logs/_doc"));
  const auto create = es::match_route("PUT", split("/logs/_create/1"));
  const auto search = es::match_route("GET", split("/_search"));
  REQUIRE(put_id);
  REQUIRE(auto_id);
  REQUIRE(create);
  REQUIRE(search);
  const std::string_view idx = "indices:data/write/index:op_type/index";
  const std::string_view crt = "indices:data/write/index:op_type/create";
  struct opc {
    const es::endpoint* ep;
    std::optional<std::string_view> op;
    std::string_view expect;
  };
  const opc cases[] = {
      {put_id->ep, std::nullopt, idx},
      {put_id->ep, "create", crt},
      {put_id->ep, "CREATE", crt},
      {put_id->ep, "index", idx},
      {put_id->ep, "bogus", idx},
      {put_id->ep, "", idx},
      {auto_id->ep, std::nullopt, crt},
      {auto_id->ep, "index", idx},
      {auto_id->ep, "create", crt},
      {auto_id->ep, "Index", idx},
      {auto_id->ep, "x", idx},
      {create->ep, "index", crt},
      {search->ep, "create", "indices:data/read/search"},
  };
  for (const auto& c : cases) {
    INFO(c.ep->path << " op_type=" << c.op.value_or("<none>"));
    CHECK(es::effective_action(*c.ep, c.op) == c.expect);
  }
}

namespace {

std::string shape(std::span<const std::string_view> segs) {
  std::string s;
  for (const auto seg : segs)
    s += (!seg.empty() && seg.front() == '{') ? "/{}" : "/" + std::string(seg);
  return s;
}

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [s](std::string_view p) { return s.substr(0, p.size()) == p; });
}

// Does this annotated index privilege plausibly grant `action`? (IDXPRIV, reference §5.1.)
bool index_privilege_grants(std::string_view priv, std::string_view action) {
  if (priv == "all") return true;
  if (priv == "read")
    return starts_with_any(action, {"indices:data/read/", "indices:admin/resolve/"});
  if (priv == "view_index_metadata")
    return starts_with_any(
        action, {"indices:admin/aliases/get", "indices:admin/get", "indices:admin/mappings/",
                 "indices:admin/shards/search_shards", "indices:monitor/settings/get",
                 "indices:admin/ilm/explain", "indices:admin/data_stream/get",
                 "indices:admin/data_stream/lifecycle/", "indices:admin/resolve/",
                 "indices:data/read/field_caps", "indices:admin/validate/query",
                 "indices:data/read/xpack/rollup/get/index/caps"});
  if (priv == "monitor") return starts_with_any(action, {"indices:monitor/"});
  if (priv == "manage")
    return starts_with_any(action,
                           {"indices:admin/", "indices:monitor/", "indices:data/read/field_caps"});
  if (priv == "maintenance")
    return starts_with_any(
        action, {"indices:admin/refresh", "indices:admin/flush", "indices:admin/forcemerge"});
  if (priv == "write") return starts_with_any(action, {"indices:data/write/"});
  if (priv == "index")
    return starts_with_any(
        action, {"indices:data/write/index", "indices:data/write/bulk", "indices:data/write/update",
                 "indices:data/write/simulate/bulk"});
  if (priv == "create" || priv == "create_doc")
    return starts_with_any(action, {"indices:data/write/index", "indices:data/write/bulk"});
  if (priv == "delete")
    return starts_with_any(action, {"indices:data/write/delete", "indices:data/write/bulk"});
  if (priv == "create_index")
    return starts_with_any(action, {"indices:admin/create", "indices:admin/data_stream/create"});
  if (priv == "delete_index")
    return starts_with_any(action, {"indices:admin/delete", "indices:admin/data_stream/delete"});
  if (priv == "manage_ilm") return starts_with_any(action, {"indices:admin/ilm/"});
  if (priv == "manage_follow_index")
    return starts_with_any(
        action, {"indices:admin/xpack/ccr/put_follow", "indices:admin/xpack/ccr/unfollow",
                 "indices:admin/close", "indices:admin/rollover"});
  if (priv == "create_view" || priv == "delete_view" || priv == "read_view_metadata")
    return starts_with_any(action, {"indices:admin/esql/view/"});
  return false;
}

// Does this annotated cluster privilege plausibly grant `action`? (CLPRIV, reference §5.2.)
bool cluster_privilege_grants(std::string_view priv, std::string_view action) {
  const bool template_action =
      starts_with_any(action, {"indices:admin/template/", "indices:admin/index_template/"});
  if (priv == "all") return action.substr(0, 8) == "cluster:" || template_action;
  if (priv == "manage")
    return (action.substr(0, 8) == "cluster:" || template_action) &&
           !starts_with_any(action, {"cluster:admin/xpack/security/"});
  if (priv == "monitor")
    return starts_with_any(
        action, {"cluster:monitor/", "indices:admin/template/get",
                 "indices:admin/index_template/get", "cluster:admin/component_template/get"});
  if (priv == "manage_index_templates")
    return template_action || starts_with_any(action, {"cluster:admin/component_template/"});
  if (priv == "manage_security" || priv == "read_security")
    return starts_with_any(action, {"cluster:admin/xpack/security/"});
  if (priv == "manage_own_api_key" || priv == "manage_api_key" || priv == "grant_api_key")
    return starts_with_any(action, {"cluster:admin/xpack/security/api_key/"});
  if (priv == "monitor_snapshot")
    return starts_with_any(action, {"cluster:admin/snapshot/status", "cluster:admin/snapshot/get",
                                    "cluster:admin/repository/get"});
  if (priv == "create_snapshot") return starts_with_any(action, {"cluster:admin/snapshot/create"});
  if (priv == "read_pipeline")
    return starts_with_any(
        action, {"cluster:admin/ingest/pipeline/get", "cluster:admin/ingest/pipeline/simulate"});
  if (priv == "read_ilm")
    return starts_with_any(action,
                           {"cluster:admin/ilm/get", "cluster:admin/ilm/operation_mode/get"});
  if (priv == "read_slm")
    return starts_with_any(action, {"cluster:admin/slm/get", "cluster:admin/slm/status"});
  if (priv == "cancel_task") return true;  // async deletes: owner or cancel_task (ES special case)
  // monitor_* privileges grant only monitor actions; every other one grants admin actions of
  // its feature, which we only check to be cluster actions.
  if (priv.substr(0, 8) == "monitor_") return starts_with_any(action, {"cluster:monitor/"});
  return action.substr(0, 8) == "cluster:";
}

}  // namespace

TEST_CASE("routes: every row of the table is reachable by its own path", "[es][routes]") {
  const auto table = es::all_endpoints();
  REQUIRE(table.size() > 700);
  std::size_t shadowed = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const es::endpoint& ep = table[i];
    std::vector<std::string> segs;
    for (const auto seg : ep.segments) {
      segs.emplace_back(!seg.empty() && seg.front() == '{'
                            ? "v" + std::string(seg.substr(1, seg.size() - 2))
                            : std::string(seg));
    }
    for (const auto m : {es::http_method::get, es::http_method::post, es::http_method::put,
                         es::http_method::del, es::http_method::head}) {
      if ((ep.methods & es::bit(m)) == 0) continue;
      INFO(es::method_name(m) << " " << ep.path << " (" << ep.name << ")");
      const auto r = es::match_route(es::method_name(m), segs);
      REQUIRE(r.has_value());
      if (r->ep != &ep) {
        // Only an earlier row with the very same shape may take the route (e.g. the
        // provider-specific inference PUTs behind inference.put).
        CHECK(shape(r->ep->segments) == shape(ep.segments));
        CHECK(r->ep < &ep);
        ++shadowed;
        continue;
      }
      for (const auto& [k, v] : r->params) CHECK(v == "v" + std::string(k));
    }
  }
  CHECK(shadowed < 40);
}

TEST_CASE("routes: generated table is consistent and plausible", "[es][routes]") {
  const auto table = es::all_endpoints();
  std::set<std::string_view> names;
  std::size_t mapped = 0, served = 0, unclassified = 0;
  for (const auto& ep : table) {
    INFO(ep.name << " " << ep.path << " -> " << ep.action);
    names.insert(ep.name);
    CHECK(ep.body_names_targets == (ep.body != es::body_targets::none));
    CHECK(ep.methods != 0);
    CHECK(!ep.path.empty());
    CHECK(ep.path.front() == '/');
    if (!ep.action.empty()) ++mapped;
    if (ep.kind == endpoint_kind::served) ++served;
    if (ep.kind == endpoint_kind::unclassified) {
      ++unclassified;
      CHECK(ep.action.empty());
      CHECK(ep.origin == es::action_origin::none);
      continue;
    }
    // Params named as index carriers exist in the pattern.
    for (const auto p : {ep.index_param, ep.second_index_param, ep.context_param}) {
      if (p.empty()) continue;
      const std::string placeholder = "{" + std::string(p) + "}";
      CHECK(std::find(ep.segments.begin(), ep.segments.end(), placeholder) != ep.segments.end());
    }
    const bool cluster_action =
        ep.action.substr(0, 8) == "cluster:" ||
        starts_with_any(ep.action, {"indices:admin/template/", "indices:admin/index_template/"});
    switch (ep.kind) {
      case endpoint_kind::cluster:
        CHECK(cluster_action);
        CHECK(ep.index_param.empty());
        break;
      case endpoint_kind::index:
      case endpoint_kind::index_name_only:
        CHECK(ep.action.substr(0, 8) == "indices:");
        CHECK_FALSE(cluster_action);
        break;
      case endpoint_kind::served:
        CHECK(starts_with_any(ep.path, {"/_security/api_key", "/_security/_query/api_key",
                                        "/_security/_authenticate", "/_security/user/"}));
        break;
      default:
        break;
    }
    // Index-annotated endpoints authorized on indices carry an action the annotation grants.
    const bool known_mismatch =
        ep.name == "indices.analyze" ||  // spec: index; ES: indices:admin/analyze (manage)
        ep.name == "ilm.move_to_step" || ep.name == "ilm.put_lifecycle" ||  // cluster actions in ES
        ep.name == "slm.put_lifecycle" || ep.name == "esql.async_query_get" ||
        ep.name == "esql.async_query_stop";
    if ((ep.kind == endpoint_kind::index || ep.kind == endpoint_kind::index_name_only) &&
        !ep.spec_index_privileges.empty() && !known_mismatch) {
      const bool ok =
          std::any_of(ep.spec_index_privileges.begin(), ep.spec_index_privileges.end(),
                      [&](std::string_view p) { return index_privilege_grants(p, ep.action); });
      CHECK(ok);
    }
    const bool known_cluster_mismatch =
        ep.name == "license.get_basic_status" || ep.name == "license.get_trial_status";
    if (ep.kind == endpoint_kind::cluster && !ep.spec_cluster_privileges.empty() &&
        !known_cluster_mismatch) {
      const bool ok =
          std::any_of(ep.spec_cluster_privileges.begin(), ep.spec_cluster_privileges.end(),
                      [&](std::string_view p) { return cluster_privilege_grants(p, ep.action); });
      CHECK(ok);
    }
    if (!ep.cluster_action.empty()) {
      CHECK(ep.cluster_action.substr(0, 8) == "cluster:");
    }
    // Single-target document APIs never accept wildcards or lists.
    if (ep.name == "get" || ep.name == "index" || ep.name == "create" || ep.name == "update" ||
        ep.name == "delete" || ep.name == "explain" || ep.name == "termvectors") {
      CHECK_FALSE(ep.multi_target);
    }
  }
  // Reference §6 must be fully covered.
  for (const char* n : {"search",
                        "count",
                        "msearch",
                        "mget",
                        "get",
                        "get_source",
                        "exists",
                        "explain",
                        "termvectors",
                        "mtermvectors",
                        "field_caps",
                        "index",
                        "create",
                        "update",
                        "delete",
                        "bulk",
                        "update_by_query",
                        "delete_by_query",
                        "reindex",
                        "indices.create",
                        "indices.delete",
                        "indices.get",
                        "indices.open",
                        "indices.close",
                        "indices.rollover",
                        "indices.get_mapping",
                        "indices.put_mapping",
                        "indices.get_settings",
                        "indices.put_settings",
                        "indices.refresh",
                        "indices.flush",
                        "indices.forcemerge",
                        "indices.stats",
                        "indices.segments",
                        "indices.recovery",
                        "indices.update_aliases",
                        "indices.get_data_stream",
                        "indices.resolve_index",
                        "scroll",
                        "clear_scroll",
                        "open_point_in_time",
                        "close_point_in_time",
                        "async_search.submit",
                        "eql.search",
                        "sql.query",
                        "esql.query",
                        "ingest.put_pipeline",
                        "indices.put_index_template",
                        "cluster.put_component_template",
                        "cat.indices",
                        "cluster.health",
                        "nodes.info",
                        "info",
                        "license.get",
                        "xpack.info",
                        "tasks.list",
                        "snapshot.create",
                        "ilm.get_lifecycle",
                        "security.authenticate"}) {
    INFO(n);
    const auto it = std::find_if(table.begin(), table.end(),
                                 [n](const es::endpoint& e) { return e.name == n; });
    REQUIRE(it != table.end());
    CHECK(!it->action.empty());
    CHECK(it->kind != endpoint_kind::unclassified);
  }
  CHECK(served == 12);
  CHECK(mapped + unclassified + 1 == table.size());  // + cat.help: `always` without an action
  CHECK(unclassified < 20);
  CHECK(names.size() > 500);

  const auto params = es::path_param_names();
  CHECK(std::is_sorted(params.begin(), params.end()));
  CHECK(std::adjacent_find(params.begin(), params.end()) == params.end());
  CHECK(std::binary_search(params.begin(), params.end(), "index"));
  CHECK(std::binary_search(params.begin(), params.end(), "id"));
}
