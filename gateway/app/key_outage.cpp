#include "key_outage.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "esgate/http/es_error.hpp"
#include "esgate/observability/log.hpp"
#include "esgate/observability/metrics.hpp"
#include "worker.hpp"

namespace esgate::app {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds first_retry{100};
constexpr std::chrono::milliseconds max_retry{1000};
// Ids per MGET. One pipelined read covers a thread's whole cache up to this size; beyond it the
// batches go one after the other, each within the client's command timeout (1 s), so a cache of
// 100,000 keys does not need one reply of 100 MB in a second.
constexpr std::size_t revalidation_batch = 10000;

// This thread's cache has left outage mode.
void outage_over(worker& w) { w.shared.key_outages.set(w.index, std::nullopt); }

// Reads every cached id again (key_cache::begin_revalidation … finish_revalidation). False when
// Redis did not answer: the cache is (still) in outage mode and the caller retries.
asio::awaitable<bool> revalidate(worker& w) {
  auto& cache = w.key_cache;
  const bool was_in_outage = cache.in_outage();
  // The subscription is up, so Redis answers: connect now rather than after this client's own
  // back-off (commands wait for a running attempt, bounded by the command timeout).
  w.redis->reconnect_now();
  auto job = cache.begin_revalidation();
  keystore::key_cache::revalidation_counts total;
  for (std::size_t i = 0; i < job.ids.size(); i += revalidation_batch) {
    const auto end = job.ids.begin() +
                     static_cast<std::ptrdiff_t>(std::min(job.ids.size(), i + revalidation_batch));
    std::vector<std::string> part(job.ids.begin() + static_cast<std::ptrdiff_t>(i), end);
    auto got = co_await w.key_store->get_many(part);
    if (!got) {
      observability::local().key_revalidations_failed.add();
      spdlog::debug("I/O thread {}: re-reading {} cached API keys failed: {}", w.index,
                    job.ids.size(), got.error().message());
      key_store_outage(w, clock::now());
      co_return false;
    }
    const auto c = cache.revalidated(job.token, part, std::move(got.value()), clock::now());
    total.confirmed += c.confirmed;
    total.replaced += c.replaced;
    total.dropped += c.dropped;
  }
  if (cache.finish_revalidation(job.token)) {
    if (was_in_outage) {
      outage_over(w);
      observability::local().key_revalidations_ok.add();
      spdlog::info(
          "I/O thread {}: key store answers again; {} cached API keys re-read ({} unchanged, {} "
          "changed, {} gone)",
          w.index, job.ids.size(), total.confirmed, total.replaced, total.dropped);
    }
  }
  co_return true;
}

}  // namespace

void key_outage_status::set(unsigned thread, std::optional<time_point> since) {
  std::lock_guard lock(m_);
  if (since_.size() <= thread) since_.resize(thread + 1);
  since_[thread] = since;
}

key_outage_status::view key_outage_status::get() const {
  std::lock_guard lock(m_);
  view v;
  for (const auto& s : since_) {
    if (!s) continue;
    ++v.threads_in_outage;
    if (!v.earliest || *s < *v.earliest) v.earliest = s;
  }
  return v;
}

void key_store_outage(worker& w, clock::time_point since) {
  const bool was = w.key_cache.in_outage();
  w.key_cache.enter_outage(since);
  if (!was) {
    w.shared.key_outages.set(w.index, w.key_cache.outage_since());
    observability::local().key_store_outages.add();
    const auto stale = w.key_cache.stale_if_error();
    if (stale.count() > 0)
      spdlog::warn(
          "I/O thread {}: key store (Redis) unavailable; API keys verified before are served from "
          "the local cache for at most {} ms (security.api_key.stale_if_error), unknown keys get "
          "503",
          w.index, stale.count());
    else
      spdlog::warn(
          "I/O thread {}: key store (Redis) unavailable; API keys get 503 until it answers again "
          "(security.api_key.stale_if_error: 0)",
          w.index);
  }
  w.revalidation_wanted = true;
  w.key_revalidation_wake.cancel();
}

void key_store_back(worker& w) {
  w.revalidation_wanted = true;
  w.key_revalidation_wake.cancel();
}

asio::awaitable<void> key_revalidation_loop(worker& w) {
  auto& wake = w.key_revalidation_wake;
  auto backoff = first_retry;
  for (;;) {
    // A read made while the subscription is down proves nothing (an invalidation published
    // right after it would be missed): wait for key_store_back.
    if (!w.revalidation_wanted || !w.shared.key_events_subscribed.load()) {
      wake.expires_at(clock::time_point::max());
      co_await wake.async_wait(use_tuple);
      continue;
    }
    w.revalidation_wanted = false;
    if (co_await revalidate(w)) {
      backoff = first_retry;
      continue;
    }
    w.revalidation_wanted = true;
    wake.expires_after(backoff);
    co_await wake.async_wait(use_tuple);
    backoff = std::min(backoff * 2, max_retry);
  }
}

http::gateway_response key_store_unavailable() {
  auto r = http::es_error(503, "esgate_key_store_unavailable_exception",
                          "the API key store is unavailable and the key cannot be checked now");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

void fill_key_store_health(const shared_state& shared, admin::health_inputs& in) {
  in.key_store_reachable = shared.key_store_reachable.load();
  in.key_events_subscribed = shared.key_events_subscribed.load();
  const auto v = shared.key_outages.get();
  in.key_threads_in_outage = v.threads_in_outage;
  if (v.earliest)
    in.key_outage_age =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - *v.earliest);
  in.stale_if_error = shared.settings.security.api_key.stale_if_error;
}

}  // namespace esgate::app
