#pragma once
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "esgate/config/settings.hpp"

namespace esgate::app {

struct tls_context_result {
  std::shared_ptr<boost::asio::ssl::context> context;
  std::string error;  // when context is null
};

// Listener TLS: certificate chain + key (checked to match), minimum version, optional client CA
// (mTLS: clients must present a certificate it signed). Built anew on every reload.
tls_context_result make_server_tls_context(const config::tls_listen& t);

}  // namespace esgate::app
