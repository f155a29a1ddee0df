#include "esgate/observability/metrics.hpp"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <utility>

namespace esgate::observability {

namespace {

template <class E>
constexpr std::size_t count_of() {
  return static_cast<std::size_t>(E::count_);
}

template <class E>
E at(std::size_t i) {
  return static_cast<E>(i);
}

}  // namespace

std::string_view to_string(method m) {
  constexpr std::array<std::string_view, count_of<method>()> n{"GET", "HEAD",   "POST",
                                                               "PUT", "DELETE", "other"};
  return n[static_cast<std::size_t>(m)];
}
std::string_view to_string(family f) {
  constexpr std::array<std::string_view, count_of<family>()> n{
      "search", "bulk", "doc", "security", "cluster", "cat", "indices", "esgate", "other"};
  return n[static_cast<std::size_t>(f)];
}
std::string_view to_string(realm r) {
  constexpr std::array<std::string_view, count_of<realm>()> n{"api_key", "file", "none"};
  return n[static_cast<std::size_t>(r)];
}
std::string_view to_string(auth_result a) {
  constexpr std::array<std::string_view, count_of<auth_result>()> n{
      "success",       "missing",           "malformed", "unknown_user", "bad_password",
      "unknown_key",   "bad_secret",        "expired",   "invalidated",  "wrong_type",
      "owner_missing", "store_unavailable", "other"};
  return n[static_cast<std::size_t>(a)];
}
std::string_view to_string(action_class a) {
  constexpr std::array<std::string_view, count_of<action_class>()> n{
      "cluster", "index", "index_name_only", "served", "always", "unclassified"};
  return n[static_cast<std::size_t>(a)];
}
std::string_view to_string(authz_result r) {
  constexpr std::array<std::string_view, count_of<authz_result>()> n{"allowed", "denied", "empty",
                                                                     "error"};
  return n[static_cast<std::size_t>(r)];
}
std::string_view to_string(item_api a) {
  constexpr std::array<std::string_view, count_of<item_api>()> n{"bulk", "msearch", "mget"};
  return n[static_cast<std::size_t>(a)];
}
std::string_view to_string(cache_event e) {
  constexpr std::array<std::string_view, count_of<cache_event>()> n{"hit", "miss", "eviction",
                                                                    "stale"};
  return n[static_cast<std::size_t>(e)];
}

method method_of(std::string_view m) {
  if (m == "GET") return method::get;
  if (m == "HEAD") return method::head;
  if (m == "POST") return method::post;
  if (m == "PUT") return method::put;
  if (m == "DELETE") return method::delete_;
  return method::other;
}

family family_of(std::string_view path) {
  // The first segment starting with `_` names the API (index names cannot start with `_`).
  static constexpr std::pair<std::string_view, family> table[] = {
      {"_search", family::search},
      {"_msearch", family::search},
      {"_count", family::search},
      {"_async_search", family::search},
      {"_pit", family::search},
      {"_sql", family::search},
      {"_eql", family::search},
      {"_query", family::search},
      {"_field_caps", family::search},
      {"_validate", family::search},
      {"_knn_search", family::search},
      {"_terms_enum", family::search},
      {"_render", family::search},
      {"_rank_eval", family::search},
      {"_bulk", family::bulk},
      {"_doc", family::doc},
      {"_create", family::doc},
      {"_update", family::doc},
      {"_mget", family::doc},
      {"_source", family::doc},
      {"_explain", family::doc},
      {"_termvectors", family::doc},
      {"_mtermvectors", family::doc},
      {"_delete_by_query", family::doc},
      {"_update_by_query", family::doc},
      {"_reindex", family::doc},
      {"_security", family::security},
      {"_cat", family::cat},
      {"_esgate", family::esgate},
      {"_cluster", family::cluster},
      {"_nodes", family::cluster},
      {"_tasks", family::cluster},
      {"_snapshot", family::cluster},
      {"_ingest", family::cluster},
      {"_license", family::cluster},
      {"_xpack", family::cluster},
      {"_ilm", family::cluster},
      {"_slm", family::cluster},
      {"_scripts", family::cluster},
      {"_remote", family::cluster},
      {"_features", family::cluster},
      {"_health_report", family::cluster},
      {"_mapping", family::indices},
      {"_mappings", family::indices},
      {"_settings", family::indices},
      {"_alias", family::indices},
      {"_aliases", family::indices},
      {"_refresh", family::indices},
      {"_flush", family::indices},
      {"_forcemerge", family::indices},
      {"_open", family::indices},
      {"_close", family::indices},
      {"_stats", family::indices},
      {"_segments", family::indices},
      {"_recovery", family::indices},
      {"_rollover", family::indices},
      {"_data_stream", family::indices},
      {"_index_template", family::indices},
      {"_template", family::indices},
      {"_component_template", family::indices},
      {"_resolve", family::indices},
      {"_cache", family::indices},
      {"_analyze", family::indices},
      {"_shrink", family::indices},
      {"_split", family::indices},
      {"_clone", family::indices},
      {"_block", family::indices},
  };
  if (path.empty() || path.front() != '/') return family::other;
  std::string_view rest = path.substr(1);
  if (rest.empty()) return family::cluster;  // GET / (cluster info)
  bool first = true;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto seg = rest.substr(0, slash);
    if (!seg.empty() && seg.front() == '_') {
      for (const auto& [name, f] : table)
        if (seg == name) return f;
      return family::other;
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
    first = false;
  }
  // Only index names: /idx (create, delete, get, exists an index) is index administration.
  return first ? family::indices : family::other;
}

registry& registry::global() {
  static registry r;
  return r;
}

thread_metrics& registry::add_block() {
  auto b = std::make_unique<thread_metrics>();
  std::lock_guard lock(mutex_);
  blocks_.push_back(std::move(b));
  return *blocks_.back();
}

void registry::set_node_labels(std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  node_labels_ = std::move(labels);
}

namespace {

void add_into(cell& to, const cell& from) { to.add(from.get()); }
void add_into(node_metrics& to, const node_metrics& from);

template <class T, std::size_t N>
void add_into(std::array<T, N>& to, const std::array<T, N>& from) {
  for (std::size_t i = 0; i < N; ++i) add_into(to[i], from[i]);
}

template <std::size_t N>
void add_into(histogram<N>& to, const histogram<N>& from) {
  add_into(to.buckets, from.buckets);
  add_into(to.sum_us, from.sum_us);
}

void add_into(node_metrics& to, const node_metrics& from) {
  add_into(to.latency, from.latency);
  add_into(to.errors, from.errors);
  add_into(to.retries, from.retries);
  add_into(to.ejections, from.ejections);
}

void add_into(thread_metrics& to, const thread_metrics& from) {
  add_into(to.requests, from.requests);
  add_into(to.authentications, from.authentications);
  add_into(to.authorizations, from.authorizations);
  add_into(to.items, from.items);
  add_into(to.key_cache, from.key_cache);
  add_into(to.redis_latency, from.redis_latency);
  add_into(to.redis_errors, from.redis_errors);
  add_into(to.nodes, from.nodes);
  for (auto [t, f] : {std::pair{&to.connections_opened, &from.connections_opened},
                      {&to.connections_closed, &from.connections_closed},
                      {&to.connections_refused, &from.connections_refused},
                      {&to.tls_handshakes_ok, &from.tls_handshakes_ok},
                      {&to.tls_handshakes_failed, &from.tls_handshakes_failed},
                      {&to.reloads_ok, &from.reloads_ok},
                      {&to.reloads_failed, &from.reloads_failed},
                      {&to.audit_dropped, &from.audit_dropped},
                      {&to.access_log_dropped, &from.access_log_dropped},
                      {&to.shadow_granted, &from.shadow_granted},
                      {&to.shadow_denied, &from.shadow_denied},
                      {&to.password_checks, &from.password_checks},
                      {&to.key_store_outages, &from.key_store_outages},
                      {&to.key_revalidations_ok, &from.key_revalidations_ok},
                      {&to.key_revalidations_failed, &from.key_revalidations_failed},
                      {&to.api_keys_unavailable, &from.api_keys_unavailable},
                      {&to.scrapes, &from.scrapes}})
    add_into(*t, *f);
}

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using label_list = std::initializer_list<std::pair<std::string_view, std::string_view>>;

MetricFamily make_family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric& add_sample(MetricFamily& f, label_list labels, double value) {
  ClientMetric m;
  for (auto [k, v] : labels) m.label.push_back({std::string(k), std::string(v)});
  if (f.type == MetricType::Gauge)
    m.gauge.value = value;
  else
    m.counter.value = value;
  f.metric.push_back(std::move(m));
  return f.metric.back();
}

MetricFamily counter(std::string name, std::string help, std::uint64_t value) {
  auto f = make_family(std::move(name), std::move(help), MetricType::Counter);
  add_sample(f, {}, static_cast<double>(value));
  return f;
}

template <std::size_t N>
ClientMetric histogram_sample(const histogram<N>& h, const std::array<std::uint64_t, N>& bounds,
                              label_list labels) {
  ClientMetric m;
  for (auto [k, v] : labels) m.label.push_back({std::string(k), std::string(v)});
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += h.buckets[i].get();
    m.histogram.bucket.push_back({cumulative, static_cast<double>(bounds[i]) / 1e6});
  }
  cumulative += h.buckets[N].get();
  m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = static_cast<double>(h.sum_us.get()) / 1e6;
  return m;
}

// The Collectable scrapes hand to the serializer: every thread's block summed at collect time.
class summed_collectable : public prometheus::Collectable {
 public:
  summed_collectable(const thread_metrics& t, const std::vector<std::string>& nodes)
      : t_(t), nodes_(nodes) {}
  std::vector<MetricFamily> Collect() const override;

