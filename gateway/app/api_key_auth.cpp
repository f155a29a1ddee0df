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
key_auth_outcome reject(std::string_view code, std::string_view detail) {
  spdlog::debug("API key rejected: {}", detail);
  return key_auth_outcome{nullptr, http::unauthenticated(failed_reason), code};
}

// Builds the identity of a verified key from the current policy snapshot: the key's descriptors
// limited by its owner's CURRENT roles (interface.md §5, stricter than ES's creation snapshot)
// and by the creating key's descriptors. nullptr when the owner no longer exists.
std::shared_ptr<const policy::identity> build_identity(const keystore::key_record& rec,
                                                       const security_state& sec) {
  const config::user* owner = sec.find_user(rec.username);
  if (!owner) return nullptr;
  auto id = std::make_shared<policy::identity>();
  id->type = policy::identity::kind::api_key;
  id->username = rec.username;
  id->roles = owner->roles;
  id->api_key_id = rec.id;
  id->api_key_name = rec.name;
  id->api_key_metadata = rec.metadata;
  id->api_key_limited_by_key = rec.limited_by_key;
  id->owner_roles = sec.roles_of(rec.username);
  auto own = policy::parse_role_descriptors_json(rec.role_descriptors);
  if (!own.ok()) return nullptr;  // stored descriptors no longer valid: fail closed
  id->api_key_descriptors = own.roles;
  std::vector<std::shared_ptr<const policy::role_permission>> limits{id->owner_roles};
  if (rec.limited_by_key) {
    auto creator = policy::parse_role_descriptors_json(*rec.limited_by_key);
    if (!creator.ok()) return nullptr;
    // An empty descriptor set of the creating key means "no restriction beyond its owner".
    if (!creator.roles.empty()) limits.push_back(policy::compile(creator.roles));
  }
  id->effective = policy::api_key_permission(id->api_key_descriptors, std::move(limits));
  return id;
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

asio::awaitable<key_auth_outcome> authenticate_api_key(worker& w,
                                                       const auth::api_key_credentials& c) {
  auto snapshot = w.security;
  const auto digest = w.shared.digester.digest(c.id, c.secret);
  for (int round = 0; round < 8; ++round) {
    const auto now = std::chrono::steady_clock::now();
    auto r = w.key_cache.lookup(c.id, digest, now);
    using V = keystore::key_cache::verdict;
    switch (r.v) {
      case V::unknown_id:
        co_return reject("unknown_api_key", "unable to find apikey with id " + c.id);
      case V::wrong_secret:
        co_return reject("bad_api_key_secret", "invalid credentials for API key [" + c.id + "]");
      case V::unavailable:
        // Key-store outage and nothing trustworthy cached for this id: answered at once, without
        // a Redis read that would wait on a connect timeout (key_outage.hpp).
        w.shared.metrics.api_keys_unavailable.add();
        co_return key_auth_outcome{nullptr, key_store_unavailable(), "store_unavailable"};
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
          w.shared.metrics.api_keys_unavailable.add();
          co_return key_auth_outcome{nullptr, key_store_unavailable(), "store_unavailable"};
        }
        continue;  // a stale copy (outage mode) or `unavailable`
      }
      case V::need_verify: {
        // ES order: invalidated is reported before the secret is checked (reference §2.5).
        if (r.e->record.invalidated)
          co_return reject("invalidated", "api key [" + c.id + "] has been invalidated");
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
      case V::hit: {
        const auto& rec = r.e->record;
        if (rec.invalidated)
          co_return reject("invalidated", "api key [" + c.id + "] has been invalidated");
        const auto wall = now_ms();
        if (rec.expiration && *rec.expiration <= wall)
          co_return reject("expired", "api key is expired");
        if (rec.type != "rest") co_return reject("wrong_type", "wrong API key type");
        auto& e = *r.e;
        if (!e.memo || e.memo_generation != snapshot->generation) {
          e.memo = build_identity(rec, *snapshot);
          e.memo_generation = snapshot->generation;
        }
        auto who = std::static_pointer_cast<const policy::identity>(e.memo);
        if (!who)
          co_return reject("owner_missing", "the owner of API key [" + c.id + "] no longer exists");
        note_use(w, rec.id, wall);
        co_return key_auth_outcome{std::move(who), {}, {}};
      }
    }
  }
  co_return reject("not_settled", "authentication did not settle");
}

}  // namespace esgate::app
