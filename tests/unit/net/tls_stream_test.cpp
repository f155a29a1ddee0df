// net::tls_stream over real loopback sockets: the server side is the stream under test, on a fresh
// io_context with a deadline (run_async); the client is plain blocking OpenSSL in a thread (or raw
// bytes, for what a TLS library would never send). The client thread only does what each test
// says and reports; the checks run on the test thread after it is joined.
#include "esgate/net/tls_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "redis_server.hpp"  // run_async, eventually

using namespace esgate;
using namespace esgate::test_support;
using tcp = asio::ip::tcp;
using net::tls_stream;
using error_code = boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct ctx_free {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_free>;

// A server context with a fresh self-signed ECDSA P-256 certificate (nothing on disk).
ctx_ptr server_context() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
  ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
  REQUIRE(SSL_CTX_use_certificate(ctx.get(), x) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), key) == 1);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  X509_free(x);
  EVP_PKEY_free(key);
  return ctx;
}

ctx_ptr client_context() {
  ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  return ctx;
}

int connect_to(std::uint16_t port, int rcvbuf = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  if (rcvbuf) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Raw bytes where the peer may be gone: never SIGPIPE the test process from the client side.
void send_raw(int fd, std::string_view bytes) {
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

// Reads until EOF or error; the bytes seen.
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

// A blocking TLS client over its own descriptor.
struct tls_client {
  int fd;
  SSL* ssl;
  tls_client(SSL_CTX* ctx, std::uint16_t port, int rcvbuf = 0)
      : fd(connect_to(port, rcvbuf)), ssl(SSL_new(ctx)) {
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
  }
  ~tls_client() {
    SSL_free(ssl);
    ::close(fd);
  }
  bool handshake() { return SSL_connect(ssl) == 1; }
  bool write(std::string_view s) {
    std::size_t n = 0;
    return SSL_write_ex(ssl, s.data(), s.size(), &n) == 1 && n == s.size();
  }
  // Reads exactly n bytes (or fewer if the connection ends).
  std::string read(std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      std::size_t k = 0;
      if (SSL_read_ex(ssl, out.data() + got, n - got, &k) != 1) break;
      got += k;
    }
    out.resize(got);
    return out;
  }
  // The SSL_get_error of a read at the end of the data (SSL_ERROR_ZERO_RETURN: close_notify).
  int read_end() {
    char c;
    std::size_t k = 0;
    const int r = SSL_read_ex(ssl, &c, 1, &k);
    return r == 1 ? -1 : SSL_get_error(ssl, r);
  }
};

// Runs `client` in a thread joined when the guard goes (even when the server side failed).
struct client_thread {
  std::thread t;
  template <class F>
  explicit client_thread(F f) : t(std::move(f)) {}
  ~client_thread() {
    if (t.joinable()) t.join();
  }
};

struct listener {
  tcp::acceptor acceptor;
  explicit listener(asio::io_context& ioc)
      : acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {}
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  asio::awaitable<tcp::socket> accept() {
    auto [ec, s] = co_await acceptor.async_accept(use_tuple);
    REQUIRE_FALSE(ec);
    co_return std::move(s);
  }
};

// The client side waits for the server side this way (bounded: a failed server side must not
// leave the thread, and the test, hanging).
bool wait_for(const std::atomic<bool>& flag) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!flag) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

}  // namespace

TEST_CASE("tls_stream: handshake, request and response, close_notify both ways") {
  auto sctx = server_context();
  auto cctx = client_context();
  std::atomic<bool> client_ok{false}, got_response{false}, server_closed_cleanly{false};
  std::string seen_request;
  error_code end_of_data, shutdown_ec;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    listener l(ioc);
    client_thread client([&, port = l.port()] {
      tls_client c(cctx.get(), port);
      if (!c.handshake() || !c.write("GET / HTTP/1.1\r\n\r\n")) return;
      got_response = c.read(5) == "hello";
      // Our close_notify; then wait for the server's (SSL_shutdown returns 1 once it came).
      if (SSL_shutdown(c.ssl) == 0) server_closed_cleanly = SSL_shutdown(c.ssl) == 1;
      client_ok = true;
    });
    tls_stream s(co_await l.accept(), sctx.get());
    auto [hec, hn] = co_await s.async_handshake(use_tuple);
    REQUIRE_FALSE(hec);
    std::string buf(64, '\0');
    auto [rec, n] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
    REQUIRE_FALSE(rec);
    seen_request = buf.substr(0, n);
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer("hello", 5), use_tuple);
    REQUIRE_FALSE(wec);
    auto [eec, en] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
    end_of_data = eec;
    auto [sec, sn] = co_await s.async_shutdown(use_tuple);
    shutdown_ec = sec;
  });
  CHECK(seen_request == "GET / HTTP/1.1\r\n\r\n");
  CHECK(got_response);
  CHECK(end_of_data == asio::error::eof);  // the client's close_notify
  CHECK_FALSE(shutdown_ec);
  CHECK(server_closed_cleanly);  // ours reached the client
  CHECK(client_ok);
}

