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
#include <charconv>
#include <span>

#include "api_key_auth.hpp"
#include "authenticate.hpp"
#include "authz_cache.hpp"
#include "body_inspection.hpp"
#include "cluster_metadata.hpp"
#include "context_binding.hpp"
#include "esgate/admin/health.hpp"
#include "esgate/admin/security_api.hpp"
#include "esgate/auth/credentials.hpp"
#include "esgate/auth/secret_hash.hpp"
#include "esgate/body/content_coding.hpp"
#include "esgate/bulk/bulk_filter.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/es/request_target.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/http/header_rules.hpp"
#include "esgate/http/request_head.hpp"
#include "esgate/http/wire.hpp"
#include "esgate/multi/multi.hpp"
#include "esgate/observability/log.hpp"
#include "http_io.hpp"
#include "metrics_listener.hpp"
#include "offload.hpp"
#include "request_audit.hpp"
#include "request_body.hpp"
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
  presented_credentials credentials;  // of the latest request (parsed once per distinct header)
  // The request being answered, for esgate_requests_total (other until its head is read).
  observability::method req_method = observability::method::other;
  observability::family req_family = observability::family::other;
  std::shared_ptr<io_watch> watch = std::make_shared<io_watch>();
  // Message heads and chunk size lines, rebuilt per request in buffers that keep their capacity.
  std::string request_head, response_head, chunk_line;
  // Request body bytes read before the head goes upstream (and their rewritten form), and the
  // pieces streamed after it. `body` and `body2` come from the worker's pool when large.
  std::string body, body2, piece;
  // A filtered bulk: the ranges of `body` to forward; and the gather list of the first write.
  using byte_ranges = std::vector<std::pair<std::size_t, std::size_t>>;
  byte_ranges first_ranges;
  std::vector<asio::const_buffer> gather;
  // The body relay buffer, borrowed from the worker only while a request is forwarded.
  std::unique_ptr<char[]> relay_buffer;
  // The request being handled, for the audit and access logs (set only when one of them is on).
  const request_facts* facts = nullptr;
  std::string log_opaque_id, log_method, log_path;  // what `facts` views
  int status = 0;                                   // status answered to the client
  std::uint64_t bytes_out = 0;                      // response body bytes sent
  std::string_view node;  // the upstream node that answered (its URL as configured)
  char* buffer() {
    if (!relay_buffer) relay_buffer = w.buffers.take();
    return relay_buffer.get();
  }
  void return_buffer() {
    if (relay_buffer) w.buffers.give(std::move(relay_buffer));
  }
  // A body read whole for inspection goes into a pooled buffer: no fresh megabytes per request.
  void take_body_buffer() {
    if (body.capacity() <= relay_buffer_size) body = w.bodies.take();
  }
  // Inspected bodies can be megabytes: an idle connection keeps none of that (the pool keeps a
  // few per thread).
  void release_body_buffers() {
    const auto keep = static_cast<std::size_t>(w.shared.settings.limits.body_lookahead);
    for (auto* s : {&body, &body2}) {
      if (s->capacity() > relay_buffer_size) w.bodies.give(std::exchange(*s, {}), keep);
      s->clear();
    }
    if (piece.capacity() > relay_buffer_size) std::string().swap(piece);
    piece.clear();
    if (first_ranges.capacity() > 64) byte_ranges().swap(first_ranges);
    first_ranges.clear();
  }
};

// One response of the current request (its method and endpoint family were set when its head was
// read): this thread's cell, no shared write (observability/metrics.hpp).
void count_status(session_state& st, int status) {
  st.status = status;
  observability::record_request(st.req_method, st.req_family, status);
}

