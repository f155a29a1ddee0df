#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace esgate::app {

struct worker;

// Serves one accepted client connection (TLS handshake when the listener has TLS) until it closes.
boost::asio::awaitable<void> run_session(worker& w, boost::asio::ip::tcp::socket socket);

}  // namespace esgate::app
