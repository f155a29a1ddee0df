// Per-thread metric blocks summed at scrape time (observability/metrics.hpp): the sum over
// blocks, writers on several threads racing a scraper, and the exposition prometheus-cpp makes.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "esgate/observability/metrics.hpp"

using namespace esgate::observability;

namespace {

std::size_t idx(auto e) { return static_cast<std::size_t>(e); }

std::uint64_t requests_of(const thread_metrics& t, method m, family f, int code) {
  return t.requests[idx(m)][idx(f)][static_cast<std::size_t>(code - 100)].get();
}

}  // namespace

TEST_CASE("a registry sums every block", "[observability][metrics]") {
  registry r;
  auto& a = r.add_block();
  auto& b = r.add_block();
  a.requests[idx(method::get)][idx(family::search)][100].add(3);  // 200
  b.requests[idx(method::get)][idx(family::search)][100].add(4);
  b.requests[idx(method::post)][idx(family::bulk)][301].add();  // 401
  a.authentications[idx(realm::api_key)][idx(auth_result::bad_secret)].add(2);
  b.items[idx(item_api::bulk)][1].add(5);
  a.redis_latency.observe(redis_bounds_us, 50);       // first bucket
  b.redis_latency.observe(redis_bounds_us, 2000000);  // above every bound
  a.connections_opened.add(3);
  b.connections_closed.add(1);
  auto s = r.sum();
  CHECK(requests_of(*s, method::get, family::search, 200) == 7);
  CHECK(requests_of(*s, method::post, family::bulk, 401) == 1);
  CHECK(s->authentications[idx(realm::api_key)][idx(auth_result::bad_secret)].get() == 2);
  CHECK(s->items[idx(item_api::bulk)][1].get() == 5);
  CHECK(s->redis_latency.buckets[0].get() == 1);
  CHECK(s->redis_latency.buckets[redis_bounds_us.size()].get() == 1);
  CHECK(s->redis_latency.sum_us.get() == 2000050);
  // The blocks themselves are untouched by a scrape.
  CHECK(requests_of(a, method::get, family::search, 200) == 3);
}

TEST_CASE("histogram buckets take values up to their bound", "[observability][metrics]") {
  histogram<upstream_bounds_us.size()> h;
  h.observe(upstream_bounds_us, 1000);  // le 0.001
  h.observe(upstream_bounds_us, 1001);  // le 0.0025
  h.observe(upstream_bounds_us, 0);
  CHECK(h.buckets[0].get() == 2);
  CHECK(h.buckets[1].get() == 1);
  CHECK(h.sum_us.get() == 2001);
}

TEST_CASE("writers on their own threads and a concurrent scraper", "[observability][metrics]") {
  auto& g = registry::global();
  const auto before = g.sum();
  constexpr int threads = 4, per_thread = 20000;
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i)
    ts.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int n = 0; n < per_thread; ++n) {
        record_request(method::put, family::doc, 201);
        record_key_cache(cache_event::hit);
        record_upstream_latency(1, std::chrono::milliseconds(3));
      }
      record_audit_drop();
    });
  go = true;
  // Scrapes while the writers run see monotonic counts, never more than what was written.
  std::uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    auto s = g.sum();
    const auto now = requests_of(*s, method::put, family::doc, 201) -
                     requests_of(*before, method::put, family::doc, 201);
    CHECK(now >= last);
    CHECK(now <= std::uint64_t{threads} * per_thread);
    last = now;
  }
  for (auto& t : ts) t.join();
  auto after = g.sum();
  const auto total = std::uint64_t{threads} * per_thread;
  CHECK(requests_of(*after, method::put, family::doc, 201) -
            requests_of(*before, method::put, family::doc, 201) ==
        total);
  CHECK(after->key_cache[idx(cache_event::hit)].get() -
            before->key_cache[idx(cache_event::hit)].get() ==
        total);
  CHECK(after->nodes[1].latency.buckets[2].get() - before->nodes[1].latency.buckets[2].get() ==
        total);  // 3 ms: le 0.005
  CHECK(after->audit_dropped.get() - before->audit_dropped.get() == threads);
}