template <class Stream>
asio::awaitable<error_code> write_gateway_response(session_state& st, Stream& stream,
                                                   const http::gateway_response& r,
                                                   unsigned version, bool keep_alive,
                                                   bool head = false) {
  count_status(st, r.status);
  if (!head) st.bytes_out += r.body.size();
  // A drain that began while the request was in flight: the answer says so, and serve() stops
  // after it (draining never turns false again, so what the head says and what happens agree).
  if (st.w.shared.draining.load(std::memory_order_relaxed)) keep_alive = false;
  st.response_head.clear();
  // The head alone (with the body's length), then head and body in one gather write: a body of
  // megabytes (a spliced bulk answer) is not copied behind the head.
  http::append_gateway_response(st.response_head, r, version, keep_alive, /*head=*/true);
  st.watch->arm(st.w.shared.settings.limits.idle_timeout);
  std::array<asio::const_buffer, 2> bytes{asio::buffer(st.response_head), asio::buffer(r.body)};
  if (head) bytes[1] = asio::const_buffer();
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

// The head and the part of the request body in memory, as one gather write: `first` whole, or
// only its `ranges` (a filtered bulk's authorized items, sent from where they were read rather
// than copied together). When chunked, they form one chunk; `last` ends the chunked body.
void frame_first(std::vector<asio::const_buffer>& parts, std::string& chunk_line,
                 std::string_view head, std::string_view first,
                 const std::vector<std::pair<std::size_t, std::size_t>>* ranges, bool chunked,
                 bool last) {
  static constexpr std::string_view crlf = "\r\n", last_chunk = "0\r\n\r\n";
  parts.clear();
  parts.push_back(asio::buffer(head.data(), head.size()));
  std::size_t size = first.size();
  if (ranges != nullptr) {
    size = 0;
    for (const auto& [b, e] : *ranges) size += e - b;
  }
  if (chunked && size != 0) {
    chunk_line.clear();
    http::append_chunk_size(chunk_line, size);
    parts.push_back(asio::buffer(chunk_line));
  }
  if (ranges == nullptr) {
    if (size != 0) parts.push_back(asio::buffer(first.data(), first.size()));
  } else {
    for (const auto& [b, e] : *ranges) parts.push_back(asio::buffer(first.data() + b, e - b));
  }
  if (chunked && size != 0) parts.push_back(asio::buffer(crlf.data(), crlf.size()));
  if (chunked && last) parts.push_back(asio::buffer(last_chunk.data(), last_chunk.size()));
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
  // Bytes of a response of known length still to come, once what the connection's buffer held
  // has gone through the parser: they are read from the socket into the relay buffer itself.
  // Through the parser they came in reads as small as the buffer's room (4 KiB for an upstream
  // connection's): a 1 MB answer cost 250 reads and 250 writes, and 4.7x nginx's CPU.
  std::optional<std::uint64_t> direct_left;
  for (;;) {
    http_io::body_piece piece{buf, relay_buffer_size};
    bool last = false;
    if (direct_left) {
      st.watch->arm(in_timeout);
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(*direct_left, piece.capacity));
      auto [ec, n] = co_await in.async_read_some(asio::buffer(buf, want), use_tuple);
      if (ec == asio::error::eof) ec = bhttp::error::partial_message;
      if (ec) co_return relay_result{ec, true};
      piece.size = n;
      *direct_left -= n;
      last = *direct_left == 0;
    } else {
      if (!no_body && !p.is_done()) {
        st.watch->arm(in_timeout);
        error_code ec;
        if (!http_io::body_piece_now(in_buffer, p, piece, ec))
          ec = co_await http_io::read_body_piece(in, in_buffer, p, piece);
        if (ec) co_return relay_result{ec, true};
      }
      last = no_body || p.is_done();
      if constexpr (!isRequest) {
        if (!last && in_buffer.size() == 0 && !p.chunked()) {
          if (const auto left = p.content_length_remaining(); left && *left > 0)
            direct_left = *left;
        }
      }
    }
    if constexpr (!isRequest) st.bytes_out += piece.size;
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

bool has_body(const client_parser& p) {
  return p.chunked() || (p.content_length() && *p.content_length() > 0);
}

// Outcome of one forwarding attempt on one upstream connection.
enum class attempt_result {
  done,         // response relayed to the client (keep-alive decided by `client_keep_alive`)
  retry,        // the request never reached the node: try another connection/node
  failed,       // a gateway error response must be sent (set in `error`)
  client_gone,  // the client side failed mid-stream: close without answering
};

// Bytes of request bodies buffered for inspection, held against limits.body_buffer_budget for
// as long as the request is in flight.
class budget_hold {
 public:
  bool take(std::atomic<std::uint64_t>& counter, std::uint64_t bytes, std::uint64_t budget) {
    if (counter.fetch_add(bytes) + bytes > budget) {
      counter.fetch_sub(bytes);
      return false;
    }
    counter_ = &counter;
    bytes_ = bytes;
    return true;
  }
  ~budget_hold() {
    if (counter_) counter_->fetch_sub(bytes_);
  }

 private:
  std::atomic<std::uint64_t>* counter_ = nullptr;
  std::uint64_t bytes_ = 0;
};

// The rest of a request body that did not fit in what was read before the head went upstream:
// decoded piece by piece and, for a streamed bulk, filtered item by item.
template <class ClientStream>
struct body_pump {
  body_pump(ClientStream& c, beast::flat_buffer& b, request_body_reader& r)
      : client(c), buffer(b), reader(r) {}
  ClientStream& client;
  beast::flat_buffer& buffer;
  request_body_reader& reader;
  bulk::bulk_filter* bulk = nullptr;  // a bulk larger than the look-ahead
  std::string pending;                // bulk: decoded bytes not yet consumed by the filter
  std::uint64_t max_item = 0;         // bulk: one item larger than this -> 413
  std::size_t forwarded_items = 0;
  http::gateway_response error;

  enum class status { more, last, client_gone, failed };

  // Clears `out` and fills it with the next bytes to forward (possibly none for a bulk whose
  // items in this piece were all denied).
  asio::awaitable<status> next(std::string& out) {
    out.clear();
    if (bulk == nullptr) {
      if (co_await read_request_body(client, buffer, reader, out, relay_buffer_size))
        co_return status::client_gone;
      if (reader.failed()) co_return fail(reader.status(), reader.error());
      co_return reader.done() ? status::last : status::more;
    }
    for (;;) {
      if (!reader.done()) {
        if (co_await read_request_body(client, buffer, reader, pending,
                                       pending.size() + relay_buffer_size))
          co_return status::client_gone;
        if (reader.failed()) co_return fail(reader.status(), reader.error());
      }
      const bool last = reader.done();
      const auto fed = bulk->feed(pending, last);
      if (!fed) co_return fail(bulk->error()->status, bulk->error()->reason);
      for (const auto& [b, e] : fed->forward) out.append(pending, b, e - b);
      pending.erase(0, fed->consumed);
      forwarded_items = bulk->forwarded_items();
      if (last) co_return status::last;
      if (fed->consumed == 0 && pending.size() > max_item)
        co_return fail(413, "a bulk item is larger than limits.body_lookahead");
      if (!out.empty()) co_return status::more;
    }
  }

  status fail(int code, const std::string& reason) {
    std::string why = reason;
    if (bulk != nullptr) {
      // Elasticsearch applies a streamed bulk incrementally: what was forwarded may be applied.
      why = "the bulk request was aborted after " + std::to_string(forwarded_items) +
            " items were forwarded, which Elasticsearch may have applied: " + reason;
    }
    error = http::es_error(
        code, code == 413 ? "content_too_long_exception" : "illegal_argument_exception", why);
    error.close = true;
    return status::failed;
  }
};

// What follows the head upstream: `first` (in memory, sent with the head), then, when `pump` is
// set, pieces from the client as they arrive (chunked).
template <class ClientStream>
struct outgoing_body {
  std::string_view first;
  // When set, only these ranges of `first` are sent (a filtered bulk).
  const std::vector<std::pair<std::size_t, std::size_t>>* ranges = nullptr;
  body_pump<ClientStream>* pump = nullptr;
  bool chunked = false;
  std::size_t first_size() const {
    if (ranges == nullptr) return first.size();
    std::size_t n = 0;
    for (const auto& [b, e] : *ranges) n += e - b;
    return n;
  }
};

struct forward_state {
  explicit forward_state(client_parser& r) : req(r) {}
  client_parser& req;
  bool head = false;
  bool body_started = false;  // bytes of the client body beyond `first` were consumed
  bool client_keep_alive = true;
  bool gzip_ok = false;  // the client accepts gzip (for rewritten responses)
  http::gateway_response error;
  std::optional<response_rewrite> rewrite;           // the response must be spliced / filtered
  const bulk::bulk_filter* streamed_bulk = nullptr;  // its denials complete `rewrite`
  std::optional<opening> opens;  // the response hands out context ids to bind to `owner`
  std::string owner;
  // GET, HEAD, OPTIONS: may be sent again after a pooled connection broke under it (RFC 9110
  // §9.2.2; DELETE too in the RFC, but a repeated index deletion answers 404, not 200).
  bool idempotent = false;
  // The last attempt failed in a way that counts against the node (outlier detection): no
  // answer in time, a broken connection, or a 502/503/504 answer.
  bool node_failed = false;
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

// Reads a whole upstream response body (one the gateway rewrites) into `out`.
template <class UpstreamStream>
asio::awaitable<error_code> read_whole_response(session_state& st, UpstreamStream& up,
                                                beast::flat_buffer& buffer,
                                                bhttp::response_parser<bhttp::buffer_body>& rp,
                                                std::string& out) {
  constexpr std::size_t max_rewritten_response = 512ull * 1024 * 1024;
  // Its length at once when known: a string doubling through megabytes copies them again and,
  // past 8 MiB, takes fresh pages from the system each time.
  if (const auto length = rp.content_length(); length && *length <= max_rewritten_response) {
    out.reserve(static_cast<std::size_t>(*length));
    if (!rp.chunked()) {
      // Read from the socket into `out` itself, past Beast's parser: one copy of megabytes less
      // (through the parser into the relay buffer, then into `out`), and reads as large as the
      // socket has. The parser is not used again; the connection is clean once `length` is in.
      const auto total = static_cast<std::size_t>(*length);
      const std::size_t buffered = std::min(buffer.size(), total);
      out.append(static_cast<const char*>(buffer.data().data()), buffered);
      buffer.consume(buffered);
      // Megabyte steps, each zero-filled once (resize has no uninitialised form before C++23)
      // and read into until full.
      constexpr std::size_t step = 1024 * 1024;
      std::size_t filled = out.size();
      while (filled < total) {
        out.resize(std::min(total, filled + step));
        while (filled < out.size()) {
          auto [ec, got] = co_await up.async_read_some(
              asio::buffer(out.data() + filled, out.size() - filled), http_io::use_tuple);
          filled += got;
          if (ec) {
            out.resize(filled);
            co_return ec == asio::error::eof ? error_code(bhttp::error::partial_message) : ec;
          }
        }
      }
      co_return error_code{};
    }
  }
  char* buf = st.buffer();
  while (!rp.is_done()) {
    http_io::body_piece piece{buf, relay_buffer_size};
    error_code ec;
    if (!http_io::body_piece_now(buffer, rp, piece, ec))
      ec = co_await http_io::read_body_piece(up, buffer, rp, piece);
    if (ec) co_return ec;
    out.append(buf, piece.size);
    if (out.size() > max_rewritten_response) co_return bhttp::error::body_limit;
  }
  co_return error_code{};
}

// The client's answer built from the upstream's rewritten one: the splice of denied items,
// `filter_path` and `pretty` applied by the gateway, gzip when the client accepts it.
// The rewrite to apply: the request's, plus the denials of a bulk filtered as it streamed.
response_rewrite final_rewrite(const forward_state& fs) {
  auto rw = *fs.rewrite;
  if (fs.streamed_bulk != nullptr) {
    for (const auto& item : fs.streamed_bulk->denied())
      rw.inserts.push_back({item.position, bulk::denied_item_json(item)});
    rw.set_errors = true;
  }
  return rw;
}

// The common case of a rewritten answer: a 2xx spliced as bytes, sent as parts of the upstream's
// body and the gateway's items (no copy of megabytes). nullopt when the answer must be rebuilt
// (filter_path, pretty, gzip for the client) or has not the expected shape.
std::optional<response::spliced_body> spliced_parts(const forward_state& fs, unsigned status,
                                                    std::string_view upstream_body) {
  if (status / 100 != 2 || (fs.gzip_ok && upstream_body.size() > 1024)) return std::nullopt;
  auto rw = final_rewrite(fs);
  return response::splice_response_parts(upstream_body, rw.array_key, std::move(rw.inserts),
                                         rw.set_errors, rw.filter_path, rw.pretty);
}

http::gateway_response rewritten_response(const forward_state& fs, unsigned status,
                                          const bhttp::response_parser<bhttp::buffer_body>& rp,
                                          std::string upstream_body) {
  http::gateway_response r;
  r.status = static_cast<int>(status);
  auto rw = final_rewrite(fs);
  auto body = status / 100 == 2 ? rewritten_body(std::move(rw), upstream_body) : std::nullopt;
  if (body) {
    r.body = std::move(*body);
    http::add_standard_headers(r);
  } else {
    // Not the expected shape (an error from Elasticsearch): passed on as it came.
    r.body = std::move(upstream_body);
    const auto& res = rp.get();
    for (const auto field : {bhttp::field::content_type, bhttp::field::content_encoding}) {
      const auto v = res[field];
      if (!v.empty()) r.headers.emplace_back(std::string(bhttp::to_string(field)), std::string(v));
    }
    r.headers.emplace_back("X-Elastic-Product", "Elasticsearch");
    return r;
  }
  if (fs.gzip_ok && r.body.size() > 1024) {
    r.body = body::gzip_compress(r.body);
    r.headers.emplace_back("Content-Encoding", "gzip");
  }
  return r;
}

template <class ClientStream, class UpstreamStream>
asio::awaitable<attempt_result> forward_once(session_state& st, ClientStream& client,
                                             proxy::upstream_connection& conn, UpstreamStream& up,
                                             forward_state& fs, outgoing_body<ClientStream>& body) {
  auto& settings = st.w.shared.settings;
  const auto request_timeout = settings.upstream.request_timeout;
  const auto idle_timeout = settings.limits.idle_timeout;
  const auto sent_at = std::chrono::steady_clock::now();  // esgate_upstream_duration_seconds

  // The head and what is in memory of the body go in one write. Nothing of the client's body
  // beyond that is consumed yet, so a dead pooled connection can still be retried elsewhere.
  st.watch->arm(request_timeout);
  {
    frame_first(st.gather, st.chunk_line, st.request_head, body.first, body.ranges, body.chunked,
                body.pump == nullptr);
    std::size_t written = 0;
    error_code ec;
    if (!http_io::write_now(up, st.gather, written, ec)) {
      std::size_t more = 0;
      std::tie(ec, more) = co_await http_io::write_rest_counted(up, st.gather, written);
      written += more;
    }
    if (ec) {
      // Not one byte of the request reached the node: another node can have it. Any byte may
      // have (Elasticsearch applies a streamed `_bulk` as its items arrive), so no retry then.
      if (written == 0) co_return attempt_result::retry;
      observability::node(conn.node).errors.add();
      fs.node_failed = true;
      fs.error = http::es_error(502, "esgate_upstream_exception",
                                "the connection to Elasticsearch failed while sending the request");
      fs.error.close = true;
      co_return attempt_result::failed;
    }
  }
  if (body.pump != nullptr) {
    fs.body_started = true;
    // From here on the request cannot be retried: what was read ahead (up to the look-ahead,
    // megabytes for a streamed bulk) is not needed any more, so memory stays at one piece.
    body.first = {};
    body.ranges = nullptr;
    st.release_body_buffers();
    std::string& piece = st.piece;
    for (;;) {
      st.watch->arm(idle_timeout);
      const auto status = co_await body.pump->next(piece);
      using S = typename body_pump<ClientStream>::status;
      if (status == S::client_gone) co_return attempt_result::client_gone;
      if (status == S::failed) {
        // The upstream request is abandoned without its last chunk: the node drops it.
        fs.error = body.pump->error;
        co_return attempt_result::failed;
      }
      const bool last = status == S::last;
      if (piece.empty() && !last) continue;
      const auto framed =
          frame_piece(st.chunk_line, {}, piece.data(), piece.size(), body.chunked, last);
      st.watch->arm(request_timeout);
      std::size_t written = 0;
      error_code ec;
      if (!http_io::write_now(up, framed.buffers(), written, ec))
        ec = co_await http_io::write_rest(up, framed.buffers(), written);
      if (ec) {
        observability::node(conn.node).errors.add();
        fs.node_failed = true;
        fs.error =
            http::es_error(502, "esgate_upstream_exception",
                           "the connection to Elasticsearch failed while sending the request");
        fs.error.close = true;  // the client body may be half read
        co_return attempt_result::failed;
      }
      if (last) break;
    }
  }

  bhttp::response_parser<bhttp::buffer_body> rp;
  rp.body_limit(boost::none);  // responses are streamed, never held (except rewritten ones)
  rp.header_limit(64 * 1024);
  if (fs.head) rp.skip(true);
  st.watch->arm(request_timeout);
  // The answer cannot be there yet: let the thread's other work run first, so the read below
  // usually finds it rather than failing once (EAGAIN) and then waiting.
  if (conn.buffer.size() == 0) co_await asio::post(asio::use_awaitable);
  if (auto ec = co_await http_io::read_header(up, conn.buffer, rp); ec) {
    // A kept-alive connection the node closed just before our request arrived. The node may as
    // well have applied the request and died before answering: only a request that can be
    // applied twice without harm is sent again, and only if its whole body is still in memory.
    if (conn.reused && !fs.body_started && fs.idempotent &&
        (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::eof))
      co_return attempt_result::retry;
    observability::node(conn.node).errors.add();
    fs.node_failed = true;
    if (st.watch->timed_out) {
      fs.error = http::es_error(504, "esgate_upstream_timeout_exception",
                                "Elasticsearch did not answer within upstream.request_timeout");
    } else {
      fs.error = http::es_error(502, "esgate_upstream_exception",
                                "the connection to Elasticsearch failed before a response arrived");
    }
    co_return attempt_result::failed;
  }

  observability::record_upstream_latency(conn.node, std::chrono::steady_clock::now() - sent_at);
  const auto& res = rp.get();
  // Draining since the request began: this answer closes the connection, so the client does not
  // send another request on a connection that is about to close (see write_gateway_response).
  if (st.w.shared.draining.load(std::memory_order_relaxed)) fs.client_keep_alive = false;
  const bool upstream_keep_alive = res.keep_alive();
  const unsigned status = res.result_int();
  // Outlier detection counts the node's own gateway failures; the answer is relayed as it is.
  fs.node_failed = status == 502 || status == 503 || status == 504;
  const bool no_body = fs.head || status / 100 == 1 || status == 204 || status == 304;
  const unsigned version = fs.req.get().version() >= 11 ? 11 : 10;

  if (fs.opens && !no_body && status / 100 == 2) {
    // Bound before the client can use the ids: the whole answer is read, its ids bound, then sent.
    std::string whole;
    if (auto ec = co_await read_whole_response(st, up, conn.buffer, rp, whole); ec) {
      observability::node(conn.node).errors.add();
      fs.node_failed = true;
      fs.error = http::es_error(502, "esgate_upstream_exception",
                                "the connection to Elasticsearch failed while reading a response");
      co_return attempt_result::failed;
    }
    cursor::id_sniffer sniffer(fs.opens->id_kind, fs.opens->scroll, fs.opens->task,
                               fs.opens->sql_cursor);
    sniffer.feed(whole);
    for (const auto& ref : sniffer.found()) {
      if (!co_await st.w.cursors->bind(ref, fs.owner, fs.opens->ttl))
        spdlog::warn("could not bind a {} id to its owner: it will not be usable",
                     cursor::to_string(ref.k));
    }
    bool keep = fs.client_keep_alive;
    st.response_head.clear();
    auto reason = res.reason();
    http::append_client_response_head(st.response_head, res.base(),
                                      {status, std::string_view(reason.data(), reason.size()),
                                       version, keep, http::body_framing::of_length(whole.size())});
    count_status(st, static_cast<int>(status));
    st.bytes_out = whole.size();
    std::array<asio::const_buffer, 2> parts{asio::buffer(st.response_head), asio::buffer(whole)};
    st.watch->arm(idle_timeout);
    if (co_await http_io::write_all(client, parts)) co_return attempt_result::client_gone;
    co_return upstream_keep_alive ? attempt_result::done : attempt_result::client_gone;
  }

  if (fs.rewrite && !no_body) {
    std::string whole = st.w.bodies.take();  // megabytes for a bulk answer: pooled
    if (auto ec = co_await read_whole_response(st, up, conn.buffer, rp, whole); ec) {
      observability::node(conn.node).errors.add();
      fs.node_failed = true;
      fs.error = http::es_error(502, "esgate_upstream_exception",
                                "the connection to Elasticsearch failed while reading a response");
      co_return attempt_result::failed;
    }
    if (auto parts = spliced_parts(fs, status, whole)) {
      // The upstream's head (its Content-Type, X-Elastic-Product, warnings) with the new length.
      st.response_head.clear();
      auto reason = res.reason();
      http::append_client_response_head(
          st.response_head, res.base(),
          {status, std::string_view(reason.data(), reason.size()), version, fs.client_keep_alive,
           http::body_framing::of_length(parts->size())});
      count_status(st, static_cast<int>(status));
      st.bytes_out = parts->size();
      auto& gather = st.gather;
      gather.clear();
      gather.push_back(asio::buffer(st.response_head));
      for (const auto part : parts->parts) gather.push_back(asio::buffer(part.data(), part.size()));
      st.watch->arm(idle_timeout);
      const bool gone = static_cast<bool>(co_await http_io::write_all(client, gather));
      st.w.bodies.give(std::move(whole), st.w.shared.settings.limits.body_lookahead);
      if (gone) co_return attempt_result::client_gone;
      co_return upstream_keep_alive ? attempt_result::done : attempt_result::client_gone;
    }
    auto r = rewritten_response(fs, status, rp, std::move(whole));
    if (co_await write_gateway_response(st, client, r, version, fs.client_keep_alive))
      co_return attempt_result::client_gone;
    co_return upstream_keep_alive ? attempt_result::done : attempt_result::client_gone;
  }

  bool keep = fs.client_keep_alive;
  const auto framing = client_framing(rp, no_body, version, keep);
  fs.client_keep_alive = keep;
  st.response_head.clear();
  auto reason = res.reason();
  http::append_client_response_head(
      st.response_head, res.base(),
      {status, std::string_view(reason.data(), reason.size()), version, keep, framing});
  count_status(st, static_cast<int>(status));

  // The head goes out with the first piece of the body (one write, one wake-up of the client for
  // small responses), or alone when there is none.
  auto r2 = co_await relay_body(st, up, conn.buffer, rp, client, st.response_head,
                                framing.k == http::body_framing::kind::chunked, no_body,
                                request_timeout, idle_timeout);
  if (r2.ec) {
    if (r2.reading_side) {  // the node cut its answer short
      observability::node(conn.node).errors.add();
      fs.node_failed = true;
    }
    co_return attempt_result::client_gone;  // response half sent: only closing is honest
  }
  co_return upstream_keep_alive ? attempt_result::done : attempt_result::client_gone;
}

// Waits for one of this thread's slots on `node` (node_admission.hpp): false when its pending
// queue is full, or no slot came free within upstream.connect_timeout.
asio::awaitable<bool> admit(session_state& st, std::size_t node, proxy::admission_slot& slot) {
  auto& a = st.w.admission;
  const auto verdict = a.arrive(node);
  if (verdict == proxy::node_admission::verdict::admitted) {
    slot = proxy::admission_slot(a, node);
    co_return true;
  }
  if (verdict == proxy::node_admission::verdict::refused) co_return false;
  proxy::admission_waiter waiter(
      asio::steady_timer(st.w.ioc, st.w.shared.settings.upstream.connect_timeout));
  a.enqueue(node, waiter);
  co_await waiter.timer.async_wait(use_tuple);
  if (!waiter.granted) {
    a.abandon(node, waiter);
    co_return false;
  }
  slot = proxy::admission_slot(a, node);
  co_return true;
}

// Outlier detection (nodes.hpp): each attempt's outcome counts for or against its node.
void record_outcome(shared_state& shared, std::size_t node, bool failed) {
  if (!failed) {
    shared.nodes.record_success(node);
    return;
  }
  if (shared.nodes.record_failure(node)) {
    observability::node(node).ejections.add();
    spdlog::warn(
        "upstream node {} ejected after {} failures in a row (timeouts, broken connections, "
        "502/503/504); it is re-admitted when GET / answers 2xx",
        shared.nodes.node(node).url, shared.settings.upstream.outlier.consecutive_failures);
  }
}

// Sends the request (head from st.request_head, then `body`) to a node, retrying on others while
// no byte of it reached a node, and relays the answer.
template <class ClientStream>
asio::awaitable<bool> send_upstream(session_state& st, ClientStream& client, forward_state& fs,
                                    outgoing_body<ClientStream>& body) {
  auto& w = st.w;
  auto& shared = w.shared;
  const auto method = fs.req.get().method();
  fs.idempotent =
      method == bhttp::verb::get || method == bhttp::verb::head || method == bhttp::verb::options;
  std::uint64_t tried = 0;
  bool overloaded = false;  // a node was skipped because its queue was full
  for (std::size_t attempt = 0; attempt < shared.nodes.size() + 2; ++attempt) {
    auto node = shared.nodes.pick(w.rr_cursor, tried);
    if (!node) break;
    proxy::admission_slot slot;
    if (!co_await admit(st, *node, slot)) {
      overloaded = true;
      tried |= 1ull << (*node % 64);
      continue;
    }
    // A non-idempotent request is never sent twice, so it is never written into a connection
    // the node may have closed: one peek (a syscall) rules that out first.
    auto conn = w.pool.take_idle(*node, !fs.idempotent);
    error_code ec;
    if (!conn) std::tie(conn, ec) = co_await w.pool.connect(*node);
    if (ec) {
      spdlog::warn("upstream {} failed: {}", shared.nodes.node(*node).url, ec.message());
      shared.nodes.mark_down(*node);
      record_outcome(shared, *node, true);
      tried |= 1ull << (*node % 64);
      observability::node(*node).errors.add();
      observability::node(*node).retries.add();
      continue;
    }
    if (!conn->reused) shared.nodes.mark_up(*node);
    st.watch->upstream = &conn->lowest();
    st.node = shared.nodes.node(*node).url;
    fs.node_failed = false;
    auto result = co_await std::visit(
        [&](auto& up) { return forward_once(st, client, *conn, up, fs, body); }, conn->stream);
    st.watch->upstream = nullptr;
    if (result != attempt_result::retry) record_outcome(shared, *node, fs.node_failed);
    switch (result) {
      case attempt_result::done:
        w.pool.release(std::move(conn));
        co_return fs.client_keep_alive;
      case attempt_result::client_gone:
        co_return false;
      case attempt_result::retry:
        observability::node(*node).retries.add();
        if (!conn->reused) {  // a fresh connection failed: the node is in trouble
          shared.nodes.mark_down(*node);
          record_outcome(shared, *node, true);
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
  // The connection stays usable only if the client's body was read to its end.
  const bool reusable = !fs.body_started && body.pump == nullptr && fs.client_keep_alive;
  if (overloaded) {
    auto err = http::es_error(
        503, "esgate_upstream_overloaded_exception",
        "too many requests are waiting for Elasticsearch (upstream.max_connections_per_node and "
        "upstream.max_pending_per_node are reached); retry later");
    err.headers.emplace_back("Retry-After", "1");
    co_await write_gateway_response(st, client, err, 11, reusable);
    co_return reusable;
  }
  auto err = http::es_error(502, "esgate_upstream_exception",
                            "no Elasticsearch node is reachable at the configured upstream");
  co_await write_gateway_response(st, client, err, 11, reusable);
  co_return reusable;
}

// The query string without the response-shaping parameters the gateway applies itself.
es::query_params without_shaping(const es::query_params& q) {
  es::query_params out;
  for (const auto& p : q)
    if (p.first != "filter_path" && p.first != "pretty") out.push_back(p);
  return out;
}

// Bodies the gateway inspects are parsed as JSON: YAML, CBOR and Smile (which Elasticsearch also
// reads) could name indices the gateway cannot see, so they are refused. No Content-Type is
// Elasticsearch's own error to give.
bool json_content_type(beast::string_view value) {
  const std::string_view v(value.data(), value.size());
  const auto semi = v.find(';');
  std::string_view media = v.substr(0, semi);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  if (media.empty()) return true;
  for (const std::string_view ok :
       {"application/json", "application/x-ndjson", "application/vnd.elasticsearch+json",
        "application/vnd.elasticsearch+x-ndjson"})
    if (beast::iequals(media, ok)) return true;
  return false;
}

// Everything needed to forward one authorized request.
struct forward_request {
  const es::authz_decision& decision;
  const es::request_target& target;
  const policy::identity& who;
  bool keep_alive;
};

template <class ClientStream>
asio::awaitable<bool> forward(session_state& st, ClientStream& client,
                              beast::flat_buffer& client_buffer, client_parser& req,
                              const forward_request& fr) {
  auto& w = st.w;
  auto& shared = w.shared;
  const auto& limits = shared.settings.limits;
  const auto& msg = req.get();
  const auto& d = fr.decision;
  forward_state fs{req};
  fs.head = msg.method() == bhttp::verb::head;
  fs.client_keep_alive = fr.keep_alive;
  const auto accept_encoding = msg[bhttp::field::accept_encoding];
  fs.gzip_ok = body::accepts_gzip(std::string_view(accept_encoding.data(), accept_encoding.size()));
  const unsigned version = msg.version();
  // An answer before the body was read leaves the connection out of sync: it closes.
  auto refuse = [&](http::gateway_response r) -> asio::awaitable<bool> {
    r.close = true;
    co_await write_gateway_response(st, client, r, version, false);
    co_return false;
  };

  outgoing_body<ClientStream> out;
  std::string& body_bytes = st.body;
  body_bytes.clear();
  request_body_reader reader(req.chunked(), req.content_length().value_or(0),
                             limits.max_body_bytes);
  body_pump<ClientStream> pump{client, client_buffer, reader};
  std::optional<bulk::bulk_filter> streamed_bulk;
  budget_hold budget;
  bool drop_content_encoding = false;

  if (has_body(req)) {
    if (beast::iequals(msg[bhttp::field::expect], "100-continue")) {
      // The client waits for this before sending its body (curl does for bodies over 1 MB).
      static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
      st.watch->arm(limits.idle_timeout);
      if (co_await http_io::write_all(client, asio::buffer(cont.data(), cont.size())))
        co_return false;
    }
    const bool inspected = d.inspect != es::body_targets::none || d.check_query_body;
    // Bodies naming a context (scroll ids, PIT ids) are read whole too.
    const bool read_whole = inspected || d.continues != es::context_kind::none;
    // What is read before anything goes upstream: the first relay buffer of a streamed body, or
    // an inspected body whole (up to the look-ahead).
    const auto length = req.content_length();
    // A bulk whose length already says it exceeds the look-ahead is filtered as it streams from
    // its first piece on: reading the look-ahead first would cost its memory for nothing, since
    // the body cannot be validated whole anyway (see body_pump::fail for what a late error means).
    const bool streams_from_start = d.inspect == es::body_targets::bulk && !d.check_query_body &&
                                    length && *length > limits.body_lookahead;
    std::uint64_t first_size = relay_buffer_size;
    if (read_whole && !streams_from_start) first_size = limits.body_lookahead;
    const std::uint64_t hold = length ? std::min(*length, first_size) : first_size;
    if (read_whole && !budget.take(shared.buffered_body_bytes, hold, limits.body_buffer_budget)) {
      auto r = http::es_error(429, "es_rejected_execution_exception",
                              "rejected execution: the gateway's buffer for request bodies "
                              "(limits.body_buffer_budget) is exhausted");
      r.headers.emplace_back("Retry-After", "1");
      co_return co_await refuse(std::move(r));
    }
    std::optional<body::coding> coding = body::coding::identity;
    if (read_whole && !json_content_type(msg[bhttp::field::content_type]))
      co_return co_await refuse(http::es_error(
          415, "illegal_argument_exception",
          "Content-Type [" + std::string(msg[bhttp::field::content_type]) +
              "] is not supported by esgate for a request body it must inspect: send JSON "
              "(application/json or application/x-ndjson)"));
    if (read_whole) {
      const auto ce = msg[bhttp::field::content_encoding];
      coding = body::parse_content_coding(std::string_view(ce.data(), ce.size()));
      if (!coding)
        co_return co_await refuse(http::es_error(
            415, "illegal_argument_exception",
            "unsupported Content-Encoding [" + std::string(ce) +
                "]: esgate reads this request's body and accepts gzip, deflate or identity"));
    }
    // One allocation instead of a string doubling through the body (which holds the old and the
    // new copy at once): its length, or the look-ahead when chunked (address space only: pages
    // are touched as the body arrives).
    if (read_whole) {
      st.take_body_buffer();
      body_bytes.reserve(static_cast<std::size_t>(hold));
    }
    st.watch->arm(limits.idle_timeout);
    if (co_await read_request_body(client, client_buffer, reader, body_bytes,
                                   static_cast<std::size_t>(first_size)))
      co_return false;
    if (reader.failed())
      co_return co_await refuse(http::es_error(
          reader.status(),
          reader.status() == 413 ? "content_too_long_exception" : "illegal_argument_exception",
          reader.error()));
    if (read_whole && *coding != body::coding::identity) {
      if (!reader.done())
        co_return co_await refuse(
            http::es_error(413, "content_too_long_exception",
                           "compressed request body is larger than limits.body_lookahead"));
      body::inflater inflate(*coding, limits.body_lookahead);
      std::string plain;
      inflate.feed(body_bytes, plain, true);
      if (inflate.failed()) {
        if (inflate.too_large())
          co_return co_await refuse(http::es_error(
              413, "content_too_long_exception",
              "inflated request body is larger than limits.body_lookahead or compressed more "
              "than 100:1"));
        co_return co_await refuse(
            http::es_error(400, "illegal_argument_exception", inflate.error()));
      }
      body_bytes = std::move(plain);
      drop_content_encoding = true;
    }
    out.first = body_bytes;
    if (inspected) {
      std::shared_ptr<const es::cluster_metadata> md;
      if (!fr.who.effective.is_superuser()) {
        md = co_await cluster_metadata_for(w);
        if (!md) {
          co_return co_await refuse(http::es_error(
              503, "esgate_metadata_unavailable_exception",
              "cannot authorize the request body: Elasticsearch's index list is unavailable"));
        }
      }
      std::string err;
      auto expand = es::parse_expand_wildcards(
          es::find_query_param(fr.target.query, "expand_wildcards").value_or(std::string_view{}));
      const auto ignore = es::find_query_param(fr.target.query, "ignore_unavailable");
      const es::body_target_context ctx{fr.who, std::chrono::system_clock::now(), md.get(),
                                        expand ? *expand : es::expand_wildcards{},
                                        ignore && (ignore->empty() || *ignore == "true")};
      if (reader.done()) {
        auto ins = inspect_body(d, fr.target, body_bytes, ctx);
        if (ins.k == inspection::kind::answer) {
          if (ins.answer.status == 403 && shared.audit && st.facts) {
            const auto indices = requested_indices(d, fr.target);
            audit_access(*shared.audit, *st.facts, fr.who, false, d.action, indices,
                         "a request body item is not authorized", 403);
          }
          auto ec = co_await write_gateway_response(st, client, ins.answer, version,
                                                    fr.keep_alive && !ins.answer.close);
          co_return !ec && fr.keep_alive && !ins.answer.close;
        }
        if (ins.body_changed && !ins.forward_ranges.empty()) {
          st.first_ranges = std::move(ins.forward_ranges);
          out.ranges = &st.first_ranges;
        } else if (ins.body_changed) {
          st.body2 = std::move(ins.forward_body);
          out.first = st.body2;
        }
        fs.rewrite = std::move(ins.rewrite);
      } else if (d.inspect == es::body_targets::bulk && !d.check_query_body) {
        // Larger than the look-ahead: filtered as it streams (deterministic failure mode: see
        // body_pump::fail).
        bulk::bulk_defaults defaults;
        if (d.ep && !d.ep->index_param.empty() && !fr.target.segments.empty())
          defaults.index = fr.target.segments.front();
        streamed_bulk.emplace(std::move(defaults), make_body_authorizer(ctx));
        auto fed = streamed_bulk->feed(body_bytes, false);
        if (!fed) co_return co_await refuse(error_response(*streamed_bulk->error()));
        st.first_ranges = std::move(fed->forward);
        out.ranges = &st.first_ranges;
        pump.pending.assign(body_bytes, fed->consumed);
        pump.bulk = &*streamed_bulk;
        pump.max_item = limits.body_lookahead;
        out.pump = &pump;
        out.chunked = true;
        fs.rewrite = rewrite_for(es::body_targets::bulk, fr.target.query);
        fs.streamed_bulk = &*streamed_bulk;
      } else {
        co_return co_await refuse(http::es_error(
            413, "content_too_long_exception",
            "request body is larger than limits.body_lookahead, and esgate must read this "
            "request's body whole to authorize it"));
      }
    } else if (read_whole && !reader.done()) {
      co_return co_await refuse(http::es_error(
          413, "content_too_long_exception",
          "request body is larger than limits.body_lookahead, and esgate must read this "
          "request's body whole to authorize it"));
    } else if (!reader.done()) {
      out.pump = &pump;
      out.chunked = reader.chunked();
    }
  }

  // Contexts: a continuation must name ids its identity opened; an opening gets its ids bound.
  const auto owner_of_request = [&fr] {
    return cursor::owner_tag(fr.who.is_api_key(), fr.who.api_key_id, fr.who.realm(),
                             fr.who.username);
  };
  std::optional<std::string> target_override;
  std::vector<cursor::context_ref> used;
  if (d.continues != es::context_kind::none) {
    // A body in the query string (`source=`) would name ids the gateway does not read.
    if (es::has_source_param(fr.target.query))
      co_return co_await refuse(http::es_error(
          400, "illegal_argument_exception",
          "the [source] query parameter is not supported by esgate; send the request body "
          "instead"));
    used = continuation_ids(d, fr.target, out.first);
    if (used.empty()) {
      if (d.continues != es::context_kind::task)
        co_return co_await refuse(
            http::es_error(400, "illegal_argument_exception",
                           "no " + std::string(cursor::to_string(cursor_kind_of(d.continues))) +
                               " id given: name it in the path or the request body"));
      if (!fr.who.effective.has_cluster_privilege("all"))
        co_return co_await refuse(
            http::forbidden("action [" + d.action + "] is unauthorized for " + fr.who.subject() +
                            ": name the task; tasks belong to the identity that started them"));
    }
  } else if (d.ep != nullptr && d.ep->body == es::body_targets::pit && !out.first.empty() &&
             out.pump == nullptr) {
    if (auto pit = multi::pit_id_of(out.first)) {
      used.push_back({cursor::kind::pit, std::move(*pit)});
      // ES refuses indices beside a PIT: forward the path as the client sent it, not narrowed.
      target_override = es::build_upstream_target(fr.target);
    }
  }
  std::string owner;
  if (!used.empty()) owner = owner_of_request();
  for (const auto& ref : used) {
    const auto found = co_await w.cursors->owner_of(ref);
    if (!found.ok)
      co_return co_await refuse(
          http::es_error(503, "esgate_key_store_unavailable_exception",
                         "the key store (Redis) is unavailable: contexts cannot be checked"));
    if (!found.owner || *found.owner != owner) {
      auto r = context_missing(ref.k, ref.id);
      const bool keep = fr.keep_alive && reader.done();
      auto ec = co_await write_gateway_response(st, client, r, version, keep);
      co_return !ec && keep;
    }
  }
  if (!used.empty()) {
    if (const auto ttl = extension_of(d, fr.target, out.first)) {
      for (const auto& ref : used) co_await w.cursors->extend(ref, *ttl);
    }
  }
  fs.opens = opening_of(d, fr.target);
  if (fs.opens) fs.owner = owner_of_request();

  // The head: framing chosen by the gateway (the whole body in memory goes with its length).
  const auto method = msg.method_string();
  // (if/else, not ?: around temporaries in a coroutine: g++ 12 destroys them twice.)
  std::string rebuilt;
  std::string_view target = d.upstream_target;
  if (target_override) {
    target = *target_override;
  } else if (fs.rewrite) {
    rebuilt = es::build_upstream_target(fr.target.segments, without_shaping(fr.target.query));
    target = rebuilt;
  }
  http::body_framing framing = http::body_framing::no_body();
  if (has_body(req)) {
    if (out.pump == nullptr)
      framing = http::body_framing::of_length(out.first_size());
    else if (out.chunked)
      framing = http::body_framing::chunked();
    else
      framing = http::body_framing::of_length(*req.content_length());
  }
  st.request_head.clear();
  http::upstream_request_head h{std::string_view(method.data(), method.size()),
                                target,  // rebuilt from the authorized, canonical segments
                                shared.upstream_authorization,
                                st.client_ip,
                                st.tls ? "https" : "http",
                                framing};
  h.drop_content_encoding = drop_content_encoding;
  h.drop_accept_encoding = fs.rewrite.has_value() || fs.opens.has_value();
  http::append_upstream_request_head(st.request_head, msg.base(), h);
  const bool keep = co_await send_upstream(st, client, fs, out);
  // A bulk filtered as it streamed: its items are all known now (inspect_body counts the others).
  if (streamed_bulk)
    observability::record_items(observability::item_api::bulk, streamed_bulk->forwarded_items(),
                                streamed_bulk->denied().size());
  co_return keep;
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

observability::realm realm_of(const auth::credentials& c) {
  if (std::holds_alternative<auth::api_key_credentials>(c)) return observability::realm::api_key;
  if (std::holds_alternative<auth::basic_credentials>(c)) return observability::realm::file;
  return observability::realm::none;
}

// The audit log's reason code for a failed authentication (stable, never a secret): the metrics'
// result, or for an unparsable header what was wrong with it.
std::string_view audit_reason(const auth::credentials& c, observability::auth_result r) {
  using R = observability::auth_result;
  if (const auto* bad = std::get_if<auth::invalid_credentials>(&c))
    return auth::to_string(bad->code);
  switch (r) {
    case R::missing:
      return "no_credentials";
    case R::unknown_user:
      return "unknown_user";
    case R::bad_password:
      return "bad_password";
    case R::unknown_key:
      return "unknown_api_key";
    case R::bad_secret:
      return "bad_api_key_secret";
    case R::expired:
      return "expired";
    case R::invalidated:
      return "invalidated";
    case R::wrong_type:
      return "wrong_api_key_type";
    case R::owner_missing:
      return "owner_missing";
    case R::store_unavailable:
      return "store_unavailable";
    default:
      return "not_settled";
  }
}

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

using steady = std::chrono::steady_clock;

std::int64_t micros_since(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t).count();
}

// The gateway's own id of a request, SALT-THREAD-COUNTER in hex (the salt 8 digits): no
// allocation, and digits written directly rather than by snprintf, which cost ~1,300
// instructions per request with the audit log on (bench/instructions.sh, RESULTS.md).
std::string_view make_request_id(worker& w, std::array<char, 40>& buf) {
  char* p = buf.data();
  char* const end = buf.data() + buf.size();
  const auto salt = static_cast<std::uint32_t>(w.shared.request_id_salt);
  for (int shift = 28; shift >= 0; shift -= 4) *p++ = "0123456789abcdef"[(salt >> shift) & 0xF];
  *p++ = '-';
  p = std::to_chars(p, end, w.index, 16).ptr;
  *p++ = '-';
  p = std::to_chars(p, end, ++w.request_counter, 16).ptr;
  return {buf.data(), static_cast<std::size_t>(p - buf.data())};
}

// The access-log line of one request, written when handle_request returns (however it does).
struct access_line {
  access_line(session_state& s, const request_facts& f) : st(s), facts(f) {}
  access_line(const access_line&) = delete;
  access_line& operator=(const access_line&) = delete;
  session_state& st;
  const request_facts& facts;
  observability::line_writer* log = nullptr;
  steady::time_point start{};
  std::int64_t authn_us = -1, authz_us = -1, upstream_us = -1;
  std::uint64_t bytes_in = 0;
  std::shared_ptr<const policy::identity> who;
  ~access_line() {
    if (log == nullptr) return;
    observability::access_record r;
    r.request_id = facts.request_id;
    r.opaque_id = facts.opaque_id;
    r.client_ip = facts.client_ip;
    r.method = facts.method;
    r.path = facts.path;
    r.status = st.status;
    r.bytes_in = bytes_in;
    r.bytes_out = st.bytes_out;
    r.authn_us = authn_us;
    r.authz_us = authz_us;
    r.upstream_us = upstream_us;
    r.total_us = micros_since(start);
    if (who) {
      r.user = who->username;
      r.realm = who->realm();
      r.api_key_id = who->api_key_id;
    }
    r.node = st.node;
    std::string line;
    line.reserve(320);
    observability::append_access_line(line, r, st.w.shared.access_log_json);
    log->offer(std::move(line));
  }
};

// Evaluates the shadow policy beside the live decision `live_allowed` (never enforced): counts
// it and, when it differs, audits shadow_granted / shadow_denied.
void run_shadow(session_state& st, const security_state& sec, const policy::identity& who,
                const es::authz_request& ar, const es::authz_decision& d, bool live_allowed,
                const es::request_target& t) {
  auto& w = st.w;
  const es::cluster_metadata* md = ar.metadata;
  if (md == nullptr && w.metadata) md = w.metadata.get();  // the thread's last index list, if any
  const auto verdict = shadow_allows(sec, who, ar, md);
  if (!verdict) return;
  observability::record_shadow_decision(*verdict);
  if (*verdict == live_allowed || !w.shared.audit || st.facts == nullptr) return;
  auto& log = *w.shared.audit;
  const auto e = *verdict ? observability::audit_event::shadow_granted
                          : observability::audit_event::shadow_denied;
  if (!log.wants(e)) return;
  auto r = base_record(e, *st.facts);
  set_identity(r, who);
  const auto indices = requested_indices(d, t);
  r.action = d.action;
  r.indices = indices;
  r.decision = *verdict ? "allow" : "deny";
  r.live_decision = live_allowed ? "allow" : "deny";
  r.reason = "security.shadow_roles_file";
  log.record(r);
}

// Handles one request whose header has been read. Returns whether the connection stays open.
template <class Stream>
asio::awaitable<bool> handle_request(session_state& st, Stream& stream, beast::flat_buffer& buffer,
                                     client_parser& hp) {
  auto& w = st.w;
  auto& shared = w.shared;
  auto& req = hp.get();
  st.req_method = observability::method_of(
      std::string_view(req.method_string().data(), req.method_string().size()));
  st.req_family = observability::family::other;
  const unsigned version = req.version();
  // Audit and access log: with both off this is the only cost on the request path.
  auto* const audit = shared.audit.get();
  request_facts facts;
  std::array<char, 40> id_buf;
  access_line access{st, facts};
  st.status = 0;
  st.bytes_out = 0;
  st.node = {};
  st.facts = nullptr;
  if (audit != nullptr || shared.access_log != nullptr) {
    facts.request_id = make_request_id(w, id_buf);
    // Copied (into buffers that keep their capacity): the security API moves the parsed head
    // into another parser, which frees what views into it would see.
    const auto opaque = req["X-Opaque-Id"];
    st.log_opaque_id.assign(opaque.data(), opaque.size());
    st.log_method.assign(req.method_string().data(), req.method_string().size());
    st.log_path = path_of(std::string_view(req.target().data(), req.target().size()));
    facts.opaque_id = st.log_opaque_id;
    facts.client_ip = st.client_ip;
    facts.method = st.log_method;
    facts.path = st.log_path;
    st.facts = &facts;
    if (shared.access_log) {
      access.log = shared.access_log.get();
      access.start = steady::now();
      access.bytes_in = hp.content_length().value_or(0);
    }
  }
  bool keep_alive = req.keep_alive() && !shared.draining.load(std::memory_order_relaxed);
  // An answer given without reading the body leaves the connection out of sync: close it then.
  auto answer = [&](http::gateway_response r) -> asio::awaitable<bool> {
    const bool keep = keep_alive && !has_body(hp) && !r.close;
    auto ec = co_await write_gateway_response(st, stream, r, version, keep,
                                              req.method() == bhttp::verb::head);
    co_return !ec && keep;
  };

  if (auto problem = http::framing_problem(req.base(), version)) {
    if (audit) audit_tampered(*audit, facts, *problem, 400);
    auto r = http::es_error(400, "illegal_argument_exception", *problem);
    r.close = true;
    co_return co_await answer(std::move(r));
  }
  // Host, Upgrade, CONNECT/TRACE and absolute-form rules (http/request_head.hpp): refused before
  // authentication, so nothing of such a request is ever forwarded, and the connection closes.
  auto head = http::check_request_head(
      std::string_view(req.method_string().data(), req.method_string().size()),
      std::string_view(req.target().data(), req.target().size()), version, req.base());
  if (head.problem) {
    if (audit) audit_tampered(*audit, facts, head.problem->reason, head.problem->status);
    auto r =
        http::es_error(head.problem->status, "illegal_argument_exception", head.problem->reason);
    if (head.problem->status == 405)
      r.headers.emplace_back("Allow", std::string(http::forwardable_methods));
    r.close = true;
    co_return co_await answer(std::move(r));
  }
  // An agreeing absolute-form target continues as its origin form.
  std::string_view target = req.target();
  if (!head.origin_form.empty()) target = head.origin_form;
  if (target.empty() || target.front() != '/') {
    if (audit) audit_tampered(*audit, facts, "request target must start with [/]", 400);
    auto r =
        http::es_error(400, "illegal_argument_exception", "request target must start with [/]");
    r.close = true;
    co_return co_await answer(std::move(r));
  }
  const auto path = path_of(target);
  st.req_family = observability::family_of(path);

  if (path == "/_esgate/health" &&
      (req.method() == bhttp::verb::get || req.method() == bhttp::verb::head)) {
    admin::health_inputs in;
    in.nodes_total = shared.nodes.size();
    in.nodes_reachable = shared.nodes.reachable_count();
    in.nodes_ejected = shared.nodes.ejected_count();
    in.version = ESGATE_VERSION;
    fill_key_store_health(shared, in);
    co_return co_await answer(admin::health_response(in));
  }

  const auto authorization = req[bhttp::field::authorization];
  st.credentials.update(std::string_view(authorization.data(), authorization.size()),
                        shared.digester);
  steady::time_point phase{};
  if (access.log) phase = steady::now();
  auto outcome = authenticate_now(w, st.credentials, target);
  // (Not a ?: around co_await: g++ 12 destroys such temporaries twice.)
  if (!outcome) outcome = co_await authenticate(w, st.credentials, target);
  if (access.log) access.authn_us = micros_since(phase);
  observability::record_authentication(realm_of(st.credentials.creds()), outcome->result);
  if (!outcome->who) {
    if (audit)
      audit_authentication_failure(*audit, facts, st.credentials.creds(),
                                   audit_reason(st.credentials.creds(), outcome->result),
                                   outcome->rejection.status);
    co_return co_await answer(std::move(outcome->rejection));
  }
  const policy::identity& who = *outcome->who;
  if (access.log) access.who = outcome->who;
  if (audit) audit_authentication_success(*audit, facts, who);

  if (path == "/_esgate/metrics") {
    static constexpr std::string_view metrics_action = "cluster:monitor/esgate/metrics";
    const bool allowed = who.effective.has_cluster_privilege("monitor");
    observability::record_authorization(
        observability::action_class::served,
        allowed ? observability::authz_result::allowed : observability::authz_result::denied);
    if (audit)
      audit_access(*audit, facts, who, allowed, metrics_action, {},
                   allowed ? std::string_view("cluster privilege [monitor]")
                           : std::string_view("needs cluster privilege [monitor,manage,all]"),
                   allowed ? 200 : 403);
    if (!allowed)
      co_return co_await answer(http::forbidden(
          "action [cluster:monitor/esgate/metrics] is unauthorized for " + who.subject() +
          ", this action is granted by the cluster privileges [monitor,manage,all]"));
    co_return co_await answer(metrics_response());
  }

  const std::string method(req.method_string());
  // A verdict made before for this identity, method and target (authz_cache.hpp) brings the
  // decoded target with it; else the target is decoded here and authorized below.
  const authz_cache::verdict_ptr remembered = w.authz.find(&who, method, target);
  std::shared_ptr<authz_cache::verdict> fresh;
  if (!remembered) {
    auto parsed = es::parse_request_target(target);
    if (!parsed) {
      if (audit) audit_tampered(*audit, facts, parsed.error().reason, 400);
      co_return co_await answer(
          http::es_error(400, "illegal_argument_exception", parsed.error().reason));
    }
    fresh = std::make_shared<authz_cache::verdict>();
    fresh->target = std::move(*parsed);
  }
  const es::request_target& t = remembered ? remembered->target : fresh->target;

  if (admin::is_security_api(t.segments)) {
    auto body = co_await read_small_body(st, stream, buffer, hp);
    if (!body) co_return false;  // client went away or sent a malformed/oversized body
    auto r = co_await serve_security_api(st, method, t, *body, who);
    observability::record_authorization(observability::action_class::served,
                                        r.status == 403 ? observability::authz_result::denied
                                                        : observability::authz_result::allowed);
    if (audit) {
      const bool denied = r.status == 403;
      audit_access(*audit, facts, who, !denied, security_api_action(method, t.segments), {},
                   denied ? std::string_view("the security API refused it") : std::string_view(),
                   r.status);
      audit_key_change(*audit, facts, who, method, t.segments, r);
    }
    auto ec = co_await write_gateway_response(st, stream, r, version, keep_alive && !r.close);
    co_return !ec && keep_alive && !r.close;
  }

  if (access.log) phase = steady::now();
  es::authz_request ar{method, t, who, std::chrono::system_clock::now(), nullptr};
  if (!remembered) {
    fresh->decision = es::authorize(ar);
    if (authz_cache::cacheable(t, fresh->decision))
      w.authz.remember(outcome->who, method, target, fresh);  // not changed after this
  }
  std::shared_ptr<const es::cluster_metadata> md;
  if (!remembered && fresh->decision.k == es::authz_decision::kind::need_metadata) {
    md = co_await cluster_metadata_for(w);
    if (!md) {
      co_return co_await answer(http::es_error(
          503, "esgate_metadata_unavailable_exception",
          "cannot resolve the index expression: Elasticsearch's index list is unavailable"));
    }
    ar.metadata = md.get();
    fresh->decision = es::authorize(ar);  // never remembered (cacheable() refused it)
  }
  const es::authz_decision& d = remembered ? remembered->decision : fresh->decision;
  if (access.log) access.authz_us = micros_since(phase);
  using K = es::authz_decision::kind;
  {
    const auto cls = d.ep ? static_cast<observability::action_class>(d.ep->kind)
                          : observability::action_class::unclassified;
    using R = observability::authz_result;
    R res = R::error;
    if (d.k == K::allow) res = d.empty_result ? R::empty : R::allowed;
    if (d.k == K::deny) res = R::denied;
    observability::record_authorization(cls, res);
  }
  if (d.k == K::allow || d.k == K::deny) {
    const bool allowed = d.k == K::allow;
    // The shadow policy: evaluated and counted, never enforced (security.shadow_roles_file).
    if (const auto& sec = w.security; sec->has_shadow) run_shadow(st, *sec, who, ar, d, allowed, t);
    if (audit && audit->wants(allowed ? observability::audit_event::access_granted
                                      : observability::audit_event::access_denied)) {
      const auto indices = requested_indices(d, t);
      std::string_view why;  // (no ?: on temporaries in a coroutine, g++ 12)
      if (!allowed) why = d.reason;
      audit_access(*audit, facts, who, allowed, d.action, indices, why, allowed ? 0 : 403);
    }
  }
  switch (d.k) {
    case K::allow:
      break;
    case K::deny:
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
  if (access.log) phase = steady::now();
  const bool keep = co_await forward(st, stream, buffer, hp, {d, t, who, keep_alive});
  if (access.log) access.upstream_us = micros_since(phase);
  st.return_buffer();  // an idle connection holds no relay buffer
  st.release_body_buffers();
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
      error_code ec;
      // An idle keep-alive connection holds no read buffer: wait for readability with none,
      // then read (10,000 idle clients cost their sockets, not 10,000 buffers). Over TLS,
      // OpenSSL has released its record buffers by now too (net/tls_stream.hpp), unless it
      // still holds bytes of a pipelined request.
      bool wait = true;
      if constexpr (http_io::is_tls_stream<Stream>) wait = !stream.has_buffered_input();
      if (wait) {
        buffer.shrink_to_fit();
        std::tie(ec) = co_await lowest.async_wait(asio::socket_base::wait_read, use_tuple);
      }
      if (!ec) ec = co_await http_io::read_more(stream, buffer);
      w.idle_streams.erase(&lowest);
      if (ec) break;
    }
    st.req_method = observability::method::other;
    st.req_family = observability::family::other;
    client_parser hp;
    hp.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    hp.body_limit(limits.max_body_bytes);
    st.watch->arm(limits.header_timeout);
    error_code ec;
    // Bare CR/LF, NUL and obs-fold in the raw head (http/request_head.hpp): the node behind us
    // may split or join such lines differently (HTTP Garden), so they are refused as they arrive.
    http::head_scanner scan;
    std::size_t head_size = 0;  // the head's bytes stay in `buffer` until it is parsed
    if (!http_io::parse_header_kept_now(buffer, hp, head_size, scan, ec))
      ec = co_await http_io::read_header_kept(stream, buffer, hp, head_size, scan);
    if (!ec) buffer.consume(head_size);
    if (ec) {
      http::gateway_response r;
      if (scan.problem())
        r = http::es_error(400, "illegal_argument_exception", *scan.problem());
      else if (st.watch->timed_out)
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
      // A head the gateway cannot read (bare CR/LF, NUL, obs-fold, bad syntax): the shape of
      // request smuggling, audited as ES's tampered_request.
      if (auto* audit = w.shared.audit.get(); audit && r.status == 400) {
        request_facts facts;
        facts.client_ip = st.client_ip;
        std::string why = "malformed HTTP request: " + ec.message();
        if (scan.problem()) why = *scan.problem();
        audit_tampered(*audit, facts, why, 400);
      }
      co_await write_gateway_response(st, stream, r, 11, false);
      break;
    }
    bool keep = co_await handle_request(st, stream, buffer, hp);
    if (!keep || w.shared.draining.load(std::memory_order_relaxed)) break;
  }
  error_code ignored;
  if constexpr (http_io::is_tls_stream<Stream>) {
    st.watch->arm(std::chrono::seconds(2));  // close_notify only; the peer's is not awaited
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
    net::tls_stream stream(std::move(socket), tls->native_handle());
    st.watch->client = &stream.next_layer();
    st.watch->arm(w.shared.settings.limits.header_timeout);
    auto [hec, hn] = co_await stream.async_handshake(use_tuple);
    if (hec)
      observability::local().tls_handshakes_failed.add();
    else
      observability::local().tls_handshakes_ok.add();
    if (hec) co_return;  // garbage, a refused certificate, a timeout: just close
    co_await serve(st, stream);
  } else {
    // Non-blocking: http_io reads and writes synchronously first when the socket is ready.
    socket.non_blocking(true, ec);
    st.watch->client = &socket;
    co_await serve(st, socket);
  }
}

}  // namespace esgate::app
