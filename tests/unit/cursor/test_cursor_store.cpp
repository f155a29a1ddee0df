// cursor_store against a real redis-server: bind / owner_of / extend / forget, hashed keys,
// TTLs, and failing closed when Redis is away.
#include "esgate/cursor/cursor_store.hpp"

#include "esgate/keystore/redis_client.hpp"
#include "redis_server.hpp"
#include "resp.hpp"

#include <cstdlib>
#include <optional>
#include <string>

using namespace esgate::cursor;
using namespace esgate::test_support;
using esgate::keystore::redis_client;
using esgate::keystore::redis_config;

namespace {

redis_config config_for(const redis_server& s) {
  redis_config c;
  c.port = s.port();
  c.command_timeout = 2s;
  c.connect_timeout = 1s;
  return c;
}

const std::string scroll_id =
    "FGluY2x1ZGVfY29udGV4dF91dWlkDXF1ZXJ5QW5kRmV0Y2gBFkVtY2lGZ3BIUTFXT1V2LUNfX2xGZ0EAAAAAAAAAQRZ";

long long ttl_of(const redis_server& server, const std::string& key) {
  const std::string r = server.cli({"TTL", key});
  REQUIRE(r.rfind("(integer) ", 0) == 0);
  return std::atoll(r.c_str() + 10);
}

}  // namespace

TEST_CASE("cursor_store: redis_key is prefixed, typed and hashed", "[cursor][store]") {
  boost::asio::io_context ioc;
  redis_client client(ioc.get_executor(), redis_config{});
  cursor_store store(client, "esgate:");
  // sha256("abc")
  CHECK(store.redis_key({kind::scroll, "abc"}) ==
        "esgate:ctx:scroll:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // sha256("")
  CHECK(store.redis_key({kind::pit, ""}) ==
        "esgate:ctx:pit:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(store.redis_key({kind::task, "abc"}).starts_with("esgate:ctx:task:ba7816bf"));
  CHECK(store.redis_key({kind::async_search, "abc"}).starts_with("esgate:ctx:async_search:"));
  const std::string k = store.redis_key({kind::scroll, scroll_id});
  CHECK(k.find(scroll_id) == std::string::npos);
  CHECK(k.size() == std::string("esgate:ctx:scroll:").size() + 64);
}

TEST_CASE("cursor_store: bind, owner_of, extend, forget", "[cursor][store]") {
  redis_server server;
  const context_ref ref{kind::scroll, scroll_id};
  const context_ref other_kind{kind::pit, scroll_id};
  const context_ref unknown{kind::scroll, "nope"};
  std::string key;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    cursor_store store(client, "t:");
    key = store.redis_key(ref);

    auto none = co_await store.owner_of(ref);
    CHECK(none.ok);
    CHECK_FALSE(none.owner.has_value());

    auto bound = co_await store.bind(ref, "api_key:K1", 30s);
    CHECK(bound);
    auto got = co_await store.owner_of(ref);
    CHECK(got.ok);
    CHECK(got.owner == std::optional<std::string>("api_key:K1"));
    // Kinds are separate namespaces.
    auto pit = co_await store.owner_of(other_kind);
    CHECK(pit.ok);
    CHECK_FALSE(pit.owner.has_value());

    // TTL is keep-alive + 60 s.
    auto ttl = co_await client.command("TTL", key);
    REQUIRE(ttl.ok());
    CHECK(ttl.reply.integer > 60);
    CHECK(ttl.reply.integer <= 90);

    // A continuation with a longer keep-alive grows it.
    auto extended = co_await store.extend(ref, 3600s);
    CHECK(extended);
    auto ttl2 = co_await client.command("TTL", key);
    CHECK(ttl2.reply.integer > 3600);
    CHECK(ttl2.reply.integer <= 3660);
    // A zero or negative keep-alive still leaves the margin.
    auto ext0 = co_await store.extend(ref, 0s);
    CHECK(ext0);
    auto ttl3 = co_await client.command("TTL", key);
    CHECK(ttl3.reply.integer > 55);
    CHECK(ttl3.reply.integer <= 61);

    // Extending an unknown binding creates nothing.
    auto ext_unknown = co_await store.extend(unknown, 60s);
    CHECK_FALSE(ext_unknown);
    auto exists = co_await client.command("EXISTS", store.redis_key(unknown));
    CHECK(exists.reply.integer == 0);

    // Re-binding replaces the owner (a new context with the same id cannot exist, but a
    // repeated bind must not fail).
    auto rebound = co_await store.bind(ref, "user:default_file:alice", 10s);
    CHECK(rebound);
    auto got2 = co_await store.owner_of(ref);
    CHECK(got2.owner == std::optional<std::string>("user:default_file:alice"));

    auto gone = co_await store.forget(ref);
    CHECK(gone);
    auto after = co_await store.owner_of(ref);
    CHECK(after.ok);
    CHECK_FALSE(after.owner.has_value());
    auto gone_again = co_await store.forget(ref);  // nothing there: still a success
    CHECK(gone_again);
    auto ext_after = co_await store.extend(ref, 60s);
    CHECK_FALSE(ext_after);

    auto rebound2 = co_await store.bind(ref, "api_key:K2", 120s);
    CHECK(rebound2);
    client.close();
  });
  // Seen from outside: only the hashed key, the raw id nowhere.
  CHECK(server.cli({"GET", key}) == "api_key:K2");
  const long long t = ttl_of(server, key);
  CHECK(t > 120);
  CHECK(t <= 180);
  const std::string keys = server.cli({"KEYS", "*"});
  CHECK(keys.find(scroll_id) == std::string::npos);
  CHECK(server.cli({"EXISTS", "t:ctx:scroll:" + scroll_id}) == "(integer) 0");
}

