#include "server.hpp"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <random>
#include <thread>
#include <utility>

#include "api_key_auth.hpp"
#include "esgate/auth/base64.hpp"
#include "esgate/observability/log.hpp"
#include "esgate/observability/metrics.hpp"
#include "esgate/proxy/upstream_pool.hpp"
#include "key_outage.hpp"
#include "metrics_listener.hpp"
#include "request_audit.hpp"
#include "session.hpp"
#include "tls.hpp"
#include "worker.hpp"

namespace esgate::app {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string upstream_authorization(const config::upstream& u) {
  if (u.basic) return "Basic " + auth::base64_encode(u.basic->username + ":" + u.basic->password);
  if (!u.api_key.empty()) return "ApiKey " + u.api_key;
  return {};
}

bool needs_upstream_tls(const config::upstream& u) {
  for (auto& n : u.nodes)
    if (n.scheme == "https") return true;
  return false;
}

// Every client connection may hold an upstream one too: the usual soft limit of 1,024 descriptors
// would cap the gateway far below limits.max_connections, so it is raised to the hard limit.
void raise_open_files_limit(std::size_t max_connections) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) getrlimit(RLIMIT_NOFILE, &rl);
  }
  // Clients, plus upstream connections for the requests in flight and the gateway's own.
  const auto wanted = static_cast<rlim_t>(max_connections) + 1024;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted)
    spdlog::warn(
        "the open files limit is {} (hard limit {}): fewer than limits.max_connections "
        "({}) clients and their upstream connections; raise it (ulimit -n, LimitNOFILE=)",
        rl.rlim_cur, rl.rlim_max, max_connections);
}

// Out of file descriptors (or kernel memory): the pending connection stays in the backlog and
// accept would fail again at once, so wait before the next try instead of spinning on it.
bool resource_exhausted(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

// Limits, then the session: a connection accepted by accept_loop.
void admit(worker& w, asio::ip::tcp::socket socket) {
  auto& shared = w.shared;
  const auto& limits = shared.settings.limits;
  if (shared.connections.load(std::memory_order_relaxed) >= limits.max_connections) {
    observability::local().connections_refused.add();
    return;  // socket closes on destruction: limits.max_connections reached
  }
  boost::system::error_code rec;
  const auto remote = socket.remote_endpoint(rec);
  std::string ip = rec ? std::string("unknown") : remote.address().to_string();
  if (!shared.per_ip.try_open(ip, limits.max_connections_per_ip)) {
    observability::local().connections_refused.add();
    return;  // limits.max_connections_per_ip reached for this address
  }
  shared.connections.fetch_add(1, std::memory_order_relaxed);
  observability::local().connections_opened.add();
  asio::co_spawn(w.ioc, run_session(w, std::move(socket)), [&shared, ip](std::exception_ptr e) {
    shared.per_ip.close(ip);
    shared.connections.fetch_sub(1, std::memory_order_relaxed);
    observability::local().connections_closed.add();  // the worker's thread, as the open
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("session failed unexpectedly: {}", ex.what());
      }
    }
  });
}

// Connections taken from the backlog per wake-up of the accept loop. One accept per pass of the
// event loop, in which every busy connection also takes its turn, left a burst of 2,000 (a
// slowloris flood, a reconnect storm) seconds in the backlog under load, its header deadlines not
// yet started and legitimate clients waiting behind it (HAProxy's tune.maxaccept, nginx's
// multi_accept).
constexpr int max_accept_batch = 64;

