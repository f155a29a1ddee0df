// Open-loop HTTP/1.1 load at a fixed rate over keep-alive connections, for bench/perf_bench.sh.
// Compiled by the script (cc -O2), not by the build.
//
//   rate_client HOST PORT RATE CONNS SECONDS REQUEST_FILE [-w WARMUP_SECS] [-k] [-T DRAIN_SECS]
//
// Request i is due at start + i / RATE (a fixed schedule, independent of the answers). When it is
// due it goes out on an idle connection of the CONNS open ones; if all are busy it waits in a queue
// and goes out on the first connection that becomes free. Its latency is measured from the time it
// was DUE, not from when it could be sent, so a stall of the server shows up in full in the
// percentiles (no coordinated omission, as wrk2 does it). A connection carries one request at a
// time (no pipelining), as a client's connection pool does.
//
// REQUEST_FILE holds the exact request bytes (HTTP/1.1, keep-alive). With -k, every "@APIKEY@" in
// it is replaced, per request, by base64("<20 random chars>:<22 random chars>") of [A-Za-z0-9_-]: a
// well-formed API key that does not exist (a random-key flood). Requests due in the first
// WARMUP_SECS are sent but left out of the latency statistics (status counts include them). After
// SECONDS, answers still outstanding are waited for DRAIN_SECS (default 2), then counted as
// timeouts.
//
// Output: one line on stdout,
//   BENCH scheduled= sent= done= measured= seconds= achieved_rps= p50_us= p90_us= p99_us= p999_us=
//         max_us= mean_us= s2xx= s401= s403= s5xx= sother= errors= timeouts= reconnects= queued=
//         max_queue= lag_gt1ms= max_lag_us=
// where errors = requests lost to a connection closed or failing before the answer was complete,
// queued = requests that found no idle connection when due, lag = time from due to actually written
// (queueing and this client's own scheduling delay), sother = statuses other than 2xx/401/403/5xx.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { P_HEAD, P_BODY_CL, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER, P_BODY_EOF };

typedef struct conn {
  int fd;
  int busy;
  int want_out;  // EPOLLOUT registered
  uint64_t due;  // when the request in flight was due
  int warm;      // the request in flight is a warm-up one
  char* wbuf;    // request being written
  size_t wlen, woff;
  char own[1024];  // per-request copy with a random key (-k)
  // response parser
  int pstate;
  char head[16384];
  size_t hlen;
  int status;
  int close_after;
  uint64_t remaining;
  char line[128];
  size_t llen;
  struct conn* next_idle;
} conn;

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int ep;
static conn* conns;
static int nconns;
static conn* idle_head;
static uint64_t* queue;  // due times waiting for a connection
static size_t qhead, qtail, max_queue;
static uint64_t* lat;  // measured latencies, ns
static size_t nlat, latcap;
static char* tmpl;
static size_t tmpl_len;
static int random_keys;
static uint64_t warm_end;
static uint64_t n_sent, n_done, s2xx, s401, s403, s5xx, sother, n_errors, n_reconnects, n_queued,
    lag_gt1ms, max_lag;
static uint64_t rng;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fail(const char* what) {
  fprintf(stderr, "rate_client: %s: %s\n", what, strerror(errno));
  exit(2);
}

static uint64_t next_rand(void) {  // xorshift64*
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}

