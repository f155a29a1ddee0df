#pragma once
// Prometheus metrics without a lock or a shared atomic on the request path (issue 11 item 1).
//
// Every thread that records owns a `thread_metrics` block of plain 64-bit cells indexed by fixed
// enums (method x endpoint family x status code, realm x outcome, ...). Only the owner thread
// writes its block: an increment is a relaxed load and a relaxed store of its own cell (no
// read-modify-write, no cache line shared with another writer). A scrape (GET /_esgate/metrics,
// or the `metrics.listen` listener) reads every block with relaxed loads, sums them and hands the
// result to prometheus-cpp (`prometheus::MetricFamily`, `prometheus::TextSerializer`) through a
// `prometheus::Collectable` (metrics.cpp). A block is created the first time its thread records
// and is never freed, so counters stay monotonic when a thread ends.
//
// Labels are all bounded: enums below, and the configured upstream node URLs (set once at start,
// at most `max_nodes`). No label carries a key id, a user name or any secret.
//
// Audit (issue 11 item 2): call `record_audit_drop()` from any thread when the bounded audit queue
// drops an event; it counts `esgate_audit_events_dropped_total`.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::observability {

// One counter cell: written by its owner thread only, read by scrapes from any thread.
struct cell {
  std::atomic<std::uint64_t> v{0};
  void add(std::uint64_t n = 1) noexcept {
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

enum class method : std::uint8_t { get, head, post, put, delete_, other, count_ };
enum class family : std::uint8_t {
  search,    // _search, _msearch, _count, _async_search, scroll, PIT, _sql, _eql, ...
  bulk,      // _bulk
  doc,       // _doc, _create, _update, _mget, _source, _explain, _termvectors, ...
  security,  // _security/...
  cluster,   // _cluster, _nodes, _tasks, _snapshot, _ingest, GET /, ...
  cat,       // _cat/...
  indices,   // index administration: PUT /idx, _mapping, _settings, _alias, _refresh, ...
  esgate,    // the gateway's own endpoints (_esgate/...)
  other,     // anything else, and requests refused before their path was read
  count_
};
enum class realm : std::uint8_t { api_key, file, none, count_ };
enum class auth_result : std::uint8_t {
  success,
  missing,            // no Authorization header
  malformed,          // an Authorization header that does not parse
  unknown_user,       // Basic: no such user in users.yml
  bad_password,       // Basic: wrong password
  unknown_key,        // API key id not in the store
  bad_secret,         // API key secret does not match
  expired,            // API key past its expiration
  invalidated,        // API key invalidated
  wrong_type,         // not a `rest` key
  owner_missing,      // the key's owner no longer exists
  store_unavailable,  // the key store (Redis) did not answer: 503
  other,
  count_
};
// Action classes: es::endpoint_kind, plus the gateway's own endpoints.
enum class action_class : std::uint8_t {
  cluster,
  index,
  index_name_only,
  served,
  always,
  unclassified,
  count_
};
enum class authz_result : std::uint8_t { allowed, denied, empty, error, count_ };
enum class item_api : std::uint8_t { bulk, msearch, mget, count_ };
enum class cache_event : std::uint8_t { hit, miss, eviction, stale, count_ };

std::string_view to_string(method m);
std::string_view to_string(family f);
std::string_view to_string(realm r);
std::string_view to_string(auth_result r);
std::string_view to_string(action_class a);
std::string_view to_string(authz_result r);
std::string_view to_string(item_api a);
std::string_view to_string(cache_event e);

// The pure classifiers the session uses (tested in tests/unit/observability).
method method_of(std::string_view m);
family family_of(std::string_view path);  // path without the query

// Histogram bucket upper bounds in microseconds (the rendered `le` is in seconds); the last
// bucket is +Inf.
inline constexpr std::array<std::uint64_t, 13> upstream_bounds_us{
    1000,   2500,   5000,    10000,   25000,   50000,   100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000};
inline constexpr std::array<std::uint64_t, 13> redis_bounds_us{
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};

template <std::size_t N>
struct histogram {
  std::array<cell, N + 1> buckets;  // per bucket (not cumulative); [N] = above the last bound
  cell sum_us;
  void observe(const std::array<std::uint64_t, N>& bounds, std::uint64_t us) noexcept {
    std::size_t i = 0;
    while (i < N && us > bounds[i]) ++i;
    buckets[i].add();
    sum_us.add(us);
  }
};

inline constexpr std::size_t max_nodes = 64;      // nodes beyond are counted under the last one
inline constexpr std::size_t status_cells = 501;  // 100..599, then [500] = any other code

struct node_metrics {
  histogram<upstream_bounds_us.size()> latency;  // one per upstream exchange (head received)
  cell errors;                                   // failed exchanges (connect, reset, timeout)
  cell retries;                                  // attempts given up and retried elsewhere
  cell ejections;                                // outlier ejections
};

struct thread_metrics {
  static constexpr std::size_t n_method = static_cast<std::size_t>(method::count_);
  static constexpr std::size_t n_family = static_cast<std::size_t>(family::count_);
  std::array<std::array<std::array<cell, status_cells>, n_family>, n_method> requests;
  std::array<std::array<cell, static_cast<std::size_t>(auth_result::count_)>,
             static_cast<std::size_t>(realm::count_)>
      authentications;
  std::array<std::array<cell, static_cast<std::size_t>(authz_result::count_)>,
             static_cast<std::size_t>(action_class::count_)>
      authorizations;
  std::array<std::array<cell, 2>, static_cast<std::size_t>(item_api::count_)> items;  // 0 allowed
  std::array<cell, static_cast<std::size_t>(cache_event::count_)> key_cache;
  histogram<redis_bounds_us.size()> redis_latency;
  cell redis_errors;
  std::array<node_metrics, max_nodes> nodes;
  cell connections_opened, connections_closed, connections_refused;
  cell tls_handshakes_ok, tls_handshakes_failed;
  cell reloads_ok, reloads_failed;
  cell audit_dropped;
  cell access_log_dropped;
  cell shadow_granted, shadow_denied;  // security.shadow_roles_file decisions (never enforced)
  cell password_checks;
  cell key_store_outages;
  cell key_revalidations_ok, key_revalidations_failed;
  cell api_keys_unavailable;
  cell scrapes;
};

class registry {
 public:
  static registry& global();
  // This thread's block in the global registry, created on first use.
  static thread_metrics& local();

  // A new block (for a thread, or a test standing in for one); owned by the registry.
  thread_metrics& add_block();
  // Labels of the upstream nodes (their configured URLs), by node index. Set before serving.
  void set_node_labels(std::vector<std::string> labels);
  // The sum of every block, and its Prometheus text exposition (prometheus::TextSerializer).
  std::unique_ptr<thread_metrics> sum() const;
  std::string render_prometheus() const;

 private:
  mutable std::mutex mutex_;  // block registration and scrapes only, never the request path
  std::vector<std::unique_ptr<thread_metrics>> blocks_;
  std::vector<std::string> node_labels_;
};

inline thread_local thread_metrics* this_thread_block = nullptr;
inline thread_metrics& registry::local() {
  if (!this_thread_block) [[unlikely]]
    this_thread_block = &global().add_block();
  return *this_thread_block;
}
inline thread_metrics& local() { return registry::local(); }

// Request path helpers: each touches only this thread's block.
inline void record_request(method m, family f, int status) noexcept {
  const auto s = static_cast<std::size_t>(status >= 100 && status <= 599 ? status - 100 : 500);
  local().requests[static_cast<std::size_t>(m)][static_cast<std::size_t>(f)][s].add();
}
inline void record_authentication(realm r, auth_result a) noexcept {
  local().authentications[static_cast<std::size_t>(r)][static_cast<std::size_t>(a)].add();
}
inline void record_authorization(action_class c, authz_result r) noexcept {
  local().authorizations[static_cast<std::size_t>(c)][static_cast<std::size_t>(r)].add();
}
inline void record_items(item_api a, std::size_t allowed, std::size_t denied) noexcept {
  auto& i = local().items[static_cast<std::size_t>(a)];
  if (allowed) i[0].add(allowed);
  if (denied) i[1].add(denied);
}
inline void record_key_cache(cache_event e, std::uint64_t n = 1) noexcept {
  local().key_cache[static_cast<std::size_t>(e)].add(n);
}
inline std::uint64_t micros(std::chrono::steady_clock::duration d) noexcept {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}
inline void record_redis(std::chrono::steady_clock::duration d, bool error) noexcept {
  auto& t = local();
  t.redis_latency.observe(redis_bounds_us, micros(d));
  if (error) t.redis_errors.add();
}
inline node_metrics& node(std::size_t n) noexcept {
  return local().nodes[n < max_nodes ? n : max_nodes - 1];
}
inline void record_upstream_latency(std::size_t n, std::chrono::steady_clock::duration d) noexcept {
  node(n).latency.observe(upstream_bounds_us, micros(d));
}
// Counts `esgate_audit_events_dropped_total`: any thread may call it (its own block).
inline void record_audit_drop(std::uint64_t n = 1) noexcept { local().audit_dropped.add(n); }
// Counts `esgate_access_log_lines_dropped_total` (the access log's queue was full).
inline void record_access_log_drop(std::uint64_t n = 1) noexcept {
  local().access_log_dropped.add(n);
}
// Counts `esgate_shadow_decisions_total{result}`.
inline void record_shadow_decision(bool granted) noexcept {
  (granted ? local().shadow_granted : local().shadow_denied).add();
}

}  // namespace esgate::observability
