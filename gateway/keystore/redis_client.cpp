#include "esgate/keystore/redis_client.hpp"
#include "esgate/observability/metrics.hpp"

#include "hiredis_asio.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <utility>

namespace esgate::keystore {

namespace detail {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::milliseconds;

constexpr milliseconds initial_backoff{100};
constexpr milliseconds max_backoff{5000};

// Commands that would change the shared connection's mode or session state behind the client's
// back (a reconnect would silently undo them) are refused.
bool unsupported(const std::string& name) {
  static constexpr std::string_view refused[] = {
      "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
      "monitor",   "select",     "auth",       "hello",       "reset",        "quit"};
  if (name.size() > 16) return false;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(refused), std::end(refused), lower) != std::end(refused);
}

using group_handler = asio::any_completion_handler<void(std::vector<redis_response>)>;

// One exec() call: its commands, their replies so far, one deadline and one completion.
struct group {
  // The handler is only ever move-constructed: Boost 1.81's any_completion_handler move assignment
  // recurses forever (it copies from an lvalue through its converting constructor).
  group(asio::any_io_executor e, std::vector<redis_client::command_args> c, group_handler h)
      : ex(std::move(e)),
        cmds(std::move(c)),
        results(cmds.size()),
        filled(cmds.size(), 0),
        remaining(cmds.size()),
        timer(ex),
        handler(std::move(h)) {}

