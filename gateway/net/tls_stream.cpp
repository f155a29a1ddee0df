#include "esgate/net/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <cstring>
#include <new>

namespace esgate::net {

// The BIO OpenSSL reads and writes through: recv/send on the stream's descriptor. Not OpenSSL's
// socket BIO, which writes with write(2): a peer that went away would raise SIGPIPE and kill the
// process; send(MSG_NOSIGNAL) reports EPIPE instead (Asio's own writes do the same).
struct tls_bio {
  static tls_stream& stream(BIO* b) { return *static_cast<tls_stream*>(BIO_get_data(b)); }

  static int read(BIO* b, char* out, int len) {
    BIO_clear_retry_flags(b);
    auto& s = stream(b);
    for (;;) {
      const ssize_t n = ::recv(s.socket_.native_handle(), out, static_cast<std::size_t>(len), 0);
      if (n > 0) return static_cast<int>(n);
      if (n == 0) {  // OpenSSL asks BIO_eof() to tell a truncation from a would-block
        BIO_set_flags(b, BIO_FLAGS_IN_EOF);
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_read(b);
      } else {
        s.sys_errno_ = errno;
      }
      return -1;
    }
  }

  static int write(BIO* b, const char* in, int len) {
    BIO_clear_retry_flags(b);
    auto& s = stream(b);
    for (;;) {
      const ssize_t n =
          ::send(s.socket_.native_handle(), in, static_cast<std::size_t>(len), MSG_NOSIGNAL);
      if (n >= 0) return static_cast<int>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_write(b);
      } else {
        s.sys_errno_ = errno;
      }
      return -1;
    }
  }

  static long ctrl(BIO* b, int cmd, long, void*) {
    switch (cmd) {
      case BIO_CTRL_FLUSH:  // nothing is buffered here
        return 1;
      case BIO_CTRL_EOF:
        return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
      default:
        return 0;
    }
  }

  static int create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
  }

  static BIO_METHOD* method() {
    static BIO_METHOD* const m = [] {
      BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "esgate-socket");
      if (bm == nullptr) return bm;
      BIO_meth_set_read(bm, &tls_bio::read);
      BIO_meth_set_write(bm, &tls_bio::write);
      BIO_meth_set_ctrl(bm, &tls_bio::ctrl);
      BIO_meth_set_create(bm, &tls_bio::create);
      return bm;
    }();
    return m;
  }
};

namespace {

// SSL_get_error reads the thread's error queue: a stale entry would turn a would-block into a
// failure, so the queue must be empty before each call (nginx and Asio clear it every time).
// ERR_clear_error walks and frees all 16 slots even when the queue is empty: ~2,000
// instructions, a few percent of a proxied request (callgrind); the peek is a fraction of that.
void clear_stale_errors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

}  // namespace

tls_stream::tls_stream(socket_type socket, SSL_CTX* ctx) : socket_(std::move(socket)) {
  error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) throw boost::system::system_error(ec, "tls_stream: non-blocking socket");
  BIO_METHOD* method = tls_bio::method();
  ssl_ = method != nullptr ? SSL_new(ctx) : nullptr;
  BIO* bio = ssl_ != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) {
    SSL_free(ssl_);  // null-safe
    ssl_ = nullptr;
    ERR_clear_error();
    throw std::bad_alloc();
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference, both directions: SSL_free frees it
  SSL_set_accept_state(ssl_);
  // Partial writes: SSL_write returns after each record, so a large write never has more than
  // one record's worth committed. Moving buffer: a retried write may come from gathered copies.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                         SSL_MODE_RELEASE_BUFFERS);
  // One recv per record instead of two (header, then body), as nginx does.
  SSL_set_read_ahead(ssl_, 1);
}

tls_stream::~tls_stream() { SSL_free(ssl_); }

bool tls_stream::has_buffered_input() const noexcept { return SSL_has_pending(ssl_) == 1; }

void tls_stream::fail_from(int ret, error_code& ec, wait_type& want) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      ec = asio::error::would_block;
      want = wait_type::wait_read;
      return;
    case SSL_ERROR_WANT_WRITE:
      ec = asio::error::would_block;
      want = wait_type::wait_write;
      return;
    case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify: a clean end of its data
      ec = asio::error::eof;
      return;
    case SSL_ERROR_SYSCALL:
      fatal_ = true;
      if (sys_errno_ != 0)
        ec = error_code(sys_errno_, boost::system::system_category());
      else
        ec = asio::ssl::error::stream_truncated;
      break;
    default: {  // SSL_ERROR_SSL and anything unexpected: the connection is unusable
      fatal_ = true;
      const unsigned long e = ERR_get_error();
      if (e == 0)
        ec = asio::ssl::error::stream_truncated;
      else if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        ec = asio::ssl::error::stream_truncated;  // closed without close_notify
      else
        ec = error_code(static_cast<int>(e), asio::error::get_ssl_category());
      break;
    }
  }
  ERR_clear_error();  // leave nothing for the next OpenSSL user on this thread
}

std::size_t tls_stream::read_now(asio::mutable_buffer b, error_code& ec, wait_type& want) {
  clear_stale_errors();
  sys_errno_ = 0;
  std::size_t n = 0;
  const int r = SSL_read_ex(ssl_, b.data(), b.size(), &n);
  if (r == 1) {
    ec = {};
    return n;
  }
  fail_from(r, ec, want);
  return 0;
}

std::size_t tls_stream::write_gather(const asio::const_buffer* bufs, std::size_t n, error_code& ec,
                                     wait_type& want) {
  ec = {};
  if (n == 0) return 0;
  constexpr std::size_t record = 16384;  // SSL3_RT_MAX_PLAIN_LENGTH
  // A head and a small body go out as one record and one send(), not one of each. The copy is
  // per thread and only lives for the call: after WANT_WRITE, OpenSSL has already sealed the
  // record and the retry (same buffers, so the same length) only has to match its length.
  static thread_local char scratch[record];
  const void* data = bufs[0].data();
  std::size_t len = bufs[0].size();
  if (n > 1 && len < record) {
    std::size_t used = 0;
    for (std::size_t i = 0; i < n && used < record; ++i) {
      const std::size_t k = std::min(bufs[i].size(), record - used);
      std::memcpy(scratch + used, bufs[i].data(), k);
      used += k;
    }
    data = scratch;
    len = used;
  }
  clear_stale_errors();
  sys_errno_ = 0;
  std::size_t written = 0;
  const int r = SSL_write_ex(ssl_, data, len, &written);
  if (r == 1) return written;
  fail_from(r, ec, want);
  return 0;
}

void tls_stream::handshake_now(error_code& ec, wait_type& want) {
  clear_stale_errors();
  sys_errno_ = 0;
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    ec = {};
    return;
  }
  fail_from(r, ec, want);
}

void tls_stream::shutdown_now(error_code& ec, wait_type& want) {
  ec = {};
  if (fatal_ || shut_down_ || SSL_is_init_finished(ssl_) != 1) return;
  clear_stale_errors();
  sys_errno_ = 0;
  const int r = SSL_shutdown(ssl_);
  if (r >= 0) {  // 0: sent, the peer's not received yet; it is not waited for (RFC 8446 §6.1)
    shut_down_ = true;
    return;
  }
  fail_from(r, ec, want);
  if (ec == asio::error::would_block && want == wait_type::wait_read) {
    ec = {};  // the alert is out; only the peer's is missing
    shut_down_ = true;
  }
}

}  // namespace esgate::net