 private:
  const thread_metrics& t_;
  const std::vector<std::string>& nodes_;
};

std::vector<MetricFamily> summed_collectable::Collect() const {
  std::vector<MetricFamily> out;
  const auto& t = t_;

  auto req = make_family("esgate_requests_total",
                         "Requests answered, by method, endpoint family and status code",
                         MetricType::Counter);
  for (std::size_t m = 0; m < count_of<method>(); ++m)
    for (std::size_t f = 0; f < count_of<family>(); ++f)
      for (std::size_t s = 0; s < status_cells; ++s)
        if (auto v = t.requests[m][f][s].get()) {
          const std::string code = s < 500 ? std::to_string(s + 100) : std::string("other");
          add_sample(req,
                     {{"method", to_string(at<method>(m))},
                      {"family", to_string(at<family>(f))},
                      {"code", code}},
                     static_cast<double>(v));
        }
  out.push_back(std::move(req));

  auto authn = make_family("esgate_authentications_total",
                           "Authentication outcomes by realm (api_key, file = users.yml Basic, "
                           "none = no or malformed credentials)",
                           MetricType::Counter);
  for (std::size_t r = 0; r < count_of<realm>(); ++r)
    for (std::size_t a = 0; a < count_of<auth_result>(); ++a)
      if (auto v = t.authentications[r][a].get())
        add_sample(authn,
                   {{"realm", to_string(at<realm>(r))}, {"result", to_string(at<auth_result>(a))}},
                   static_cast<double>(v));
  out.push_back(std::move(authn));

  auto authz =
      make_family("esgate_authorizations_total",
                  "Authorization decisions by action class and result", MetricType::Counter);
  for (std::size_t c = 0; c < count_of<action_class>(); ++c)
    for (std::size_t r = 0; r < count_of<authz_result>(); ++r)
      if (auto v = t.authorizations[c][r].get())
        add_sample(authz,
                   {{"action_class", to_string(at<action_class>(c))},
                    {"result", to_string(at<authz_result>(r))}},
                   static_cast<double>(v));
  out.push_back(std::move(authz));

  auto items = make_family("esgate_body_items_total",
                           "Items of _bulk, _msearch and _mget bodies, allowed or denied",
                           MetricType::Counter);
  for (std::size_t a = 0; a < count_of<item_api>(); ++a)
    for (std::size_t r = 0; r < 2; ++r)
      add_sample(items,
                 {{"api", to_string(at<item_api>(a))}, {"result", r == 0 ? "allowed" : "denied"}},
                 static_cast<double>(t.items[a][r].get()));
  out.push_back(std::move(items));

  auto cache = make_family("esgate_key_cache_total",
                           "API key cache events: hit, miss (read from Redis), eviction, stale "
                           "(an expired entry served during a key-store outage)",
                           MetricType::Counter);
  for (std::size_t e = 0; e < count_of<cache_event>(); ++e)
    add_sample(cache, {{"event", to_string(at<cache_event>(e))}},
               static_cast<double>(t.key_cache[e].get()));
  out.push_back(std::move(cache));

  auto redis =
      make_family("esgate_redis_command_duration_seconds",
                  "Key-store (Redis) command latency, from send to reply", MetricType::Histogram);
  redis.metric.push_back(histogram_sample(t.redis_latency, redis_bounds_us, {}));
  out.push_back(std::move(redis));
  out.push_back(counter("esgate_redis_errors_total",
                        "Key-store (Redis) commands that failed (no connection, error reply)",
                        t.redis_errors.get()));

  auto up_lat = make_family("esgate_upstream_duration_seconds",
                            "Upstream exchange latency per node: request sent to response head",
                            MetricType::Histogram);
  auto up_err = make_family("esgate_upstream_errors_total",
                            "Failed exchanges with a node (connect, broken or timed-out reads)",
                            MetricType::Counter);
  auto up_retry =
      make_family("esgate_upstream_retries_total",
                  "Attempts on a node given up and retried on another", MetricType::Counter);
  auto up_eject = make_family("esgate_upstream_ejections_total",
                              "Nodes ejected after consecutive failures (outlier detection)",
                              MetricType::Counter);
  const std::size_t n_nodes = std::min(nodes_.size(), max_nodes);
  for (std::size_t n = 0; n < n_nodes; ++n) {
    const std::string& label =
        n + 1 == max_nodes && nodes_.size() > max_nodes ? std::string("other") : nodes_[n];
    const auto& nm = t.nodes[n];
    up_lat.metric.push_back(histogram_sample(nm.latency, upstream_bounds_us, {{"node", label}}));
    add_sample(up_err, {{"node", label}}, static_cast<double>(nm.errors.get()));
    add_sample(up_retry, {{"node", label}}, static_cast<double>(nm.retries.get()));
    add_sample(up_eject, {{"node", label}}, static_cast<double>(nm.ejections.get()));
  }
  out.push_back(std::move(up_lat));
  out.push_back(std::move(up_err));
  out.push_back(std::move(up_retry));
  out.push_back(std::move(up_eject));

  const auto opened = t.connections_opened.get(), closed = t.connections_closed.get();
  auto open = make_family("esgate_connections_open", "Open client connections", MetricType::Gauge);
  add_sample(open, {}, static_cast<double>(opened >= closed ? opened - closed : 0));
  out.push_back(std::move(open));
  out.push_back(
      counter("esgate_connections_accepted_total", "Client connections accepted", opened));
  out.push_back(counter("esgate_connections_refused_total",
                        "Connections refused at limits.max_connections(_per_ip)",
                        t.connections_refused.get()));
  auto tls = make_family("esgate_tls_handshakes_total", "Client TLS handshakes by result",
                         MetricType::Counter);
  add_sample(tls, {{"result", "ok"}}, static_cast<double>(t.tls_handshakes_ok.get()));
  add_sample(tls, {{"result", "failed"}}, static_cast<double>(t.tls_handshakes_failed.get()));
  out.push_back(std::move(tls));

  auto reloads =
      make_family("esgate_reloads_total", "Policy/TLS reloads by result", MetricType::Counter);
  add_sample(reloads, {{"result", "ok"}}, static_cast<double>(t.reloads_ok.get()));
  add_sample(reloads, {{"result", "failed"}}, static_cast<double>(t.reloads_failed.get()));
  out.push_back(std::move(reloads));

  out.push_back(counter("esgate_audit_events_dropped_total",
                        "Audit events dropped because the audit queue was full",
                        t.audit_dropped.get()));
  out.push_back(counter("esgate_access_log_lines_dropped_total",
                        "Access log lines dropped because the access log's queue was full",
                        t.access_log_dropped.get()));
  auto shadow = make_family("esgate_shadow_decisions_total",
                            "Decisions of the shadow policy (security.shadow_roles_file), never "
                            "enforced",
                            MetricType::Counter);
  add_sample(shadow, {{"result", "granted"}}, static_cast<double>(t.shadow_granted.get()));
  add_sample(shadow, {{"result", "denied"}}, static_cast<double>(t.shadow_denied.get()));
  out.push_back(std::move(shadow));
  out.push_back(counter("esgate_password_checks_total",
                        "bcrypt verifications run (Basic passwords not found in the cache)",
                        t.password_checks.get()));
  out.push_back(counter("esgate_key_store_outages_total",
                        "I/O threads that lost the key store and served API keys from their cache",
                        t.key_store_outages.get()));
  auto reval =
      make_family("esgate_key_revalidations_total",
                  "Re-reads of every cached API key after a key-store outage", MetricType::Counter);
  add_sample(reval, {{"result", "ok"}}, static_cast<double>(t.key_revalidations_ok.get()));
  add_sample(reval, {{"result", "failed"}}, static_cast<double>(t.key_revalidations_failed.get()));
  out.push_back(std::move(reval));
  out.push_back(counter("esgate_api_keys_unavailable_total",
                        "API key requests answered 503: the key store was unavailable",
                        t.api_keys_unavailable.get()));
  out.push_back(counter("esgate_scrapes_total", "Metrics scrapes served", t.scrapes.get()));
  return out;
}

}  // namespace

std::unique_ptr<thread_metrics> registry::sum() const {
  auto total = std::make_unique<thread_metrics>();
  std::lock_guard lock(mutex_);
  for (const auto& b : blocks_) add_into(*total, *b);
  return total;
}

std::string registry::render_prometheus() const {
  const auto total = sum();
  std::vector<std::string> nodes;
  {
    std::lock_guard lock(mutex_);
    nodes = node_labels_;
  }
  summed_collectable c(*total, nodes);
  return prometheus::TextSerializer().Serialize(c.Collect());
}

}  // namespace esgate::observability