  asio::any_io_executor ex;
  std::vector<redis_client::command_args> cmds;
  std::vector<redis_response> results;
  std::vector<char> filled;
  std::size_t remaining;
  asio::steady_timer timer;
  group_handler handler;
  bool done = false;
};

// Completes the group once; replies that arrive later find `done` and are dropped. The handler is
// posted, never invoked inline: we may be deep inside a hiredis callback here.
void complete(group& g, error_code unfilled) {
  if (g.done) return;
  g.done = true;
  g.timer.cancel();
  for (std::size_t i = 0; i < g.results.size(); ++i)
    if (!g.filled[i]) g.results[i].ec = unfilled;
  g.cmds.clear();
  auto slot = asio::get_associated_cancellation_slot(g.handler);
  if (slot.is_connected()) slot.clear();
  // Out of hiredis first (post to our executor), then onto the handler's own associated executor
  // (a coroutine's, for use_awaitable).
  asio::post(g.ex, [h = std::move(g.handler), r = std::move(g.results), fallback = g.ex]() mutable {
    auto ex = asio::get_associated_executor(h, fallback);
    asio::dispatch(ex,
                   [h = std::move(h), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
  });
}

// privdata of one command handed to hiredis; owned by hiredis until its callback runs (with the
// reply, or with NULL when the context is freed — hiredis guarantees exactly one call).
struct command_ref {
  std::shared_ptr<group> g;
  std::size_t index;
};

}  // namespace

// Connection life cycle shared by the command client and the subscriber: resolve, connect,
// AUTH/SELECT, ready; on failure back off and retry. Derived classes react through the hooks.
class connection_base : public std::enable_shared_from_this<connection_base> {
 public:
  connection_base(asio::any_io_executor ex, redis_config cfg)
      : ex_(std::move(ex)),
        cfg_(std::move(cfg)),
        connect_timer_(ex_),
        backoff_timer_(ex_),
        resolver_(ex_) {}
  virtual ~connection_base() { teardown(); }
  connection_base(const connection_base&) = delete;
  connection_base& operator=(const connection_base&) = delete;

  const asio::any_io_executor& executor() const noexcept { return ex_; }
  bool is_ready() const noexcept { return state_ == state::ready; }
  bool is_closed() const noexcept { return state_ == state::closed; }
  const std::string& last_error() const noexcept { return last_error_; }

  void start() {
    if (state_ == state::idle) begin_attempt();
  }

  // Skips the rest of the current back-off (see redis_client::reconnect_now).
  void retry_now() {
    if (state_ != state::backoff) return;
    backoff_timer_.cancel();  // its completion sees operation_aborted and does nothing
    begin_attempt();
  }

  // Derived destructors call this (virtual hooks are still theirs then).
  void close() {
    if (state_ == state::closed) return;
    state_ = state::closed;
    ++attempt_;
    connect_timer_.cancel();
    backoff_timer_.cancel();
    resolver_.cancel();
    teardown();  // runs every pending hiredis callback with NULL right here
    on_closed();
  }

 protected:
  enum class state { idle, resolving, connecting, handshake, ready, backoff, closed };

  virtual void on_ready() = 0;
  virtual void on_down(bool was_ready) = 0;  // attempt failed or connection lost
  virtual void on_closed() = 0;

  const redis_config& config() const noexcept { return cfg_; }
  // For failures noticed inside on_connect_cb, where hiredis 0.14 does not guard against the
  // context being freed under it: fail on the next turn instead.
  void fail_later(std::string msg) {
    asio::post(ex_, [w = weak_from_this(), a = attempt_, msg = std::move(msg)]() mutable {
      auto self = w.lock();
      if (self && self->attempt_ == a && self->state_ != state::backoff &&
          self->state_ != state::closed)
        self->fail(std::move(msg));
    });
  }

  redisAsyncContext* ac_ = nullptr;  // the live context, null when none
  state state_ = state::idle;

 private:
  void begin_attempt() {
    ++attempt_;
    connect_timer_.expires_after(cfg_.connect_timeout);
    connect_timer_.async_wait([w = weak_from_this(), a = attempt_](const error_code& ec) {
      auto self = w.lock();
      if (!self || ec || self->attempt_ != a) return;
      if (self->state_ == state::resolving || self->state_ == state::connecting ||
          self->state_ == state::handshake)
        self->fail("connect timeout");
    });
    error_code ec;
    auto addr = asio::ip::make_address(cfg_.host, ec);
    if (!ec) {
      connect_to(addr.to_string());
      return;
    }
    // getaddrinfo blocks; Asio runs it off the I/O thread.
    state_ = state::resolving;
    resolver_.async_resolve(
        cfg_.host, std::to_string(cfg_.port),
        [w = weak_from_this(), a = attempt_](const error_code& rec,
                                             asio::ip::tcp::resolver::results_type results) {
          auto self = w.lock();
          if (!self || self->attempt_ != a || self->state_ != state::resolving) return;
          if (rec || results.empty()) {
            self->fail("cannot resolve redis host " + self->cfg_.host);
            return;
          }
          self->connect_to(results.begin()->endpoint().address().to_string());
        });
  }

  void connect_to(const std::string& ip) {
    state_ = state::connecting;
    redisAsyncContext* ac = redisAsyncConnect(ip.c_str(), cfg_.port);
    if (ac == nullptr) {
      fail("cannot allocate redis context");
      return;
    }
    if (ac->err) {
      std::string msg = ac->c.errstr;
      redisAsyncFree(ac);
      fail(msg);
      return;
    }
    ac->data = this;
    if (!hiredis_asio_attach(ac, ex_)) {
      redisAsyncFree(ac);
      fail("cannot watch redis socket");
      return;
    }
    ac_ = ac;
    redisAsyncSetConnectCallback(ac, &on_connect_cb);
    redisAsyncSetDisconnectCallback(ac, &on_disconnect_cb);
  }

  static connection_base* owner(const redisAsyncContext* ac) {
    auto* self = static_cast<connection_base*>(ac->data);
    return self != nullptr && self->ac_ == ac ? self : nullptr;
  }

  // hiredis 0.14 calls this outside its "in callback" guard: never free the context from here.
  static void on_connect_cb(const redisAsyncContext* cac, int status) {
    auto* self = owner(cac);
    if (self == nullptr) return;
    auto* ac = const_cast<redisAsyncContext*>(cac);
    if (status != REDIS_OK) {
      self->ac_ = nullptr;  // hiredis frees it when we return
      self->fail(ac->c.errstr[0] ? ac->c.errstr : "connect failed");
      return;
    }
    redisEnableKeepAlive(&ac->c);  // notice a silently dead peer (e.g. a subscriber's)
    self->handshake(ac);
  }

  static void on_disconnect_cb(const redisAsyncContext* cac, int /*status*/) {
    auto* self = owner(cac);
    if (self == nullptr) return;  // we freed it ourselves and already know
    self->ac_ = nullptr;          // hiredis frees it when we return
    self->fail(cac->c.errstr[0] ? cac->c.errstr : "connection closed");
  }

  void handshake(redisAsyncContext* ac) {
    std::vector<std::vector<std::string>> cmds;
    if (!cfg_.password.empty()) {
      if (cfg_.username.empty())
        cmds.push_back({"AUTH", cfg_.password});
      else
        cmds.push_back({"AUTH", cfg_.username, cfg_.password});
    }
    if (cfg_.db != 0) cmds.push_back({"SELECT", std::to_string(cfg_.db)});
    if (cmds.empty()) {
      become_ready();
      return;
    }
    state_ = state::handshake;
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      std::vector<const char*> argv;
      std::vector<std::size_t> lens;
      for (const auto& a : cmds[i]) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      void* is_last = i + 1 == cmds.size() ? this : nullptr;
      if (redisAsyncCommandArgv(ac, &on_handshake_reply, is_last, static_cast<int>(argv.size()),
                                argv.data(), lens.data()) != REDIS_OK) {
        fail_later("cannot send handshake");
        return;
      }
    }
  }

  static void on_handshake_reply(redisAsyncContext* ac, void* r, void* is_last) {
    auto* self = owner(ac);
    auto* reply = static_cast<redisReply*>(r);
    // NULL: the context is being freed; on_disconnect_cb (or our own teardown) handles that.
    if (self == nullptr || reply == nullptr) return;
    // e.g. WRONGPASS or an out-of-range db.
    if (auto e = handshake_error(*reply); !e.empty()) {
      self->fail("redis handshake failed: " + e);
      return;
    }
    if (is_last != nullptr) self->become_ready();
  }

  void become_ready() {
    state_ = state::ready;
    connect_timer_.cancel();
    backoff_ = initial_backoff;
    last_error_.clear();
    on_ready();
  }

  // The current attempt failed or the connection dropped: free what is left, tell the derived
  // class, and retry later.
  void fail(std::string msg) {
    if (state_ == state::closed) return;
    const bool was_ready = state_ == state::ready;
    teardown();
    last_error_ = std::move(msg);
    connect_timer_.cancel();
    state_ = state::backoff;
    on_down(was_ready);
    backoff_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, max_backoff);
    backoff_timer_.async_wait([w = weak_from_this(), a = attempt_](const error_code& ec) {
      auto self = w.lock();
      if (!self || ec || self->attempt_ != a || self->state_ != state::backoff) return;
      self->begin_attempt();
    });
  }