asio::awaitable<void> accept_loop(worker& w) {
  asio::steady_timer backoff(w.ioc);
  std::optional<std::chrono::steady_clock::time_point> last_warning;
  while (w.acceptor && w.acceptor->is_open()) {
    auto [ec, socket] = co_await w.acceptor->async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !w.acceptor->is_open()) break;
      if (resource_exhausted(ec)) {
        const auto now = std::chrono::steady_clock::now();
        if (!last_warning || now - *last_warning > std::chrono::seconds(10)) {  // not per try
          spdlog::warn("accept failed: {}; pausing accepts for 100 ms at a time", ec.message());
          last_warning = now;
        }
        backoff.expires_after(std::chrono::milliseconds(100));
        co_await backoff.async_wait(use_tuple);
        continue;
      }
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    admit(w, std::move(socket));
    // The rest of a burst without waiting (the acceptor is non-blocking): would_block ends it, and
    // any other error is left to the next async_accept, which handles it as above.
    for (int i = 1; i < max_accept_batch && w.acceptor->is_open(); ++i) {
      boost::system::error_code aec;
      auto more = w.acceptor->accept(aec);
      if (aec) break;
      admit(w, std::move(more));
    }
  }
}

// Writes the batched last-used times of API keys (esgate's extra over ES, at most one write per
// key per minute, see api_key_auth.cpp) every 10 seconds.
asio::awaitable<void> last_used_flush_loop(worker& w) {
  asio::steady_timer timer(w.ioc);
  while (!w.shared.draining.load()) {
    timer.expires_after(std::chrono::seconds(10));
    co_await timer.async_wait(use_tuple);
    if (w.key_uses_to_write.empty()) continue;
    auto batch = std::move(w.key_uses_to_write);
    w.key_uses_to_write.clear();
    auto ec = co_await w.key_store->touch_last_used(std::move(batch));
    if (ec) spdlog::debug("could not record last_used times: {}", ec.message());
    if (w.key_last_written.size() > 100000) w.key_last_written.clear();
  }
}

// Cancels the sockets of connections whose armed deadline has passed (see io_watch), and trims
// the thread's pool of body buffers.
asio::awaitable<void> watch_sweep_loop(worker& w) {
  asio::steady_timer timer(w.ioc);
  for (;;) {
    timer.expires_after(watch_sweep_period);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    const auto now = proxy::clock::now();
    w.bodies.trim(std::chrono::steady_clock::now());
    auto& ws = w.watches;
    for (std::size_t i = 0; i < ws.size();) {
      auto watch = ws[i].lock();
      if (!watch) {  // connection gone: swap-remove
        ws[i] = std::move(ws.back());
        ws.pop_back();
        continue;
      }
      if (watch->deadline <= now && !watch->timed_out) {
        watch->timed_out = true;
        boost::system::error_code ignored;
        if (watch->client) watch->client->cancel(ignored);
        if (watch->upstream) watch->upstream->cancel(ignored);
      }
      ++i;
    }
  }
}

void open_acceptor(worker& w, const asio::ip::tcp::endpoint& ep) {
  w.acceptor.emplace(w.ioc);
  w.acceptor->open(ep.protocol());
  w.acceptor->set_option(asio::socket_base::reuse_address(true));
  // SO_REUSEPORT: every worker has its own listening socket on the same port and the kernel
  // spreads connections across them (nginx's model), so accepting needs no shared lock.
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  w.acceptor->set_option(reuse_port(true));
  w.acceptor->bind(ep);
  w.acceptor->listen(asio::socket_base::max_listen_connections);
  w.acceptor->non_blocking(true);  // accept_loop drains a burst with synchronous accepts
}

// Re-admits an ejected node once its ejection time has passed and GET / with the upstream
// credentials answers 2xx; otherwise it stays out for another period.
asio::awaitable<void> probe_ejected(shared_state& shared, proxy::upstream_pool& pool,
                                    std::size_t i) {
  const auto& n = shared.nodes.node(i);
  const auto timeout = std::min<std::chrono::milliseconds>(shared.settings.upstream.request_timeout,
                                                           std::chrono::seconds(10));
  const unsigned status =
      co_await proxy::probe_node(pool, i, shared.upstream_authorization, timeout);
  if (status / 100 == 2) {
    shared.nodes.readmit(i);
    spdlog::info("upstream node {} answered its health check: back in the rotation", n.url);
  } else {
    shared.nodes.probe_failed(i);
    if (status == 0)
      spdlog::warn("upstream node {} stays ejected: its health check (GET /) got no answer", n.url);
    else
      spdlog::warn("upstream node {} stays ejected: its health check (GET /) answered {}", n.url,
                   status);
  }
}

