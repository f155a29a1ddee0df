#pragma once
// Asynchronous Redis client (hiredis 0.14 driven by Asio) and a pub/sub subscriber.
//
// Options (redis_config)        default
//   host                        "127.0.0.1"  (a name is resolved asynchronously, never on the
//                                              I/O thread)
//   port                        6379
//   username / password         "" / ""      (AUTH user pass when username is set, AUTH pass when
//                                              only the password is, nothing otherwise)
//   db                          0            (SELECT only when non-zero)
//   command_timeout             1s           (per command or pipeline)
//   connect_timeout             2s           (TCP connect + AUTH + SELECT)
//
// Threading: an object is bound to one executor and every member (constructor and destructor
// included) must be used from the thread running it. Completions are always posted, never run
// inline, so a caller may issue commands or close() from any completion.
//
// Connection life cycle: the first command (or start()) connects; commands issued while that
// attempt is running wait for it. After a lost connection or a failed attempt the client retries
// with exponential backoff (100 ms doubling up to 5 s); in between, commands fail at once with
// errc::disconnected rather than queueing behind an outage (callers fall back to their cache).
// close() (or destruction) fails everything outstanding with errc::closed and frees hiredis
// synchronously, so no callback outlives the object.
#include "esgate/keystore/error.hpp"
#include "esgate/keystore/redis_reply.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace esgate::keystore {

struct redis_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;
  std::string password;
  int db = 0;
  std::chrono::milliseconds command_timeout{1000};
  std::chrono::milliseconds connect_timeout{2000};
};

namespace detail {
class client_impl;
class subscriber_impl;
}  // namespace detail

class redis_client {
 public:
  using executor_type = boost::asio::any_io_executor;
  using command_args = std::vector<std::string>;

  redis_client(executor_type ex, redis_config cfg);
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  executor_type get_executor() const noexcept;

  // Begins connecting now instead of at the first command. Idempotent.
  void start();
  // Between attempts (back-off after a failure): try again now instead of when the back-off ends.
  // For callers that know Redis answers again (the key-event subscriber reconnected), so this
  // client does not sit out up to 5 s of back-off. No-op in any other state.
  void reconnect_now();
  // True while a connection is established, authenticated and has selected its db.
  bool connected() const noexcept;
  // Cancels everything: outstanding commands complete with errc::closed, timers stop, the hiredis
  // context is freed. Further commands fail with errc::closed. Idempotent.
  void close();
  // Text of the last connection failure (from hiredis or Redis; never contains the password).
  std::string last_error() const;

  // Sends the commands back to back (pipelined) and completes when every reply has arrived or the
  // shared command_timeout expires. Always completes with one response per command, in order.
  template <typename CompletionToken>
  auto async_exec(std::vector<command_args> commands, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(std::vector<redis_response>)>(
        [this](auto handler, std::vector<command_args> cmds) {
          exec_impl(std::move(cmds),
                    boost::asio::any_completion_handler<void(std::vector<redis_response>)>(
                        std::move(handler)));
        },
        token, std::move(commands));
  }

  // One command, binary-safe arguments (sent with redisAsyncCommandArgv).
  boost::asio::awaitable<redis_response> command(command_args args);
  // command("GET", key): g++ 12 rejects braced lists inside co_await ("array used as
  // initializer"), so `co_await c.command({"GET", key})` does not compile; this form does.
  template <typename... Args>
  requires(sizeof...(Args) > 0 &&
           (std::is_convertible_v<const Args&, std::string_view> &&
            ...)) boost::asio::awaitable<redis_response> command(const Args&... a) {
    return command(command_args{std::string(std::string_view(a))...});
  }
  boost::asio::awaitable<std::vector<redis_response>> pipeline(std::vector<command_args> commands);

 private:
  void exec_impl(std::vector<command_args> commands,
                 boost::asio::any_completion_handler<void(std::vector<redis_response>)> handler);

  std::shared_ptr<detail::client_impl> impl_;
};

// A dedicated connection in SUBSCRIBE mode for one channel. Handlers are posted to the executor
// and never run after close(). Typical use (the key cache):
//   on_message(payload)   invalidate the entry `payload` (or everything for "*")
//   on_connection_lost()  flush the whole cache: invalidations may be missed while disconnected
//   on_subscribed()       (re)subscription confirmed by Redis; also a good time to flush again,
//                         since entries filled while disconnected may be stale
struct subscriber_handlers {
  std::function<void(std::string)> on_message;
  std::function<void()> on_connection_lost;
  std::function<void()> on_subscribed;
};

class redis_subscriber {
 public:
  using executor_type = boost::asio::any_io_executor;

  redis_subscriber(executor_type ex, redis_config cfg, std::string channel,
                   subscriber_handlers handlers);
  ~redis_subscriber();
  redis_subscriber(const redis_subscriber&) = delete;
  redis_subscriber& operator=(const redis_subscriber&) = delete;

  void start();
  // True once Redis has confirmed the subscription on the current connection.
  bool subscribed() const noexcept;
  void close();
  std::string last_error() const;

 private:
  std::shared_ptr<detail::subscriber_impl> impl_;
};

}  // namespace esgate::keystore
