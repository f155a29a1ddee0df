// One client connection: read a request header, authenticate, decide, then either answer from the
// gateway or stream the request to an upstream node and the response back. The same coroutine
// body serves plain TCP and TLS (templated on the stream, as beast's server-flex example).
#include "session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "authenticate.hpp"
#include "esgate/admin/health.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/http/header_rules.hpp"
#include "esgate/observability/log.hpp"
#include "worker.hpp"

#ifndef ESGATE_VERSION
#define ESGATE_VERSION "0.1.0"
#endif

namespace esgate::app {

namespace bhttp = beast::http;
using error_code = boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t relay_buffer_size = 64 * 1024;

struct session_state {
  worker& w;
  std::string client_ip;
  bool tls = false;
  std::unique_ptr<char[]> relay_buffer;  // allocated on the first proxied body
  char* buffer() {
    if (!relay_buffer) relay_buffer = std::make_unique<char[]>(relay_buffer_size);
    return relay_buffer.get();
  }
};

void count_status(gateway_metrics& m, int status) {
  if (status >= 500)
    m.responses_5xx.add();
  else if (status >= 400)
    m.responses_4xx.add();
  else
    m.responses_2xx.add();
}

template <class Stream>
asio::awaitable<error_code> write_gateway_response(session_state& st, Stream& stream,
                                                   const http::gateway_response& r,
                                                   unsigned version, bool keep_alive,
                                                   bool head = false) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  for (auto& [k, v] : r.headers) res.insert(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive && !r.close);
  res.prepare_payload();
  if (head) res.body().clear();
  count_status(st.w.shared.metrics, r.status);
  beast::get_lowest_layer(stream).expires_after(st.w.shared.settings.limits.idle_timeout);
  bhttp::response_serializer<bhttp::string_body> sr{res};
  if (head) {
    auto [ec, n] = co_await bhttp::async_write_header(stream, sr, use_tuple);
    co_return ec;
  }
  auto [ec, n] = co_await bhttp::async_write(stream, sr, use_tuple);
  co_return ec;
}

// Copies a message body from `in` (parsed by `p`) to `out` (serialized by `sr`) piece by piece
// through a fixed buffer: bodies are never held whole (beast's relay example, made async).
struct relay_result {
  error_code ec;
  bool reading_side = false;  // the error came from `in`
};

