#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "esgate/http/response.hpp"
#include "identity.hpp"

namespace esgate::app {

struct worker;

struct auth_outcome {
  std::optional<identity> who;       // set on success
  http::gateway_response rejection;  // 401 otherwise
};

// Authenticates the Authorization header value (empty = absent). bcrypt runs on the crypto pool,
// never on the I/O thread; a verified user:password is cached as a keyed digest.
boost::asio::awaitable<auth_outcome> authenticate(worker& w, std::string_view authorization,
                                                  std::string_view target);

}  // namespace esgate::app
