#pragma once
// Keep-alive connections to the upstream nodes, one pool per I/O thread (no locks: a pool is
// only touched from its own io_context). Included by the session only (pulls in Beast).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <deque>
#include <memory>
#include <variant>
#include <vector>

#include "esgate/proxy/nodes.hpp"

namespace esgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;

// Plain sockets, not beast::tcp_stream: deadlines are kept by the session's watch (one per
// connection, swept per thread) instead of a timer per operation.
using tcp_socket = asio::ip::tcp::socket;
using tls_socket = beast::ssl_stream<tcp_socket>;

struct upstream_connection {
  std::size_t node = 0;
  std::variant<tcp_socket, tls_socket> stream;
  beast::flat_buffer buffer;
  clock::time_point idle_since{};
  bool reused = false;  // came from the pool: a failure before any response byte may be staleness

  explicit upstream_connection(tcp_socket s) : stream(std::move(s)) {}
  upstream_connection(tcp_socket s, asio::ssl::context& ctx)
      : stream(std::in_place_type<tls_socket>, std::move(s), ctx) {}
  tcp_socket& lowest() {
    return std::visit([](auto& s) -> tcp_socket& { return beast::get_lowest_layer(s); }, stream);
  }
};

using connection_ptr = std::unique_ptr<upstream_connection>;

// Cancels a socket's pending operations if they still run after `d`: connects, TLS handshakes and
// the gateway's own metadata requests, which run outside a session's deadline watch.
class socket_deadline {
 public:
  socket_deadline(tcp_socket& s, std::chrono::milliseconds d);
  ~socket_deadline();
  socket_deadline(const socket_deadline&) = delete;
  socket_deadline& operator=(const socket_deadline&) = delete;

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // a fired wait may run later
};

struct pool_settings {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds max_idle{30000};  // drop idle connections older than this
  std::size_t max_idle_per_node = 64;
};

class upstream_pool {
 public:
  upstream_pool(const node_set& nodes, std::shared_ptr<asio::ssl::context> tls, pool_settings s);

  // An idle, still-open connection to `node`, or a new one (TCP connect + TLS handshake for
  // https nodes, bounded by connect_timeout). On failure returns the error and no connection.
  asio::awaitable<std::pair<connection_ptr, boost::system::error_code>> acquire(std::size_t node);

  // The two halves of acquire, for a caller that avoids a coroutine call when an idle connection
  // is there: take_idle (null when there is none), then connect.
  // `check` peeks at every pooled connection before handing it out, not only at those idle
  // for a while: for requests that must not meet a connection the node already closed.
  connection_ptr take_idle(std::size_t node, bool check = false);
  asio::awaitable<std::pair<connection_ptr, boost::system::error_code>> connect(std::size_t node);

  // Give back a connection whose last exchange completed cleanly and may be reused.
  void release(connection_ptr c);

  std::size_t idle_count() const;
  void clear();
  const config::upstream_node& node_config(std::size_t node) const { return nodes_.node(node); }

 private:
  const node_set& nodes_;
  std::shared_ptr<asio::ssl::context> tls_;
  pool_settings settings_;
  std::vector<std::deque<connection_ptr>> idle_;
};

// Client-side TLS context for https:// nodes: CA file (or system default), peer verification.
std::shared_ptr<asio::ssl::context> make_upstream_tls_context(const std::string& ca_file,
                                                              bool verify);

}  // namespace esgate::proxy

namespace esgate::proxy {

// The active health check of an ejected node: GET / with the credentials the gateway presents to
// Elasticsearch, on a fresh connection from `pool`, within `timeout`. Returns the answer's status,
// 0 when none arrived.
asio::awaitable<unsigned> probe_node(upstream_pool& pool, std::size_t node,
                                     const std::string& authorization,
                                     std::chrono::milliseconds timeout);

}  // namespace esgate::proxy
