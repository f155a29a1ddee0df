#include "esgate/proxy/nodes.hpp"

#include <algorithm>

namespace esgate::proxy {

namespace {
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch())
      .count();
}
}  // namespace

node_set::node_set(std::vector<config::upstream_node> nodes, outlier_policy outlier)
    : outlier_(outlier) {
  for (auto& n : nodes) {
    storage_.push_back(std::make_unique<entry>());
    storage_.back()->cfg = n;
    nodes_.push_back({n, storage_.back().get()});
  }
}

bool node_set::usable(const entry& e, std::int64_t now) const {
  return e.down_until_ms.load(std::memory_order_relaxed) <= now &&
         !e.ejected.load(std::memory_order_relaxed);
}

std::optional<std::size_t> node_set::pick(std::uint64_t& cursor, std::uint64_t tried) const {
  const auto n = nodes_.size();
  const auto now = now_ms();
  std::optional<std::size_t> ejected;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (cursor + k) % n;
    if (tried & (1ull << (i % 64))) continue;
    const entry& e = *nodes_[i].e;
    if (e.down_until_ms.load(std::memory_order_relaxed) > now) continue;
    if (e.ejected.load(std::memory_order_relaxed)) {
      if (!ejected) ejected = i;
      continue;
    }
    cursor = i + 1;
    return i;
  }
  if (ejected) cursor = *ejected + 1;
  return ejected;
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
  for (std::size_t i = 0; i < nodes_.size(); ++i) c += is_reachable(i) && !is_ejected(i) ? 1 : 0;
  return c;
}

void node_set::record_success(std::size_t i) {
  // Read before writing: the common case (no failures) leaves the shared cache line clean.
  auto& c = nodes_[i].e->consecutive_failures;
  if (c.load(std::memory_order_relaxed) != 0) c.store(0, std::memory_order_relaxed);
}

std::int64_t node_set::ejection_period_ms(const entry& e) const {
  // base × times ejected, as Envoy: a node that keeps failing stays out longer each time.
  const auto base = outlier_.base_ejection_time.count();
  const auto cap = std::max(outlier_.max_ejection_time.count(), base);
  const auto times = std::max<unsigned>(e.times_ejected, 1);
  return std::min<std::int64_t>(base * static_cast<std::int64_t>(std::min(times, 1000u)), cap);
}

bool node_set::record_failure(std::size_t i) {
  entry& e = *nodes_[i].e;
  const unsigned threshold = outlier_.consecutive_failures;
  const unsigned seen = e.consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (threshold == 0 || seen < threshold || e.ejected.load(std::memory_order_relaxed)) return false;
  std::lock_guard lock(ejection_mutex_);
  if (e.ejected.load(std::memory_order_relaxed)) return false;
  const auto now = now_ms();
  // Never the last usable node: with every other node down or ejected, failing requests still
  // have a better chance here than nowhere.
  bool another = false;
  for (std::size_t k = 0; k < nodes_.size(); ++k)
    if (k != i && usable(*nodes_[k].e, now)) another = true;
  if (!another) return false;
  // A node that stayed healthy for the longest ejection period starts over at the base time.
  if (e.last_readmitted_ms != 0 && now - e.last_readmitted_ms > outlier_.max_ejection_time.count())
    e.times_ejected = 0;
  ++e.times_ejected;
  e.ejected_until_ms.store(now + ejection_period_ms(e), std::memory_order_relaxed);
  e.ejected.store(true, std::memory_order_relaxed);
  ejections_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool node_set::is_ejected(std::size_t i) const {
  return nodes_[i].e->ejected.load(std::memory_order_relaxed);
}

bool node_set::probe_due(std::size_t i) const {
  const entry& e = *nodes_[i].e;
  return e.ejected.load(std::memory_order_relaxed) &&
         e.ejected_until_ms.load(std::memory_order_relaxed) <= now_ms();
}

void node_set::readmit(std::size_t i) {
  std::lock_guard lock(ejection_mutex_);
  entry& e = *nodes_[i].e;
  e.consecutive_failures.store(0, std::memory_order_relaxed);
  e.last_readmitted_ms = now_ms();
  e.ejected.store(false, std::memory_order_relaxed);
}

void node_set::probe_failed(std::size_t i) {
  std::lock_guard lock(ejection_mutex_);
  entry& e = *nodes_[i].e;
  e.ejected_until_ms.store(now_ms() + ejection_period_ms(e), std::memory_order_relaxed);
}

std::size_t node_set::ejected_count() const {
  std::size_t c = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) c += is_ejected(i) ? 1 : 0;
  return c;
}

}  // namespace esgate::proxy
