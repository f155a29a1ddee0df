#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "esgate/auth/credentials.hpp"
#include "esgate/http/response.hpp"
#include "esgate/policy/identity.hpp"

namespace esgate::app {

struct worker;

struct auth_outcome {
  std::shared_ptr<const policy::identity> who;  // set on success
  http::gateway_response rejection;             // 401 otherwise
  // Stable reason code of a rejection for the audit log (never shown to clients, never a
  // secret): unknown_user, bad_password, unknown_api_key, bad_api_key_secret, ...
  std::string_view reason;
};

// Authenticates the parsed Authorization header (auth::parse_authorization): HTTP Basic against
// users.yml (bcrypt on the crypto pool, never on the I/O thread; a verified user:password is cached
// as a keyed digest) or an API key (api_key_auth.hpp).
boost::asio::awaitable<auth_outcome> authenticate(worker& w, const auth::credentials& creds,
                                                  std::string_view target);

// The outcome when it is known without waiting (no or malformed credentials, an unknown user, a
// Basic password verified recently); nullopt when authenticate() must run (bcrypt, API keys).
// Lets the hot path skip two coroutine calls.
std::optional<auth_outcome> authenticate_now(worker& w, const auth::credentials& creds,
                                             std::string_view target);

}  // namespace esgate::app
