// GET /_esgate/health: status and the key-store section in every outage state (issue 10).
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "esgate/admin/health.hpp"

using namespace esgate;
using namespace std::chrono_literals;

namespace {

boost::json::object body_of(const admin::health_inputs& in, int& status) {
  auto r = admin::health_response(in);
  status = r.status;
  return boost::json::parse(r.body).as_object();
}

admin::health_inputs healthy() {
  admin::health_inputs in;
  in.nodes_total = 2;
  in.nodes_reachable = 2;
  in.key_store_reachable = true;
  in.key_events_subscribed = true;
  in.stale_if_error = 5min;
  in.version = "test";
  return in;
}

}  // namespace

TEST_CASE("health: status and what API keys get, by key-store state", "[admin][health]") {
  struct row {
    const char* what;
    bool reachable, subscribed;
    std::size_t threads_in_outage;
    std::optional<std::chrono::milliseconds> age;
    std::chrono::milliseconds stale;
    const char* status;
    const char* api_keys;  // "" = no such field
    const char* reason;    // a part of it, "" = no reason
  };
  const std::vector<row> rows{
      {"all fine", true, true, 0, {}, 5min, "green", "", ""},
      {"probe fails, nothing noticed yet",
       false,
       true,
       0,
       {},
       5min,
       "yellow",
       "normal",
       "does not accept connections"},
      {"outage inside the window", false, false, 2, 30s, 5min, "yellow", "cached_only",
       "served from the local cache for another 270s (security.api_key.stale_if_error: 5m)"},
      {"outage past the window", false, false, 2, 6min, 5min, "yellow", "unavailable",
       "lasted longer than security.api_key.stale_if_error: 5m"},
      {"fail closed", false, false, 2, 1s, 0ms, "yellow", "unavailable", "fail closed"},
      {"subscription down, Redis still accepts", true, false, 2, 1s, 5min, "yellow", "cached_only",
       "subscription to key changes (Redis pub/sub) is down"},
      {"back, revalidating", true, true, 1, 40s, 5min, "yellow", "revalidating",
       "re-read before they are trusted"},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    auto in = healthy();
    in.key_store_reachable = r.reachable;
    in.key_events_subscribed = r.subscribed;
    in.key_threads_in_outage = r.threads_in_outage;
    in.key_outage_age = r.age;
    in.stale_if_error = r.stale;
    int status = 0;
    auto body = body_of(in, status);
    CHECK(status == 200);
    CHECK(body["status"].as_string() == r.status);
    auto& ks = body["key_store"].as_object();
    CHECK(ks["reachable"].as_bool() == r.reachable);
    CHECK(ks["events_subscribed"].as_bool() == r.subscribed);
    if (*r.api_keys)
      CHECK(ks["api_keys"].as_string() == r.api_keys);
    else
      CHECK_FALSE(ks.contains("api_keys"));
    if (*r.reason) {
      REQUIRE(ks.contains("reason"));
      CHECK_THAT(std::string(ks["reason"].as_string()), Catch::Contains(r.reason));
    } else {
      CHECK_FALSE(ks.contains("reason"));
    }
    CHECK(ks.contains("stale_window_left_ms") == (std::string(r.api_keys) == "cached_only"));
  }
}

TEST_CASE("health: red when no node answers, whatever the key store", "[admin][health]") {
  auto in = healthy();
  in.nodes_reachable = 0;
  int status = 0;
  auto body = body_of(in, status);
  CHECK(status == 503);
  CHECK(body["status"].as_string() == "red");
}

TEST_CASE("health: the stale window left is counted down", "[admin][health]") {
  auto in = healthy();
  in.key_store_reachable = false;
  in.key_events_subscribed = false;
  in.key_threads_in_outage = 1;
  in.key_outage_age = 1500ms;
  in.stale_if_error = 2s;
  int status = 0;
  auto body = body_of(in, status);
  CHECK(body["key_store"].as_object()["stale_window_left_ms"].as_int64() == 500);
  CHECK_THAT(std::string(body["key_store"].as_object()["reason"].as_string()),
             Catch::Contains("for another 500ms"));
}