TEST_CASE("tls_stream: the peer closing in the middle of a record is a truncation, not data") {
  auto sctx = server_context();
  auto cctx = client_context();
  error_code read_ec, shutdown_ec;
  std::size_t read_n = 99;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    listener l(ioc);
    client_thread client([&, port = l.port()] {
      tls_client c(cctx.get(), port);
      if (!c.handshake()) return;
      // An application-data record header announcing 64 bytes, 10 of them, then FIN.
      send_raw(c.fd, std::string("\x17\x03\x03\x00\x40", 5) + std::string(10, 'x'));
      ::shutdown(c.fd, SHUT_WR);
      drain(c.fd);
    });
    tls_stream s(co_await l.accept(), sctx.get());
    auto [hec, hn] = co_await s.async_handshake(use_tuple);
    REQUIRE_FALSE(hec);
    std::string buf(64, '\0');
    auto [rec, n] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
    read_ec = rec;
    read_n = n;
    // After a fatal error no close_notify is attempted (OpenSSL forbids it): completes at once.
    auto [sec, sn] = co_await s.async_shutdown(use_tuple);
    shutdown_ec = sec;
  });
  CHECK(read_ec == asio::ssl::error::stream_truncated);
  CHECK(read_n == 0);
  CHECK_FALSE(shutdown_ec);
}

TEST_CASE("tls_stream: a transport end without close_notify between messages is a truncation") {
  auto sctx = server_context();
  auto cctx = client_context();
  error_code read_ec;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    listener l(ioc);
    client_thread client([&, port = l.port()] {
      tls_client c(cctx.get(), port);
      if (c.handshake()) ::shutdown(c.fd, SHUT_WR);
      drain(c.fd);
    });
    tls_stream s(co_await l.accept(), sctx.get());
    auto [hec, hn] = co_await s.async_handshake(use_tuple);
    REQUIRE_FALSE(hec);
    char buf[16];
    auto [rec, n] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
    read_ec = rec;
  });
  CHECK(read_ec == asio::ssl::error::stream_truncated);
}

TEST_CASE("tls_stream: a handshake that never starts ends when the socket is cancelled") {
  // The session's deadline watch cancels the socket; a pending wait then ends the handshake.
  auto sctx = server_context();
  std::atomic<bool> server_done{false};
  error_code handshake_ec;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    listener l(ioc);
    client_thread client([&, port = l.port()] {
      const int fd = connect_to(port);
      drain(fd);  // sends nothing; returns when the server closes
      ::close(fd);
    });
    tls_stream s(co_await l.accept(), sctx.get());
    asio::steady_timer deadline(ioc, std::chrono::milliseconds(100));
    deadline.async_wait([&](error_code ec) {
      if (!ec) s.next_layer().cancel();
    });
    auto [hec, hn] = co_await s.async_handshake(use_tuple);
    handshake_ec = hec;
    deadline.cancel();
    error_code ignored;
    s.next_layer().shutdown(tcp::socket::shutdown_both, ignored);  // lets the client finish
    server_done = true;
  });
  CHECK(handshake_ec == asio::error::operation_aborted);
  CHECK(server_done);
}

