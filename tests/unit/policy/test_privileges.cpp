#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "esgate/policy/privileges.hpp"

using namespace esgate::policy;
using list = std::vector<std::string>;

namespace {

struct granting_case {
  const char* action;
  list expected;
};

}  // namespace

TEST_CASE("index privileges granting an action, least to most powerful (ref §8.2, §9)") {
  const granting_case cases[] = {
      {"indices:data/read/search", {"read", "all"}},
      {"indices:data/read/get", {"read", "all"}},
      {"indices:data/write/index:op_type/index", {"create", "index", "write", "all"}},
      {"indices:data/write/index:op_type/create",
       {"create_doc", "create", "index", "write", "all"}},
      {"indices:data/write/bulk", {"create_doc", "create", "delete", "index", "write", "all"}},
      {"indices:data/write/update", {"index", "write", "all"}},
      {"indices:data/write/delete", {"delete", "write", "all"}},
      {"indices:data/write/delete/byquery", {"delete", "write", "all"}},
      {"indices:admin/auto_create", {"auto_configure", "create_index", "manage", "all"}},
      {"indices:admin/mapping/put", {"manage", "all"}},
      {"indices:admin/create", {"create_index", "manage", "all"}},
      {"indices:admin/delete", {"delete_index", "manage", "all"}},
      {"indices:admin/refresh", {"maintenance", "manage", "all"}},
      {"indices:admin/mappings/get", {"view_index_metadata", "manage", "all"}},
      {"indices:monitor/stats", {"monitor", "cross_cluster_replication", "manage", "all"}},
      {"indices:admin/ilm/explain", {"manage_ilm", "view_index_metadata", "manage", "all"}},
      {"no-such:action", {}},
  };
  for (const auto& c : cases) {
    INFO(c.action);
    CHECK(index_privileges_granting(c.action) == c.expected);
  }
}

TEST_CASE("cluster privileges granting an action (ref §8.2)") {
  const granting_case cases[] = {
      {"cluster:monitor/health", {"monitor", "manage", "all"}},
      {"cluster:monitor/main", {"monitor", "manage", "all"}},
      {"indices:admin/template/put", {"manage_index_templates", "manage", "all"}},
      {"indices:admin/index_template/put", {"manage_index_templates", "manage", "all"}},
      {"cluster:admin/xpack/security/api_key/invalidate",
       {"manage_own_api_key", "manage_api_key", "manage_security", "all"}},
      {"cluster:admin/xpack/security/api_key/create",
       {"manage_own_api_key", "manage_api_key", "manage_security", "all"}},
      {"cluster:admin/xpack/security/api_key/grant",
       {"grant_api_key", "manage_own_api_key", "manage_api_key", "manage_security", "all"}},
      {"cluster:admin/ingest/pipeline/put",
       {"manage_ingest_pipelines", "manage_pipeline", "manage", "all"}},
      {"cluster:admin/settings/update", {"manage", "all"}},
      {"cluster:admin/xpack/security/user/authenticate", {"manage_security", "all"}},
      {"indices:data/read/search", {}},
  };
  for (const auto& c : cases) {
    INFO(c.action);
    CHECK(cluster_privileges_granting(c.action) == c.expected);
  }
}

TEST_CASE("manage_own_api_key is left out when the request is not about the caller's keys") {
  CHECK(cluster_privileges_granting("cluster:admin/xpack/security/api_key/invalidate", false) ==
        list{"manage_api_key", "manage_security", "all"});
  CHECK(cluster_privileges_granting("cluster:monitor/health", false) ==
        list{"monitor", "manage", "all"});
}

TEST_CASE("action classification") {
  struct c {
    const char* action;
    bool cluster;
    bool index;
  };
  const c cases[] = {
      {"cluster:monitor/health", true, false},
      {"indices:admin/template/put", true, false},
      {"indices:admin/index_template/get", true, false},
      {"indices:admin/templates/x", false, true},  // not the template prefix
      {"indices:data/read/search", false, true},
      {"internal:transport/proxy/indices:data/read/search", false, true},
      {"internal:transport/handshake", false, false},
      {"", false, false},
  };
  for (const auto& x : cases) {
    INFO(x.action);
    CHECK(is_cluster_action(x.action) == x.cluster);
    CHECK(is_index_action(x.action) == x.index);
  }
}