  // Frees the context if we still hold it. Inside a hiredis reply callback hiredis defers the
  // actual free until the callback returns (REDIS_IN_CALLBACK), which is what we want.
  void teardown() {
    if (auto* ac = std::exchange(ac_, nullptr)) redisAsyncFree(ac);
  }

  asio::any_io_executor ex_;
  redis_config cfg_;
  asio::steady_timer connect_timer_;
  asio::steady_timer backoff_timer_;
  asio::ip::tcp::resolver resolver_;
  milliseconds backoff_ = initial_backoff;
  std::string last_error_;
  unsigned attempt_ = 0;  // stale timer/resolver completions compare against this
};

class client_impl final : public connection_base {
 public:
  using connection_base::connection_base;
  ~client_impl() override { close(); }

  void exec(std::vector<redis_client::command_args> cmds, group_handler handler) {
    auto g = std::make_shared<group>(executor(), std::move(cmds), std::move(handler));
    auto slot = asio::get_associated_cancellation_slot(g->handler);
    if (slot.is_connected()) {
      slot.assign([w = std::weak_ptr<group>(g)](asio::cancellation_type t) {
        if ((t & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                  asio::cancellation_type::total)) == asio::cancellation_type::none)
          return;
        if (auto gg = w.lock()) complete(*gg, asio::error::operation_aborted);
      });
    }
    for (std::size_t i = 0; i < g->cmds.size(); ++i) {
      if (g->cmds[i].empty() || unsupported(g->cmds[i].front())) {
        g->results[i].ec = errc::unsupported_command;
        g->filled[i] = 1;
        --g->remaining;
      }
    }
    if (g->remaining == 0) return complete(*g, {});

