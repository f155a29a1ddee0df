#pragma once
#include <boost/asio/awaitable.hpp>

#include "esgate/auth/credentials.hpp"
#include "esgate/http/response.hpp"
#include "esgate/policy/identity.hpp"

namespace esgate::app {

struct worker;

struct key_auth_outcome {
  std::shared_ptr<const policy::identity> who;  // set on success
  http::gateway_response rejection;             // 401, or 503 when the store is down
  // Stable reason code of a rejection for the audit log (never shown to clients, never a
  // secret): unknown_user, bad_password, unknown_api_key, bad_api_key_secret, ...
  std::string_view reason;
};

// Authenticates an API key: local cache first (no Redis, no slow hash on a hit), otherwise one
// Redis read per id however many requests wait for it (single flight), then the stored hash is
// checked ({SSHA256} inline, {PBKDF2} on the crypto pool). Order of checks as Elasticsearch:
// not found → invalidated → secret → expiry; the owner must still exist in users.yml.
boost::asio::awaitable<key_auth_outcome> authenticate_api_key(worker& w,
                                                              const auth::api_key_credentials& c);

// Drops an id from this worker's cache ("*" = everything); called for pub/sub events.
void forget_api_key(worker& w, std::string_view id);

// Keys were created, updated or invalidated here: drop them from every thread's cache of this
// instance now, and tell the other instances through Redis pub/sub.
void announce_key_changes(worker& w, const std::vector<std::string>& ids);

}  // namespace esgate::app
