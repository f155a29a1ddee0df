#pragma once
// Test helpers: a real redis-server on a free loopback port, and the async test runner (fresh
// io_context, hard deadline — like boostorg/redis test/common.cpp run_coroutine_test).
//
// Two g++ 12 coroutine bugs shape these tests:
//  - never co_await inside CHECK/REQUIRE: Catch repeats the expression in a short-circuited
//    `while (false && (expr))` and g++ still runs the co_await, so the operation runs twice;
//    await into a local first, then check it;
//  - never put a braced list in a co_await expression (`co_await f({"a", "b"})` fails with
//    "array used as initializer"): build the vector in a statement of its own.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace esgate::test_support {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A throwaway redis-server: --bind 127.0.0.1 --save '' --appendonly no on a free port, started in
// the constructor (waits for PING), SIGKILLed in the destructor.
class redis_server {
 public:
  explicit redis_server(std::vector<std::string> extra_args = {});
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  bool running() const noexcept { return pid_ > 0; }
  // SIGKILL (no goodbye on the sockets beyond the kernel's FIN/RST) and reap.
  void stop();
  // Starts again on the same port and waits for PING.
  void start();

  // A blocking command on a fresh connection (test thread only, never on an io_context): returns
  // the reply rendered as text ("OK", "(nil)", "(integer) 3", "(error) …", or the string).
  std::string cli(const std::vector<std::string>& args, const std::string& password = "",
                  int db = 0) const;

 private:
  bool spawn_and_wait();

  std::vector<std::string> extra_args_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

std::uint16_t free_loopback_port();

// Runs `body(ioc)` as a coroutine on a fresh io_context. Fails if it throws, if it has not finished
// by `deadline`, or if work is still pending after it finished (a dangling callback or timer).
void run_async(std::function<asio::awaitable<void>(asio::io_context&)> body,
               std::chrono::milliseconds deadline = 20s);

asio::awaitable<void> sleep_for(std::chrono::milliseconds d);

// Polls `pred` every 10 ms; true once it holds, false after `limit`.
asio::awaitable<bool> eventually(std::function<bool()> pred, std::chrono::milliseconds limit = 5s);

}  // namespace esgate::test_support
