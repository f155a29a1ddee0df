#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "esgate/http/response.hpp"
#include "esgate/policy/identity.hpp"

namespace esgate::app {

struct worker;

struct auth_outcome {
  std::shared_ptr<const policy::identity> who;  // set on success
  http::gateway_response rejection;             // 401 otherwise
};

// Authenticates the Authorization header value (empty = absent): HTTP Basic against users.yml
// (bcrypt on the crypto pool, never on the I/O thread; a verified user:password is cached as a
// keyed digest) or an API key (api_key_auth.hpp).
boost::asio::awaitable<auth_outcome> authenticate(worker& w, std::string_view authorization,
                                                  std::string_view target);

}  // namespace esgate::app