TEST_CASE("tls_stream: garbage instead of a ClientHello fails the handshake and closes") {
  const std::vector<std::pair<const char*, std::string>> inputs = {
      {"plain HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"zeros", std::string(64, '\0')},
      {"a handshake record of absurd length", std::string("\x16\x03\x01\xff\xff", 5) + "junk"},
      {"a ClientHello cut short", std::string("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", 11)},
      {"an alert first", std::string("\x15\x03\x03\x00\x02\x02\x28", 7)},
      {"an application-data record first", std::string("\x17\x03\x03\x00\x05hello", 10)},
  };
  auto sctx = server_context();
  for (const auto& [what, bytes] : inputs) {
    SECTION(what) {
      error_code handshake_ec;
      std::string client_saw;
      run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
        listener l(ioc);
        client_thread client([&, port = l.port()] {
          const int fd = connect_to(port);
          send_raw(fd, bytes);
          ::shutdown(fd, SHUT_WR);  // a cut-short hello must not leave the server waiting
          client_saw = drain(fd);
          ::close(fd);
        });
        {
          tls_stream s(co_await l.accept(), sctx.get());
          auto [hec, hn] = co_await s.async_handshake(use_tuple);
          handshake_ec = hec;
        }  // closes the connection
      });
      CHECK(handshake_ec);
      CHECK(handshake_ec != asio::error::would_block);
      // At most a TLS alert came back, never anything else.
      CHECK((client_saw.empty() || client_saw[0] == '\x15'));
    }
  }
}

TEST_CASE("tls_stream: large writes that fill the socket resume where OpenSSL stopped") {
  // Small socket buffers on both sides, a client that does not read at first: the write blocks
  // (WANT_WRITE) with a record already sealed, both for a gathered record of small pieces and a
  // single large buffer. The client then reads everything and checks every byte.
  auto sctx = server_context();
  auto cctx = client_context();
  const std::string big = pattern(3 * 1024 * 1024 + 17);
  constexpr std::size_t piece = 1000;
  std::atomic<bool> may_read{false};
  std::string received;
  bool blocked_on_write = false;
  std::size_t written_before_block = 0;
  int end_kind = 0;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    listener l(ioc);
    client_thread client([&, port = l.port()] {
      tls_client c(cctx.get(), port, 16384);
      if (!c.handshake()) return;
      if (!wait_for(may_read)) return;  // the server says when it is blocked
      received = c.read(big.size() * 2);
      end_kind = c.read_end();
    });
    auto sock = co_await l.accept();
    sock.set_option(asio::socket_base::send_buffer_size(16384));
    tls_stream s(std::move(sock), sctx.get());
    auto [hec, hn] = co_await s.async_handshake(use_tuple);
    REQUIRE_FALSE(hec);

    // 1. The pattern as 1,000-byte pieces: every record gathers several of them.
    std::vector<asio::const_buffer> pieces;
    for (std::size_t off = 0; off < big.size(); off += piece)
      pieces.emplace_back(big.data() + off, std::min(piece, big.size() - off));
    auto rest = [&] {
      std::vector<asio::const_buffer> r;
      std::size_t skip = written_before_block;
      for (auto& b : pieces) {
        if (skip >= b.size()) {
          skip -= b.size();
          continue;
        }
        r.push_back(b + skip);
        skip = 0;
      }
      return r;
    };
    for (;;) {
      error_code ec;
      tls_stream::wait_type want{};
      const auto r = rest();
      if (r.empty()) break;
      const std::size_t n = s.write_now(r, ec, want);
      if (ec == asio::error::would_block) {
        blocked_on_write = want == tls_stream::wait_type::wait_write;
        break;
      }
      REQUIRE_FALSE(ec);
      written_before_block += n;
    }
    may_read = true;
    auto [wec, wn] = co_await asio::async_write(s, rest(), use_tuple);
    REQUIRE_FALSE(wec);
    CHECK(written_before_block + wn == big.size());

    // 2. The same bytes as one buffer (records cut from it directly, no copy), through the
    // client's now small window again.
    auto [wec2, wn2] = co_await asio::async_write(s, asio::buffer(big), use_tuple);
    REQUIRE_FALSE(wec2);
    CHECK(wn2 == big.size());
    auto [sec, sn] = co_await s.async_shutdown(use_tuple);
    CHECK_FALSE(sec);
  });
  CHECK(blocked_on_write);
  CHECK(written_before_block < big.size());
  REQUIRE(received.size() == big.size() * 2);
  CHECK(received.compare(0, big.size(), big) == 0);
  CHECK(received.compare(big.size(), big.size(), big) == 0);
  CHECK(end_kind == SSL_ERROR_ZERO_RETURN);
}