// Probes every upstream node and the key store every upstream.probe_interval (TCP connect), so
// /_esgate/health and the round-robin know which nodes answer even when no traffic flows. An
// ejected node gets the HTTP health check instead.
asio::awaitable<void> probe_loop(shared_state& shared, bool& stop) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  proxy::upstream_pool probe_pool(shared.nodes, shared.upstream_tls,
                                  {shared.settings.upstream.connect_timeout, {}, 0});
  bool first = true;
  while (!stop) {
    for (std::size_t i = 0; i < shared.nodes.size(); ++i) {
      const auto& n = shared.nodes.node(i);
      if (shared.nodes.is_ejected(i)) {
        if (shared.nodes.probe_due(i)) co_await probe_ejected(shared, probe_pool, i);
        continue;
      }
      asio::ip::tcp::resolver resolver(ex);
      auto [rec, results] =
          co_await resolver.async_resolve(n.host, std::to_string(n.port), use_tuple);
      bool ok = false;
      if (!rec) {
        beast::tcp_stream s(ex);
        s.expires_after(shared.settings.upstream.connect_timeout);
        auto [ec, ep] = co_await s.async_connect(results, use_tuple);
        ok = !ec;
      }
      const bool was = shared.nodes.is_reachable(i);
      if (ok)
        shared.nodes.mark_up(i);
      else if (was || first)
        shared.nodes.mark_down(i);
      if (ok != was || (first && !ok)) {
        if (ok)
          spdlog::info("upstream node {} is reachable", n.url);
        else
          spdlog::warn(
              "no Elasticsearch answers at {} (upstream.nodes); requests to it fail with 502 until "
              "it does. To start one locally: docker compose up -d elasticsearch",
              n.url);
      }
    }
    {
      const auto& r = shared.settings.redis;
      asio::ip::tcp::resolver resolver(ex);
      auto [rec, results] =
          co_await resolver.async_resolve(r.host, std::to_string(r.port), use_tuple);
      bool ok = false;
      if (!rec) {
        beast::tcp_stream s(ex);
        s.expires_after(std::chrono::seconds(2));
        auto [ec, ep] = co_await s.async_connect(results, use_tuple);
        ok = !ec;
      }
      if (ok != shared.key_store_reachable.load() || first)
        (ok ? spdlog::info("key store (Redis) at {}:{} is {}", r.host, r.port, "reachable")
            : spdlog::warn("key store (Redis) at {}:{} is {}", r.host, r.port, "unreachable"));
      shared.key_store_reachable.store(ok);
    }
    first = false;
    timer.expires_after(shared.settings.upstream.probe_interval);
    co_await timer.async_wait(use_tuple);
  }
}

}  // namespace

shared_state::shared_state(config::settings s)
    : settings(std::move(s)),
      nodes(settings.upstream.nodes, settings.upstream.outlier),
      upstream_tls(needs_upstream_tls(settings.upstream)
                       ? proxy::make_upstream_tls_context(settings.upstream.tls_ca,
                                                          settings.upstream.tls_verify)
                       : nullptr),
      upstream_authorization(app::upstream_authorization(settings.upstream)) {}

keystore::redis_config redis_config_of(const config::redis& r) {
  keystore::redis_config c;
  c.host = r.host;
  c.port = r.port;
  c.username = r.username;
  c.password = r.password;
  c.db = r.db;
  return c;
}

// Each thread gets an equal share (rounded up) of the per-node limits.
std::size_t share_of(std::size_t limit, unsigned threads) {
  return (limit + threads - 1) / std::max(1u, threads);
}

