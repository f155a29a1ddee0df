#include "tls.hpp"

#include <openssl/ssl.h>

namespace esgate::app {

namespace ssl = boost::asio::ssl;

tls_context_result make_server_tls_context(const config::tls_listen& t) {
  tls_context_result out;
  try {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    // An idle connection keeps no OpenSSL record buffers (~34 KiB each otherwise): they are
    // taken again when a record arrives (nginx and HAProxy do the same).
    SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_min_proto_version(ctx->native_handle(),
                                  t.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    ctx->use_certificate_chain_file(t.certificate);
    ctx->use_private_key_file(t.key, ssl::context::pem);
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      out.error = "the private key does not match the certificate";
      return out;
    }
    if (!t.client_ca.empty()) {
      ctx->load_verify_file(t.client_ca);
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    out.context = std::move(ctx);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace esgate::app
