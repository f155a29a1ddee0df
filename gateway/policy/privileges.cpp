#include "esgate/policy/privileges.hpp"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <utility>

#include "privilege_tables.hpp"

namespace esgate::policy {

namespace detail {

namespace {

struct def_spec {
  std::string_view name;
  std::vector<std::string_view> include;
  std::vector<std::string_view> exclude = {};
  bool own_api_keys = false;
  bool failure_store = false;
};

// es-security-reference.md §5.1 (IDXPRIV). Patterns the reference only describes are spelled with
// the real transport action names where known.
const std::vector<def_spec>& index_specs() {
  static const std::vector<def_spec> specs = {
      {"none", {}},
      {"all", {"indices:*", "internal:transport/proxy/indices:*"}},
      {"read",
       {"indices:data/read/*", "indices:admin/resolve/index", "indices:admin/resolve/cluster"}},
      {"read_cross_cluster",
       {"internal:transport/proxy/indices:data/read/*", "indices:admin/shards/search_shards",
        "indices:admin/search/search_shards", "indices:admin/resolve/cluster",
        "indices:data/read/esql", "indices:data/read/esql/compute"}},
      {"create",
       {"indices:data/write/index*", "indices:data/write/bulk*",
        "indices:data/write/simulate/bulk*"}},
      {"create_doc",
       {"indices:data/write/index", "indices:data/write/index[*",
        "indices:data/write/index:op_type/create", "indices:data/write/bulk*",
        "indices:data/write/simulate/bulk*"}},
      {"index",
       {"indices:data/write/index*", "indices:data/write/bulk*", "indices:data/write/update*",
        "indices:data/write/simulate/bulk*"}},
      {"delete", {"indices:data/write/delete*", "indices:data/write/bulk*"}},
      {"write", {"indices:data/write/*", "indices:admin/mapping/auto_put"}},
      {"monitor", {"indices:monitor/*"}},
      {"manage",
       {"indices:monitor/*", "indices:admin/*", "indices:data/read/field_caps*",
        "indices:data/read/xpack/rollup/get/index/caps*"}},
      {"create_index",
       {"indices:admin/create", "indices:admin/auto_create", "indices:admin/data_stream/create"}},
      {"delete_index", {"indices:admin/delete", "indices:admin/data_stream/delete"}},
      {"view_index_metadata",
       {"indices:admin/aliases/get", "indices:admin/get", "indices:admin/mappings/fields/get*",
        "indices:admin/mappings/get", "indices:admin/shards/search_shards",
        "indices:admin/search/search_shards", "indices:admin/validate/query*",
        "indices:monitor/settings/get", "indices:admin/ilm/explain",
        "indices:admin/data_stream/lifecycle/get", "indices:admin/data_stream/lifecycle/explain",
        "indices:admin/data_stream/get", "indices:admin/resolve/index",
        "indices:admin/resolve/cluster", "indices:data/read/field_caps*",
        "indices:data/read/xpack/rollup/get/index/caps*", "indices:monitor/transform/checkpoint*",
        "indices:monitor/get/metering/stats"}},
      {"maintenance",
       {"indices:admin/refresh*", "indices:admin/flush*", "indices:admin/synced_flush",
        "indices:admin/forcemerge*"}},
      {"auto_configure", {"indices:admin/mapping/auto_put", "indices:admin/auto_create"}},
      {"manage_follow_index",
       {"indices:admin/xpack/ccr/put_follow", "indices:admin/xpack/ccr/unfollow",
        "indices:admin/close*", "indices:admin/data_stream/promote", "indices:admin/rollover"}},
      {"manage_leader_index", {"indices:admin/xpack/ccr/forget_follower*"}},
      {"manage_ilm", {"indices:admin/ilm/*"}},
      {"manage_data_stream_lifecycle", {"indices:admin/data_stream/lifecycle/*"}},
      {"cross_cluster_replication",
       {"indices:data/read/xpack/ccr/shard_changes*", "indices:monitor/stats*",
        "indices:admin/seq_no/add_retention_lease*", "indices:admin/seq_no/remove_retention_lease*",
        "indices:admin/seq_no/renew_retention_lease*"}},
      {"cross_cluster_replication_internal",
       {"indices:internal/admin/ccr/restore/session/put*",
        "indices:internal/admin/ccr/restore/session/clear*",
        "indices:internal/admin/ccr/restore/file_chunk/get*",
        "internal:transport/proxy/indices:internal/admin/ccr/restore/*"}},
      // Selector privileges (8.19/9.1+): they act on `name::failures` only, which this gateway does
      // not model yet, so they grant no data action here.
      {"read_failure_store", {}, {}, false, true},
      {"manage_failure_store", {}, {}, false, true},
  };
  return specs;
}

constexpr std::string_view security_actions = "cluster:admin/xpack/security/*";

// es-security-reference.md §5.2 (CLPRIV). Where the reference only names a privilege, the patterns
// follow ES's action-name conventions for that feature.
const std::vector<def_spec>& cluster_specs() {
  static const std::vector<def_spec> specs = {
      {"none", {}},
      {"all", {"cluster:*", "indices:admin/template/*", "indices:admin/index_template/*"}},
      {"manage",
       {"cluster:*", "indices:admin/template/*", "indices:admin/index_template/*"},
       {security_actions}},
      {"monitor",
       {"cluster:monitor/*", "indices:admin/template/get", "indices:admin/index_template/get",
        "cluster:admin/component_template/get"}},
      {"manage_security", {security_actions, "cluster:admin/xpack/security/delegate_pki"}},
      {"read_security",
       {"cluster:admin/xpack/security/api_key/get", "cluster:admin/xpack/security/api_key/query",
        "cluster:admin/xpack/security/role/get", "cluster:admin/xpack/security/role/query",
        "cluster:admin/xpack/security/user/get", "cluster:admin/xpack/security/user/query",
        "cluster:admin/xpack/security/role_mapping/get",
        "cluster:admin/xpack/security/privilege/get",
        "cluster:admin/xpack/security/privilege/builtin/get",
        "cluster:admin/xpack/security/service_account/get",
        "cluster:admin/xpack/security/service_account/credential/get*",
        "cluster:admin/xpack/security/profile/get", "cluster:admin/xpack/security/profile/suggest",
        "cluster:admin/xpack/security/profile/has_privileges",
        "cluster:admin/xpack/security/user/has_privileges",
        "cluster:admin/xpack/security/user/list_privileges",
        "cluster:admin/xpack/security/settings/get"}},
      {"manage_api_key", {"cluster:admin/xpack/security/api_key/*"}},
      {"manage_own_api_key", {"cluster:admin/xpack/security/api_key/*"}, {}, true},
      {"grant_api_key", {"cluster:admin/xpack/security/api_key/grant*"}},
      {"manage_token", {"cluster:admin/xpack/security/token/*"}},
      {"manage_saml",
       {"cluster:admin/xpack/security/saml/*", "cluster:admin/xpack/security/token/invalidate",
        "cluster:admin/xpack/security/token/refresh"}},
      {"manage_oidc", {"cluster:admin/xpack/security/oidc/*"}},
      {"manage_service_account", {"cluster:admin/xpack/security/service_account/*"}},
      {"manage_user_profile", {"cluster:admin/xpack/security/profile/*"}},
      {"delegate_pki",
       {"cluster:admin/xpack/security/delegate_pki",
        "cluster:admin/xpack/security/token/invalidate"}},
      {"manage_index_templates",
       {"indices:admin/template/*", "indices:admin/index_template/*",
        "cluster:admin/component_template/*"}},
      {"manage_ingest_pipelines", {"cluster:admin/ingest/pipeline/*"}},
      {"manage_pipeline", {"cluster:admin/ingest/pipeline/*"}},
      {"read_pipeline",
       {"cluster:admin/ingest/pipeline/get", "cluster:admin/ingest/pipeline/simulate"}},
      {"manage_ilm", {"cluster:admin/ilm/*"}},
      {"read_ilm", {"cluster:admin/ilm/get", "cluster:admin/ilm/operation_mode/get"}},
      {"manage_slm",
       {"cluster:admin/slm/*", "cluster:admin/ilm/start", "cluster:admin/ilm/stop",
        "cluster:admin/ilm/operation_mode/get"}},
      {"read_slm", {"cluster:admin/slm/get", "cluster:admin/slm/status"}},
      {"create_snapshot",
       {"cluster:admin/snapshot/create", "cluster:admin/snapshot/status*",
        "cluster:admin/snapshot/get", "cluster:admin/repository/get"}},
      {"monitor_snapshot",
       {"cluster:admin/snapshot/status*", "cluster:admin/snapshot/get",
        "cluster:admin/repository/get"}},
      {"manage_ml", {"cluster:admin/xpack/ml/*", "cluster:monitor/xpack/ml/*"}},
      {"monitor_ml", {"cluster:monitor/xpack/ml/*"}},
      {"manage_transform",
       {"cluster:admin/transform/*", "cluster:monitor/transform/*", "cluster:admin/data_frame/*",
        "cluster:monitor/data_frame/*"}},
      {"manage_data_frame_transforms",
       {"cluster:admin/transform/*", "cluster:monitor/transform/*", "cluster:admin/data_frame/*",
        "cluster:monitor/data_frame/*"}},
      {"monitor_transform", {"cluster:monitor/transform/*", "cluster:monitor/data_frame/*"}},
      {"monitor_data_frame_transforms",
       {"cluster:monitor/transform/*", "cluster:monitor/data_frame/*"}},
      {"manage_watcher", {"cluster:admin/xpack/watcher/*", "cluster:monitor/xpack/watcher/*"}},
      {"monitor_watcher", {"cluster:monitor/xpack/watcher/*"}},
      {"manage_rollup", {"cluster:admin/xpack/rollup/*", "cluster:monitor/xpack/rollup/*"}},
      {"monitor_rollup", {"cluster:monitor/xpack/rollup/*"}},
      {"manage_ccr",
       {"cluster:admin/xpack/ccr/*", "cluster:monitor/state",
        "cluster:admin/xpack/security/user/has_privileges"}},
      {"read_ccr", {"cluster:monitor/state", "cluster:admin/xpack/security/user/has_privileges"}},
      {"manage_enrich", {"cluster:admin/xpack/enrich/*", "cluster:monitor/xpack/enrich/*"}},
      {"monitor_enrich", {"cluster:monitor/xpack/enrich/*", "cluster:admin/xpack/enrich/get"}},
      {"manage_inference", {"cluster:admin/xpack/inference/*", "cluster:monitor/xpack/inference*"}},
      {"monitor_inference", {"cluster:monitor/xpack/inference*"}},
      {"manage_logstash_pipelines", {"cluster:admin/logstash/pipeline/*"}},
      {"manage_autoscaling", {"cluster:admin/autoscaling/*"}},
      {"cancel_task", {"cluster:admin/tasks/cancel*"}},
      {"transport_client", {"cluster:monitor/nodes/liveness", "cluster:monitor/state"}},
      {"manage_search_application", {"cluster:admin/xpack/application/search_application/*"}},
      {"manage_search_query_rules", {"cluster:admin/xpack/query_rules/*"}},
      {"manage_search_synonyms", {"cluster:admin/synonyms/*", "cluster:admin/synonym_rules/*"}},
      {"manage_behavioral_analytics", {"cluster:admin/xpack/application/analytics/*"}},
      {"post_behavioral_analytics_event", {"cluster:admin/xpack/application/analytics/post_event"}},
      {"manage_connector", {"cluster:admin/xpack/connector/*"}},
      {"monitor_connector",
       {"cluster:admin/xpack/connector/get", "cluster:admin/xpack/connector/list",
        "cluster:admin/xpack/connector/sync_job/get",
        "cluster:admin/xpack/connector/sync_job/list"}},
      {"read_connector_secrets", {"cluster:admin/xpack/connector/secret/get"}},
      {"write_connector_secrets",
       {"cluster:admin/xpack/connector/secret/post", "cluster:admin/xpack/connector/secret/put",
        "cluster:admin/xpack/connector/secret/delete"}},
      {"read_fleet_secrets", {"cluster:admin/fleet/secrets/get"}},
      {"write_fleet_secrets",
       {"cluster:admin/fleet/secrets/post", "cluster:admin/fleet/secrets/delete"}},
      {"cross_cluster_search",
       {"cluster:internal/remote_cluster/handshake", "cluster:internal/remote_cluster/nodes"}},
      {"cross_cluster_replication",
       {"cluster:internal/remote_cluster/handshake", "cluster:internal/remote_cluster/nodes",
        "cluster:monitor/state"}},
      {"monitor_data_stream_global_retention", {}},  // no actions left; kept for BWC (ES)
      {"manage_data_stream_global_retention", {}},
      {"monitor_esql", {"cluster:monitor/xpack/esql/*"}},
      {"manage_esql", {"cluster:admin/xpack/esql/*", "cluster:monitor/xpack/esql/*"}},
      {"monitor_stats", {"cluster:monitor/stats*"}},
  };
  return specs;
}

// Literal prefix of a glob (up to its first wildcard).
std::string_view literal_prefix(const glob& g) {
  const std::string& t = g.text();
  const std::size_t k = t.find_first_of("*?\\");
  return std::string_view(t).substr(0, k == std::string::npos ? t.size() : k);
}

bool prefixes_compatible(std::string_view a, std::string_view b) {
  return a.starts_with(b) || b.starts_with(a);
}

// lang(q) ⊆ lang(p), with a cheap rejection when some include pattern of q cannot overlap any
// include pattern of p.
bool def_subset(const privilege_def& q, const privilege_def& p) {
  for (const glob& x : q.include) {
    bool overlap = false;
    for (const glob& y : p.include)
      if (prefixes_compatible(literal_prefix(x), literal_prefix(y))) overlap = true;
    if (!overlap) return false;
  }
  return lang_subset(q.actions, p.actions) == subset_answer::yes;
}

bool is_empty_def(const privilege_def& d) { return d.include.empty(); }

privilege_table build(const std::vector<def_spec>& specs, bool cluster) {
  privilege_table t;
  t.defs.reserve(specs.size());
  for (const def_spec& s : specs) {
    privilege_def d;
    d.name = std::string(s.name);
    for (auto p : s.include) d.include.emplace_back(p);
    for (auto p : s.exclude) d.exclude.emplace_back(p);
    d.own_api_keys = s.own_api_keys;
    d.failure_store = s.failure_store;
    t.defs.push_back(std::move(d));
  }
  // Pointers into defs are stable from here on.
  for (privilege_def& d : t.defs) {
    if (d.include.empty()) continue;
    lang_term term;
    for (const glob& g : d.include) term.include.push_back(&g);
    for (const glob& g : d.exclude) term.exclude.push_back(&g);
    d.actions.push_back(std::move(term));
  }
  const std::size_t n = t.defs.size();
  std::vector<std::vector<bool>> subset(n, std::vector<bool>(n, false));  // subset[q][p]: q ⊆ p
  for (std::size_t q = 0; q < n; ++q)
    for (std::size_t p = 0; p < n; ++p)
      subset[q][p] = q == p || is_empty_def(t.defs[q]) ||
                     (!is_empty_def(t.defs[p]) && def_subset(t.defs[q], t.defs[p]));

  const std::size_t all = *t.find("all");
  t.implies.assign(n, std::vector<bool>(n, false));
  for (std::size_t p = 0; p < n; ++p)
    for (std::size_t q = 0; q < n; ++q) {
      const privilege_def& dp = t.defs[p];
      const privilege_def& dq = t.defs[q];
      bool v = subset[q][p];
      if (dq.failure_store) v = p == q || p == all;
      if (dp.own_api_keys && !dq.own_api_keys && !is_empty_def(dq)) v = false;
      t.implies[p][q] = v;
    }

  t.order.resize(n);
  for (std::size_t i = 0; i < n; ++i) t.order[i] = i;
  std::vector<long> rank(n, 0);
  if (cluster) {
    // ClusterPrivilegeResolver.sortByAccessLevel: ascending by how many others it implies.
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = 0; q < n; ++q)
        if (p != q && t.implies[p][q]) ++rank[p];
  } else {
    // IndexPrivilege/Privilege.sortByAccessLevel: descending by how many others it is a subset of.
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = 0; q < n; ++q)
        if (p != q && subset[p][q]) --rank[p];
  }
  std::sort(t.order.begin(), t.order.end(), [&](std::size_t a, std::size_t b) {
    if (rank[a] != rank[b]) return rank[a] < rank[b];
    return t.defs[a].name < t.defs[b].name;
  });
  for (std::size_t i : t.order) t.ordered_names.push_back(t.defs[i].name);
  return t;
}

template <class Mask>
struct memo_entry {
  std::string_view action;
  Mask mask;
};

// Actions the gateway classifies requests into (§6, §9): resolved once, looked up by binary search.
constexpr std::string_view known_actions[] = {
    "cluster:admin/component_template/delete",
    "cluster:admin/component_template/get",
    "cluster:admin/component_template/put",
    "cluster:admin/ingest/pipeline/delete",
    "cluster:admin/ingest/pipeline/get",
    "cluster:admin/ingest/pipeline/put",
    "cluster:admin/ingest/pipeline/simulate",
    "cluster:admin/settings/update",
    "cluster:admin/tasks/cancel",
    "cluster:admin/xpack/security/api_key/bulk_update",
    "cluster:admin/xpack/security/api_key/create",
    "cluster:admin/xpack/security/api_key/get",
    "cluster:admin/xpack/security/api_key/grant",
    "cluster:admin/xpack/security/api_key/invalidate",
    "cluster:admin/xpack/security/api_key/query",
    "cluster:admin/xpack/security/api_key/update",
    "cluster:admin/xpack/security/user/authenticate",
    "cluster:admin/xpack/security/user/has_privileges",
    "cluster:monitor/async_search/status",
    "cluster:monitor/health",
    "cluster:monitor/main",
    "cluster:monitor/nodes/info",
    "cluster:monitor/nodes/stats",
    "cluster:monitor/settings",
    "cluster:monitor/state",
    "cluster:monitor/stats",
    "cluster:monitor/xpack/info",
    "cluster:monitor/xpack/license/get",
    "cluster:monitor/xpack/usage",
    "indices:admin/aliases",
    "indices:admin/aliases/get",
    "indices:admin/auto_create",
    "indices:admin/close",
    "indices:admin/create",
    "indices:admin/data_stream/create",
    "indices:admin/data_stream/delete",
    "indices:admin/data_stream/get",
    "indices:admin/delete",
    "indices:admin/flush",
    "indices:admin/forcemerge",
    "indices:admin/get",
    "indices:admin/index_template/delete",
    "indices:admin/index_template/get",
    "indices:admin/index_template/put",
    "indices:admin/mapping/auto_put",
    "indices:admin/mapping/put",
    "indices:admin/mappings/fields/get",
    "indices:admin/mappings/get",
    "indices:admin/open",
    "indices:admin/refresh",
    "indices:admin/resolve/index",
    "indices:admin/rollover",
    "indices:admin/settings/update",
    "indices:admin/template/delete",
    "indices:admin/template/get",
    "indices:admin/template/put",
    "indices:data/read/async_search/delete",
    "indices:data/read/async_search/get",
    "indices:data/read/async_search/submit",
    "indices:data/read/close_point_in_time",
    "indices:data/read/eql",
    "indices:data/read/esql",
    "indices:data/read/explain",
    "indices:data/read/field_caps",
    "indices:data/read/get",
    "indices:data/read/mget",
    "indices:data/read/msearch",
    "indices:data/read/mtv",
    "indices:data/read/open_point_in_time",
    "indices:data/read/scroll",
    "indices:data/read/scroll/clear",
    "indices:data/read/search",
    "indices:data/read/search/template",
    "indices:data/read/sql",
    "indices:data/read/tv",
    "indices:data/write/bulk",
    "indices:data/write/bulk[s]",
    "indices:data/write/delete",
    "indices:data/write/delete/byquery",
    "indices:data/write/index",
    "indices:data/write/index:op_type/create",
    "indices:data/write/index:op_type/index",
    "indices:data/write/reindex",
    "indices:data/write/update",
    "indices:data/write/update/byquery",
    "indices:monitor/recovery",
    "indices:monitor/segments",
    "indices:monitor/settings/get",
    "indices:monitor/stats",
};

template <class Mask>
Mask compute_mask(const privilege_table& t, std::string_view action) {
  Mask m{};
  for (std::size_t i = 0; i < t.defs.size(); ++i)
    if (!t.defs[i].actions.empty() && lang_matches(t.defs[i].actions, action)) {
      if constexpr (std::is_integral_v<Mask>)
        m |= Mask{1} << i;
      else
        m.set(i);
    }
  return m;
}

template <class Mask>
std::vector<memo_entry<Mask>> build_memo(const privilege_table& t) {
  std::vector<memo_entry<Mask>> memo;
  for (std::string_view a : known_actions) memo.push_back({a, compute_mask<Mask>(t, a)});
  std::sort(memo.begin(), memo.end(),
            [](const auto& a, const auto& b) { return a.action < b.action; });
  return memo;
}

template <class Mask>
Mask lookup(const std::vector<memo_entry<Mask>>& memo, const privilege_table& t,
            std::string_view action) {
  auto it = std::lower_bound(memo.begin(), memo.end(), action,
                             [](const auto& e, std::string_view a) { return e.action < a; });
  if (it != memo.end() && it->action == action) return it->mask;
  return compute_mask<Mask>(t, action);
}

bool matches_any(std::initializer_list<std::string_view> patterns, std::string_view s) {
  for (auto p : patterns)
    if (p.ends_with('*') ? s.starts_with(p.substr(0, p.size() - 1)) : s == p) return true;
  return false;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

}  // namespace

std::optional<std::size_t> privilege_table::find(std::string_view name) const {
  for (std::size_t i = 0; i < defs.size(); ++i)
    if (defs[i].name == name) return i;
  return std::nullopt;
}

const privilege_table& index_table() {
  static const privilege_table t = [] {
    auto r = build(index_specs(), false);
    if (r.defs.size() > sizeof(index_mask) * 8) std::abort();  // widen index_mask
    return r;
  }();
  return t;
}

const privilege_table& cluster_table() {
  static const privilege_table t = [] {
    auto r = build(cluster_specs(), true);
    if (r.defs.size() > cluster_mask().size()) std::abort();  // widen cluster_mask
    return r;
  }();
  return t;
}

std::size_t index_bit(std::string_view name) { return *index_table().find(name); }
std::size_t cluster_bit(std::string_view name) { return *cluster_table().find(name); }

index_mask index_mask_for(std::string_view action) {
  static const auto memo = build_memo<index_mask>(index_table());
  return lookup(memo, index_table(), action);
}

cluster_mask cluster_mask_for(std::string_view action) {
  static const auto memo = build_memo<cluster_mask>(cluster_table());
  return lookup(memo, cluster_table(), action);
}

std::string to_lower_ascii(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

std::optional<std::string> raw_index_action_pattern(std::string_view lowercase) {
  if (!matches_any({"indices:*", "internal:transport/proxy/indices:*"}, lowercase))
    return std::nullopt;
  return std::string(lowercase) + "*";
}

std::optional<std::string> raw_cluster_action_pattern(std::string_view lowercase) {
  if (!is_cluster_action(lowercase)) return std::nullopt;
  return std::string(lowercase) + "*";
}

}  // namespace detail

bool is_cluster_action(std::string_view action) {
  return detail::matches_any(
      {"cluster:*", "indices:admin/template/*", "indices:admin/index_template/*"}, action);
}

bool is_index_action(std::string_view action) {
  return !is_cluster_action(action) &&
         detail::matches_any({"indices:*", "internal:transport/proxy/indices:*"}, action);
}

bool is_valid_index_privilege(std::string_view name) {
  const std::string n = detail::to_lower_ascii(name);
  return detail::index_table().find(n).has_value() ||
         detail::raw_index_action_pattern(n).has_value();
}

bool is_valid_cluster_privilege(std::string_view name) {
  const std::string n = detail::to_lower_ascii(name);
  return detail::cluster_table().find(n).has_value() ||
         detail::raw_cluster_action_pattern(n).has_value();
}

const std::vector<std::string>& index_privilege_names() {
  return detail::index_table().ordered_names;
}

const std::vector<std::string>& cluster_privilege_names() {
  return detail::cluster_table().ordered_names;
}

std::vector<std::string> index_privileges_granting(std::string_view action) {
  const auto& t = detail::index_table();
  const detail::index_mask m = detail::index_mask_for(action);
  std::vector<std::string> out;
  for (std::size_t i : t.order)
    if (m & (detail::index_mask{1} << i)) out.push_back(t.defs[i].name);
  return out;
}

std::vector<std::string> cluster_privileges_granting(std::string_view action,
                                                     bool own_keys_request) {
  const auto& t = detail::cluster_table();
  const detail::cluster_mask m = detail::cluster_mask_for(action);
  std::vector<std::string> out;
  for (std::size_t i : t.order) {
    if (!m.test(i)) continue;
    if (t.defs[i].own_api_keys && !own_keys_request) continue;
    out.push_back(t.defs[i].name);
  }
  return out;
}

std::string unknown_index_privilege_message(std::string_view name) {
  return "unknown index privilege [" + detail::to_lower_ascii(name) +
         "]. a privilege must be either one of the predefined fixed indices privileges [" +
         detail::join(index_privilege_names()) +
         "] or a pattern over one of the available index actions";
}

std::string unknown_cluster_privilege_message(std::string_view name) {
  return "unknown cluster privilege [" + detail::to_lower_ascii(name) +
         "]. a privilege must be either one of the predefined cluster privilege names [" +
         detail::join(cluster_privilege_names()) +
         "] or a pattern over one of the available cluster actions";
}

}  // namespace esgate::policy
