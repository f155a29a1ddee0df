#pragma once
// The client's request body, decoded by the gateway itself: Content-Length bodies are counted,
// chunked ones go through body::chunked_decoder (strict, never Beast's lenient chunk parser), so
// the framing bytes the client sent never reach the upstream and the gateway alone decides where
// a body ends. Only the header is parsed by Beast; what follows it in the connection's buffer is
// read here.
#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstdint>
#include <string>

#include "esgate/body/chunked_decoder.hpp"
#include "http_io.hpp"

namespace esgate::app {

class request_body_reader {
 public:
  request_body_reader(bool chunked, std::uint64_t content_length, std::uint64_t limit)
      : chunked_(chunked), remaining_(content_length), limit_(limit) {}

  // Moves decoded body bytes from `in` into `out` until `out` holds `max` bytes, the body ends
  // or `in` is empty. Framing bytes are consumed from `in` and dropped.
  void decode(boost::beast::flat_buffer& in, std::string& out, std::size_t max) {
    while (!done() && !failed() && in.size() != 0 && out.size() < max) {
      const std::string_view avail(static_cast<const char*>(in.data().data()), in.size());
      const std::size_t room = max - out.size();
      if (!chunked_) {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>({remaining_, static_cast<std::uint64_t>(room), avail.size()}));
        out.append(avail.data(), n);
        in.consume(n);
        remaining_ -= n;
        total_ += n;
        continue;
      }
      // Offer the decoder at most `room` bytes so it cannot hand back more data than fits.
      const auto step = decoder_.next(avail.substr(0, std::min(avail.size(), room)));
      out.append(step.data);
      in.consume(step.consumed);
      total_ += step.data.size();
      if (decoder_.failed()) {
        fail(400, "malformed request body: " + decoder_.error());
        return;
      }
      if (step.consumed == 0) break;  // needs more input
    }
    if (total_ > limit_) fail(413, "request body is larger than limits.max_body_bytes");
  }

  // A Content-Length body with nothing buffered: how many bytes may be read from the socket
  // straight into `out` (0 when the body must go through `decode`).
  std::size_t direct_read_size(const boost::beast::flat_buffer& in, std::size_t out_size,
                               std::size_t max) const {
    constexpr std::size_t max_step = 1024 * 1024;  // memory grows as the body arrives
    if (chunked_ || failed() || in.size() != 0 || out_size >= max) return 0;
    return static_cast<std::size_t>(std::min<std::uint64_t>(
        {remaining_, static_cast<std::uint64_t>(max - out_size), max_step}));
  }
  void count_direct(std::size_t n) {
    remaining_ -= n;
    total_ += n;
    if (total_ > limit_) fail(413, "request body is larger than limits.max_body_bytes");
  }

  bool done() const { return !failed() && (chunked_ ? decoder_.done() : remaining_ == 0); }
  bool failed() const { return status_ != 0; }
  int status() const { return status_; }  // 400 (framing) or 413 (size) once failed()
  const std::string& error() const { return error_; }
  std::uint64_t total() const { return total_; }
  bool chunked() const { return chunked_; }

  void fail(int status, std::string reason) {
    status_ = status;
    error_ = std::move(reason);
  }

 private:
  bool chunked_;
  std::uint64_t remaining_;
  std::uint64_t limit_;
  std::uint64_t total_ = 0;
  body::chunked_decoder decoder_;
  int status_ = 0;
  std::string error_;
};

// Reads and decodes until `out` holds `max` bytes or the body ends (or fails: see
// reader.failed()). An error code means the client went away or timed out.
template <class Stream>
boost::asio::awaitable<http_io::error_code> read_request_body(Stream& s,
                                                              boost::beast::flat_buffer& in,
                                                              request_body_reader& reader,
                                                              std::string& out, std::size_t max) {
  for (;;) {
    reader.decode(in, out, max);
    if (reader.done() || reader.failed() || out.size() >= max) co_return http_io::error_code{};
    // Bodies of known length are read from the socket into `out` itself: one copy less than
    // through the connection's buffer, and larger reads (megabyte `_bulk` bodies).
    if (const auto n = reader.direct_read_size(in, out.size(), max); n != 0) {
      // Each step is zero-filled once (resize has no uninitialised form before C++23) and read
      // into until full; resizing back and forth per read cleared the same bytes again and again.
      const auto old = out.size();
      out.resize(old + n);
      std::size_t filled = 0;
      while (filled < n) {
        auto [ec, got] = co_await s.async_read_some(
            boost::asio::buffer(out.data() + old + filled, n - filled), http_io::use_tuple);
        filled += got;
        reader.count_direct(got);
        if (ec || reader.failed()) {
          out.resize(old + filled);
          co_return ec;
        }
      }
      continue;
    }
    if (auto ec = co_await http_io::read_more(s, in); ec) co_return ec;
  }
}

}  // namespace esgate::app