    if (state_ == state::idle) start();  // may fail synchronously and land in backoff
    switch (state_) {
      case state::closed:
        return complete(*g, errc::closed);
      case state::backoff:
      case state::idle:
        return complete(*g, errc::disconnected);
      case state::ready:
        arm_timeout(g);
        return send(g);
      default:  // an attempt is running: wait for it (bounded by the command timeout)
        arm_timeout(g);
        queue_.push_back(std::move(g));
        return;
    }
  }

 private:
  void arm_timeout(const std::shared_ptr<group>& g) {
    g->timer.expires_after(config().command_timeout);
    g->timer.async_wait([g](const error_code& ec) {
      if (!ec) complete(*g, errc::timeout);
    });
  }

  void send(const std::shared_ptr<group>& g) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (std::size_t i = 0; i < g->cmds.size(); ++i) {
      if (g->filled[i]) continue;
      argv.clear();
      lens.clear();
      for (const auto& a : g->cmds[i]) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      auto* ref = new command_ref{g, i};
      if (ac_ == nullptr ||
          redisAsyncCommandArgv(ac_, &on_reply, ref, static_cast<int>(argv.size()), argv.data(),
                                lens.data()) != REDIS_OK) {
        delete ref;
        g->results[i].ec = errc::disconnected;
        g->filled[i] = 1;
        --g->remaining;
      }
    }
    if (g->remaining == 0) complete(*g, {});
  }

  static void on_reply(redisAsyncContext* ac, void* r, void* privdata) {
    std::unique_ptr<command_ref> ref(static_cast<command_ref*>(privdata));
    group& g = *ref->g;
    if (g.done) return;  // timed out or cancelled earlier: drop the late reply
    auto* reply = static_cast<redisReply*>(r);
    if (reply == nullptr) {
      // The context is being freed (connection lost, or close()): ac->data is still valid here.
      auto* self = static_cast<connection_base*>(ac->data);
      complete(g, self != nullptr && self->is_closed() ? errc::closed : errc::disconnected);
      return;
    }
    g.results[ref->index] = to_response(*reply);
    g.filled[ref->index] = 1;
    if (--g.remaining == 0) complete(g, {});
  }

  void on_ready() override {
    auto queued = std::move(queue_);
    queue_.clear();
    for (auto& g : queued)
      if (!g->done) send(g);
  }

  void on_down(bool) override { fail_queue(errc::disconnected); }
  void on_closed() override { fail_queue(errc::closed); }

  void fail_queue(errc e) {
    auto queued = std::move(queue_);
    queue_.clear();
    for (auto& g : queued) complete(*g, e);
  }

  std::deque<std::shared_ptr<group>> queue_;  // waiting for the running connect attempt
};

class subscriber_impl final : public connection_base {
 public:
  subscriber_impl(asio::any_io_executor ex, redis_config cfg, std::string channel,
                  subscriber_handlers h)
      : connection_base(std::move(ex), std::move(cfg)),
        channel_(std::move(channel)),
        handlers_(std::move(h)) {}
  ~subscriber_impl() override { close(); }

  bool subscribed() const noexcept { return subscribed_; }

 private:
  void on_ready() override {
    const char* argv[] = {"SUBSCRIBE", channel_.data()};
    const std::size_t lens[] = {9, channel_.size()};
    if (redisAsyncCommandArgv(ac_, &on_message_cb, nullptr, 2, argv, lens) != REDIS_OK)
      fail_later("cannot send SUBSCRIBE");
  }

  void on_down(bool was_ready) override {
    subscribed_ = false;
    if (was_ready)
      deliver([](subscriber_impl& s) {
        if (s.handlers_.on_connection_lost) s.handlers_.on_connection_lost();
      });
  }

  void on_closed() override { subscribed_ = false; }

