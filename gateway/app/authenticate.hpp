#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "esgate/auth/cache_digest.hpp"
#include "esgate/auth/credentials.hpp"
#include "esgate/http/response.hpp"
#include "esgate/observability/metrics.hpp"
#include "esgate/policy/identity.hpp"

namespace esgate::app {

struct worker;

struct auth_outcome {
  std::shared_ptr<const policy::identity> who;                              // set on success
  http::gateway_response rejection;                                         // 401 otherwise
  observability::auth_result result = observability::auth_result::success;  // for metrics
};

// The Authorization header of a connection's latest request, parsed, with the keyed digest of its
// credentials. A keep-alive client sends the same header with every request, and decoding it and
// digesting the secret were a sixth of the gateway's own instructions per cached-key request
// (callgrind, bench/RESULTS.md), so they are redone only when the header changes. The reuse needs
// the very same bytes (compared in constant time): a connection that carries several clients'
// requests (a proxy in front) never lends one client's credentials to another. Only the parsing is
// reused: the key cache and the Basic cache are consulted on every request as before, so
// invalidation, expiry and reloads take effect on open connections too.
class presented_credentials {
 public:
  presented_credentials() = default;
  presented_credentials(const presented_credentials&) = delete;
  presented_credentials& operator=(const presented_credentials&) = delete;
  ~presented_credentials() { forget(); }
  // Parses `header` (the field value; empty when absent) unless it is the one held.
  void update(std::string_view header, const auth::cache_digester& digester);
  const auth::credentials& creds() const noexcept { return creds_; }
  // Of (username, password) or (id, secret); meaningless for other credentials.
  const auth::cache_digest& digest() const noexcept { return digest_; }

 private:
  void forget() noexcept;  // overwrites the held secret before its memory is reused or freed
  std::string header_;     // only for Basic and API key credentials
  bool held_ = false;
  auth::credentials creds_;
  auth::cache_digest digest_{};
};

// Authenticates the parsed Authorization header (auth::parse_authorization): HTTP Basic against
// users.yml (bcrypt on the crypto pool, never on the I/O thread; a verified user:password is cached
// as a keyed digest) or an API key (api_key_auth.hpp).
boost::asio::awaitable<auth_outcome> authenticate(worker& w, const presented_credentials& p,
                                                  std::string_view target);

// The outcome when it is known without waiting (no or malformed credentials, an unknown user, a
// Basic password verified recently, an API key in the cache); nullopt when authenticate() must run
// (bcrypt, a key-store read). Lets the hot path skip two coroutine calls.
std::optional<auth_outcome> authenticate_now(worker& w, const presented_credentials& p,
                                             std::string_view target);

}  // namespace esgate::app
