#pragma once
// Per-thread and shared state of the server. Each worker owns one io_context, its acceptor
// (SO_REUSEPORT) and its caches and pools, so the request path takes no lock shared by all threads.
// Shared state is either immutable, atomic, or swapped into each worker by posting to it.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "authz_cache.hpp"
#include "esgate/auth/cache_digest.hpp"
#include "esgate/config/settings.hpp"
#include "esgate/cursor/cursor_store.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/keystore/key_cache.hpp"
#include "esgate/keystore/key_store.hpp"
#include "esgate/keystore/redis_client.hpp"
#include "esgate/observability/audit.hpp"
#include "esgate/observability/metrics.hpp"
#include "esgate/proxy/node_admission.hpp"
#include "esgate/proxy/nodes.hpp"
#include "esgate/proxy/upstream_pool.hpp"
#include "key_outage.hpp"
#include "per_ip_connections.hpp"
#include "security_state.hpp"

namespace esgate::app {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct shared_state {
  explicit shared_state(config::settings s);
  const config::settings settings;
  proxy::node_set nodes;
  std::shared_ptr<asio::ssl::context> upstream_tls;  // https:// nodes; immutable
  std::string upstream_authorization;                // header value towards ES, may be empty
  asio::thread_pool crypto_pool{2};                  // bcrypt / PBKDF2, never on an I/O thread
  auth::cache_digester digester;                     // keyed digests for credential caches
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> connections{0};
  per_ip_connections per_ip;
  std::atomic<bool> key_store_reachable{false};
  // Redis confirmed the subscription to key changes (P events); false from its loss until then.
  std::atomic<bool> key_events_subscribed{false};
  key_outage_status key_outages;  // which threads serve keys from their cache only (health)
  // Request body bytes buffered for inspection right now, across threads
  // (limits.body_buffer_budget).
  std::atomic<std::uint64_t> buffered_body_bytes{0};
  // Drops an API key id from every worker's cache (set by the server; posts to each thread).
  std::function<void(std::string)> broadcast_forget;
  // Metrics: no member here. Each thread counts into its own observability::thread_metrics
  // block (observability::local()), summed at scrape time.
  // audit.enabled: the audit log, null when off (the request path tests this pointer only).
  std::unique_ptr<observability::audit_log> audit;
  // logging.access_log: one line per request, null when off.
  std::unique_ptr<observability::line_writer> access_log;
  bool access_log_json = false;
  std::uint64_t request_id_salt = 0;  // random per process: request ids differ across restarts
};

// A verified Basic login remembered as a keyed digest of user:password, so repeated requests skip
// bcrypt; bounded in size and time, and tied to the security snapshot generation (a reload that
// changes users drops it).
// Relay buffers for bodies, lent to a request while it streams and given back after, so memory
// follows the requests in flight rather than the open connections (10,000 idle keep-alive clients
// hold none). A few are kept for reuse.
class relay_buffers {
 public:
  static constexpr std::size_t size = 64 * 1024;
  std::unique_ptr<char[]> take() {
    if (free_.empty()) return std::make_unique<char[]>(size);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(std::unique_ptr<char[]> b) {
    if (free_.size() < max_free) free_.push_back(std::move(b));
  }

 private:
  static constexpr std::size_t max_free = 32;
  std::vector<std::unique_ptr<char[]>> free_;
};

// Request bodies read whole for inspection (up to limits.body_lookahead) go into strings kept per
// thread and reused. A fresh allocation of megabytes costs a page fault per 4 KiB on every request
// (jemalloc hands allocations over 8 MiB back to the system at once): a third of the CPU of a
// 10 MB `_bulk` (bench/RESULTS.md). Like the relay buffers, they follow the requests in flight,
// not the connections: at most `max_free` and `max_bytes` are kept, none larger than the
// look-ahead, and none once the thread has not needed one for `max_unused` (trim()).
class body_buffers {
 public:
  using clock = std::chrono::steady_clock;
  std::string take() {
    last_take_ = clock::now();
    if (free_.empty()) return {};
    auto s = std::move(free_.back());
    free_.pop_back();
    bytes_ -= s.capacity();
    return s;
  }
  void give(std::string s, std::size_t max_capacity) {
    s.clear();
    if (s.capacity() <= relay_buffers::size || s.capacity() > max_capacity + 4096 ||
        free_.size() >= max_free || bytes_ + s.capacity() > max_bytes)
      return;  // small ones cost nothing to make, larger ones are not kept
    bytes_ += s.capacity();
    free_.push_back(std::move(s));
  }
  // Called periodically: a thread that stopped receiving large bodies gives their memory back.
  void trim(clock::time_point now) {
    if (!free_.empty() && now - last_take_ > max_unused) {
      free_.clear();
      bytes_ = 0;
    }
  }

