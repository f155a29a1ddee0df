#pragma once
// The client-facing TLS stream: OpenSSL reads and writes the non-blocking socket's descriptor
// itself (through a minimal BIO), and Asio only reports readiness (async_wait) when OpenSSL says
// it would block.
//
// Why not asio::ssl::stream (beast::ssl_stream): its stream_core keeps two 17 KiB buffers for the
// connection's whole life, and its BIO pair copies every record once more. An idle keep-alive
// TLS connection cost 77 KB there against 15 KB for nginx (bench/RESULTS.md, issue 10). Here an
// idle connection holds only OpenSSL's SSL object: with SSL_MODE_RELEASE_BUFFERS OpenSSL frees
// its record buffers once they are empty, and the session waits for readability with no buffer.
//
// One read and one write may be in flight at the same time (as on a socket); deadlines are the
// caller's (cancel the socket: pending waits end with operation_aborted). Completions never run
// inside the initiating call (they are posted when no wait was needed), as Asio requires.
//
// Errors: the peer's close_notify reads as asio::error::eof; the transport ending without one as
// asio::ssl::error::stream_truncated; TLS failures as OpenSSL error codes in Asio's ssl category;
// asio::error::would_block from the *_now functions means "wait for wants(), then try again".
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>

struct ssl_st;
struct ssl_ctx_st;

namespace esgate::net {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

class tls_stream {
 public:
  using socket_type = asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using next_layer_type = socket_type;
  using lowest_layer_type = socket_type;
  using wait_type = asio::socket_base::wait_type;

  // The server side of a TLS connection on `socket` (made non-blocking), with the settings of
  // `ctx` (SSL_new takes its own reference: the context may be replaced, e.g. by a reload, while
  // the connection lives). Throws std::bad_alloc if OpenSSL cannot allocate the connection.
  tls_stream(socket_type socket, ssl_ctx_st* ctx);
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& next_layer() noexcept { return socket_; }
  socket_type& lowest_layer() noexcept { return socket_; }
  ssl_st* native_handle() noexcept { return ssl_; }

  // Bytes OpenSSL holds that a read can return without the socket (decrypted or read ahead).
  bool has_buffered_input() const noexcept;

  // One step without waiting. On would_block, `want` says what to wait for.
  std::size_t read_now(asio::mutable_buffer b, error_code& ec, wait_type& want);
  // Writes at most one TLS record (16 KiB) of the sequence; small buffers are gathered into one.
  template <class ConstBufferSequence>
  std::size_t write_now(const ConstBufferSequence& buffers, error_code& ec, wait_type& want) {
    std::array<asio::const_buffer, max_gather> bufs;
    std::size_t n = 0;
    for (auto it = asio::buffer_sequence_begin(buffers), end = asio::buffer_sequence_end(buffers);
         it != end && n < bufs.size(); ++it)
      if (asio::const_buffer b(*it); b.size() != 0) bufs[n++] = b;
    return write_gather(bufs.data(), n, ec, want);
  }
  void handshake_now(error_code& ec, wait_type& want);
  // Sends close_notify (once, and never after a fatal error); does not wait for the peer's.
  void shutdown_now(error_code& ec, wait_type& want);

  // Asio stream interface: completion signature void(error_code, std::size_t).
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    asio::mutable_buffer first;
    for (auto it = asio::buffer_sequence_begin(buffers), end = asio::buffer_sequence_end(buffers);
         it != end; ++it)
      if (asio::mutable_buffer b(*it); b.size() != 0) {
        first = b;
        break;
      }
    return async_step(
        [this, first](error_code& ec, wait_type& want) -> std::size_t {
          if (first.size() == 0) return 0;
          return read_now(first, ec, want);
        },
        std::forward<Token>(token));
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    gather g;
    for (auto it = asio::buffer_sequence_begin(buffers), end = asio::buffer_sequence_end(buffers);
         it != end && g.n < g.bufs.size(); ++it)
      if (asio::const_buffer b(*it); b.size() != 0) g.bufs[g.n++] = b;
    return async_step(
        [this, g](error_code& ec, wait_type& want) -> std::size_t {
          return write_gather(g.bufs.data(), g.n, ec, want);
        },
        std::forward<Token>(token));
  }

  // Server handshake; completion signature void(error_code, std::size_t) with size 0.
  template <class Token>
  auto async_handshake(Token&& token) {
    return async_step(
        [this](error_code& ec, wait_type& want) -> std::size_t {
          handshake_now(ec, want);
          return 0;
        },
        std::forward<Token>(token));
  }

  template <class Token>
  auto async_shutdown(Token&& token) {
    return async_step(
        [this](error_code& ec, wait_type& want) -> std::size_t {
          shutdown_now(ec, want);
          return 0;
        },
        std::forward<Token>(token));
  }

 private:
  static constexpr std::size_t max_gather = 8;
  struct gather {
    std::array<asio::const_buffer, max_gather> bufs;
    std::size_t n = 0;
  };

  // Runs `step` until it does not block, waiting on the socket in between.
  template <class Step>
  struct step_op {
    tls_stream& s;
    Step step;
    bool waited = false;
    bool posted = false;
    error_code result{};
    std::size_t bytes = 0;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (posted) return self.complete(result, bytes);
      if (ec) return self.complete(ec, 0);  // the wait failed: cancelled (deadline) or closed
      wait_type want = wait_type::wait_read;
      const std::size_t n = step(ec, want);
      if (ec == asio::error::would_block) {
        waited = true;
        s.socket_.async_wait(want, std::move(self));
        return;
      }
      if (!waited) {  // finished inside the initiating call: complete through the executor
        posted = true;
        result = ec;
        bytes = n;
        asio::post(std::move(self));
        return;
      }
      self.complete(ec, n);
    }
  };

  template <class Step, class Token>
  auto async_step(Step step, Token&& token) {
    return asio::async_compose<Token, void(error_code, std::size_t)>(
        step_op<Step>{*this, std::move(step)}, token, socket_);
  }

  std::size_t write_gather(const asio::const_buffer* bufs, std::size_t n, error_code& ec,
                           wait_type& want);
  void fail_from(int ret, error_code& ec, wait_type& want);
  friend struct tls_bio;

  socket_type socket_;
  ssl_st* ssl_ = nullptr;
  int sys_errno_ = 0;       // errno of the BIO's last failed recv/send
  bool fatal_ = false;      // a fatal error happened: no close_notify (OpenSSL forbids it then)
  bool shut_down_ = false;  // close_notify sent
};

}  // namespace esgate::net
