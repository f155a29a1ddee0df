#include "cluster_metadata.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "esgate/observability/log.hpp"
#include "worker.hpp"

namespace esgate::app {

namespace bhttp = beast::http;
namespace json = boost::json;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view resolve_target = "/_resolve/index/*?expand_wildcards=all";

// One GET over a pooled connection; the body is small JSON, read whole (bounded).
template <class Stream>
asio::awaitable<std::optional<std::string>> get_resolve(worker& w, proxy::upstream_connection& c,
                                                        Stream& s) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, resolve_target, 11};
  req.set(bhttp::field::host, w.shared.nodes.node(c.node).host);
  if (!w.shared.upstream_authorization.empty())
    req.set(bhttp::field::authorization, w.shared.upstream_authorization);
  req.set(bhttp::field::accept, "application/json");
  req.keep_alive(true);
  proxy::socket_deadline deadline(beast::get_lowest_layer(s),
                                  w.shared.settings.upstream.request_timeout);
  auto [wec, wn] = co_await bhttp::async_write(s, req, use_tuple);
  if (wec) co_return std::nullopt;
  bhttp::response_parser<bhttp::string_body> p;
  p.body_limit(64 * 1024 * 1024);
  auto [rec, rn] = co_await bhttp::async_read(s, c.buffer, p, use_tuple);
  if (rec || p.get().result() != bhttp::status::ok) co_return std::nullopt;
  if (!p.get().keep_alive()) c.lowest().close();
  co_return std::move(p.get().body());
}

asio::awaitable<std::shared_ptr<const es::cluster_metadata>> fetch(worker& w) {
  auto& shared = w.shared;
  std::uint64_t tried = 0;
  for (std::size_t attempt = 0; attempt < shared.nodes.size() + 1; ++attempt) {
    auto node = shared.nodes.pick(w.rr_cursor, tried);
    if (!node) break;
    auto [conn, ec] = co_await w.pool.acquire(*node);
    if (ec) {
      shared.nodes.mark_down(*node);
      tried |= 1ull << (*node % 64);
      continue;
    }
    auto body =
        co_await std::visit([&](auto& s) { return get_resolve(w, *conn, s); }, conn->stream);
    if (!body) {
      tried |= 1ull << (*node % 64);
      continue;
    }
    if (conn->lowest().is_open()) w.pool.release(std::move(conn));
    if (auto md = parse_resolve_index(*body))
      co_return std::make_shared<const es::cluster_metadata>(std::move(*md));
    spdlog::warn("unexpected _resolve/index response from {}", shared.nodes.node(*node).url);
  }
  co_return nullptr;
}

}  // namespace

std::optional<es::cluster_metadata> parse_resolve_index(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  es::cluster_metadata md;
  auto names = [&](std::string_view field, std::vector<std::string>& out) {
    auto* arr = v.as_object().if_contains(field);
    if (!arr || !arr->is_array()) return;
    for (auto& e : arr->as_array()) {
      auto* o = e.if_object();
      if (!o) continue;
      auto* n = o->if_contains("name");
      if (!n || !n->is_string()) continue;
      out.emplace_back(n->as_string());
      if (auto* attrs = o->if_contains("attributes"); attrs && attrs->is_array())
        for (auto& a : attrs->as_array())
          if (a.is_string() && a.as_string() == "hidden") md.hidden.emplace_back(n->as_string());
    }
  };
  names("indices", md.indices);
  names("aliases", md.aliases);
  names("data_streams", md.data_streams);
  return md;
}

asio::awaitable<std::shared_ptr<const es::cluster_metadata>> cluster_metadata_for(worker& w) {
  for (;;) {
    const auto now = proxy::clock::now();
    if (w.metadata && now - w.metadata_fetched < metadata_ttl) co_return w.metadata;
    if (!w.metadata_waiter) break;
    // Another request of this thread is fetching: wait for it, then look again.
    auto t = w.metadata_waiter;
    co_await t->async_wait(use_tuple);
    if (w.metadata_waiter == t) co_return w.metadata;  // fetch failed meanwhile
  }
  w.metadata_waiter = std::make_shared<asio::steady_timer>(w.ioc, std::chrono::seconds(30));
  auto fresh = co_await fetch(w);
  if (fresh) {
    w.metadata = fresh;
    w.metadata_fetched = proxy::clock::now();
  }
  auto t = std::move(w.metadata_waiter);
  w.metadata_waiter.reset();
  t->cancel();
  co_return fresh;
}

}  // namespace esgate::app