worker::worker(shared_state& s, unsigned idx, unsigned threads)
    : shared(s),
      index(idx),
      pool(s.nodes, s.upstream_tls,
           proxy::pool_settings{s.settings.upstream.connect_timeout, std::chrono::seconds(30), 64}),
      admission(s.nodes.size(), share_of(s.settings.upstream.max_connections_per_node, threads),
                share_of(s.settings.upstream.max_pending_per_node, threads)),
      rr_cursor(idx),
      redis(std::make_unique<keystore::redis_client>(ioc.get_executor(),
                                                     redis_config_of(s.settings.redis))),
      key_store(std::make_unique<keystore::key_store>(*redis, s.settings.redis.prefix)),
      cursors(std::make_unique<cursor::cursor_store>(*redis, s.settings.redis.prefix)),
      key_cache(s.settings.security.api_key.cache_max_keys, s.settings.security.api_key.cache_ttl,
                std::chrono::seconds(2), s.settings.security.api_key.stale_if_error) {}

// audit.* of esgate.yaml as the audit log's options.
observability::audit_options audit_options_of(const config::audit& a) {
  observability::audit_options o;
  o.file = a.file;
  o.queue_size = a.queue_size;
  if (a.events_set) {
    o.events = 0;
    if (a.include.empty()) o.events = observability::all_audit_events;
    for (const auto& n : a.include)
      if (auto e = observability::parse_audit_event(n)) o.events |= observability::audit_bit(*e);
    for (const auto& n : a.exclude)
      if (auto e = observability::parse_audit_event(n)) o.events &= ~observability::audit_bit(*e);
  }
  return o;
}