template <bool isRequest, class In, class Out>
asio::awaitable<relay_result> relay_body(In& in, beast::flat_buffer& in_buffer,
                                         bhttp::parser<isRequest, bhttp::buffer_body>& p, Out& out,
                                         bhttp::serializer<isRequest, bhttp::buffer_body>& sr,
                                         char* buf, std::chrono::milliseconds in_timeout,
                                         std::chrono::milliseconds out_timeout) {
  do {
    if (!p.is_done()) {
      p.get().body().data = buf;
      p.get().body().size = relay_buffer_size;
      beast::get_lowest_layer(in).expires_after(in_timeout);
      auto [ec, n] = co_await bhttp::async_read(in, in_buffer, p, use_tuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) co_return relay_result{ec, true};
      p.get().body().size = relay_buffer_size - p.get().body().size;
      p.get().body().data = buf;
      p.get().body().more = !p.is_done();
    } else {
      p.get().body().data = nullptr;
      p.get().body().size = 0;
    }
    beast::get_lowest_layer(out).expires_after(out_timeout);
    auto [ec, n] = co_await bhttp::async_write(out, sr, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return relay_result{ec, false};
  } while (!p.is_done() && !sr.is_done());
  co_return relay_result{};
}

// Outcome of one forwarding attempt on one upstream connection.
enum class attempt_result {
  done,         // response relayed to the client (keep-alive decided by `client_keep_alive`)
  retry,        // the request never reached the node: try another connection/node
  failed,       // a gateway error response must be sent (set in `error`)
  client_gone,  // the client side failed mid-stream: close without answering
};

struct forward_state {
  bhttp::request_parser<bhttp::buffer_body>& req;
  bool head = false;
  bool expect_continue = false;
  bool sent_continue = false;
  bool body_started = false;  // bytes of the client body were consumed
  bool client_keep_alive = true;
  http::gateway_response error;
};

template <class ClientStream, class UpstreamStream>
asio::awaitable<attempt_result> forward_once(session_state& st, ClientStream& client,
                                             beast::flat_buffer& client_buffer,
                                             proxy::upstream_connection& conn, UpstreamStream& up,
                                             forward_state& fs) {
  auto& settings = st.w.shared.settings;
  auto& msg = fs.req.get();
  const auto request_timeout = settings.upstream.request_timeout;
  const auto idle_timeout = settings.limits.idle_timeout;

  bhttp::request_serializer<bhttp::buffer_body> sr{msg};
  beast::get_lowest_layer(up).expires_after(request_timeout);
  {
    auto [ec, n] = co_await bhttp::async_write_header(up, sr, use_tuple);
    if (ec) co_return attempt_result::retry;  // nothing of the body consumed yet
  }
  if (fs.expect_continue && !fs.sent_continue) {
    // The client waits for this before sending its body (curl does for bodies over 1 MB).
    static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::get_lowest_layer(client).expires_after(idle_timeout);
    auto [ec, n] =
        co_await asio::async_write(client, asio::buffer(cont.data(), cont.size()), use_tuple);
    if (ec) co_return attempt_result::client_gone;
    fs.sent_continue = true;
  }
  if (!fs.req.is_done()) fs.body_started = true;
  auto rr = co_await relay_body(client, client_buffer, fs.req, up, sr, st.buffer(), idle_timeout,
                                request_timeout);
  if (rr.ec) {
    if (rr.reading_side) {
      if (rr.ec == bhttp::error::body_limit) {
        fs.error = http::es_error(413, "content_too_long_exception",
                                  "request body is larger than limits.max_body_bytes");
        fs.error.close = true;
        co_return attempt_result::failed;
      }
      if (rr.ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() &&
          rr.ec != bhttp::error::partial_message && rr.ec != bhttp::error::end_of_stream) {
        // Malformed body framing (bad chunk size line, ...): the half-sent upstream request is
        // abandoned with its connection; the client learns why.
        fs.error = http::es_error(400, "illegal_argument_exception",
                                  std::string("malformed request body: ") + rr.ec.message());
        fs.error.close = true;
        co_return attempt_result::failed;
      }
      co_return attempt_result::client_gone;
    }
    st.w.shared.metrics.upstream_errors.add();
    fs.error = http::es_error(502, "esgate_upstream_exception",
                              "the connection to Elasticsearch failed while sending the request");
    fs.error.close = true;  // the client body may be half read
    co_return attempt_result::failed;
  }

  bhttp::response_parser<bhttp::buffer_body> rp;
  rp.body_limit(boost::none);  // responses are streamed, never held
  rp.header_limit(64 * 1024);
  if (fs.head) rp.skip(true);
  beast::get_lowest_layer(up).expires_after(request_timeout);
  {
    auto [ec, n] = co_await bhttp::async_read_header(up, conn.buffer, rp, use_tuple);
    if (ec) {
      // A kept-alive connection the node closed just before our request arrived: safe to retry
      // only if the request had no body (nothing consumed from the client).
      if (conn.reused && !fs.body_started &&
          (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::eof))
        co_return attempt_result::retry;
      st.w.shared.metrics.upstream_errors.add();
      if (ec == beast::error::timeout) {
        fs.error = http::es_error(504, "esgate_upstream_timeout_exception",
                                  "Elasticsearch did not answer within upstream.request_timeout");
      } else {
        fs.error =
            http::es_error(502, "esgate_upstream_exception",
                           "the connection to Elasticsearch failed before a response arrived");
      }
      co_return attempt_result::failed;
    }
  }

  auto& res = rp.get();
  const bool upstream_keep_alive = res.keep_alive();
  const bool chunked = rp.chunked();
  const auto length = rp.content_length();
  const unsigned status = res.result_int();
  const bool no_body = fs.head || status / 100 == 1 || status == 204 || status == 304;
  http::prepare_client_response(res);
  res.version(fs.req.get().version());
  bool keep = fs.client_keep_alive;
  if (!no_body) {
    if (chunked) {
      if (res.version() >= 11)
        res.chunked(true);
      else
        keep = false;  // HTTP/1.0 client: delimit by closing
    } else if (length) {
      res.content_length(*length);
    } else if (res.version() >= 11) {
      res.chunked(true);  // upstream delimits by EOF: re-frame as chunked
    } else {
      keep = false;
    }
  }
  res.keep_alive(keep);
  fs.client_keep_alive = keep;
  count_status(st.w.shared.metrics, static_cast<int>(status));

  bhttp::response_serializer<bhttp::buffer_body> rs{res};
  beast::get_lowest_layer(client).expires_after(idle_timeout);
  {
    auto [ec, n] = co_await bhttp::async_write_header(client, rs, use_tuple);
    if (ec) co_return attempt_result::client_gone;
  }
  if (!no_body || !rp.is_done()) {
    auto r2 = co_await relay_body(up, conn.buffer, rp, client, rs, st.buffer(), request_timeout,
                                  idle_timeout);
    if (r2.ec) {
      if (r2.reading_side) st.w.shared.metrics.upstream_errors.add();
      co_return attempt_result::client_gone;  // response half sent: only closing is honest
    }
  }
  co_return upstream_keep_alive ? attempt_result::done : attempt_result::client_gone;
}

template <class ClientStream>
asio::awaitable<bool> forward(session_state& st, ClientStream& client,
                              beast::flat_buffer& client_buffer,
                              bhttp::request_parser<bhttp::empty_body>& header_parser,
                              bool client_keep_alive) {
  auto& w = st.w;
  auto& shared = w.shared;
  bhttp::request_parser<bhttp::buffer_body> req{std::move(header_parser)};
  req.body_limit(shared.settings.limits.max_body_bytes);
  auto& msg = req.get();
  forward_state fs{req, false, false, false, false, true, {}};
  fs.head = msg.method() == bhttp::verb::head;
  fs.expect_continue = beast::iequals(msg[bhttp::field::expect], "100-continue");
  fs.client_keep_alive = client_keep_alive;

  const bool chunked = req.chunked();
  const auto length = req.content_length();
  http::prepare_upstream_request(msg, {shared.upstream_authorization}, st.client_ip,
                                 st.tls ? "https" : "http");
  msg.version(11);
  msg.keep_alive(true);
  if (chunked)
    msg.chunked(true);
  else if (length)
    msg.content_length(*length);

  std::uint64_t tried = 0;
  for (std::size_t attempt = 0; attempt < shared.nodes.size() + 2; ++attempt) {
    auto node = shared.nodes.pick(w.rr_cursor, tried);
    if (!node) break;
    auto [conn, ec] = co_await w.pool.acquire(*node);
    if (ec) {
      spdlog::warn("upstream {} failed: {}", shared.nodes.node(*node).url, ec.message());
      shared.nodes.mark_down(*node);
      tried |= 1ull << (*node % 64);
      shared.metrics.upstream_retries.add();
      continue;
    }
    if (!conn->reused) shared.nodes.mark_up(*node);
    auto result = co_await std::visit(
        [&](auto& up) { return forward_once(st, client, client_buffer, *conn, up, fs); },
        conn->stream);
    switch (result) {
      case attempt_result::done:
        w.pool.release(std::move(conn));
        co_return fs.client_keep_alive;
      case attempt_result::client_gone:
        co_return false;
      case attempt_result::retry:
        shared.metrics.upstream_retries.add();
        if (!conn->reused) {  // a fresh connection failed: the node is in trouble
          shared.nodes.mark_down(*node);
          tried |= 1ull << (*node % 64);
        }
        continue;
      case attempt_result::failed: {
        auto ec2 = co_await write_gateway_response(st, client, fs.error, 11, false);
        (void)ec2;
        co_return false;
      }
    }
  }
  shared.metrics.upstream_errors.add();
  auto err = http::es_error(502, "esgate_upstream_exception",
                            "no Elasticsearch node is reachable at the configured upstream");
  // The body was not read: the connection cannot be reused unless there was none.
  const bool reusable = !fs.body_started && req.is_done() && client_keep_alive;
  co_await write_gateway_response(st, client, err, 11, reusable);
  co_return reusable;
}

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool has_body(const bhttp::request_parser<bhttp::empty_body>& p) {
  return p.chunked() || (p.content_length() && *p.content_length() > 0);
}

// Handles one request whose header has been read. Returns whether the connection stays open.
template <class Stream>
asio::awaitable<bool> handle_request(session_state& st, Stream& stream, beast::flat_buffer& buffer,
                                     bhttp::request_parser<bhttp::empty_body>& hp) {
  auto& w = st.w;
  auto& shared = w.shared;
  auto& req = hp.get();
  shared.metrics.requests.add();
  const unsigned version = req.version();
  bool keep_alive = req.keep_alive() && !shared.draining.load(std::memory_order_relaxed);
  // An answer given without reading the body leaves the connection out of sync: close it then.
  auto answer = [&](http::gateway_response r) -> asio::awaitable<bool> {
    const bool keep = keep_alive && !has_body(hp) && !r.close;
    auto ec = co_await write_gateway_response(st, stream, r, version, keep,
                                              req.method() == bhttp::verb::head);
    co_return !ec && keep;
  };

  if (auto problem = http::framing_problem(req.base(), version)) {
    auto r = http::es_error(400, "illegal_argument_exception", *problem);
    r.close = true;
    co_return co_await answer(std::move(r));
  }
  const std::string_view target = req.target();
  if (target.empty() || target.front() != '/') {
    auto r =
        http::es_error(400, "illegal_argument_exception", "request target must start with [/]");
    r.close = true;
    co_return co_await answer(std::move(r));
  }
  const auto path = path_of(target);

  if (path == "/_esgate/health" &&
      (req.method() == bhttp::verb::get || req.method() == bhttp::verb::head)) {
    admin::health_inputs in{shared.nodes.size(), shared.nodes.reachable_count(),
                            shared.key_store_reachable.load(), ESGATE_VERSION};
    co_return co_await answer(admin::health_response(in));
  }

  auto outcome = co_await authenticate(w, req[bhttp::field::authorization], target);
  if (!outcome.who) {
    shared.metrics.auth_failures.add();
    co_return co_await answer(std::move(outcome.rejection));
  }
  const policy::identity& who = *outcome.who;

  if (path == "/_esgate/metrics") {
    if (!who.effective.has_cluster_privilege("monitor"))
      co_return co_await answer(http::forbidden(
          "action [cluster:monitor/esgate/metrics] is unauthorized for " + who.subject() +
          ", this action is granted by the cluster privileges [monitor,manage,all]"));
    http::gateway_response r;
    r.body = observability::registry::global().render_prometheus();
    r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
    co_return co_await answer(std::move(r));
  }

  if (!who.effective.is_superuser()) {
    // Authorization of non-superusers arrives with the authorization engine; until then, fail
    // closed: nothing but superuser-equivalent traffic reaches Elasticsearch.
    shared.metrics.forbidden.add();
    co_return co_await answer(http::forbidden("action [" + std::string(req.method_string()) + " " +
                                              std::string(path) + "] is unauthorized for " +
                                              who.subject()));
  }

  co_return co_await forward(st, stream, buffer, hp, keep_alive);
}

template <class Stream>
asio::awaitable<void> serve(session_state& st, Stream& stream) {
  auto& w = st.w;
  auto& limits = w.shared.settings.limits;
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  for (;;) {
    if (buffer.size() == 0) {
      // Between requests: wait for the first byte under the idle timeout, visible to drain.
      if (w.shared.draining.load(std::memory_order_relaxed)) break;
      lowest.expires_after(limits.idle_timeout);
      w.idle_streams.insert(&lowest);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      w.idle_streams.erase(&lowest);
      if (ec) break;
      buffer.commit(n);
    }
    bhttp::request_parser<bhttp::empty_body> hp;
    hp.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    hp.body_limit(limits.max_body_bytes);
    lowest.expires_after(limits.header_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, hp, use_tuple);
    if (ec) {
      http::gateway_response r;
      if (ec == beast::error::timeout)
        r = http::es_error(408, "esgate_request_timeout_exception",
                           "request header not received within limits.header_timeout");
      else if (ec == bhttp::error::header_limit)
        r = http::es_error(431, "esgate_header_too_large_exception",
                           "request headers are larger than limits.max_header_bytes");
      else if (ec == bhttp::error::body_limit)
        r = http::es_error(413, "content_too_long_exception",
                           "request body is larger than limits.max_body_bytes");
      else if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
               ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
        break;
      else
        r = http::es_error(400, "illegal_argument_exception",
                           std::string("malformed HTTP request: ") + ec.message());
      co_await write_gateway_response(st, stream, r, 11, false);
      break;
    }
    bool keep = co_await handle_request(st, stream, buffer, hp);
    if (!keep) break;
  }
  error_code ignored;
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    lowest.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_tuple);
  }
  lowest.socket().shutdown(asio::socket_base::shutdown_both, ignored);
}

}  // namespace

asio::awaitable<void> run_session(worker& w, asio::ip::tcp::socket socket) {
  error_code ec;
  auto remote = socket.remote_endpoint(ec);
  session_state st{w, ec ? std::string("unknown") : remote.address().to_string()};
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (auto tls = w.server_tls) {
    st.tls = true;
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
    beast::get_lowest_layer(stream).expires_after(w.shared.settings.limits.header_timeout);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (hec) co_return;
    co_await serve(st, stream);
  } else {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(st, stream);
  }
}

}  // namespace esgate::app
