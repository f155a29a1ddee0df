#include "api_key_auth.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "esgate/auth/secret_hash.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/keystore/error.hpp"
#include "esgate/observability/log.hpp"
#include "key_identity.hpp"
#include "key_outage.hpp"
#include "offload.hpp"
#include "worker.hpp"

namespace esgate::app {

namespace {

constexpr std::string_view failed_reason =
    "unable to authenticate with provided credentials and anonymous access is not allowed for this "
    "request";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Clients get ES's generic reason; the specific one (unknown id, invalidated, expired, ...) only
// reaches the debug log, so responses do not reveal which ids exist (es-security-reference §8.1).
key_auth_outcome reject(observability::auth_result why, std::string_view detail) {
  spdlog::debug("API key rejected: {}", detail);
  return key_auth_outcome{nullptr, http::unauthenticated(failed_reason), why};
}

// Remember the use; flushed to Redis in batches, at most once per key per minute.
void note_use(worker& w, const std::string& id, std::int64_t now) {
  auto& last = w.key_last_written[id];
  if (now - last < 60'000) return;
  last = now;
  w.key_uses_to_write.emplace_back(id, now);
}

}  // namespace

void forget_api_key(worker& w, std::string_view id) {
  if (id == "*")
    w.key_cache.clear();
  else
    w.key_cache.invalidate(id);
}

void announce_key_changes(worker& w, const std::vector<std::string>& ids) {
  for (auto& id : ids) {
    forget_api_key(w, id);  // this thread: before the response is sent
    if (w.shared.broadcast_forget) w.shared.broadcast_forget(id);  // the other threads
    asio::co_spawn(
        w.ioc,
        [&w, id]() -> asio::awaitable<void> {
          auto ec = co_await w.key_store->publish(id);
          if (ec) spdlog::warn("could not publish a key change on Redis: {}", ec.message());
        },
        asio::detached);
  }
}

namespace {

using R = observability::auth_result;

// The verdicts that settle a request without waiting: unknown id, wrong secret, outage without
// a usable copy, and a hit (the checks ES makes on a verified key, then the identity).
std::optional<key_auth_outcome> settled(worker& w, const auth::api_key_credentials& c,
                                        keystore::key_cache::lookup_result& r,
                                        const std::shared_ptr<const security_state>& snapshot) {
  using V = keystore::key_cache::verdict;
  switch (r.v) {
    case V::unknown_id:
      return reject(R::unknown_key, "unable to find apikey with id " + c.id);
    case V::wrong_secret:
      return reject(R::bad_secret, "invalid credentials for API key [" + c.id + "]");
    case V::unavailable:
      // Key-store outage and nothing trustworthy cached for this id: answered at once, without
      // a Redis read that would wait on a connect timeout (key_outage.hpp).
      observability::local().api_keys_unavailable.add();
      return key_auth_outcome{nullptr, key_store_unavailable(), R::store_unavailable};
    case V::hit: {
      const auto& rec = r.e->record;
      if (rec.invalidated)
        return reject(R::invalidated, "api key [" + c.id + "] has been invalidated");
      const auto wall = now_ms();
      if (rec.expiration && *rec.expiration <= wall)
        return reject(R::expired, "api key is expired");
      if (rec.type != "rest") return reject(R::wrong_type, "wrong API key type");
      auto& e = *r.e;
      if (!e.memo || e.memo_generation != snapshot->generation) {
        e.memo = build_identity(rec, *snapshot);
        e.memo_generation = snapshot->generation;
      }
      auto who = std::static_pointer_cast<const policy::identity>(e.memo);
      if (!who)
        return reject(R::owner_missing, "the owner of API key [" + c.id + "] no longer exists");
      note_use(w, rec.id, wall);
      return key_auth_outcome{std::move(who), {}};
    }
    default:
      return std::nullopt;
  }
}

// One cache event per request: how its first lookup went.
void record_first_lookup(worker& w, const keystore::key_cache::lookup_result& r,
                         std::chrono::steady_clock::time_point now) {
  using V = keystore::key_cache::verdict;
  using E = observability::cache_event;
  if (r.v == V::miss || r.v == V::pending)
    observability::record_key_cache(E::miss);
  else if (r.v != V::unavailable)
    observability::record_key_cache(
        r.e && now >= r.e->expires && w.key_cache.serving_stale(now) ? E::stale : E::hit);
}

}  // namespace

std::optional<key_auth_outcome> api_key_now(worker& w, const auth::api_key_credentials& c,
                                            const auth::cache_digest& digest) {
  const auto now = std::chrono::steady_clock::now();
  auto r = w.key_cache.lookup(c.id, digest, now);
  auto done = settled(w, c, r, w.security);
  // Unsettled: authenticate_api_key looks up again and records that first lookup.
  if (done) record_first_lookup(w, r, now);
  return done;
}

asio::awaitable<key_auth_outcome> authenticate_api_key(worker& w,
                                                       const auth::api_key_credentials& c,
                                                       const auth::cache_digest& digest) {
  auto snapshot = w.security;
  for (int round = 0; round < 8; ++round) {
    const auto now = std::chrono::steady_clock::now();
    auto r = w.key_cache.lookup(c.id, digest, now);
    if (round == 0) record_first_lookup(w, r, now);
    if (auto done = settled(w, c, r, snapshot)) co_return std::move(*done);
    using V = keystore::key_cache::verdict;
    switch (r.v) {
      case V::pending: {
        // Another request of this thread is reading the id from Redis: wait for it.
        auto& timer = w.key_waiters[c.id];
        if (!timer) timer = std::make_shared<asio::steady_timer>(w.ioc);
        auto t = timer;
        t->expires_after(std::chrono::seconds(5));
        co_await t->async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      case V::miss: {
        w.key_cache.begin_fetch(c.id);
        auto got = co_await w.key_store->get(c.id);
        const auto after = std::chrono::steady_clock::now();
        if (!got) {
          w.key_cache.fetch_failed(c.id);  // an expired copy of the record survives
          // Redis does not answer this thread: outage mode, so the copy (if any) is served for
          // the stale window and the next unknown ids get their 503 without waiting here again.
          if (keystore::is_unavailable(got.error())) key_store_outage(w, after);
        } else if (!got.value()) {
          w.key_cache.fetched_unknown(c.id, after);
        } else {
          w.key_cache.fetched_record(std::move(*got.value()), after);
        }
        if (auto it = w.key_waiters.find(c.id); it != w.key_waiters.end()) {
          it->second->cancel();  // wake the waiters: they look the cache up again
          w.key_waiters.erase(it);
        }
        if (!got && !keystore::is_unavailable(got.error())) {
          spdlog::warn("could not read API key id [{}] from the key store: {}", c.id,
                       got.error().message());
          observability::local().api_keys_unavailable.add();
          co_return key_auth_outcome{nullptr, key_store_unavailable(),
                                     observability::auth_result::store_unavailable};
        }
        continue;  // a stale copy (outage mode) or `unavailable`
      }
      case V::need_verify: {
        // ES order: invalidated is reported before the secret is checked (reference §2.5).
        if (r.e->record.invalidated)
          co_return reject(observability::auth_result::invalidated,
                           "api key [" + c.id + "] has been invalidated");
        const std::string stored = r.e->record.api_key_hash;
        bool ok;
        if (auth::is_slow_hash(stored)) {
          ok = co_await on_pool(w.shared.crypto_pool,
                                [&c, &stored] { return auth::verify_secret(c.secret, stored); });
        } else {
          ok = auth::verify_secret(c.secret, stored);  // {SSHA256}: microseconds
        }
        if (ok)
          w.key_cache.verified(c.id, digest);
        else
          w.key_cache.verification_failed(c.id, digest);
        continue;
      }
      default:  // settled above
        break;
    }
  }
  co_return reject(observability::auth_result::other, "authentication did not settle");
}

}  // namespace esgate::app
