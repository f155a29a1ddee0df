#include "esgate/proxy/upstream_pool.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace esgate::proxy {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto stale_check_after = std::chrono::milliseconds(500);

// A pooled connection is stale if the server closed it (readable EOF) or sent unsolicited bytes.
// Peeking avoids writing a request into a connection that is already gone.
bool is_stale(upstream_connection& c) {
  auto& sock = c.lowest();
  if (!sock.is_open()) return true;
  char byte;
  ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;                            // orderly close
  if (n > 0) return true;                             // unexpected bytes: desync risk
  return !(errno == EAGAIN || errno == EWOULDBLOCK);  // error on the socket
}
}  // namespace

socket_deadline::socket_deadline(tcp_socket& s, std::chrono::milliseconds d)
    : timer_(s.get_executor()) {
  timer_.expires_after(d);
  timer_.async_wait([&s, alive = alive_](boost::system::error_code ec) {
    boost::system::error_code ignored;
    if (!ec && *alive) s.cancel(ignored);
  });
}

socket_deadline::~socket_deadline() {
  *alive_ = false;
  timer_.cancel();
}

upstream_pool::upstream_pool(const node_set& nodes, std::shared_ptr<asio::ssl::context> tls,
                             pool_settings s)
    : nodes_(nodes), tls_(std::move(tls)), settings_(s), idle_(nodes.size()) {}

asio::awaitable<std::pair<connection_ptr, boost::system::error_code>> upstream_pool::acquire(
    std::size_t node) {
  if (auto c = take_idle(node)) co_return std::pair{std::move(c), boost::system::error_code{}};
  co_return co_await connect(node);
}

connection_ptr upstream_pool::take_idle(std::size_t node, bool check) {
  auto& idle = idle_[node];
  const auto now = coarse_now();
  while (!idle.empty()) {
    connection_ptr c = std::move(idle.back());
    idle.pop_back();
    if (now - c->idle_since > settings_.max_idle) continue;  // closes on destroy
    // Peeking costs a syscall per request; a connection used moments ago is almost never closed
    // by the server, and a bodyless request that meets one is retried anyway.
    if ((check || now - c->idle_since > stale_check_after) && is_stale(*c)) continue;
    c->reused = true;
    return c;
  }
  return nullptr;
}

asio::awaitable<std::pair<connection_ptr, boost::system::error_code>> upstream_pool::connect(
    std::size_t node) {
  auto ex = co_await asio::this_coro::executor;
  const auto& cfg = nodes_.node(node);
  asio::ip::tcp::resolver resolver(ex);
  auto [rec, results] =
      co_await resolver.async_resolve(cfg.host, std::to_string(cfg.port), use_tuple);
  if (rec) co_return std::pair{connection_ptr{}, rec};
  tcp_socket stream(ex);
  {
    socket_deadline deadline(stream, settings_.connect_timeout);
    auto [ec, ep] = co_await asio::async_connect(stream, results, use_tuple);
    if (ec) co_return std::pair{connection_ptr{}, ec};
  }
  boost::system::error_code ignored;
  stream.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (cfg.scheme != "https") {
    stream.non_blocking(true, ignored);  // the session writes and reads synchronously first
    auto c = std::make_unique<upstream_connection>(std::move(stream));
    c->node = node;
    co_return std::pair{std::move(c), boost::system::error_code{}};
  }
  auto c = std::make_unique<upstream_connection>(std::move(stream), *tls_);
  c->node = node;
  auto& tls = std::get<tls_socket>(c->stream);
  if (!SSL_set_tlsext_host_name(tls.native_handle(), cfg.host.c_str()))
    co_return std::pair{connection_ptr{},
                        boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                                  asio::error::get_ssl_category())};
  tls.set_verify_callback(asio::ssl::host_name_verification(cfg.host));
  socket_deadline deadline(c->lowest(), settings_.connect_timeout);
  auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (hec) co_return std::pair{connection_ptr{}, hec};
  co_return std::pair{std::move(c), boost::system::error_code{}};
}

void upstream_pool::release(connection_ptr c) {
  // Bytes after the response belong to no request: reusing the connection would answer the next
  // request with them (response desync). Close it instead.
  if (c->buffer.size() != 0) return;
  auto& idle = idle_[c->node];
  if (idle.size() >= settings_.max_idle_per_node) return;  // closes on destroy
  c->idle_since = coarse_now();
  idle.push_back(std::move(c));
}

std::size_t upstream_pool::idle_count() const {
  std::size_t n = 0;
  for (auto& q : idle_) n += q.size();
  return n;
}

void upstream_pool::clear() {
  for (auto& q : idle_) q.clear();
}

std::shared_ptr<asio::ssl::context> make_upstream_tls_context(const std::string& ca_file,
                                                              bool verify) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  if (!ca_file.empty())
    ctx->load_verify_file(ca_file);
  else
    ctx->set_default_verify_paths();
  ctx->set_verify_mode(verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
  return ctx;
}

}  // namespace esgate::proxy
