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
#include <type_traits>
#include <utility>

namespace esgate::app::http_io {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class Stream>
inline constexpr bool is_plain_socket = std::is_same_v<Stream, asio::ip::tcp::socket>;

// Reads what is available into `b`. Always through the stream's async_read_some: Asio's reactor
// remembers whether the socket was drained (it then waits for readiness rather than try a read
// that fails). A synchronous read tried first failed on most requests, costing a syscall each.
template <class Stream>
asio::awaitable<error_code> read_more(Stream& s, beast::flat_buffer& b) {
  const std::size_t room = b.capacity() - b.size();
  auto [ec, n] =
      co_await s.async_read_some(b.prepare(std::clamp<std::size_t>(room, 4096, 65536)), use_tuple);
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

// Reads until the parser holds the whole header (and no body byte).
template <class Stream, bool isRequest>
asio::awaitable<error_code> read_header(Stream& s, beast::flat_buffer& b,
                                        bhttp::basic_parser<isRequest>& p) {
  p.eager(false);
  for (;;) {
    if (b.size() != 0) {
      error_code ec;
      b.consume(p.put(b.data(), ec));
      if (!ec && p.is_header_done()) co_return error_code{};
      if (ec && ec != bhttp::error::need_more) co_return ec;
    }
    auto ec = co_await read_more(s, b);
    if (ec == asio::error::eof) co_return at_end_of_input(p);
    if (ec) co_return ec;
  }
}

// Reads the next piece of a body into `piece` (at most `capacity` bytes): returns when the piece
// is full, the message is complete, or some body arrived and nothing more is buffered (streamed
// on at once, not held back to fill the piece). The parser de-chunks; the caller re-frames.
template <class Stream, bool isRequest>
asio::awaitable<std::pair<error_code, std::size_t>> read_body_piece(
    Stream& s, beast::flat_buffer& b, bhttp::parser<isRequest, bhttp::buffer_body>& p, char* piece,
    std::size_t capacity) {
  auto& body = p.get().body();
  body.data = piece;
  body.size = capacity;
  p.eager(true);
  for (;;) {
    if (b.size() != 0) {
      error_code ec;
      const std::size_t used = p.put(b.data(), ec);
      b.consume(used);
      const std::size_t got = capacity - body.size;
      if (ec == bhttp::error::need_buffer) co_return std::pair{error_code{}, got};  // piece full
      if (ec && ec != bhttp::error::need_more) co_return std::pair{ec, got};
      if (p.is_done()) co_return std::pair{error_code{}, got};
      if (!ec && used != 0 && b.size() != 0) continue;  // progress, and more bytes to parse
      if (got != 0) co_return std::pair{error_code{}, got};
    }
    auto ec = co_await read_more(s, b);
    if (ec == asio::error::eof) {
      ec = at_end_of_input(p);
      co_return std::pair{ec, capacity - body.size};
    }
    if (ec) co_return std::pair{ec, capacity - body.size};
  }
}

// Writes every byte of `buffers` (a gather write: one sendmsg for head and body when they fit).
// A plain (non-blocking) socket is written synchronously first: there is almost always room in
// the send buffer, and then the write costs no round trip through the scheduler.
template <class Stream, class Buffers>
asio::awaitable<error_code> write_all(Stream& s, const Buffers& buffers) {
  if constexpr (is_plain_socket<Stream>) {
    error_code ec;
    const std::size_t n =
        s.non_blocking() ? s.write_some(buffers, ec) : (ec = asio::error::would_block, 0);
    if (!ec && n == asio::buffer_size(buffers)) co_return error_code{};
    if (ec && ec != asio::error::would_block) co_return ec;
    beast::buffers_suffix<Buffers> rest(buffers);
    rest.consume(n);
    auto [wec, wn] = co_await asio::async_write(s, rest, use_tuple);
    co_return wec;
  } else {
    auto [ec, n] = co_await asio::async_write(s, buffers, use_tuple);
    co_return ec;
  }
}

}  // namespace esgate::app::http_io