TEST_CASE("cursor_store: a wrong-type key fails closed", "[cursor][store]") {
  redis_server server;
  const context_ref ref{kind::pit, "P"};
  std::string key;
  {
    boost::asio::io_context ioc;
    redis_client client(ioc.get_executor(), redis_config{});
    key = cursor_store(client, "t:").redis_key(ref);
  }
  server.cli({"RPUSH", key, "x"});
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    cursor_store store(client, "t:");
    auto got = co_await store.owner_of(ref);
    CHECK_FALSE(got.ok);
    CHECK_FALSE(got.owner.has_value());
    client.close();
  });
}

TEST_CASE("cursor_store: redis down fails closed", "[cursor][store]") {
  redis_server server;
  const context_ref ref{kind::scroll, "S"};
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    cursor_store store(client, "t:");
    auto bound = co_await store.bind(ref, "api_key:K", 60s);
    REQUIRE(bound);
    server.stop();
    auto down = co_await eventually([&] { return !client.connected(); });
    REQUIRE(down);
    auto b = co_await store.bind(ref, "api_key:K", 60s);
    CHECK_FALSE(b);
    auto o = co_await store.owner_of(ref);
    CHECK_FALSE(o.ok);
    CHECK_FALSE(o.owner.has_value());
    auto e = co_await store.extend(ref, 60s);
    CHECK_FALSE(e);
    auto f = co_await store.forget(ref);
    CHECK_FALSE(f);
    client.close();
  });
}

TEST_CASE("cursor_store: reply outcomes fail closed on every odd shape", "[cursor][store]") {
  using esgate::test_support::bulk;
  using esgate::test_support::response;
  struct row {
    std::string resp;
    bool bind, lookup_ok, extend, forget;
    std::optional<std::string> owner;
  };
  const row rows[] = {
      {"+OK\r\n", true, false, false, false, std::nullopt},
      {"$-1\r\n", false, true, false, false, std::nullopt},  // GET: no binding
      {bulk("u:alice"), false, true, false, false, std::string("u:alice")},
      {bulk(""), false, true, false, false, std::string("")},
      {bulk("OK"), false, true, false, false, std::string("OK")},  // a bulk OK is not +OK
      {":1\r\n", false, false, true, true, std::nullopt},
      {":0\r\n", false, false, false, true, std::nullopt},
      {":2\r\n", false, false, false, true, std::nullopt},
      {":-2\r\n", false, false, false, true, std::nullopt},
      {"+QUEUED\r\n", false, false, false, false, std::nullopt},
      {"*-1\r\n", false, true, false, false, std::nullopt},
      {"*1\r\n$7\r\nu:alice\r\n", false, false, false, false, std::nullopt},
      {"-WRONGTYPE x\r\n", false, false, false, false, std::nullopt},
      {"-ERR x\r\n", false, false, false, false, std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.resp);
    CHECK(cursor_store::bind_outcome(response(r.resp)) == r.bind);
    auto l = cursor_store::lookup_outcome(response(r.resp));
    CHECK(l.ok == r.lookup_ok);
    CHECK(l.owner == r.owner);
    CHECK(cursor_store::extend_outcome(response(r.resp)) == r.extend);
    CHECK(cursor_store::forget_outcome(response(r.resp)) == r.forget);
  }
}