static size_t base64(const unsigned char* in, size_t n, char* out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0, i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = t[v >> 18];
    out[o++] = t[(v >> 12) & 63];
    out[o++] = t[(v >> 6) & 63];
    out[o++] = t[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
    out[o++] = t[v >> 18];
    out[o++] = t[(v >> 12) & 63];
    out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

// The request with every @APIKEY@ replaced by a fresh random key, into c->own.
static void build_random(conn* c) {
  static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  static const char mark[] = "@APIKEY@";
  size_t o = 0;
  const char *p = tmpl, *end = tmpl + tmpl_len;
  while (p < end) {
    const char* m = memmem(p, (size_t)(end - p), mark, sizeof mark - 1);
    size_t lit = m ? (size_t)(m - p) : (size_t)(end - p);
    if (o + lit + 64 > sizeof c->own) {
      fprintf(stderr, "rate_client: request too long for -k\n");
      exit(2);
    }
    memcpy(c->own + o, p, lit);
    o += lit;
    if (!m) break;
    unsigned char plain[43];
    for (int i = 0; i < 43; i++) plain[i] = (unsigned char)alpha[next_rand() >> 58];
    plain[20] = ':';
    o += base64(plain, 43, c->own + o);
    p = m + sizeof mark - 1;
  }
  c->wbuf = c->own;
  c->wlen = o;
}

static void set_events(conn* c, int out) {
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) fail("epoll_ctl mod");
  c->want_out = out;
}

static void push_idle(conn* c) {
  c->next_idle = idle_head;
  idle_head = c;
}

static void open_conn(conn* c) {
  int fd = socket(addr.ss_family, SOCK_STREAM, 0);
  if (fd < 0) fail("socket");
  if (connect(fd, (struct sockaddr*)&addr, addrlen) < 0) fail("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  c->fd = fd;
  c->busy = 0;
  c->want_out = 0;
  c->pstate = P_HEAD;
  c->hlen = c->llen = 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) fail("epoll_ctl add");
}

static void flush(conn* c) {
  while (c->woff < c->wlen) {
    ssize_t w = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
    if (w > 0) {
      c->woff += (size_t)w;
    } else if (w < 0 && errno == EAGAIN) {
      if (!c->want_out) set_events(c, 1);
      return;
    } else {
      return;  // the read side sees the error / EOF
    }
  }
  if (c->want_out) set_events(c, 0);
}

static void send_req(conn* c, uint64_t due) {
  c->busy = 1;
  c->due = due;
  c->warm = due < warm_end;
  c->pstate = P_HEAD;
  c->hlen = c->llen = 0;
  c->close_after = 0;
  if (random_keys) {
    build_random(c);
  } else {
    c->wbuf = tmpl;
    c->wlen = tmpl_len;
  }
  c->woff = 0;
  uint64_t lag = now_ns() - due;
  if (lag > 1000000) lag_gt1ms++;
  if (lag > max_lag) max_lag = lag;
  n_sent++;
  flush(c);
}

static void conn_free(conn* c) {
  if (qhead < qtail) {
    send_req(c, queue[qhead++]);
  } else {
    push_idle(c);
  }
}

static void drop_conn(conn* c) {  // closed by the server or broken: reopen, idle
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  // take it out of the idle list if it is there
  for (conn** p = &idle_head; *p; p = &(*p)->next_idle)
    if (*p == c) {
      *p = c->next_idle;
      break;
    }
  n_reconnects++;
  open_conn(c);
  conn_free(c);
}

static void complete(conn* c) {
  uint64_t t = now_ns();
  n_done++;
  if (c->status >= 200 && c->status < 300)
    s2xx++;
  else if (c->status == 401)
    s401++;
  else if (c->status == 403)
    s403++;
  else if (c->status >= 500 && c->status < 600)
    s5xx++;
  else
    sother++;
  if (!c->warm) {
    if (nlat == latcap) {
      latcap = latcap * 2 + 1024;
      lat = realloc(lat, latcap * sizeof *lat);
      if (!lat) fail("realloc");
    }
    lat[nlat++] = t - c->due;
  }
  c->busy = 0;
  c->pstate = P_HEAD;
  c->hlen = c->llen = 0;
  if (c->close_after) {
    drop_conn(c);
    n_reconnects--;  // an announced close is not a failure; the count is of unexpected ones
  } else {
    conn_free(c);
  }
}

static int header_has(const char* v, size_t n, const char* word) {
  size_t w = strlen(word);
  for (size_t i = 0; i + w <= n; i++)
    if (strncasecmp(v + i, word, w) == 0) return 1;
  return 0;
}

// The head is complete in c->head[0..len): status, framing, Connection.
static void parse_head(conn* c, size_t len) {
  c->status = (len > 12 && memcmp(c->head, "HTTP/1.", 7) == 0) ? atoi(c->head + 9) : 0;
  int http10 = len > 8 && c->head[7] == '0';
  int chunked = 0, keepalive = 0;
  long long cl = -1;
  const char *p = memchr(c->head, '\n', len), *end = c->head + len;
  while (p && p + 1 < end) {
    const char* s = p + 1;
    const char* e = memchr(s, '\n', (size_t)(end - s));
    if (!e) break;
    const char* colon = memchr(s, ':', (size_t)(e - s));
    if (colon) {
      size_t nlen = (size_t)(colon - s);
      const char* v = colon + 1;
      size_t vlen = (size_t)(e - v);
      if (nlen == 14 && strncasecmp(s, "content-length", 14) == 0) cl = atoll(v);
      if (nlen == 17 && strncasecmp(s, "transfer-encoding", 17) == 0 &&
          header_has(v, vlen, "chunked"))
        chunked = 1;
      if (nlen == 10 && strncasecmp(s, "connection", 10) == 0) {
        if (header_has(v, vlen, "close")) c->close_after = 1;
        if (header_has(v, vlen, "keep-alive")) keepalive = 1;
      }
    }
    p = e;
  }
  if (http10 && !keepalive) c->close_after = 1;
  if (c->status == 204 || c->status == 304) {
    c->remaining = 0;
    c->pstate = P_BODY_CL;
  } else if (chunked) {
    c->pstate = P_CHUNK_SIZE;
    c->llen = 0;
  } else if (cl >= 0) {
    c->remaining = (uint64_t)cl;
    c->pstate = P_BODY_CL;
  } else {
    c->pstate = P_BODY_EOF;
    c->close_after = 1;
  }
}

// Feeds bytes of the answer; calls complete() at its end. Returns 0 on a protocol error.
static int feed(conn* c, const char* p, size_t n) {
  while (n > 0 || (c->pstate == P_BODY_CL && c->remaining == 0)) {
    if (!c->busy) return 0;  // bytes nobody asked for
    switch (c->pstate) {
      case P_HEAD: {
        size_t old = c->hlen, take = n;
        if (take > sizeof c->head - old) take = sizeof c->head - old;
        memcpy(c->head + old, p, take);
        c->hlen += take;
        size_t from = old >= 3 ? old - 3 : 0;
        char* e = memmem(c->head + from, c->hlen - from, "\r\n\r\n", 4);
        if (!e) {
          if (c->hlen == sizeof c->head) return 0;
          p += take;
          n -= take;
          break;
        }
        size_t hend = (size_t)(e - c->head) + 4;
        size_t used = hend - old;
        p += used;
        n -= used;
        parse_head(c, hend);
        if (c->status >= 100 && c->status < 200) {  // interim answer: the real one follows
          c->pstate = P_HEAD;
          c->hlen = 0;
          c->close_after = 0;
        }
        break;
      }
      case P_BODY_CL: {
        uint64_t take = n < c->remaining ? n : c->remaining;
        c->remaining -= take;
        p += take;
        n -= take;
        if (c->remaining == 0) {
          complete(c);
          if (n > 0) return 0;  // no pipelining: nothing may follow
          return 1;
        }
        break;
      }
      case P_CHUNK_SIZE:
      case P_TRAILER: {
        const char* nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) + 1 : n;
        if (c->llen + take >= sizeof c->line) return 0;
        memcpy(c->line + c->llen, p, take);
        c->llen += take;
        p += take;
        n -= take;
        if (!nl) break;
        c->line[c->llen] = 0;
        if (c->pstate == P_CHUNK_SIZE) {
          unsigned long long sz = strtoull(c->line, NULL, 16);
          c->llen = 0;
          if (sz == 0) {
            c->pstate = P_TRAILER;
          } else {
            c->remaining = sz;
            c->pstate = P_CHUNK_DATA;
          }
        } else {
          int empty = c->llen <= 2;
          c->llen = 0;
          if (empty) {
            c->remaining = 0;
            c->pstate = P_BODY_CL;  // completes at once
          }
        }
        break;
      }
      case P_CHUNK_DATA: {
        uint64_t take = n < c->remaining ? n : c->remaining;
        c->remaining -= take;
        p += take;
        n -= take;
        if (c->remaining == 0) {
          c->remaining = 2;
          c->pstate = P_CHUNK_CRLF;
        }
        break;
      }
      case P_CHUNK_CRLF: {
        uint64_t take = n < c->remaining ? n : c->remaining;
        c->remaining -= take;
        p += take;
        n -= take;
        if (c->remaining == 0) c->pstate = P_CHUNK_SIZE;
        break;
      }
      case P_BODY_EOF:
        return 1;  // everything up to the close is body
    }
  }
  return 1;
}

