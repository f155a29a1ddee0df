#pragma once
// Key-store outages on the I/O threads (issue 10; README "Key-store outages").
//
// Who calls what:
//   control thread, subscription lost   → key_store_outage(w, t) on every worker (posted)
//   control thread, (re)subscribed      → key_store_back(w) on every worker (posted)
//   a worker's own Redis read failed    → key_store_outage(w, now) on that worker
// Each worker then runs its own revalidation (key_revalidation_loop): its cached ids are read
// again through its own Redis connection in one pipelined MGET (key_store::get_many), and only
// then does its cache leave outage mode (keystore/key_cache.hpp has the state machine). A
// revalidation waits for the subscription: a read made while invalidations can still be missed
// would prove nothing.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include "esgate/admin/health.hpp"
#include "esgate/http/response.hpp"

namespace esgate::app {

struct worker;
struct shared_state;

// Which I/O threads are in outage mode since when, for /_esgate/health only: written when a
// thread enters or leaves outage mode, read by health requests, never on the request path.
class key_outage_status {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  void set(unsigned thread, std::optional<time_point> since);
  struct view {
    std::size_t threads_in_outage = 0;
    std::optional<time_point> earliest;
  };
  view get() const;

 private:
  mutable std::mutex m_;
  std::vector<std::optional<time_point>> since_;  // by worker index
};

void key_store_outage(worker& w, std::chrono::steady_clock::time_point since);
void key_store_back(worker& w);

// One per worker, for its whole life: sleeps until asked, revalidates, retries with back-off
// (100 ms doubling to 1 s) while Redis does not answer.
boost::asio::awaitable<void> key_revalidation_loop(worker& w);

// 503 esgate_key_store_unavailable_exception with Retry-After: the key cannot be checked now.
// Never a 401: a client that gets one throws a valid key away.
http::gateway_response key_store_unavailable();

// Fills the key-store fields of the health endpoint's inputs.
void fill_key_store_health(const shared_state& shared, admin::health_inputs& in);

}  // namespace esgate::app
