#pragma once
// The upstream Elasticsearch nodes and their health, shared by every I/O thread. Health is a few
// atomics per node: a node that refuses connections is marked down for a back-off period and
// skipped by the round-robin until then (the prober marks it up again); a node that keeps failing
// requests — timeouts, broken connections, 502/503/504 answers — is ejected (Envoy's outlier
// detection) until an active probe, GET / with the upstream credentials, answers 2xx.
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "esgate/config/settings.hpp"

namespace esgate::proxy {

using clock = std::chrono::steady_clock;

// steady_clock's time read from CLOCK_MONOTONIC_COARSE (same origin, a few ms resolution, no
// timestamp-counter read): for deadlines swept every 200 ms and idle ages, read several times per
// request, where the fine clock's cost showed in profiles.
inline clock::time_point coarse_now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

using outlier_policy = config::upstream::outlier_detection;

class node_set {
 public:
  explicit node_set(std::vector<config::upstream_node> nodes, outlier_policy outlier = {});

  std::size_t size() const { return nodes_.size(); }
  const config::upstream_node& node(std::size_t i) const { return nodes_[i].cfg; }

  // Next node to try, round-robin from `cursor` (a per-thread counter), skipping nodes in back-off
  // or ejected and those in `tried` (bitmask). When only ejected nodes are left untried, one of
  // them (Envoy's panic mode: better a doubtful node than none). nullopt when every node is
  // either tried or down.
  std::optional<std::size_t> pick(std::uint64_t& cursor, std::uint64_t tried) const;

  void mark_down(std::size_t i);  // connection refused / failed: back off before trying again
  void mark_up(std::size_t i);
  bool is_reachable(std::size_t i) const;
  std::size_t reachable_count() const;  // reachable and not ejected

  // Outcome of one request on node i, for outlier detection. A failure is a timeout, a connection
  // that broke before the answer, or a 502/503/504 answer. record_failure returns true when it
  // ejected the node.
  void record_success(std::size_t i);
  bool record_failure(std::size_t i);
  bool is_ejected(std::size_t i) const;
  bool probe_due(std::size_t i) const;  // ejected, and its ejection time has passed
  void readmit(std::size_t i);          // its probe answered 2xx
  void probe_failed(std::size_t i);     // stays ejected for another period
  std::size_t ejected_count() const;
  std::uint64_t ejections() const { return ejections_.load(std::memory_order_relaxed); }

 private:
  struct entry {
    config::upstream_node cfg;
    std::atomic<std::int64_t> down_until_ms{0};  // steady clock ms; 0 = up
    std::atomic<int> failures{0};
    std::atomic<bool> reachable{true};  // last connect attempt succeeded
    std::atomic<unsigned> consecutive_failures{0};
    std::atomic<bool> ejected{false};
    std::atomic<std::int64_t> ejected_until_ms{0};
    unsigned times_ejected = 0;           // under ejection_mutex_
    std::int64_t last_readmitted_ms = 0;  // under ejection_mutex_
  };
  std::int64_t ejection_period_ms(const entry& e) const;
  bool usable(const entry& e, std::int64_t now) const;

  outlier_policy outlier_;
  std::vector<std::unique_ptr<entry>> storage_;
  struct view {
    config::upstream_node cfg;
    entry* e;
  };
  std::vector<view> nodes_;
  // Ejections and re-admissions are rare; a lock keeps two threads from ejecting the last two
  // usable nodes at once.
  std::mutex ejection_mutex_;
  std::atomic<std::uint64_t> ejections_{0};
};

}  // namespace esgate::proxy
