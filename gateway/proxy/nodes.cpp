#include "esgate/proxy/nodes.hpp"

#include <algorithm>

namespace esgate::proxy {

namespace {
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch())
      .count();
}
}  // namespace

node_set::node_set(std::vector<config::upstream_node> nodes) {
  for (auto& n : nodes) {
    storage_.push_back(std::make_unique<entry>());
    storage_.back()->cfg = n;
    nodes_.push_back({n, storage_.back().get()});
  }
}

std::optional<std::size_t> node_set::pick(std::uint64_t& cursor, std::uint64_t tried) const {
  const auto n = nodes_.size();
  const auto now = now_ms();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (cursor + k) % n;
    if (tried & (1ull << (i % 64))) continue;
    if (nodes_[i].e->down_until_ms.load(std::memory_order_relaxed) > now) continue;
    cursor = i + 1;
    return i;
  }
  return std::nullopt;
}

void node_set::mark_down(std::size_t i) {
  // Exponential back-off 1s, 2s, 4s ... capped at 30s, so a dead node costs one connect attempt
  // per period, not one per request.
  nodes_[i].e->reachable.store(false, std::memory_order_relaxed);
  const int failures = nodes_[i].e->failures.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t backoff_ms = std::min<std::int64_t>(1000ll << std::min(failures, 5), 30'000);
  nodes_[i].e->down_until_ms.store(now_ms() + backoff_ms, std::memory_order_relaxed);
}

void node_set::mark_up(std::size_t i) {
  nodes_[i].e->reachable.store(true, std::memory_order_relaxed);
  nodes_[i].e->failures.store(0, std::memory_order_relaxed);
  nodes_[i].e->down_until_ms.store(0, std::memory_order_relaxed);
}

bool node_set::is_reachable(std::size_t i) const {
  return nodes_[i].e->reachable.load(std::memory_order_relaxed);
}

std::size_t node_set::reachable_count() const {
  std::size_t c = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) c += is_reachable(i) ? 1 : 0;
  return c;
}

}  // namespace esgate::proxy