TEST_CASE("privilege name validity") {
  struct c {
    const char* name;
    bool index;
    bool cluster;
  };
  const c cases[] = {
      {"read", true, false},
      {"READ", true, false},  // ES lowercases privilege names
      {"all", true, true},
      {"none", true, true},
      {"monitor", true, true},
      {"manage", true, true},
      {"create_doc", true, false},
      {"view_index_metadata", true, false},
      {"read_failure_store", true, false},
      {"manage_api_key", false, true},
      {"manage_own_api_key", false, true},
      {"manage_security", false, true},
      {"monitor_esql", false, true},
      {"manage_esql", false, true},
      {"monitor_stats", false, true},
      {"transport_client", false, true},
      {"cancel_task", false, true},
      {"manage_logstash_pipelines", false, true},
      {"indices:data/write/index:op_type/create", true, false},
      {"indices:admin/aliases*", true, false},
      {"internal:transport/proxy/indices:data/read/*", true, false},
      {"cluster:monitor/*", false, true},
      {"cluster:admin/xpack/security/api_key/create", false, true},
      {"indices:admin/template/put", true, true},
      {"reed", false, false},
      {"", false, false},
      {"cluster", false, false},
      {"*", false, false},
  };
  for (const auto& x : cases) {
    INFO(x.name);
    CHECK(is_valid_index_privilege(x.name) == x.index);
    CHECK(is_valid_cluster_privilege(x.name) == x.cluster);
  }
}

TEST_CASE("every privilege the brief lists is known") {
  const list cluster = {"all",
                        "manage",
                        "monitor",
                        "manage_security",
                        "read_security",
                        "manage_api_key",
                        "manage_own_api_key",
                        "grant_api_key",
                        "manage_token",
                        "manage_index_templates",
                        "manage_ingest_pipelines",
                        "manage_pipeline",
                        "read_pipeline",
                        "manage_ilm",
                        "read_ilm",
                        "manage_slm",
                        "read_slm",
                        "create_snapshot",
                        "monitor_snapshot",
                        "manage_ml",
                        "monitor_ml",
                        "manage_transform",
                        "monitor_transform",
                        "manage_watcher",
                        "monitor_watcher",
                        "manage_rollup",
                        "monitor_rollup",
                        "manage_ccr",
                        "read_ccr",
                        "manage_enrich",
                        "monitor_enrich",
                        "manage_logstash_pipelines",
                        "manage_autoscaling",
                        "cancel_task",
                        "transport_client",
                        "monitor_esql",
                        "manage_esql",
                        "monitor_stats",
                        "none"};
  for (const auto& n : cluster) {
    INFO(n);
    CHECK(is_valid_cluster_privilege(n));
    CHECK(std::count(cluster_privilege_names().begin(), cluster_privilege_names().end(), n) == 1);
  }
  const list index = {"all",
                      "read",
                      "read_cross_cluster",
                      "create",
                      "create_doc",
                      "index",
                      "delete",
                      "write",
                      "monitor",
                      "manage",
                      "create_index",
                      "delete_index",
                      "view_index_metadata",
                      "maintenance",
                      "auto_configure",
                      "manage_follow_index",
                      "manage_leader_index",
                      "manage_ilm",
                      "manage_data_stream_lifecycle",
                      "cross_cluster_replication",
                      "cross_cluster_replication_internal",
                      "read_failure_store",
                      "manage_failure_store",
                      "none"};
  for (const auto& n : index) {
    INFO(n);
    CHECK(is_valid_index_privilege(n));
  }
  CHECK(index_privilege_names().size() == index.size());
  CHECK(index_privilege_names().back() == "all");
}

TEST_CASE("unknown privilege messages use ES's wording") {
  const std::string c = unknown_cluster_privilege_message("Foo");
  CHECK(c.rfind("unknown cluster privilege [foo]. a privilege must be either one of the "
                "predefined cluster privilege names [",
                0) == 0);
  CHECK(c.find("] or a pattern over one of the available cluster actions") != std::string::npos);
  CHECK(c.find(",manage_api_key,") != std::string::npos);
  const std::string i = unknown_index_privilege_message("reed");
  CHECK(i.rfind("unknown index privilege [reed]. a privilege must be either one of the predefined "
                "fixed indices privileges [",
                0) == 0);
  CHECK(i.find("or a pattern over one of the available index actions") != std::string::npos);
}
