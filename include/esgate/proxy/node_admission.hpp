#pragma once
// One I/O thread's share of the per-node circuit breaker (Envoy's max_connections and
// max_pending_requests): at most `max_active` of the thread's requests use a node at once, at
// most `max_pending` more wait for one of them to finish, and beyond that a request is refused at
// once (503) instead of piling up behind a slow node. Touched by its own thread only: no atomics.
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

namespace esgate::proxy {

// A request waiting for a slot: the releasing request hands its slot over (granted) and cancels
// the timer; a timer that runs out first means the wait failed.
struct admission_waiter {
  explicit admission_waiter(boost::asio::steady_timer t) : timer(std::move(t)) {}
  boost::asio::steady_timer timer;
  bool granted = false;
};

class node_admission {
 public:
  node_admission(std::size_t nodes, std::size_t max_active, std::size_t max_pending)
      : max_active_(max_active), max_pending_(max_pending), nodes_(nodes) {}

  enum class verdict { admitted, must_wait, refused };

  // admitted: the caller holds a slot and must release() it; must_wait: enqueue() a waiter.
  verdict arrive(std::size_t node) {
    auto& n = nodes_[node];
    if (n.active < max_active_) {
      ++n.active;
      return verdict::admitted;
    }
    return n.waiting.size() < max_pending_ ? verdict::must_wait : verdict::refused;
  }
  void enqueue(std::size_t node, admission_waiter& w) { nodes_[node].waiting.push_back(&w); }
  // A waiter whose timer ran out without a slot.
  void abandon(std::size_t node, admission_waiter& w) {
    auto& q = nodes_[node].waiting;
    for (auto it = q.begin(); it != q.end(); ++it)
      if (*it == &w) {
        q.erase(it);
        return;
      }
  }
  // The slot goes to the oldest waiter if there is one.
  void release(std::size_t node) {
    auto& n = nodes_[node];
    if (!n.waiting.empty()) {
      admission_waiter* w = n.waiting.front();
      n.waiting.pop_front();
      w->granted = true;
      w->timer.cancel();
      return;
    }
    if (n.active > 0) --n.active;
  }
  std::size_t active(std::size_t node) const { return nodes_[node].active; }
  std::size_t waiting(std::size_t node) const { return nodes_[node].waiting.size(); }

 private:
  struct per_node {
    std::size_t active = 0;
    std::deque<admission_waiter*> waiting;
  };
  std::size_t max_active_;
  std::size_t max_pending_;
  std::vector<per_node> nodes_;
};

// Holds one slot for as long as a request uses the node.
class admission_slot {
 public:
  admission_slot() = default;
  admission_slot(node_admission& a, std::size_t node) : a_(&a), node_(node) {}
  admission_slot(admission_slot&& o) noexcept : a_(std::exchange(o.a_, nullptr)), node_(o.node_) {}
  admission_slot& operator=(admission_slot&& o) noexcept {
    if (this != &o) {
      reset();
      a_ = std::exchange(o.a_, nullptr);
      node_ = o.node_;
    }
    return *this;
  }
  ~admission_slot() { reset(); }
  void reset() {
    if (a_) a_->release(node_);
    a_ = nullptr;
  }

 private:
  node_admission* a_ = nullptr;
  std::size_t node_ = 0;
};

}  // namespace esgate::proxy