int run_server(const config::settings& settings) {
  raise_open_files_limit(settings.limits.max_connections);
  observability::configure_logging(settings.logging.level, settings.logging.format);
  shared_state shared(settings);
  {
    std::vector<std::string> labels;  // esgate_upstream_* {node}: the configured URLs (bounded)
    for (auto& node : settings.upstream.nodes)
      labels.push_back(node.scheme + "://" + node.host + ":" + std::to_string(node.port));
    observability::registry::global().set_node_labels(std::move(labels));
  }
  shared.request_id_salt = std::random_device{}();
  try {
    if (settings.audit.enabled)
      shared.audit = std::make_unique<observability::audit_log>(audit_options_of(settings.audit));
    if (settings.logging.access_log) {
      shared.access_log = std::make_unique<observability::line_writer>(
          settings.logging.access_log_file, 10000, [] { observability::record_access_log_drop(); });
      shared.access_log_json = settings.logging.format == "json";
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }

  auto security = load_security_state(settings, 1);
  if (!security.state) {
    for (auto& e : security.errors) spdlog::error("{}", e.to_string());
    return 1;
  }
  for (auto& warning : security.warnings) spdlog::warn("{}", warning);
  std::shared_ptr<asio::ssl::context> tls;
  if (settings.listen.tls) {
    auto made = make_server_tls_context(*settings.listen.tls);
    if (!made.context) {
      spdlog::error("TLS: {}", made.error);
      return 1;
    }
    tls = made.context;
  }

  unsigned n =
      settings.threads ? settings.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<worker>> workers;
  asio::ip::tcp::endpoint ep(asio::ip::make_address(settings.listen.address), settings.listen.port);
  try {
    for (unsigned i = 0; i < n; ++i) {
      auto w = std::make_unique<worker>(shared, i, n);
      w->security = security.state;
      w->server_tls = tls;
      open_acceptor(*w, ep);
      workers.push_back(std::move(w));
    }
  } catch (const std::exception& e) {
    spdlog::error("cannot listen on {}:{}: {}", settings.listen.address, settings.listen.port,
                  e.what());
    return 1;
  }

  // Control context: signals, reloads, health probing, drain. Kept off the I/O threads.
  asio::io_context control;
  std::shared_ptr<metrics_listener> scrapes;  // metrics.listen, served by the control thread
  if (settings.metrics.listen) {
    try {
      scrapes = start_metrics_listener(control, *settings.metrics.listen);
    } catch (const std::exception& e) {
      spdlog::error("cannot listen on metrics.listen {}:{}: {}", settings.metrics.listen->address,
                    settings.metrics.listen->port, e.what());
      return 1;
    }
  }
  bool stop_probing = false;
  asio::co_spawn(control, probe_loop(shared, stop_probing), asio::detached);

  // Cross-instance cache invalidation: every gateway sharing the Redis publishes key changes on
  // one channel; each drops the id from every thread's cache. A lost subscription means events may
  // be missed: every cache enters outage mode (keys verified before keep working for
  // stale_if_error, nothing new is read), and once Redis confirms the subscription again every
  // thread re-reads all its cached ids before trusting them further (key_outage.hpp; the
  // interface.md §5 guarantees then hold again within one round trip).
  auto broadcast = [&workers](std::string id) {
    for (auto& w : workers) asio::post(w->ioc, [wp = w.get(), id] { forget_api_key(*wp, id); });
  };
  shared.broadcast_forget = broadcast;
  bool events_lost = false;  // control thread only
  keystore::redis_subscriber subscriber(
      control.get_executor(), redis_config_of(settings.redis), settings.redis.prefix + "events",
      keystore::subscriber_handlers{
          [broadcast](std::string msg) { broadcast(std::move(msg)); },
          [&] {
            shared.key_events_subscribed.store(false);
            events_lost = true;
            const auto since = std::chrono::steady_clock::now();
            spdlog::warn(
                "lost the key-store event subscription: API key caches in outage mode "
                "(security.api_key.stale_if_error: {} ms)",
                settings.security.api_key.stale_if_error.count());
            for (auto& w : workers)
              asio::post(w->ioc, [wp = w.get(), since] { key_store_outage(*wp, since); });
          },
          [&] {
            shared.key_events_subscribed.store(true);
            if (std::exchange(events_lost, false))
              spdlog::info("key-store event subscription restored: re-reading cached API keys");
            // Also on the first subscription: entries cached before it may have missed events.
            for (auto& w : workers) asio::post(w->ioc, [wp = w.get()] { key_store_back(*wp); });
          }});
  subscriber.start();

  std::uint64_t generation = 1;
  // Reload on file change too (not only SIGHUP): poll the policy files' modification time and size
  // once a second. Polling works on every filesystem (inotify misses edits on some network and
  // container mounts) and costs two stat calls a second.
  auto file_stamp = [](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::pair<std::int64_t, std::int64_t>{-1, -1};
    return std::pair<std::int64_t, std::int64_t>{
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
        static_cast<std::int64_t>(st.st_size)};
  };
  auto stamps = [&] {
    return std::tuple{file_stamp(settings.security.roles_file),
                      file_stamp(settings.security.users_file),
                      file_stamp(settings.security.shadow_roles_file)};
  };
  auto last_stamps = stamps();

  auto reload = [&] {
    spdlog::info("reloading users, roles and TLS certificate");
    last_stamps = stamps();  // the watcher does not reload what this reload already read
    auto next = load_security_state(settings, ++generation);
    for (auto& warning : next.warnings) spdlog::warn("{}", warning);
    std::shared_ptr<asio::ssl::context> next_tls = tls;
    std::vector<std::string> problems;
    for (auto& e : next.errors) problems.push_back(e.to_string());
    if (settings.listen.tls) {
      auto made = make_server_tls_context(*settings.listen.tls);
      if (made.context)
        next_tls = made.context;
      else
        problems.push_back("TLS: " + made.error);
    }
    if (!next.state || !problems.empty()) {
      for (auto& p : problems) spdlog::warn("reload rejected: {}", p);
      spdlog::warn("reload rejected; the previous users, roles and certificate stay in force");
      observability::local().reloads_failed.add();
      if (shared.audit)
        audit_policy_reload(*shared.audit, false,
                            std::to_string(problems.size()) +
                                " problem(s) in the users, roles, shadow roles or TLS files; the "
                                "previous policy stays in force (see the gateway log)");
      return;
    }
    tls = next_tls;
    for (auto& w : workers)
      asio::post(w->ioc, [wp = w.get(), st = next.state, next_tls] {
        wp->security = st;
        wp->server_tls = next_tls;
        // Its identities are rebuilt on their next request: the entries would only hold the old
        // ones (and their roles) in memory until replaced.
        wp->authz.clear();
      });
    observability::local().reloads_ok.add();
    if (shared.audit) audit_policy_reload(*shared.audit, true, {});
    spdlog::info("reload done (users: {})", next.state->users.users.size());
  };

  asio::steady_timer file_timer(control);
  std::function<void()> watch_files;
  watch_files = [&] {
    file_timer.expires_after(std::chrono::seconds(1));
    file_timer.async_wait([&](boost::system::error_code ec) {
      if (ec || shared.draining.load()) return;
      auto now_stamps = stamps();
      if (now_stamps != last_stamps) {
        last_stamps = now_stamps;
        spdlog::info("roles or users file changed on disk");
        reload();
      }
      watch_files();
    });
  };
  watch_files();

  asio::steady_timer drain_timer(control);
  proxy::clock::time_point drain_deadline{};
  std::function<void()> drain_tick;
  drain_tick = [&] {
    if (shared.connections.load() == 0 || proxy::clock::now() >= drain_deadline) {
      if (shared.connections.load() != 0)
        spdlog::warn("shutdown grace period over; closing {} connections",
                     shared.connections.load());
      stop_probing = true;
      subscriber.close();
      file_timer.cancel();
      for (auto& w : workers) w->ioc.stop();
      control.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(20));
    drain_timer.async_wait([&](boost::system::error_code) { drain_tick(); });
  };

  asio::signal_set signals(control, SIGTERM, SIGINT, SIGHUP);
  std::function<void(boost::system::error_code, int)> on_signal;
  on_signal = [&](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      // logrotate moved the logs away: write to new files at the configured paths.
      if (shared.audit) shared.audit->writer().reopen();
      if (shared.access_log) shared.access_log->reopen();
      reload();
      signals.async_wait(on_signal);
      return;
    }
    if (shared.draining.exchange(true)) return;
    spdlog::info("shutting down: no new connections, finishing in-flight requests (grace {} ms)",
                 settings.limits.shutdown_grace.count());
    for (auto& w : workers)
      asio::post(w->ioc, [wp = w.get()] {
        boost::system::error_code ignored;
        if (wp->acceptor) wp->acceptor->close(ignored);
        // Idle keep-alive connections have nothing in flight: close them now.
        for (auto* s : wp->idle_streams) s->shutdown(asio::socket_base::shutdown_both, ignored);
        wp->pool.clear();
      });
    drain_deadline = proxy::clock::now() + settings.limits.shutdown_grace;
    drain_tick();
  };
  signals.async_wait(on_signal);

  std::vector<std::thread> threads;

  for (auto& w : workers) {
    w->redis->start();
    asio::co_spawn(w->ioc, last_used_flush_loop(*w), asio::detached);
    asio::co_spawn(w->ioc, watch_sweep_loop(*w), asio::detached);
    asio::co_spawn(w->ioc, key_revalidation_loop(*w), asio::detached);
    asio::co_spawn(w->ioc, accept_loop(*w), asio::detached);
    threads.emplace_back([wp = w.get()] {
      auto guard = asio::make_work_guard(wp->ioc);
      wp->ioc.run();
    });
  }
  spdlog::info("esgate listening on {}://{}:{} with {} I/O thread(s), upstream {}",
               tls ? "https" : "http", settings.listen.address, settings.listen.port, n,
               settings.upstream.nodes.front().url);
  control.run();
  for (auto& t : threads) t.join();
  for (auto& w : workers) w->redis->close();  // I/O threads are stopped: nothing runs concurrently
  shared.crypto_pool.stop();
  shared.crypto_pool.join();
  spdlog::info("esgate stopped");
  return 0;
}

}  // namespace esgate::app
