#include "authenticate.hpp"

#include "api_key_auth.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "esgate/auth/credentials.hpp"
#include "esgate/auth/password.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/observability/log.hpp"
#include "worker.hpp"

namespace esgate::app {

namespace {

constexpr std::string_view failed_reason =
    "unable to authenticate with provided credentials and anonymous access is not allowed for this "
    "request";

asio::awaitable<auth_outcome> authenticate_basic(worker& w, const auth::basic_credentials& c) {
  auto snapshot = w.security;  // keep the snapshot alive across the hop to the crypto pool
  const config::user* u = snapshot->find_user(c.username);
  if (!u) co_return auth_outcome{nullptr, http::unauthenticated(failed_reason)};
  const auto digest = w.shared.digester.digest(c.username, c.password);
  const auto now = proxy::clock::now();
  if (w.basic_cache.contains(digest, snapshot->generation, now))
    co_return auth_outcome{snapshot->identity_of(u->username), {}};

  co_await asio::post(w.shared.crypto_pool.get_executor(), asio::use_awaitable);
  const bool ok = auth::verify_password(c.password, u->password_hash);
  co_await asio::post(w.ioc.get_executor(), asio::use_awaitable);

  if (!ok) {
    spdlog::info("authentication failed for user [{}]", c.username);
    co_return auth_outcome{nullptr, http::unauthenticated(failed_reason)};
  }
  w.basic_cache.insert(digest, snapshot->generation,
                       now + w.shared.settings.security.api_key.cache_ttl);
  co_return auth_outcome{snapshot->identity_of(u->username), {}};
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

asio::awaitable<auth_outcome> authenticate(worker& w, std::string_view authorization,
                                           std::string_view target) {
  auto creds = auth::parse_authorization(authorization);
  if (std::holds_alternative<auth::no_credentials>(creds))
    co_return auth_outcome{nullptr,
                           http::unauthenticated(http::missing_credentials_reason(target))};
  if (std::holds_alternative<auth::invalid_credentials>(creds))
    co_return auth_outcome{nullptr, http::unauthenticated(failed_reason)};
  if (auto* b = std::get_if<auth::basic_credentials>(&creds))
    co_return co_await authenticate_basic(w, *b);
  auto key = co_await authenticate_api_key(w, std::get<auth::api_key_credentials>(creds));
  co_return auth_outcome{std::move(key.who), std::move(key.rejection)};
}

}  // namespace esgate::app