static void on_readable(conn* c) {
  char buf[65536];
  for (;;) {
    ssize_t r = recv(c->fd, buf, sizeof buf, 0);
    if (r > 0) {
      if (!feed(c, buf, (size_t)r)) {
        if (c->busy) n_errors++;
        c->busy = 0;
        drop_conn(c);
        return;
      }
      if (r < (ssize_t)sizeof buf) return;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    // EOF or error
    if (c->busy && c->pstate == P_BODY_EOF) {
      c->close_after = 1;
      complete(c);  // reopens the connection
      return;
    }
    if (c->busy) n_errors++;
    c->busy = 0;
    drop_conn(c);
    return;
  }
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static double pct(double q) {
  if (nlat == 0) return 0;
  size_t i = (size_t)(q * (double)nlat + 0.999999999);
  if (i < 1) i = 1;
  if (i > nlat) i = nlat;
  return (double)lat[i - 1] / 1000.0;
}

int main(int argc, char** argv) {
  if (argc < 7) {
    fprintf(stderr,
            "usage: rate_client HOST PORT RATE CONNS SECONDS REQUEST_FILE [-w WARMUP_SECS] [-k] "
            "[-T DRAIN_SECS]\n");
    return 2;
  }
  const char *host = argv[1], *port = argv[2];
  double rate = atof(argv[3]);
  nconns = atoi(argv[4]);
  double seconds = atof(argv[5]);
  double warmup = 0, drain = 2;
  for (int i = 7; i < argc; i++) {
    if (strcmp(argv[i], "-k") == 0)
      random_keys = 1;
    else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
      warmup = atof(argv[++i]);
    else if (strcmp(argv[i], "-T") == 0 && i + 1 < argc)
      drain = atof(argv[++i]);
    else {
      fprintf(stderr, "rate_client: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (rate <= 0 || nconns <= 0 || seconds <= 0 || warmup < 0 || warmup >= seconds) {
    fprintf(stderr, "rate_client: need RATE > 0, CONNS > 0, SECONDS > WARMUP_SECS >= 0\n");
    return 2;
  }

  FILE* f = fopen(argv[6], "rb");
  if (!f) fail(argv[6]);
  tmpl = malloc(1 << 16);
  tmpl_len = fread(tmpl, 1, 1 << 16, f);
  fclose(f);
  if (tmpl_len == 0) {
    fprintf(stderr, "rate_client: empty request file\n");
    return 2;
  }

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
  int rc = getaddrinfo(host, port, &hints, &ai);
  if (rc) {
    fprintf(stderr, "rate_client: %s: %s\n", host, gai_strerror(rc));
    return 2;
  }
  memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  addrlen = ai->ai_addrlen;
  freeaddrinfo(ai);

  rng = now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
  if (!rng) rng = 1;
  ep = epoll_create1(0);
  if (ep < 0) fail("epoll_create1");
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  if (tfd < 0) fail("timerfd_create");
  struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = nconns - 1; i >= 0; i--) {
    open_conn(&conns[i]);
    push_idle(&conns[i]);
  }

  const uint64_t total = (uint64_t)(rate * seconds + 0.5);
  const double interval = 1e9 / rate;
  queue = malloc((total + 1) * sizeof *queue);
  latcap = total + 1024;
  lat = malloc(latcap * sizeof *lat);
  if (!queue || !lat) fail("malloc");

  const uint64_t start = now_ns() + 20000000;  // 20 ms after the connections are open
  const uint64_t end = start + (uint64_t)(seconds * 1e9);
  const uint64_t deadline = end + (uint64_t)(drain * 1e9);
  warm_end = start + (uint64_t)(warmup * 1e9);
  uint64_t next = 0;  // index of the next request to schedule
  struct epoll_event evs[256];
  uint64_t armed = 0;
  for (;;) {
    uint64_t now = now_ns();
    while (next < total) {
      uint64_t due = start + (uint64_t)((double)next * interval);
      if (due > now) break;
      next++;
      conn* c = idle_head;
      if (c) {
        idle_head = c->next_idle;
        send_req(c, due);
      } else {
        queue[qtail++] = due;
        n_queued++;
        if (qtail - qhead > max_queue) max_queue = qtail - qhead;
      }
    }
    uint64_t outstanding = n_sent - n_done - n_errors + (qtail - qhead);
    if (next >= total && outstanding == 0) break;
    if (now >= deadline) break;
    uint64_t wake = next < total ? start + (uint64_t)((double)next * interval) : deadline;
    if (wake != armed) {
      struct itimerspec its = {.it_value = {.tv_sec = (time_t)(wake / 1000000000ull),
                                            .tv_nsec = (long)(wake % 1000000000ull)}};
      if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) fail("timerfd_settime");
      armed = wake;
    }
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      conn* c = evs[i].data.ptr;
      if (!c) {
        uint64_t x;
        ssize_t r = read(tfd, &x, sizeof x);
        (void)r;
        armed = 0;
        continue;
      }
      if (evs[i].events & EPOLLOUT) flush(c);
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
    }
  }
  uint64_t finished = now_ns();
  uint64_t timeouts = n_sent - n_done - n_errors + (qtail - qhead);

  qsort(lat, nlat, sizeof *lat, cmp_u64);
  double sum = 0;
  for (size_t i = 0; i < nlat; i++) sum += (double)lat[i];
  double measured_secs = seconds - warmup;
  (void)finished;
  printf(
      "BENCH scheduled=%llu sent=%llu done=%llu measured=%zu seconds=%.3f achieved_rps=%.1f "
      "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f "
      "s2xx=%llu s401=%llu s403=%llu s5xx=%llu sother=%llu errors=%llu timeouts=%llu "
      "reconnects=%llu queued=%llu max_queue=%zu lag_gt1ms=%llu max_lag_us=%.1f\n",
      (unsigned long long)total, (unsigned long long)n_sent, (unsigned long long)n_done, nlat,
      seconds, (double)nlat / measured_secs, pct(0.50), pct(0.90), pct(0.99), pct(0.999),
      nlat ? (double)lat[nlat - 1] / 1000.0 : 0.0, nlat ? sum / (double)nlat / 1000.0 : 0.0,
      (unsigned long long)s2xx, (unsigned long long)s401, (unsigned long long)s403,
      (unsigned long long)s5xx, (unsigned long long)sother, (unsigned long long)n_errors,
      (unsigned long long)timeouts, (unsigned long long)n_reconnects, (unsigned long long)n_queued,
      max_queue, (unsigned long long)lag_gt1ms, (double)max_lag / 1000.0);
  return 0;
}
