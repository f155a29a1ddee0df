#include "esgate/admin/health.hpp"

#include <boost/json.hpp>

#include "esgate/http/es_error.hpp"

namespace esgate::admin {

namespace {

namespace json = boost::json;

// "5m", "90s", "1.5s", "250ms": close to the config's own spelling.
std::string spell(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms == 0) return "0";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms > 1000) return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + "s";
  return std::to_string(ms) + "ms";
}

// What API keys get right now, and why, for operators (README "Key-store outages").
json::object key_store_section(const health_inputs& in, bool& degraded) {
  json::object ks;
  ks["reachable"] = in.key_store_reachable;
  ks["events_subscribed"] = in.key_events_subscribed;
  degraded = !in.key_store_reachable || !in.key_events_subscribed || in.key_threads_in_outage > 0;
  if (!degraded) return ks;

  std::string reason;
  auto add = [&reason](const std::string& s) {
    if (!reason.empty()) reason += "; ";
    reason += s;
  };
  if (!in.key_store_reachable) add("the key store (Redis) does not accept connections");
  if (!in.key_events_subscribed) add("the subscription to key changes (Redis pub/sub) is down");

  const std::string setting = "security.api_key.stale_if_error: " + spell(in.stale_if_error);
  if (in.key_threads_in_outage == 0) {
    ks["api_keys"] = "normal";
  } else if (in.key_store_reachable && in.key_events_subscribed) {
    ks["api_keys"] = "revalidating";
    add("Redis answers again: cached API keys are re-read before they are trusted further");
  } else {
    const auto age = in.key_outage_age.value_or(std::chrono::milliseconds(0));
    if (age < in.stale_if_error) {
      const auto left = in.stale_if_error - age;
      ks["api_keys"] = "cached_only";
      ks["stale_window_left_ms"] = left.count();
      add("API keys verified before the outage are served from the local cache for another " +
          spell(left) + " (" + setting + "), unknown keys get 503");
    } else {
      ks["api_keys"] = "unavailable";
      if (in.stale_if_error.count() == 0)
        add("API keys get 503 until Redis answers again (" + setting + ": fail closed)");
      else
        add("the outage has lasted longer than " + setting +
            ": API keys get 503 until Redis answers again");
    }
  }
  ks["reason"] = reason;
  return ks;
}

}  // namespace

http::gateway_response health_response(const health_inputs& in) {
  const bool red = in.nodes_reachable == 0;
  bool key_store_degraded = false;
  json::object key_store = key_store_section(in, key_store_degraded);
  const bool green = !red && in.nodes_reachable == in.nodes_total && !key_store_degraded;
  json::object body;
  body["status"] = red ? "red" : (green ? "green" : "yellow");
  body["version"] = in.version;
  json::object up;
  up["nodes"] = in.nodes_total;
  up["reachable_nodes"] = in.nodes_reachable;
  up["ejected_nodes"] = in.nodes_ejected;
  body["upstream"] = std::move(up);
  body["key_store"] = std::move(key_store);
  if (red)
    body["hint"] =
        "no Elasticsearch node answers at the configured upstream; check upstream.nodes in the "
        "config, or start one with docker-compose.yml";
  http::gateway_response r;
  r.status = red ? 503 : 200;
  r.body = json::serialize(body);
  http::add_standard_headers(r);
  return r;
}

}  // namespace esgate::admin
