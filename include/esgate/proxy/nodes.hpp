#pragma once
// The upstream Elasticsearch nodes and their health, shared by every I/O thread. Health is a few
// atomics per node (no locks): a node that refuses connections is marked down for a back-off
// period and skipped by the round-robin until then; the health prober marks it up again.
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
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

class node_set {
 public:
  explicit node_set(std::vector<config::upstream_node> nodes);

  std::size_t size() const { return nodes_.size(); }
  const config::upstream_node& node(std::size_t i) const { return nodes_[i].cfg; }

  // Next node to try, round-robin from `cursor` (a per-thread counter), skipping nodes in back-off
  // and those in `tried` (bitmask). nullopt when every node is either tried or down.
  std::optional<std::size_t> pick(std::uint64_t& cursor, std::uint64_t tried) const;

  void mark_down(std::size_t i);  // connection refused / failed: back off before trying again
  void mark_up(std::size_t i);
  bool is_reachable(std::size_t i) const;
  std::size_t reachable_count() const;

 private:
  struct entry {
    config::upstream_node cfg;
    std::atomic<std::int64_t> down_until_ms{0};  // steady clock ms; 0 = up
    std::atomic<int> failures{0};
    std::atomic<bool> reachable{true};  // last connect attempt succeeded
  };
  std::vector<std::unique_ptr<entry>> storage_;
  struct view {
    config::upstream_node cfg;
    entry* e;
  };
  std::vector<view> nodes_;
};

}  // namespace esgate::proxy
