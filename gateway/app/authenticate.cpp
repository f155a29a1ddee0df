#include "authenticate.hpp"

#include <openssl/crypto.h>

#include "api_key_auth.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "esgate/auth/credentials.hpp"
#include "esgate/auth/password.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/observability/log.hpp"
#include "offload.hpp"
#include "worker.hpp"

namespace esgate::app {

namespace {

constexpr auto unknown_user = observability::auth_result::unknown_user;
constexpr auto bad_password = observability::auth_result::bad_password;

constexpr std::string_view failed_reason =
    "unable to authenticate with provided credentials and anonymous access is not allowed for this "
    "request";

// A Basic user known and verified recently (cached digest): no bcrypt.
std::optional<auth_outcome> basic_now(worker& w, const auth::basic_credentials& c,
                                      const auth::cache_digest& digest) {
  const auto& snapshot = w.security;
  const config::user* u = snapshot->find_user(c.username);
  if (!u) return auth_outcome{nullptr, http::unauthenticated(failed_reason), unknown_user};
  if (w.basic_cache.contains(digest, snapshot->generation, proxy::coarse_now()))
    return auth_outcome{snapshot->identity_of(u->username), {}, {}};
  return std::nullopt;
}

asio::awaitable<auth_outcome> authenticate_basic(worker& w, const auth::basic_credentials& c,
                                                 const auth::cache_digest& digest) {
  if (auto known = basic_now(w, c, digest)) co_return std::move(*known);
  auto snapshot = w.security;  // keep the snapshot alive across the hop to the crypto pool
  const config::user* u = snapshot->find_user(c.username);
  if (!u) co_return auth_outcome{nullptr, http::unauthenticated(failed_reason), unknown_user};

  // The same user:password is being checked for another request of this thread (a pipeline's
  // connections all arrive at once after a restart): wait for that check, do not run bcrypt again.
  if (auto it = w.basic_checks.find(digest); it != w.basic_checks.end()) {
    auto check = it->second;
    co_await check->done.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!check->ok)
      co_return auth_outcome{nullptr, http::unauthenticated(failed_reason), bad_password};
    co_return auth_outcome{snapshot->identity_of(u->username), {}};
  }
  auto check = std::make_shared<basic_check>(w.ioc);
  w.basic_checks.emplace(digest, check);
  struct end_check {  // wakes the waiters however the check ends
    worker& w;
    const auth::cache_digest& digest;
    basic_check& check;
    ~end_check() {
      w.basic_checks.erase(digest);
      check.done.cancel();
    }
  } end{w, digest, *check};

  observability::local().password_checks.add();
  check->ok = co_await on_pool(w.shared.crypto_pool, [&c, u] {
    return auth::verify_password(c.password, u->password_hash);  // `snapshot` keeps `u` alive
  });
  if (!check->ok) {
    spdlog::info("authentication failed for user [{}]", c.username);
    co_return auth_outcome{nullptr, http::unauthenticated(failed_reason), bad_password};
  }
  w.basic_cache.insert(digest, snapshot->generation,
                       proxy::coarse_now() + w.shared.settings.security.api_key.cache_ttl);
  co_return auth_outcome{snapshot->identity_of(u->username), {}, {}};
}

}  // namespace

bool basic_auth_cache::contains(const auth::cache_digest& d, std::uint64_t generation,
                                proxy::clock::time_point now) {
  auto it = entries_.find(d);
  if (it == entries_.end()) return false;
  if (it->second.generation != generation || it->second.expiry <= now) {
    entries_.erase(it);
    return false;
  }
  return true;
}

void basic_auth_cache::insert(const auth::cache_digest& d, std::uint64_t generation,
                              proxy::clock::time_point expiry) {
  if (entries_.size() >= max_entries) entries_.clear();  // bounded; rare, so a full reset is fine
  entries_[d] = entry{generation, expiry};
}

void presented_credentials::forget() noexcept {
  OPENSSL_cleanse(header_.data(), header_.size());
  if (auto* b = std::get_if<auth::basic_credentials>(&creds_))
    OPENSSL_cleanse(b->password.data(), b->password.size());
  else if (auto* k = std::get_if<auth::api_key_credentials>(&creds_))
    OPENSSL_cleanse(k->secret.data(), k->secret.size());
}

void presented_credentials::update(std::string_view header, const auth::cache_digester& digester) {
  if (held_ && header.size() == header_.size() &&
      CRYPTO_memcmp(header.data(), header_.data(), header.size()) == 0)
    return;
  forget();
  creds_ = auth::parse_authorization(header);
  held_ = false;
  if (auto* b = std::get_if<auth::basic_credentials>(&creds_)) {
    digest_ = digester.digest(b->username, b->password);
    held_ = true;
  } else if (auto* k = std::get_if<auth::api_key_credentials>(&creds_)) {
    digest_ = digester.digest(k->id, k->secret);
    held_ = true;
  }
  if (held_)
    header_.assign(header);
  else
    std::string().swap(header_);  // absent or refused credentials: parsed anew, nothing kept
}

std::optional<auth_outcome> authenticate_now(worker& w, const presented_credentials& p,
                                             std::string_view target) {
  const auto& creds = p.creds();
  if (std::holds_alternative<auth::no_credentials>(creds))
    return auth_outcome{nullptr, http::unauthenticated(http::missing_credentials_reason(target)),
                        observability::auth_result::missing};
  if (std::holds_alternative<auth::invalid_credentials>(creds))
    return auth_outcome{nullptr, http::unauthenticated(failed_reason),
                        observability::auth_result::malformed};
  if (auto* b = std::get_if<auth::basic_credentials>(&creds)) return basic_now(w, *b, p.digest());
  auto key = api_key_now(w, std::get<auth::api_key_credentials>(creds), p.digest());
  if (!key) return std::nullopt;
  return auth_outcome{std::move(key->who), std::move(key->rejection), key->result};
}

asio::awaitable<auth_outcome> authenticate(worker& w, const presented_credentials& p,
                                           std::string_view target) {
  if (auto known = authenticate_now(w, p, target)) co_return std::move(*known);
  const auto& creds = p.creds();
  if (auto* b = std::get_if<auth::basic_credentials>(&creds))
    co_return co_await authenticate_basic(w, *b, p.digest());
  auto key =
      co_await authenticate_api_key(w, std::get<auth::api_key_credentials>(creds), p.digest());
  co_return auth_outcome{std::move(key.who), std::move(key.rejection), key.result};
}

}  // namespace esgate::app