 private:
  static constexpr std::size_t max_free = 8;
  static constexpr std::size_t max_bytes = 128ull * 1024 * 1024;
  static constexpr std::chrono::seconds max_unused{10};
  std::vector<std::string> free_;
  std::size_t bytes_ = 0;
  clock::time_point last_take_{};
};

struct digest_hash {
  std::size_t operator()(const auth::cache_digest& d) const {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

// A bcrypt check in progress: requests with the same user:password wait for it (single flight).
struct basic_check {
  explicit basic_check(asio::io_context& ioc) : done(ioc, proxy::clock::time_point::max()) {}
  asio::steady_timer done;  // cancelled when the check ends
  bool ok = false;
};

class basic_auth_cache {
 public:
  bool contains(const auth::cache_digest& d, std::uint64_t generation,
                proxy::clock::time_point now);
  void insert(const auth::cache_digest& d, std::uint64_t generation,
              proxy::clock::time_point expiry);

 private:
  struct entry {
    std::uint64_t generation;
    proxy::clock::time_point expiry;
  };
  std::unordered_map<auth::cache_digest, entry, digest_hash> entries_;
  static constexpr std::size_t max_entries = 10000;
};

// Deadlines without per-operation timers: a session arms its watch (a store of a time point, no
// syscall) before each I/O phase; the worker's sweeper cancels the sockets of watches whose
// deadline passed and marks them timed out. Beast's own per-operation timers cost a timer queue
// insert and a cancelled-handler completion on every read and write; nginx uses the same coarse
// scheme.
struct io_watch {
  proxy::clock::time_point deadline = proxy::clock::time_point::max();
  asio::ip::tcp::socket* client = nullptr;
  asio::ip::tcp::socket* upstream = nullptr;
  bool timed_out = false;
  void arm(std::chrono::milliseconds d) {
    deadline = proxy::coarse_now() + d;
    timed_out = false;
  }
  void disarm() { deadline = proxy::clock::time_point::max(); }
};

inline constexpr std::chrono::milliseconds watch_sweep_period{200};

// An io_context whose pending work (suspended coroutines of sessions cut at shutdown) can be
// destroyed while the worker that those coroutines use is still whole.
struct worker_io_context : asio::io_context {
  using asio::io_context::io_context;
  void destroy_pending_work() { shutdown(); }
};

struct worker {
  worker(shared_state& s, unsigned idx, unsigned threads);
  // The frames of requests still in flight (past limits.shutdown_grace) give back admission
  // slots, buffers and pooled connections when they are destroyed: destroy them first, while
  // those members are alive (the io_context itself, declared first, is destroyed last).
  ~worker() { ioc.destroy_pending_work(); }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;
  worker_io_context ioc{1};
  shared_state& shared;
  unsigned index;
  std::optional<asio::ip::tcp::acceptor> acceptor;
  std::shared_ptr<asio::ssl::context> server_tls;  // current listener TLS context, or null
  std::shared_ptr<const security_state> security;  // current policy snapshot
  proxy::upstream_pool pool;
  proxy::node_admission admission;  // this thread's share of the per-node request limits
  std::uint64_t rr_cursor;
  std::uint64_t request_counter = 0;  // this thread's part of the gateway's request ids
  basic_auth_cache basic_cache;
  relay_buffers buffers;
  body_buffers bodies;
  std::unordered_map<auth::cache_digest, std::shared_ptr<basic_check>, digest_hash> basic_checks;
  std::unordered_set<asio::ip::tcp::socket*>
      idle_streams;                              // keep-alive connections between requests
  std::vector<std::weak_ptr<io_watch>> watches;  // one per open connection (sweeper)

  // API keys: this thread's Redis connection, the store on top of it, and its key cache.
  std::unique_ptr<keystore::redis_client> redis;
  std::unique_ptr<keystore::key_store> key_store;
  std::unique_ptr<cursor::cursor_store> cursors;  // who opened each scroll / PIT / async id
  keystore::key_cache key_cache;
  // Key-store outages (key_outage.hpp): the revalidation loop sleeps on this timer until woken.
  asio::steady_timer key_revalidation_wake{ioc};
  bool revalidation_wanted = false;
  std::unordered_map<std::string, std::shared_ptr<asio::steady_timer>>
      key_waiters;                                                 // single flight
  std::unordered_map<std::string, std::int64_t> key_last_written;  // id → last_used written (ms)
  std::vector<std::pair<std::string, std::int64_t>> key_uses_to_write;  // flushed in batches

  authz_cache authz;  // decisions for cached identities (authz_cache.hpp)

  // Cluster names for wildcard narrowing (cluster_metadata.hpp).
  std::shared_ptr<const es::cluster_metadata> metadata;
  proxy::clock::time_point metadata_fetched{};
  std::shared_ptr<asio::steady_timer> metadata_waiter;  // set while a fetch is in flight
};

}  // namespace esgate::app
