// The hiredis <-> Asio adapter on its own: a raw redisAsyncContext driven by an io_context,
// freed from inside its own callbacks, by the server going away, and by a clean disconnect.
// Each case ends with the io_context running out of work: no wait outlives the context.
#include "hiredis_asio.hpp"
#include "redis_server.hpp"

#include <hiredis/async.h>

using namespace esgate::keystore;
using namespace esgate::test_support;

namespace {

struct probe {
  int replies = 0;
  int nulls = 0;
  int connected = 0;
  int disconnected = 0;
  bool free_in_callback = false;
  std::string last;
};

void on_reply(redisAsyncContext* ac, void* r, void* privdata) {
  auto* p = static_cast<probe*>(privdata);
  auto* reply = static_cast<redisReply*>(r);
  if (reply == nullptr) {
    ++p->nulls;
    return;
  }
  ++p->replies;
  p->last.assign(reply->str ? reply->str : "", reply->str ? reply->len : 0);
  if (p->free_in_callback) {
    p->free_in_callback = false;
    redisAsyncFree(ac);  // hiredis defers the free until this callback returns
  }
}

void on_connect(const redisAsyncContext* ac, int status) {
  if (status == REDIS_OK) ++static_cast<probe*>(ac->data)->connected;
}

void on_disconnect(const redisAsyncContext* ac, int) {
  ++static_cast<probe*>(ac->data)->disconnected;
}

redisAsyncContext* connect(std::uint16_t port, probe& p, asio::io_context& ioc) {
  redisAsyncContext* ac = redisAsyncConnect("127.0.0.1", port);
  REQUIRE(ac != nullptr);
  REQUIRE(ac->err == 0);
  ac->data = &p;
  REQUIRE(detail::hiredis_asio_attach(ac, ioc.get_executor()));
  CHECK_FALSE(detail::hiredis_asio_attach(ac, ioc.get_executor()));  // already attached
  redisAsyncSetConnectCallback(ac, &on_connect);
  redisAsyncSetDisconnectCallback(ac, &on_disconnect);
  return ac;
}

void send(redisAsyncContext* ac, probe& p, std::vector<std::string> args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  REQUIRE(redisAsyncCommandArgv(ac, &on_reply, &p, static_cast<int>(args.size()), argv.data(),
                                lens.data()) == REDIS_OK);
}

}  // namespace

TEST_CASE("hiredis_asio: freed from inside its own reply callback", "[keystore][adapter]") {
  redis_server server;
  asio::io_context ioc;
  probe p;
  auto* ac = connect(server.port(), p, ioc);
  send(ac, p, {"ECHO", "one"});
  send(ac, p, {"ECHO", "two"});
  send(ac, p, {"ECHO", "three"});
  p.free_in_callback = true;  // the first reply frees the context; the rest get NULL
  ioc.run_for(5s);
  CHECK(ioc.stopped());  // ran out of work: the descriptor is released, nothing pending
  CHECK(p.connected == 1);
  CHECK(p.replies == 1);
  CHECK(p.last == "one");
  CHECK(p.nulls == 2);
  CHECK(p.disconnected == 1);
}

TEST_CASE("hiredis_asio: many replies, then a clean disconnect", "[keystore][adapter]") {
  redis_server server;
  asio::io_context ioc;
  probe p;
  auto* ac = connect(server.port(), p, ioc);
  const std::string big(200000, 'b');  // several reads and writes per command
  send(ac, p, {"SET", "big", big});
  for (int i = 0; i < 500; ++i) send(ac, p, {"GET", "big"});
  redisAsyncDisconnect(ac);  // after the pending replies have arrived
  ioc.run_for(10s);
  CHECK(ioc.stopped());
  CHECK(p.replies == 501);
  CHECK(p.last == big);
  CHECK(p.nulls == 0);
  CHECK(p.disconnected == 1);
}

TEST_CASE("hiredis_asio: the server goes away mid-command", "[keystore][adapter]") {
  redis_server server;
  asio::io_context ioc;
  probe p;
  auto* ac = connect(server.port(), p, ioc);
  send(ac, p, {"DEBUG", "SLEEP", "2"});
  send(ac, p, {"PING"});  // queued behind the sleep
  asio::steady_timer kill(ioc, 200ms);
  kill.async_wait([&](boost::system::error_code) { server.stop(); });
  ioc.run_for(5s);
  CHECK(ioc.stopped());
  CHECK(p.connected == 1);
  CHECK(p.replies == 0);
  CHECK(p.nulls == 2);  // both failed by hiredis when the read hit EOF
  CHECK(p.disconnected == 1);
}

TEST_CASE("hiredis_asio: connection refused is reported and freed by hiredis",
          "[keystore][adapter]") {
  const auto port = free_loopback_port();
  asio::io_context ioc;
  probe p;
  redisAsyncContext* ac = redisAsyncConnect("127.0.0.1", port);
  REQUIRE(ac != nullptr);
  if (ac->err) {  // refused synchronously: never attached, we free it
    redisAsyncFree(ac);
    SUCCEED("refused synchronously");
    return;
  }
  ac->data = &p;
  REQUIRE(detail::hiredis_asio_attach(ac, ioc.get_executor()));
  redisAsyncSetConnectCallback(ac, &on_connect);
  send(ac, p, {"PING"});
  ioc.run_for(5s);
  CHECK(ioc.stopped());
  CHECK(p.connected == 0);
  CHECK(p.nulls == 1);
}
