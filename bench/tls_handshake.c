// Closed-loop TLS handshake load for bench/tls_bench.sh: CONNS connections at a time, each one a
// TCP connect, a full handshake (a fresh SSL object, no session cache: never resumed), one request
// (the file's bytes, which say `Connection: close`), reading until the server closes, then the
// next connection. One thread, epoll; meant to be pinned to a core (taskset).
//
// usage: tls_handshake HOST PORT SECONDS CONNS REQUEST_FILE [MIN_TLS 1.2|1.3]
// prints: BENCH handshakes=N errors=E resumed=R not_200=B seconds=S cipher=C group=G
//
// Build: cc -O2 -o tls_handshake tls_handshake.c -lssl -lcrypto
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, HANDSHAKE, WRITING, READING };

struct conn {
  int fd;
  SSL* ssl;
  enum state st;
  size_t sent;
  char head[16];
  size_t head_len;
};

static SSL_CTX* ctx;
static struct sockaddr_in addr;
static int ep;
static const char* request;
static size_t request_len;
static long handshakes, errors, resumed, not_200;
static char cipher[64] = "-", group[32] = "-";

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void watch(struct conn* c, unsigned events, int op) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, op, c->fd, &ev) != 0) {
    perror("epoll_ctl");
    exit(1);
  }
}

static void start(struct conn* c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) {
    perror("socket");
    exit(1);
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->ssl = SSL_new(ctx);
  SSL_set_fd(c->ssl, c->fd);
  SSL_set_tlsext_host_name(c->ssl, "localhost");
  c->st = CONNECTING;
  c->sent = 0;
  c->head_len = 0;
  if (connect(c->fd, (struct sockaddr*)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
    perror("connect");
    exit(1);
  }
  watch(c, EPOLLOUT, EPOLL_CTL_ADD);
}

static void finish(struct conn* c, int ok) {
  if (ok) {
    handshakes++;
    if (c->head_len < 12 || memcmp(c->head, "HTTP/1.1 200", 12) != 0) not_200++;
  } else {
    errors++;
  }
  SSL_free(c->ssl);
  close(c->fd);  // also removes it from the epoll set
  start(c);
}

// Wait for what OpenSSL wants; false on a real error.
static int want(struct conn* c, int r) {
  switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
      watch(c, EPOLLIN, EPOLL_CTL_MOD);
      return 1;
    case SSL_ERROR_WANT_WRITE:
      watch(c, EPOLLOUT, EPOLL_CTL_MOD);
      return 1;
    default:
      return 0;
  }
}

static void step(struct conn* c) {
  for (;;) {
    switch (c->st) {
      case CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          finish(c, 0);
          return;
        }
        c->st = HANDSHAKE;
        break;
      }
      case HANDSHAKE: {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r != 1) {
          if (!want(c, r)) finish(c, 0);
          return;
        }
        if (SSL_session_reused(c->ssl)) resumed++;
        if (cipher[0] == '-') {
          snprintf(cipher, sizeof cipher, "%s", SSL_get_cipher_name(c->ssl));
          int nid = SSL_get_negotiated_group(c->ssl);
          const char* g = nid ? OBJ_nid2sn(nid) : NULL;
          snprintf(group, sizeof group, "%s", g ? g : "-");
        }
        c->st = WRITING;
        break;
      }
      case WRITING: {
        size_t n = 0;
        ERR_clear_error();
        int r = SSL_write_ex(c->ssl, request + c->sent, request_len - c->sent, &n);
        if (r != 1) {
          if (!want(c, r)) finish(c, 0);
          return;
        }
        c->sent += n;
        if (c->sent == request_len) c->st = READING;
        break;
      }
      case READING: {
        char buf[16384];
        size_t n = 0;
        ERR_clear_error();
        int r = SSL_read_ex(c->ssl, buf, sizeof buf, &n);
        if (r == 1) {
          size_t k = n < sizeof c->head - c->head_len ? n : sizeof c->head - c->head_len;
          memcpy(c->head + c->head_len, buf, k);
          c->head_len += k;
          continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
          want(c, r);
          return;
        }
        // The server closed after its answer (close_notify or not): a completed exchange.
        finish(c, c->head_len > 0);
        return;
      }
    }
  }
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s HOST PORT SECONDS CONNS REQUEST_FILE [MIN_TLS]\n", argv[0]);
    return 2;
  }
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) return 2;
  double seconds = atof(argv[3]);
  int conns = atoi(argv[4]);
  FILE* f = fopen(argv[5], "rb");
  if (!f) {
    perror(argv[5]);
    return 2;
  }
  static char req[65536];
  request_len = fread(req, 1, sizeof req, f);
  fclose(f);
  request = req;

  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_min_proto_version(
      ctx, argc > 6 && strcmp(argv[6], "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION);
  ep = epoll_create1(0);
  struct conn* cs = calloc((size_t)conns, sizeof *cs);
  for (int i = 0; i < conns; i++) start(&cs[i]);

  double t0 = now(), end = t0 + seconds;
  struct epoll_event evs[256];
  while (now() < end) {
    int n = epoll_wait(ep, evs, 256, 100);
    for (int i = 0; i < n; i++) step(evs[i].data.ptr);
  }
  double t1 = now();
  printf(
      "BENCH handshakes=%ld errors=%ld resumed=%ld not_200=%ld seconds=%.3f cipher=%s group=%s\n",
      handshakes, errors, resumed, not_200, t1 - t0, cipher, group);
  return 0;
}
