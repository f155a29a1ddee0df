#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include "esgate/proxy/upstream_pool.hpp"

namespace esgate::proxy {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
namespace bhttp = beast::http;

template <class Stream>
asio::awaitable<unsigned> get_root(Stream& s, beast::flat_buffer& buffer, const std::string& host,
                                   const std::string& authorization) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/", 11};
  req.set(bhttp::field::host, host);
  if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::user_agent, "esgate-health-check");
  req.keep_alive(false);
  auto [wec, wn] = co_await bhttp::async_write(s, req, use_tuple);
  if (wec) co_return 0u;
  bhttp::response_parser<bhttp::string_body> p;
  p.body_limit(1024 * 1024);  // the banner is a few hundred bytes
  auto [rec, rn] = co_await bhttp::async_read(s, buffer, p, use_tuple);
  if (rec) co_return 0u;
  co_return p.get().result_int();
}

}  // namespace

asio::awaitable<unsigned> probe_node(upstream_pool& pool, std::size_t node,
                                     const std::string& authorization,
                                     std::chrono::milliseconds timeout) {
  auto [conn, ec] = co_await pool.connect(node);
  if (ec) co_return 0u;
  socket_deadline deadline(conn->lowest(), timeout);
  const auto& host = pool.node_config(node).host;
  co_return co_await std::visit(
      [&](auto& s) { return get_root(s, conn->buffer, host, authorization); }, conn->stream);
}

}  // namespace esgate::proxy
