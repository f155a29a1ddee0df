// One client connection: read a request header, authenticate, decide, then either answer from the
// gateway or stream the request to an upstream node and the response back. The same coroutine
// body serves plain TCP and TLS (templated on the stream, as beast's server-flex example).
#include "session.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <span>

#include "api_key_auth.hpp"
#include "authenticate.hpp"
#include "cluster_metadata.hpp"
#include "esgate/admin/health.hpp"
#include "esgate/admin/security_api.hpp"
#include "esgate/auth/credentials.hpp"
#include "esgate/auth/secret_hash.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/es/request_target.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/http/header_rules.hpp"
#include "esgate/http/wire.hpp"
#include "esgate/observability/log.hpp"
#include "http_io.hpp"
#include "offload.hpp"
#include "worker.hpp"

#ifndef ESGATE_VERSION
#define ESGATE_VERSION "0.1.0"
#endif

namespace esgate::app {

namespace bhttp = beast::http;
using error_code = boost::system::error_code;

namespace {

using http_io::use_tuple;
using client_parser = bhttp::request_parser<bhttp::buffer_body>;
constexpr std::size_t relay_buffer_size = relay_buffers::size;

struct session_state {
  session_state(worker& wk, std::string ip) : w(wk), client_ip(std::move(ip)) {}
  worker& w;
  std::string client_ip;
  bool tls = false;
  std::shared_ptr<io_watch> watch = std::make_shared<io_watch>();
  // Message heads and chunk size lines, rebuilt per request in buffers that keep their capacity.
  std::string request_head, response_head, chunk_line;
  // The body relay buffer, borrowed from the worker only while a request is forwarded.
  std::unique_ptr<char[]> relay_buffer;
  char* buffer() {
    if (!relay_buffer) relay_buffer = w.buffers.take();
    return relay_buffer.get();
  }
  void return_buffer() {
    if (relay_buffer) w.buffers.give(std::move(relay_buffer));
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
  count_status(st.w.shared.metrics, r.status);
  st.response_head.clear();
  http::append_gateway_response(st.response_head, r, version, keep_alive, head);
  st.watch->arm(st.w.shared.settings.limits.idle_timeout);
  const auto bytes = asio::buffer(st.response_head);
  std::size_t written = 0;
  error_code ec;
  if (http_io::write_now(stream, bytes, written, ec)) co_return ec;
  co_return co_await http_io::write_rest(stream, bytes, written);
}

// The buffers for one piece of a body, re-framed: raw for a known length, as one chunk when
// chunked (the last piece also ends the chunked body). `head`, when not empty, goes first.
struct framed_piece {
  std::array<asio::const_buffer, 5> parts;
  std::size_t count = 0;
  std::span<const asio::const_buffer> buffers() const { return {parts.data(), count}; }
};

framed_piece frame_piece(std::string& chunk_line, std::string_view head, const char* data,
                         std::size_t size, bool chunked, bool last) {
  static constexpr std::string_view crlf = "\r\n", last_chunk = "0\r\n\r\n";
  framed_piece f;
  if (!head.empty()) f.parts[f.count++] = asio::buffer(head.data(), head.size());
  if (chunked && size != 0) {
    chunk_line.clear();
    http::append_chunk_size(chunk_line, size);
    f.parts[f.count++] = asio::buffer(chunk_line);
  }
  if (size != 0) f.parts[f.count++] = asio::buffer(data, size);
  if (chunked && size != 0) f.parts[f.count++] = asio::buffer(crlf.data(), crlf.size());
  if (chunked && last) f.parts[f.count++] = asio::buffer(last_chunk.data(), last_chunk.size());
  return f;
}

// Copies a body from `in` (parsed by `p`) to `out` piece by piece through a fixed buffer: bodies
// are never held whole. `head` is written together with the first piece (or alone when the body
// is empty). When `no_body`, only the head is written.
struct relay_result {
  error_code ec;
  bool reading_side = false;  // the error came from `in`
};

template <bool isRequest, class In, class Out>
asio::awaitable<relay_result> relay_body(session_state& st, In& in, beast::flat_buffer& in_buffer,
                                         bhttp::parser<isRequest, bhttp::buffer_body>& p, Out& out,
                                         std::string_view head, bool chunked_out, bool no_body,
                                         std::chrono::milliseconds in_timeout,
                                         std::chrono::milliseconds out_timeout) {
  char* buf = st.buffer();
  for (;;) {
    http_io::body_piece piece{buf, relay_buffer_size};
    if (!no_body && !p.is_done()) {
      st.watch->arm(in_timeout);
      error_code ec;
      if (!http_io::body_piece_now(in_buffer, p, piece, ec))
        ec = co_await http_io::read_body_piece(in, in_buffer, p, piece);
      if (ec) co_return relay_result{ec, true};
    }
    const bool last = no_body || p.is_done();
    const auto framed =
        frame_piece(st.chunk_line, head, buf, piece.size, chunked_out && !no_body, last);
    if (framed.count != 0) {
      st.watch->arm(out_timeout);
      std::size_t written = 0;
      error_code ec;
      if (!http_io::write_now(out, framed.buffers(), written, ec))
        ec = co_await http_io::write_rest(out, framed.buffers(), written);
      if (ec) co_return relay_result{ec, false};
    }
    head = {};
    if (last) co_return relay_result{};
  }
}

// Outcome of one forwarding attempt on one upstream connection.
enum class attempt_result {
  done,         // response relayed to the client (keep-alive decided by `client_keep_alive`)
  retry,        // the request never reached the node: try another connection/node
  failed,       // a gateway error response must be sent (set in `error`)
  client_gone,  // the client side failed mid-stream: close without answering
};

struct forward_state {
  explicit forward_state(client_parser& r) : req(r) {}
  client_parser& req;
  bool head = false;
  bool chunked = false;  // the request body is chunked (and is sent on chunked)
  bool expect_continue = false;
  bool sent_continue = false;
  bool body_started = false;  // bytes of the client body were consumed
  bool client_keep_alive = true;
  http::gateway_response error;
};

// How the response body is delimited towards the client, given what the upstream sent.
http::body_framing client_framing(const bhttp::response_parser<bhttp::buffer_body>& rp,
                                  bool no_body, unsigned client_version, bool& keep) {
  const auto length = rp.content_length();
  if (no_body)  // HEAD, 1xx, 204, 304: the length a GET would have, if the upstream gave one
    return length ? http::body_framing::of_length(*length) : http::body_framing::no_body();
  if (!rp.chunked() && length) return http::body_framing::of_length(*length);
  // Chunked upstream, or delimited by the upstream closing: chunked for HTTP/1.1 clients, closing
  // for HTTP/1.0 ones.
  if (client_version >= 11) return http::body_framing::chunked();
  keep = false;
  return http::body_framing::no_body();
}

template <class ClientStream, class UpstreamStream>
asio::awaitable<attempt_result> forward_once(session_state& st, ClientStream& client,
                                             beast::flat_buffer& client_buffer,
                                             proxy::upstream_connection& conn, UpstreamStream& up,
                                             forward_state& fs) {
  auto& settings = st.w.shared.settings;
  const auto request_timeout = settings.upstream.request_timeout;
  const auto idle_timeout = settings.limits.idle_timeout;

  // A bodyless request goes out in one write. A request with a body gets its head written
  // first, so a dead connection is found before any body byte is consumed from the client (and
  // the request can still be retried elsewhere).
  const bool bodyless = fs.req.is_done();
  st.watch->arm(request_timeout);
  {
    const auto bytes = asio::buffer(st.request_head);
    std::size_t written = 0;
    error_code ec;
    if (!http_io::write_now(up, bytes, written, ec))
      ec = co_await http_io::write_rest(up, bytes, written);
    if (ec) co_return attempt_result::retry;  // nothing of the body consumed yet
  }
  if (!bodyless) {
    if (fs.expect_continue && !fs.sent_continue) {
      // The client waits for this before sending its body (curl does for bodies over 1 MB).
      static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
      st.watch->arm(idle_timeout);
      if (auto ec = co_await http_io::write_all(client, asio::buffer(cont.data(), cont.size())); ec)
        co_return attempt_result::client_gone;
      fs.sent_continue = true;
    }
    fs.body_started = true;
    auto rr = co_await relay_body(st, client, client_buffer, fs.req, up, {}, fs.chunked, false,
                                  idle_timeout, request_timeout);
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
  }

  bhttp::response_parser<bhttp::buffer_body> rp;
  rp.body_limit(boost::none);  // responses are streamed, never held
  rp.header_limit(64 * 1024);
  if (fs.head) rp.skip(true);
  st.watch->arm(request_timeout);
  // The answer cannot be there yet: let the thread's other work run first, so the read below
  // usually finds it rather than failing once (EAGAIN) and then waiting.
  if (conn.buffer.size() == 0) co_await asio::post(asio::use_awaitable);
  if (auto ec = co_await http_io::read_header(up, conn.buffer, rp); ec) {
    // A kept-alive connection the node closed just before our request arrived: safe to retry
    // only if the request had no body (nothing consumed from the client).
    if (conn.reused && !fs.body_started &&
        (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::eof))
      co_return attempt_result::retry;
    st.w.shared.metrics.upstream_errors.add();
    if (st.watch->timed_out) {
      fs.error = http::es_error(504, "esgate_upstream_timeout_exception",
                                "Elasticsearch did not answer within upstream.request_timeout");
    } else {
      fs.error = http::es_error(502, "esgate_upstream_exception",
                                "the connection to Elasticsearch failed before a response arrived");
    }
    co_return attempt_result::failed;
  }

  const auto& res = rp.get();
  const bool upstream_keep_alive = res.keep_alive();
  const unsigned status = res.result_int();
  const bool no_body = fs.head || status / 100 == 1 || status == 204 || status == 304;
  const unsigned version = fs.req.get().version() >= 11 ? 11 : 10;
  bool keep = fs.client_keep_alive;
  const auto framing = client_framing(rp, no_body, version, keep);
  fs.client_keep_alive = keep;
  st.response_head.clear();
  auto reason = res.reason();
  http::append_client_response_head(
      st.response_head, res.base(),
      {status, std::string_view(reason.data(), reason.size()), version, keep, framing});
  count_status(st.w.shared.metrics, static_cast<int>(status));

  // The head goes out with the first piece of the body (one write, one wake-up of the client for
  // small responses), or alone when there is none.
  auto r2 = co_await relay_body(st, up, conn.buffer, rp, client, st.response_head,
                                framing.k == http::body_framing::kind::chunked, no_body,
                                request_timeout, idle_timeout);
  if (r2.ec) {
    if (r2.reading_side) st.w.shared.metrics.upstream_errors.add();
    co_return attempt_result::client_gone;  // response half sent: only closing is honest
  }
  co_return upstream_keep_alive ? attempt_result::done : attempt_result::client_gone;
}

template <class ClientStream>
asio::awaitable<bool> forward(session_state& st, ClientStream& client,
                              beast::flat_buffer& client_buffer, client_parser& req,
                              bool client_keep_alive, const std::string& upstream_target) {
  auto& w = st.w;
  auto& shared = w.shared;
  req.body_limit(shared.settings.limits.max_body_bytes);
  const auto& msg = req.get();
  forward_state fs{req};
  fs.head = msg.method() == bhttp::verb::head;
  fs.chunked = req.chunked();
  fs.expect_continue = beast::iequals(msg[bhttp::field::expect], "100-continue");
  fs.client_keep_alive = client_keep_alive;

  const auto length = req.content_length();
  const auto method = msg.method_string();
  st.request_head.clear();
  http::append_upstream_request_head(
      st.request_head, msg.base(),
      {std::string_view(method.data(), method.size()),
       upstream_target,  // rebuilt from the authorized, canonical segments: never the raw one
       shared.upstream_authorization, st.client_ip, st.tls ? "https" : "http",
       fs.chunked ? http::body_framing::chunked()
       : length   ? http::body_framing::of_length(*length)
                  : http::body_framing::no_body()});

  std::uint64_t tried = 0;
  for (std::size_t attempt = 0; attempt < shared.nodes.size() + 2; ++attempt) {
    auto node = shared.nodes.pick(w.rr_cursor, tried);
    if (!node) break;
    auto conn = w.pool.take_idle(*node);
    error_code ec;
    if (!conn) std::tie(conn, ec) = co_await w.pool.connect(*node);
    if (ec) {
      spdlog::warn("upstream {} failed: {}", shared.nodes.node(*node).url, ec.message());
      shared.nodes.mark_down(*node);
      tried |= 1ull << (*node % 64);
      shared.metrics.upstream_retries.add();
      continue;
    }
    if (!conn->reused) shared.nodes.mark_up(*node);
    st.watch->upstream = &conn->lowest();
    auto result = co_await std::visit(
        [&](auto& up) { return forward_once(st, client, client_buffer, *conn, up, fs); },
        conn->stream);
    st.watch->upstream = nullptr;
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

// Reads a whole (small) request body for the endpoints the gateway serves itself.
template <class Stream>
asio::awaitable<std::optional<std::string>> read_small_body(session_state& st, Stream& stream,
                                                            beast::flat_buffer& buffer,
                                                            client_parser& hp) {
  constexpr std::uint64_t limit = 10 * 1024 * 1024;
  bhttp::request_parser<bhttp::string_body> p{std::move(hp)};
  p.body_limit(std::min<std::uint64_t>(limit, st.w.shared.settings.limits.max_body_bytes));
  if (beast::iequals(p.get()[bhttp::field::expect], "100-continue")) {
    static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
    if (auto ec = co_await http_io::write_all(stream, asio::buffer(cont.data(), cont.size())); ec)
      co_return std::nullopt;
  }
  st.watch->arm(st.w.shared.settings.limits.idle_timeout);
  auto [ec, n] = co_await bhttp::async_read(stream, buffer, p, use_tuple);
  if (ec) co_return std::nullopt;
  co_return std::move(p.get().body());
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The security API (admin module) with this thread's store, the current policy snapshot, and
// cache invalidation on every thread of this instance (now) and every other instance (pub/sub).
asio::awaitable<http::gateway_response> serve_security_api(session_state& st,
                                                           std::string_view method,
                                                           const es::request_target& t,
                                                           std::string_view body,
                                                           const policy::identity& who) {
  auto& w = st.w;
  auto snapshot = w.security;
  admin::security_api_context ctx{
      *w.key_store,
      w.shared.settings.security.api_key.hashing,
      [&w](std::string secret) -> asio::awaitable<std::string> {
        co_return co_await on_pool(w.shared.crypto_pool,
                                   [&secret] { return auth::hash_pbkdf2(secret); });
      },
      snapshot->roles,
      [snapshot](std::string_view u) { return snapshot->find_user(u) != nullptr; },
      [snapshot](std::string_view u) { return snapshot->roles_of(u); },
      [&w](const std::vector<std::string>& ids) { announce_key_changes(w, ids); }};
  admin::security_api_request req{method, t.segments, t.query, body, who, wall_ms()};
  co_return co_await admin::handle_security_api(ctx, req);
}

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool has_body(const client_parser& p) {
  return p.chunked() || (p.content_length() && *p.content_length() > 0);
}

// Handles one request whose header has been read. Returns whether the connection stays open.
template <class Stream>
asio::awaitable<bool> handle_request(session_state& st, Stream& stream, beast::flat_buffer& buffer,
                                     client_parser& hp) {
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

  const auto authorization = req[bhttp::field::authorization];
  const auto creds =
      auth::parse_authorization(std::string_view(authorization.data(), authorization.size()));
  auto outcome = authenticate_now(w, creds, target);
  // (Not a ?: around co_await: g++ 12 destroys such temporaries twice.)
  if (!outcome) outcome = co_await authenticate(w, creds, target);
  if (!outcome->who) {
    shared.metrics.auth_failures.add();
    co_return co_await answer(std::move(outcome->rejection));
  }
  const policy::identity& who = *outcome->who;

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

  auto parsed = es::parse_request_target(target);
  if (!parsed) {
    co_return co_await answer(
        http::es_error(400, "illegal_argument_exception", parsed.error().reason));
  }
  const auto& t = *parsed;
  const std::string method(req.method_string());

  if (admin::is_security_api(t.segments)) {
    auto body = co_await read_small_body(st, stream, buffer, hp);
    if (!body) co_return false;  // client went away or sent a malformed/oversized body
    auto r = co_await serve_security_api(st, method, t, *body, who);
    auto ec = co_await write_gateway_response(st, stream, r, version, keep_alive && !r.close);
    co_return !ec && keep_alive && !r.close;
  }

  es::authz_request ar{method, t, who, std::chrono::system_clock::now(), nullptr};
  auto d = es::authorize(ar);
  std::shared_ptr<const es::cluster_metadata> md;
  if (d.k == es::authz_decision::kind::need_metadata) {
    md = co_await cluster_metadata_for(w);
    if (!md) {
      shared.metrics.upstream_errors.add();
      co_return co_await answer(http::es_error(
          503, "esgate_metadata_unavailable_exception",
          "cannot resolve the index expression: Elasticsearch's index list is unavailable"));
    }
    ar.metadata = md.get();
    d = es::authorize(ar);
  }
  using K = es::authz_decision::kind;
  switch (d.k) {
    case K::allow:
      break;
    case K::deny:
      shared.metrics.forbidden.add();
      co_return co_await answer(http::forbidden(d.reason));
    default: {
      http::gateway_response r;
      if (d.error_type.empty()) {
        // Routing errors: ES answers them in its plain form {"error":"<reason>","status":N}.
        r.status = d.status ? d.status : 400;
        r.body =
            boost::json::serialize(boost::json::object{{"error", d.reason}, {"status", r.status}});
        http::add_standard_headers(r);
      } else {
        r = http::es_error(d.status ? d.status : 400, d.error_type, d.reason);
      }
      if (!d.allow.empty()) r.headers.emplace_back("Allow", d.allow);
      co_return co_await answer(std::move(r));
    }
  }
  if (d.empty_result) {
    // Every name the expression could reach is one the identity may not see: answer ES's empty
    // result ourselves, nothing is forwarded (the upstream never learns the request either).
    http::gateway_response r;
    r.body = es::empty_response_body(*d.ep, &t.query);
    http::add_standard_headers(r);
    co_return co_await answer(std::move(r));
  }
  const bool keep = co_await forward(st, stream, buffer, hp, keep_alive, d.upstream_target);
  st.return_buffer();  // an idle connection holds no relay buffer
  co_return keep;
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
      st.watch->arm(limits.idle_timeout);
      w.idle_streams.insert(&lowest);
      co_await asio::post(asio::use_awaitable);  // as for the upstream's answer, see forward_once
      auto ec = co_await http_io::read_more(stream, buffer);
      w.idle_streams.erase(&lowest);
      if (ec) break;
    }
    client_parser hp;
    hp.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    hp.body_limit(limits.max_body_bytes);
    st.watch->arm(limits.header_timeout);
    error_code ec;
    if (!http_io::parse_header_now(buffer, hp, ec))
      ec = co_await http_io::read_header(stream, buffer, hp);
    if (ec) {
      http::gateway_response r;
      if (st.watch->timed_out)
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
  if constexpr (!http_io::is_plain_socket<Stream>) {
    st.watch->arm(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_tuple);
  }
  lowest.shutdown(asio::socket_base::shutdown_both, ignored);
}

}  // namespace

asio::awaitable<void> run_session(worker& w, asio::ip::tcp::socket socket) {
  error_code ec;
  auto remote = socket.remote_endpoint(ec);
  session_state st{w, ec ? std::string("unknown") : remote.address().to_string()};
  w.watches.push_back(st.watch);
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (auto tls = w.server_tls) {
    st.tls = true;
    beast::ssl_stream<asio::ip::tcp::socket> stream(std::move(socket), *tls);
    st.watch->client = &beast::get_lowest_layer(stream);
    st.watch->arm(w.shared.settings.limits.header_timeout);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (hec) co_return;
    co_await serve(st, stream);
  } else {
    // Non-blocking: http_io reads and writes synchronously first when the socket is ready.
    socket.non_blocking(true, ec);
    st.watch->client = &socket;
    co_await serve(st, socket);
  }
}

}  // namespace esgate::app
