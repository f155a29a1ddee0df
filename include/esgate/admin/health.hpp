#pragma once
// GET /_esgate/health (interface.md §1): answers without credentials.
//   green  200  every upstream node and the key store reachable
//   yellow 200  the key store or some upstream node unreachable, or API keys served from the
//               local cache after a key-store outage (key_store.reason says which and for how long)
//   red    503  no upstream node reachable
//
// "key_store": {"reachable", "events_subscribed"} always; when degraded also "api_keys" —
//   "cached_only"   keys verified before the outage work, unknown keys get 503
//                   ("stale_window_left_ms" says for how much longer);
//   "unavailable"   every API key gets 503 (stale_if_error passed, or 0);
//   "revalidating"  Redis answers again, cached keys are being re-read;
//   "normal"        keys still work normally (the outage is not noticed by any thread yet)
// — and "reason", one sentence for operators.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "esgate/http/response.hpp"

namespace esgate::admin {

struct health_inputs {
  std::size_t nodes_total = 0;
  std::size_t nodes_reachable = 0;   // reachable and not ejected
  std::size_t nodes_ejected = 0;     // taken out by outlier detection
  bool key_store_reachable = false;  // the TCP probe (every 2 s)
  std::string version;
  // Key-store outages (keystore/key_cache.hpp).
  bool key_events_subscribed = true;      // Redis confirmed the key-change subscription
  std::size_t key_threads_in_outage = 0;  // I/O threads whose cache is in outage mode
  std::optional<std::chrono::milliseconds> key_outage_age;  // since the earliest began
  std::chrono::milliseconds stale_if_error{0};              // security.api_key.stale_if_error
};

http::gateway_response health_response(const health_inputs& in);

}  // namespace esgate::admin