TEST_CASE("tls_stream: records read ahead stay readable without the socket (pipelining)") {
  // Two requests in two records in one TCP segment: OpenSSL reads both (read-ahead) and hands
  // out one record per read, so the second is buffered inside OpenSSL, not in the socket. A
  // session that waited for socket readability here would wait forever.
  auto sctx = server_context();
  auto cctx = client_context();
  std::string first, second;
  bool buffered_after_first = false, buffered_after_second = true;
  std::atomic<bool> done{false};
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    listener l(ioc);
    client_thread client([&, port = l.port()] {
      tls_client c(cctx.get(), port);
      if (!c.handshake()) return;
      // Both records sealed into a memory BIO first, then sent in one send().
      BIO* mem = BIO_new(BIO_s_mem());
      BIO* sock_bio = SSL_get_wbio(c.ssl);
      BIO_up_ref(sock_bio);
      SSL_set0_wbio(c.ssl, mem);
      c.write("first request");
      c.write("second request");
      char* data = nullptr;
      const long len = BIO_get_mem_data(mem, &data);
      send_raw(c.fd, std::string_view(data, static_cast<std::size_t>(len)));
      SSL_set0_wbio(c.ssl, sock_bio);
      wait_for(done);
    });
    tls_stream s(co_await l.accept(), sctx.get());
    auto [hec, hn] = co_await s.async_handshake(use_tuple);
    REQUIRE_FALSE(hec);
    // Wait until both records are in (one recv takes both; the socket is then empty).
    co_await s.next_layer().async_wait(tcp::socket::wait_read, use_tuple);
    std::string buf(64, '\0');
    auto [ec1, n1] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
    REQUIRE_FALSE(ec1);
    first = buf.substr(0, n1);
    buffered_after_first = s.has_buffered_input();
    error_code ec2;
    tls_stream::wait_type want{};
    const std::size_t n2 = s.read_now(asio::buffer(buf), ec2, want);  // no wait needed
    REQUIRE_FALSE(ec2);
    second = buf.substr(0, n2);
    buffered_after_second = s.has_buffered_input();
    done = true;
  });
  CHECK(first == "first request");
  CHECK(buffered_after_first);
  CHECK(second == "second request");
  CHECK_FALSE(buffered_after_second);
}

TEST_CASE("tls_stream: writing to a peer that is gone fails with an error, not SIGPIPE") {
  auto sctx = server_context();
  auto cctx = client_context();
  error_code write_ec;
  int writes = 0;
  std::atomic<bool> handshake_done{false};
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    listener l(ioc);
    client_thread client([&, port = l.port()] {
      tls_client c(cctx.get(), port);
      if (!c.handshake() || !wait_for(handshake_done)) return;
      const linger abort{1, 0};  // RST on close
      ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    });
    tls_stream s(co_await l.accept(), sctx.get());
    auto [hec, hn] = co_await s.async_handshake(use_tuple);
    REQUIRE_FALSE(hec);
    handshake_done = true;
    co_await s.next_layer().async_wait(tcp::socket::wait_read, use_tuple);  // the RST arrived
    const std::string chunk(4096, 'x');
    while (!write_ec && writes < 100) {
      ++writes;
      auto [ec, n] = co_await s.async_write_some(asio::buffer(chunk), use_tuple);
      write_ec = ec;
    }
    auto [sec, sn] = co_await s.async_shutdown(use_tuple);  // after a failure: nothing to send
    CHECK_FALSE(sec);
  });
  CHECK(write_ec);
  CHECK((write_ec == asio::error::connection_reset || write_ec == asio::error::broken_pipe));
}

TEST_CASE("tls_stream: close_notify on a socket already shut down (drain) is EPIPE, not SIGPIPE") {
  // Draining shuts idle sockets down under their sessions, which then send close_notify: with
  // write(2) underneath, that would raise SIGPIPE and end the process.
  auto sctx = server_context();
  auto cctx = client_context();
  error_code shutdown_ec;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    listener l(ioc);
    client_thread client([&, port = l.port()] {
      tls_client c(cctx.get(), port);
      if (c.handshake()) drain(c.fd);
    });
    tls_stream s(co_await l.accept(), sctx.get());
    auto [hec, hn] = co_await s.async_handshake(use_tuple);
    REQUIRE_FALSE(hec);
    error_code ignored;
    s.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    auto [sec, sn] = co_await s.async_shutdown(use_tuple);
    shutdown_ec = sec;
  });
  CHECK(shutdown_ec == asio::error::broken_pipe);
}