TEST_CASE("the exposition names every family, with bounded labels", "[observability][metrics]") {
  auto& g = registry::global();
  g.set_node_labels({"http://10.0.0.1:9200", "http://10.0.0.2:9200"});
  record_request(method::get, family::cat, 404);
  record_authentication(realm::file, auth_result::bad_password);
  record_authorization(action_class::index, authz_result::denied);
  record_items(item_api::msearch, 2, 1);
  record_upstream_latency(0, std::chrono::microseconds(700));
  local().reloads_failed.add();
  const std::string text = g.render_prometheus();
  INFO(text);
  for (const char* family : {"esgate_requests_total",
                             "esgate_authentications_total",
                             "esgate_authorizations_total",
                             "esgate_body_items_total",
                             "esgate_key_cache_total",
                             "esgate_redis_command_duration_seconds",
                             "esgate_redis_errors_total",
                             "esgate_upstream_duration_seconds",
                             "esgate_upstream_errors_total",
                             "esgate_upstream_retries_total",
                             "esgate_upstream_ejections_total",
                             "esgate_connections_open",
                             "esgate_connections_accepted_total",
                             "esgate_connections_refused_total",
                             "esgate_tls_handshakes_total",
                             "esgate_reloads_total",
                             "esgate_audit_events_dropped_total",
                             "esgate_password_checks_total",
                             "esgate_key_store_outages_total",
                             "esgate_key_revalidations_total",
                             "esgate_api_keys_unavailable_total"})
    CHECK_THAT(text, Catch::Contains(std::string("# TYPE ") + family + " "));
  CHECK_THAT(text, Catch::Contains("# TYPE esgate_connections_open gauge"));
  CHECK_THAT(text, Catch::Contains("# TYPE esgate_upstream_duration_seconds histogram"));
  CHECK_THAT(text,
             Catch::Contains("esgate_requests_total{method=\"GET\",family=\"cat\",code=\"404\"} "));
  CHECK_THAT(text, Catch::Contains(
                       "esgate_authentications_total{realm=\"file\",result=\"bad_password\"} "));
  CHECK_THAT(text, Catch::Contains(
                       "esgate_authorizations_total{action_class=\"index\",result=\"denied\"} "));
  CHECK_THAT(text, Catch::Contains("esgate_body_items_total{api=\"msearch\",result=\"allowed\"} "));
  CHECK_THAT(
      text, Catch::Contains("esgate_upstream_duration_seconds_bucket{node=\"http://10.0.0.1:9200\","
                            "le=\"0.001\"} "));
  CHECK_THAT(text,
             Catch::Contains("esgate_upstream_errors_total{node=\"http://10.0.0.2:9200\"} 0"));
  CHECK_THAT(text, Catch::Contains("le=\"+Inf\""));
  CHECK_THAT(text, Catch::Contains("esgate_reloads_total{result=\"failed\"} "));
}

TEST_CASE("request classification", "[observability][metrics]") {
  const std::pair<const char*, family> cases[] = {
      {"/", family::cluster},
      {"/books/_search", family::search},
      {"/_search/scroll", family::search},
      {"/logs-*/_msearch", family::search},
      {"/_pit", family::search},
      {"/_bulk", family::bulk},
      {"/books/_bulk", family::bulk},
      {"/books/_doc/1", family::doc},
      {"/books/_create/1", family::doc},
      {"/_mget", family::doc},
      {"/_security/api_key", family::security},
      {"/_cluster/health", family::cluster},
      {"/_nodes/stats", family::cluster},
      {"/_cat/indices", family::cat},
      {"/books", family::indices},
      {"/books/_mapping", family::indices},
      {"/_esgate/metrics", family::esgate},
      {"/books/_unknown_api", family::other},
      {"/a/b", family::other},
      {"", family::other},
  };
  for (const auto& [path, f] : cases) {
    CAPTURE(path);
    CHECK(to_string(family_of(path)) == to_string(f));
  }
  CHECK(method_of("GET") == method::get);
  CHECK(method_of("DELETE") == method::delete_);
  CHECK(method_of("PATCH") == method::other);
}