  static void on_message_cb(redisAsyncContext* ac, void* r, void* /*privdata*/) {
    auto* self = static_cast<subscriber_impl*>(static_cast<connection_base*>(ac->data));
    auto* reply = static_cast<redisReply*>(r);
    if (self == nullptr || self->ac_ != ac || reply == nullptr) return;
    auto ev = decode_subscriber_reply(*reply);
    switch (ev.k) {
      case subscriber_event::kind::subscribed:
        self->subscribed_ = true;
        self->deliver([](subscriber_impl& s) {
          if (s.handlers_.on_subscribed) s.handlers_.on_subscribed();
        });
        break;
      case subscriber_event::kind::message:
        self->deliver([msg = std::move(ev.payload)](subscriber_impl& s) mutable {
          if (s.handlers_.on_message) s.handlers_.on_message(std::move(msg));
        });
        break;
      case subscriber_event::kind::ignored:
        break;
    }
  }

  // User code never runs inside hiredis (it might close us there); it runs later, and not at all
  // once we are closed or gone.
  template <typename F>
  void deliver(F f) {
    asio::post(executor(), [w = weak_from_this(), f = std::move(f)]() mutable {
      auto base = w.lock();
      if (!base || base->is_closed()) return;
      f(static_cast<subscriber_impl&>(*base));
    });
  }

  std::string channel_;
  subscriber_handlers handlers_;
  bool subscribed_ = false;
};

}  // namespace detail

// ---- redis_client ----

redis_client::redis_client(executor_type ex, redis_config cfg)
    : impl_(std::make_shared<detail::client_impl>(std::move(ex), std::move(cfg))) {}

redis_client::~redis_client() {
  if (impl_) impl_->close();
}

redis_client::executor_type redis_client::get_executor() const noexcept {
  return impl_->executor();
}

void redis_client::start() { impl_->start(); }
void redis_client::reconnect_now() { impl_->retry_now(); }
bool redis_client::connected() const noexcept { return impl_->is_ready(); }
void redis_client::close() { impl_->close(); }
std::string redis_client::last_error() const { return impl_->last_error(); }

void redis_client::exec_impl(
    std::vector<command_args> commands,
    boost::asio::any_completion_handler<void(std::vector<redis_response>)> handler) {
  impl_->exec(std::move(commands), std::move(handler));
}

namespace {

// esgate_redis_command_duration_seconds / esgate_redis_errors_total (this thread's cells): one
// observation per round trip (a pipeline is one), an error when any reply of it failed.
void count_round_trip(std::chrono::steady_clock::time_point started,
                      const std::vector<redis_response>& r) {
  bool failed = false;
  for (const auto& x : r) failed = failed || !x.ok();
  observability::record_redis(std::chrono::steady_clock::now() - started, failed);
}

}  // namespace

boost::asio::awaitable<redis_response> redis_client::command(command_args args) {
  std::vector<command_args> cmds;
  cmds.push_back(std::move(args));
  const auto started = std::chrono::steady_clock::now();
  auto r = co_await async_exec(std::move(cmds), boost::asio::use_awaitable);
  count_round_trip(started, r);
  co_return std::move(r.front());
}

boost::asio::awaitable<std::vector<redis_response>> redis_client::pipeline(
    std::vector<command_args> commands) {
  const auto started = std::chrono::steady_clock::now();
  auto r = co_await async_exec(std::move(commands), boost::asio::use_awaitable);
  count_round_trip(started, r);
  co_return r;
}

// ---- redis_subscriber ----

redis_subscriber::redis_subscriber(executor_type ex, redis_config cfg, std::string channel,
                                   subscriber_handlers handlers)
    : impl_(std::make_shared<detail::subscriber_impl>(std::move(ex), std::move(cfg),
                                                      std::move(channel), std::move(handlers))) {}

redis_subscriber::~redis_subscriber() {
  if (impl_) impl_->close();
}

void redis_subscriber::start() { impl_->start(); }
bool redis_subscriber::subscribed() const noexcept { return impl_->subscribed(); }
void redis_subscriber::close() { impl_->close(); }
std::string redis_subscriber::last_error() const { return impl_->last_error(); }

}  // namespace esgate::keystore
