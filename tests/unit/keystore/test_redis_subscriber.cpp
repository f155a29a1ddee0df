// redis_subscriber against a real redis-server: delivery, connection loss, resubscription, close.
#include "esgate/keystore/redis_client.hpp"

#include "redis_server.hpp"

#include <memory>

using namespace esgate::keystore;
using namespace esgate::test_support;

namespace {

redis_config config_for(const redis_server& s) {
  redis_config c;
  c.port = s.port();
  c.command_timeout = 1s;
  c.connect_timeout = 1s;
  return c;
}

struct recorder {
  std::vector<std::string> messages;
  int lost = 0;
  int subscribed = 0;

  subscriber_handlers handlers() {
    return {[this](std::string m) { messages.push_back(std::move(m)); }, [this] { ++lost; },
            [this] { ++subscribed; }};
  }
};

// PUBLISH until it reaches a connected server (the publisher may be reconnecting too).
asio::awaitable<long long> publish(redis_client& c, std::string channel, std::string payload) {
  for (int i = 0; i < 200; ++i) {
    auto r = co_await c.command("PUBLISH", channel, payload);
    if (r.ok()) co_return r.reply.integer;
    co_await sleep_for(20ms);
  }
  co_return -1;
}

}  // namespace

TEST_CASE("redis_subscriber: receives its channel's messages only", "[keystore][redis]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    recorder rec;
    redis_subscriber sub(ioc.get_executor(), config_for(server), "esgate:events", rec.handlers());
    CHECK_FALSE(sub.subscribed());
    sub.start();
    auto aw1 = co_await eventually([&] { return rec.subscribed == 1; });
    REQUIRE(aw1);
    CHECK(sub.subscribed());

    redis_client pub(ioc.get_executor(), config_for(server));
    const std::string binary("id\0with\r\nbytes\xff", 15);
    auto aw2 = co_await publish(pub, "esgate:events", "AbCdEfGhIjKlMnOpQrSt");
    CHECK(aw2 == 1);
    auto aw3 = co_await publish(pub, "other", "not for us");
    CHECK(aw3 == 0);
    auto aw4 = co_await publish(pub, "esgate:events", binary);
    CHECK(aw4 == 1);
    auto aw5 = co_await publish(pub, "esgate:events", "*");
    CHECK(aw5 == 1);
    auto aw6 = co_await publish(pub, "esgate:events", "");
    CHECK(aw6 == 1);
    auto aw7 = co_await eventually([&] { return rec.messages.size() == 4; });
    REQUIRE(aw7);
    CHECK(rec.messages == std::vector<std::string>{"AbCdEfGhIjKlMnOpQrSt", binary, "*", ""});
    CHECK(rec.lost == 0);
    sub.close();
    pub.close();
  });
}

TEST_CASE("redis_subscriber: reports connection loss and resubscribes", "[keystore][redis]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    recorder rec;
    redis_subscriber sub(ioc.get_executor(), config_for(server), "chan", rec.handlers());
    sub.start();
    auto aw8 = co_await eventually([&] { return rec.subscribed == 1; });
    REQUIRE(aw8);
    redis_client pub(ioc.get_executor(), config_for(server));
    auto aw9 = co_await publish(pub, "chan", "before");
    CHECK(aw9 == 1);
    auto aw10 = co_await eventually([&] { return rec.messages.size() == 1; });
    REQUIRE(aw10);

    server.stop();
    auto aw11 = co_await eventually([&] { return rec.lost == 1; });
    REQUIRE(aw11);
    CHECK_FALSE(sub.subscribed());
    co_await sleep_for(300ms);  // a few failed reconnect attempts: still one loss reported
    CHECK(rec.lost == 1);
    CHECK(rec.subscribed == 1);

    server.start();
    auto aw12 = co_await eventually([&] { return rec.subscribed == 2; }, 8s);
    REQUIRE(aw12);
    CHECK(sub.subscribed());
    auto aw13 = co_await publish(pub, "chan", "after");
    CHECK(aw13 == 1);
    auto aw14 = co_await eventually([&] { return rec.messages.size() == 2; });
    REQUIRE(aw14);
    CHECK(rec.messages.back() == "after");

    // close() is not a connection loss, and nothing is delivered afterwards.
    sub.close();
    CHECK_FALSE(sub.subscribed());
    auto aw15 = co_await publish(pub, "chan", "late");
    CHECK(aw15 == 0);
    co_await sleep_for(50ms);
    CHECK(rec.messages.size() == 2);
    CHECK(rec.lost == 1);
    pub.close();
  });
}

TEST_CASE("redis_subscriber: nothing is delivered after close(), even if already received",
          "[keystore][redis]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    std::unique_ptr<redis_subscriber> sub;
    int delivered = 0;
    bool subscribed = false;
    subscriber_handlers h;
    h.on_message = [&](std::string) {
      ++delivered;
      sub->close();  // from inside a handler: the rest of the burst must be dropped
    };
    h.on_subscribed = [&] { subscribed = true; };
    sub = std::make_unique<redis_subscriber>(ioc.get_executor(), config_for(server), "burst", h);
    sub->start();
    auto aw16 = co_await eventually([&] { return subscribed; });
    REQUIRE(aw16);
    redis_client pub(ioc.get_executor(), config_for(server));
    std::vector<redis_client::command_args> burst;
    for (int i = 0; i < 50; ++i) burst.push_back({"PUBLISH", "burst", std::to_string(i)});
    auto rs = co_await pub.pipeline(std::move(burst));
    CHECK(rs.back().ok());
    auto aw17 = co_await eventually([&] { return delivered > 0; });
    REQUIRE(aw17);
    co_await sleep_for(100ms);
    CHECK(delivered == 1);
    sub.reset();  // destroying a closed subscriber is fine too
    pub.close();
  });
}

TEST_CASE("redis_subscriber: authenticates, and keeps retrying on a wrong password",
          "[keystore][redis]") {
  redis_server server({"--requirepass", "sub-secret"});
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    auto cfg = config_for(server);
    cfg.password = "sub-secret";
    recorder good_rec, bad_rec;
    redis_subscriber good(ioc.get_executor(), cfg, "c", good_rec.handlers());
    cfg.password = "nope";
    redis_subscriber bad(ioc.get_executor(), cfg, "c", bad_rec.handlers());
    good.start();
    bad.start();
    auto aw18 = co_await eventually([&] { return good_rec.subscribed == 1; });
    REQUIRE(aw18);
    co_await sleep_for(200ms);
    CHECK(bad_rec.subscribed == 0);
    CHECK_FALSE(bad.subscribed());
    CHECK(bad.last_error().find("WRONGPASS") != std::string::npos);
    CHECK(bad_rec.lost == 0);  // never connected, so never lost
    good.close();
    bad.close();
  });
}
