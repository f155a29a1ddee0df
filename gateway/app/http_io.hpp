#pragma once
// HTTP/1.1 message I/O for the session: Beast's parser driven directly (parser.put on the
// connection's buffer) and writes as one gather write of a flat head plus body bytes. Beast's
// composed http::async_read/async_write post every completion through the scheduler and walk
// the serializer's nested buffer views; per proxied request that cost more than authentication
// and authorization together (bench/RESULTS.md). The parsing itself stays Beast's.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <string_view>
#include <type_traits>
#include <utility>

#include "esgate/net/tls_stream.hpp"

namespace esgate::app::http_io {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class Stream>
inline constexpr bool is_plain_socket = std::is_same_v<Stream, asio::ip::tcp::socket>;
template <class Stream>
inline constexpr bool is_tls_stream = std::is_same_v<Stream, net::tls_stream>;

// How much to read into `b` next: into the room it has, or 4 KiB more when little is left. (Asking
// for at least 4 KiB whatever the room made every read of a head arriving in pieces reallocate
// the buffer, to a size one read larger: a fresh 4 KiB per trickled byte of a slowloris.)
inline std::size_t read_size(const beast::flat_buffer& b) {
  const std::size_t room = b.capacity() - b.size();
  return room >= 1024 ? std::min<std::size_t>(room, 65536) : 4096;
}

// Reads what is available into `b`. Through the stream's async_read_some: Asio tries the read at
// once and waits for readiness only if it fails. (Reads that cannot succeed yet are avoided by
// the caller waiting for readability first, see session.cpp.) The TLS stream is read at once
// here: its async_read_some would post the completion of a read that needed no wait.
template <class Stream>
asio::awaitable<error_code> read_more(Stream& s, beast::flat_buffer& b) {
  if constexpr (is_tls_stream<Stream>) {
    error_code ec;
    net::tls_stream::wait_type want{};
    const std::size_t n = s.read_now(b.prepare(read_size(b)), ec, want);
    if (ec != asio::error::would_block) {
      b.commit(n);
      co_return ec;
    }
  }
  auto [ec, n] = co_await s.async_read_some(b.prepare(read_size(b)), use_tuple);
  b.commit(n);
  co_return ec;
}

// The end of the input. A message delimited by the connection's end (a response without length)
// completes here; anything else cut short is partial_message; a clean end between messages is
// end_of_stream (Beast's http::read semantics).
template <bool isRequest>
error_code at_end_of_input(bhttp::basic_parser<isRequest>& p) {
  if (!p.got_some()) return bhttp::error::end_of_stream;
  error_code ec;
  p.put_eof(ec);
  return ec;
}

// The *_now functions do what they can without waiting and return true when they finished (with
// `ec` set on failure); the hot path calls them first and awaits the coroutine only when they
// could not finish. Every coroutine call costs a frame and a trip through Asio's awaitable
// machinery, which showed in profiles at ~14 frames per proxied request.

// Feeds the buffered bytes to the parser: true once the whole header is in (or on an error).
template <bool isRequest>
bool parse_header_now(beast::flat_buffer& b, bhttp::basic_parser<isRequest>& p, error_code& ec) {
  p.eager(false);
  if (b.size() == 0) return false;
  b.consume(p.put(b.data(), ec));
  if (ec == bhttp::error::need_more) {
    ec = {};
    return false;
  }
  return ec || p.is_header_done();
}

// Reads until the parser holds the whole header (and no body byte).
template <class Stream, bool isRequest>
asio::awaitable<error_code> read_header(Stream& s, beast::flat_buffer& b,
                                        bhttp::basic_parser<isRequest>& p) {
  error_code ec;
  while (!parse_header_now(b, p, ec)) {
    auto [rec, n] = co_await s.async_read_some(b.prepare(read_size(b)), use_tuple);
    b.commit(n);
    if (rec == asio::error::eof) co_return at_end_of_input(p);
    if (rec) co_return rec;
  }
  co_return ec;
}

// The same for a client's request head, except that the head's bytes stay in `b` (its first
// `head_size` bytes) until the caller consumes them, and `scan` (http::head_scanner) sees every
// head byte as it arrives: Beast consumes a head line by line, unfolds obs-fold and waits forever
// for a CRLFCRLF that a bare-LF head never sends, so the raw bytes are checked beside it. While
// the parser wants more, every buffered byte is a head byte (it has seen no end of head); once it
// is done, the head is exactly `head_size` bytes. A scan problem ends the read with
// bad_line_ending (scan.problem() says what). At most limits.max_header_bytes are held.
template <bool isRequest, class Scanner>
bool parse_header_kept_now(beast::flat_buffer& b, bhttp::basic_parser<isRequest>& p,
                           std::size_t& head_size, Scanner& scan, error_code& ec) {
  p.eager(false);
  if (b.size() <= head_size) return false;
  head_size += p.put(b.data() + head_size, ec);
  const auto all = std::string_view(static_cast<const char*>(b.data().data()), b.size());
  if (ec == bhttp::error::need_more) {
    ec = {};
    if (!scan.feed(all.substr(scan.fed()))) {
      ec = bhttp::error::bad_line_ending;
      return true;
    }
    return false;
  }
  if (!ec && p.is_header_done() && scan.fed() < head_size &&
      !scan.feed(all.substr(scan.fed(), head_size - scan.fed())))
    ec = bhttp::error::bad_line_ending;
  if (!ec && p.is_header_done() && !scan.finish()) ec = bhttp::error::bad_line_ending;
  return ec || p.is_header_done();
}

template <class Stream, bool isRequest, class Scanner>
asio::awaitable<error_code> read_header_kept(Stream& s, beast::flat_buffer& b,
                                             bhttp::basic_parser<isRequest>& p,
                                             std::size_t& head_size, Scanner& scan) {
  error_code ec;
  while (!parse_header_kept_now(b, p, head_size, scan, ec)) {
    auto [rec, n] = co_await s.async_read_some(b.prepare(read_size(b)), use_tuple);
    b.commit(n);
    if (rec == asio::error::eof) co_return at_end_of_input(p);
    if (rec) co_return rec;
  }
  co_return ec;
}

// A piece of body: returned when the piece is full, the message is complete, or some body arrived
// and nothing more is buffered (streamed on at once, not held back to fill the piece). The
// parser de-chunks; the caller re-frames.
struct body_piece {
  char* data;
  std::size_t capacity;
  std::size_t size = 0;
};

template <bool isRequest>
bool body_piece_now(beast::flat_buffer& b, bhttp::parser<isRequest, bhttp::buffer_body>& p,
                    body_piece& piece, error_code& ec) {
  auto& body = p.get().body();
  p.eager(true);
  while (b.size() != 0) {
    body.data = piece.data + piece.size;
    body.size = piece.capacity - piece.size;
    const std::size_t used = p.put(b.data(), ec);
    b.consume(used);
    piece.size = piece.capacity - body.size;
    if (ec == bhttp::error::need_buffer) {  // piece full
      ec = {};
      return true;
    }
    if (ec && ec != bhttp::error::need_more) return true;
    if (p.is_done()) return true;
    const bool progress = !ec && used != 0;
    ec = {};
    if (!progress || b.size() == 0) break;
  }
  return piece.size != 0;
}

template <class Stream, bool isRequest>
asio::awaitable<error_code> read_body_piece(Stream& s, beast::flat_buffer& b,
                                            bhttp::parser<isRequest, bhttp::buffer_body>& p,
                                            body_piece& piece) {
  error_code ec;
  while (!body_piece_now(b, p, piece, ec)) {
    auto [rec, n] = co_await s.async_read_some(b.prepare(read_size(b)), use_tuple);
    b.commit(n);
    if (rec == asio::error::eof) co_return at_end_of_input(p);
    if (rec) co_return rec;
  }
  co_return ec;
}

// Writes what the socket takes now; true when everything went out (or on an error). `written`
// counts the bytes sent. A plain (non-blocking) socket almost always has room in its send buffer,
// and then the write costs no trip through the scheduler; the client-facing TLS stream too (one
// record per step). Other streams (the upstream's Asio TLS) always go to write_rest.
template <class Stream, class Buffers>
bool write_now(Stream& s, const Buffers& buffers, std::size_t& written, error_code& ec) {
  written = 0;
  if constexpr (is_plain_socket<Stream>) {
    if (!s.non_blocking()) return false;  // a blocking socket would stall the thread
    written = s.write_some(buffers, ec);
    if (ec == asio::error::would_block) {
      ec = {};
      return false;
    }
    return ec || written == asio::buffer_size(buffers);
  } else if constexpr (is_tls_stream<Stream>) {
    const std::size_t total = asio::buffer_size(buffers);
    beast::buffers_suffix<Buffers> rest(buffers);
    net::tls_stream::wait_type want{};
    while (written < total) {
      const std::size_t n = s.write_now(rest, ec, want);
      if (ec == asio::error::would_block) {  // write_rest retries the same record first
        ec = {};
        return false;
      }
      if (ec) return true;
      written += n;
      rest.consume(n);
    }
    return true;
  }
  return false;
}

// Writes the rest of `buffers` after the first `written` bytes (a gather write: one sendmsg for
// head and body when they fit).
template <class Stream, class Buffers>
asio::awaitable<error_code> write_rest(Stream& s, const Buffers& buffers, std::size_t written) {
  beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(written);
  auto [ec, n] = co_await asio::async_write(s, rest, use_tuple);
  co_return ec;
}

// write_rest that also tells how many of the remaining bytes went out before an error.
template <class Stream, class Buffers>
asio::awaitable<std::pair<error_code, std::size_t>> write_rest_counted(Stream& s,
                                                                       const Buffers& buffers,
                                                                       std::size_t written) {
  beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(written);
  auto [ec, n] = co_await asio::async_write(s, rest, use_tuple);
  co_return std::pair{ec, n};
}

template <class Stream, class Buffers>
asio::awaitable<error_code> write_all(Stream& s, const Buffers& buffers) {
  std::size_t written = 0;
  error_code ec;
  if (write_now(s, buffers, written, ec)) co_return ec;
  co_return co_await write_rest(s, buffers, written);
}

}  // namespace esgate::app::http_io
