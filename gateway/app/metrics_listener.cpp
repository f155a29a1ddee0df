#include "metrics_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "esgate/http/es_error.hpp"
#include "esgate/observability/log.hpp"
#include "esgate/observability/metrics.hpp"

namespace esgate::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

http::gateway_response metrics_response() {
  observability::local().scrapes.add();
  http::gateway_response r;
  r.body = observability::registry::global().render_prometheus();
  r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return r;
}

class metrics_listener {
 public:
  metrics_listener(asio::io_context& ioc, const asio::ip::tcp::endpoint& ep) : acceptor_(ioc, ep) {}
  asio::ip::tcp::acceptor acceptor_;
};

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// One scrape connection: a few small requests, each under a 10 s deadline (a scraper that stalls
// cannot hold the control thread's attention; the listener serves one request at a time per
// connection, connections concurrently).
asio::awaitable<void> serve_scraper(asio::ip::tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(8 * 1024);
    parser.body_limit(0);  // a scrape has no body
    stream.expires_after(std::chrono::seconds(10));
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (ec) break;
    const auto& req = parser.get();
    std::string_view target(req.target().data(), req.target().size());
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    http::gateway_response r;
    const bool get = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
    if (target != "/metrics" && target != "/_esgate/metrics")
      r = http::es_error(404, "resource_not_found_exception",
                         "the metrics listener serves only GET /metrics and /_esgate/metrics");
    else if (!get)
      r = http::es_error(405, "illegal_argument_exception",
                         "the metrics listener allows only GET and HEAD");
    else
      r = metrics_response();
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), req.version()};
    for (auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(r.body);
    res.prepare_payload();
    if (req.method() == bhttp::verb::head) res.body().clear();  // Content-Length stays
    stream.expires_after(std::chrono::seconds(10));
    auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
    if (wec || !req.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::socket_base::shutdown_both, ignored);
}

asio::awaitable<void> accept_scrapers(std::shared_ptr<metrics_listener> l) {
  for (;;) {
    auto [ec, socket] = co_await l->acceptor_.async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !l->acceptor_.is_open()) co_return;
      continue;
    }
    asio::co_spawn(l->acceptor_.get_executor(), serve_scraper(std::move(socket)), asio::detached);
  }
}

}  // namespace

std::shared_ptr<metrics_listener> start_metrics_listener(asio::io_context& ioc,
                                                         const config::metrics_listen& where) {
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(where.address), where.port);
  auto l = std::make_shared<metrics_listener>(ioc, ep);
  asio::co_spawn(ioc, accept_scrapers(l), asio::detached);
  spdlog::info("metrics listening on http://{}:{}/metrics (no authentication)", where.address,
               where.port);
  return l;
}

}  // namespace esgate::app
