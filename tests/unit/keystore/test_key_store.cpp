// key_store against a real redis-server: CRUD, indexes, compare-and-set, invalidation events,
// last-use batching and behaviour when Redis is away.
#include "esgate/keystore/key_store.hpp"

#include "redis_server.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

using namespace esgate::keystore;
using namespace esgate::test_support;
namespace json = boost::json;
using ids = std::vector<std::string>;

namespace {

redis_config config_for(const redis_server& s) {
  redis_config c;
  c.port = s.port();
  c.command_timeout = 2s;
  c.connect_timeout = 1s;
  return c;
}

key_record make_key(std::string id, std::string name, std::string user, std::int64_t creation,
                    std::string realm = "default_file") {
  key_record r;
  r.id = std::move(id);
  r.name = std::move(name);
  r.username = std::move(user);
  r.realm = std::move(realm);
  r.realm_type = r.realm == "default_file" ? "file" : "_es_api_key";
  r.creation = creation;
  r.api_key_hash = "{SSHA256}aGFzaGhhc2g=";
  r.role_descriptors =
      json::parse(R"({"ro":{"cluster":[],"indices":[{"names":["books"],"privileges":["read"]}]}})")
          .as_object();
  r.metadata = json::parse(R"({"env":"test","tags":[]})").as_object();
  return r;
}

template <typename... A>
ids L(const A&... a) {  // g++ 12 rejects braced lists next to co_await: build them here
  return ids{std::string(a)...};
}

std::vector<std::string> ids_of(const std::vector<key_record>& v) {
  std::vector<std::string> out;
  for (const auto& r : v) out.push_back(r.id);
  return out;
}

}  // namespace

TEST_CASE("key_store: create, get, duplicate, indexes", "[keystore][store]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    key_store store(client);

    const auto a = make_key("AAAAAAAAAAAAAAAAAAAA", "ci", "alice", 3000);
    const auto b = make_key("BBBBBBBBBBBBBBBBBBBB", "ci", "bob", 1000);
    const auto c = make_key("CCCCCCCCCCCCCCCCCCCC", "deploy:prod", "alice", 2000);
    auto d = make_key("DDDDDDDDDDDDDDDDDDDD", "child", "alice", 4000, "_es_api_key");
    d.limited_by_key = a.role_descriptors;
    const std::vector<key_record> all{a, b, c, d};
    for (const auto& k : all) {
      auto aw1 = co_await store.create(k);
      REQUIRE(aw1.has_value());
    }

    // Duplicate id: refused, original untouched, indexes unchanged.
    auto dup = make_key("AAAAAAAAAAAAAAAAAAAA", "other-name", "mallory", 9000);
    auto again = co_await store.create(dup);
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error() == errc::key_exists);
    auto got = co_await store.get("AAAAAAAAAAAAAAAAAAAA");
    REQUIRE(got.has_value());
    REQUIRE(got->has_value());
    CHECK((*got)->name == "ci");
    CHECK((*got)->username == "alice");
    CHECK((*got)->role_descriptors == a.role_descriptors);
    CHECK((*got)->metadata == a.metadata);
    CHECK((*got)->api_key_hash == a.api_key_hash);
    CHECK_FALSE((*got)->last_used);
    auto aw2 = co_await store.list_ids_by_owner("default_file", "mallory");
    CHECK(aw2->empty());
    auto aw3 = co_await store.list_ids_by_name("other-name");
    CHECK(aw3->empty());

    auto dd = co_await store.get("DDDDDDDDDDDDDDDDDDDD");
    REQUIRE((dd.has_value() && dd->has_value()));
    REQUIRE((*dd)->limited_by_key);
    CHECK(*(*dd)->limited_by_key == a.role_descriptors);

    // Not found is a value, not an error.
    auto none = co_await store.get("ZZZZZZZZZZZZZZZZZZZZ");
    REQUIRE(none.has_value());
    CHECK_FALSE(*none);

    auto aw4 = co_await store.list_ids_by_owner("default_file", "alice");
    CHECK(*aw4 == L("AAAAAAAAAAAAAAAAAAAA", "CCCCCCCCCCCCCCCCCCCC"));
    auto aw5 = co_await store.list_ids_by_owner("_es_api_key", "alice");
    CHECK(*aw5 == L("DDDDDDDDDDDDDDDDDDDD"));
    auto aw6 = co_await store.list_ids_by_owner("default_file", "bob");
    CHECK(*aw6 == L("BBBBBBBBBBBBBBBBBBBB"));
    auto aw7 = co_await store.list_ids_by_name("ci");
    CHECK(*aw7 == L("AAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBB"));
    auto aw8 = co_await store.list_ids_by_name("deploy:prod");
    CHECK(*aw8 == L("CCCCCCCCCCCCCCCCCCCC"));
    // All ids, oldest first.
    auto aw9 = co_await store.list_all_ids();
    CHECK(*aw9 == L("BBBBBBBBBBBBBBBBBBBB", "CCCCCCCCCCCCCCCCCCCC", "AAAAAAAAAAAAAAAAAAAA",
                    "DDDDDDDDDDDDDDDDDDDD"));

    // get_many keeps the requested order and skips missing ids.
    ids wanted{"CCCCCCCCCCCCCCCCCCCC", "missing", "AAAAAAAAAAAAAAAAAAAA", "CCCCCCCCCCCCCCCCCCCC"};
    auto many = co_await store.get_many(wanted);
    REQUIRE(many.has_value());
    CHECK(ids_of(*many) ==
          L("CCCCCCCCCCCCCCCCCCCC", "AAAAAAAAAAAAAAAAAAAA", "CCCCCCCCCCCCCCCCCCCC"));
    auto aw10 = co_await store.get_many(ids());
    CHECK(aw10->empty());

    // Records that cannot be stored.
    auto bad = make_key("", "n", "u", 1);
    auto aw11 = co_await store.create(bad);
    CHECK(aw11.error() == errc::invalid_record);
    bad = make_key("EEEEEEEEEEEEEEEEEEEE", "n", "u", 1, "evil:realm");
    auto aw12 = co_await store.create(bad);
    CHECK(aw12.error() == errc::invalid_record);
    client.close();
  });
  // The schema as documented in key_store.hpp, seen from outside.
  CHECK(server.cli({"TYPE", "esgate:key:AAAAAAAAAAAAAAAAAAAA"}) == "string");
  CHECK(server.cli({"TYPE", "esgate:idx:owner:default_file:alice"}) == "set");
  CHECK(server.cli({"TYPE", "esgate:idx:name:ci"}) == "set");
  CHECK(server.cli({"ZSCORE", "esgate:idx:all", "BBBBBBBBBBBBBBBBBBBB"}) == "1000");
  auto stored = server.cli({"GET", "esgate:key:AAAAAAAAAAAAAAAAAAAA"});
  CHECK(stored.find("\"api_key_hash\":\"{SSHA256}aGFzaGhhc2g=\"") != std::string::npos);
  CHECK(stored.find("last_used") == std::string::npos);
}

TEST_CASE("key_store: corrupt records are reported, not trusted", "[keystore][store]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    key_store store(client, "t:");
    auto aw13 = co_await store.create(make_key("good", "n", "u", 1));
    REQUIRE(aw13.has_value());
    const std::vector<std::pair<std::string, std::string>> garbage = {
        {"t:key:notjson", "{not json"},
        {"t:key:wrongtype",
         R"({"id":"wrongtype","username":"u","realm":"r","api_key_hash":"h","creation":"1"})"},
        {"t:key:otherid",
         R"({"id":"someone-else","username":"u","realm":"r","api_key_hash":"h","creation":1})"},
        {"t:key:array", "[]"},
    };
    for (const auto& [k, v] : garbage) {
      auto aw14 = co_await client.command("SET", k, v);
      REQUIRE(aw14.ok());
    }
    const ids corrupt = L("notjson", "wrongtype", "otherid", "array");
    for (const auto& id : corrupt) {
      INFO(id);
      auto r = co_await store.get(id);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error() == errc::corrupt_record);
      CHECK_FALSE(is_unavailable(r.error()));
    }
    // A key of the wrong Redis type.
    auto aw15 = co_await client.command("SADD", "t:key:aset", "x");
    REQUIRE(aw15.ok());
    auto wrong = co_await store.get("aset");
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error() == errc::server_error);  // WRONGTYPE

    ids arg1{"notjson", "good", "otherid", "array"};
    auto many = co_await store.get_many(arg1);
    REQUIRE(many.has_value());
    CHECK(ids_of(*many) == L("good"));

    // update() of a corrupt record is refused by the script.
    auto upd = make_key("notjson", "n", "u", 1);
    auto aw16 = co_await store.update(upd);
    CHECK(aw16.error() == errc::corrupt_record);
    client.close();
  });
}

TEST_CASE("key_store: update is compare-and-set and publishes the id", "[keystore][store]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    key_store store(client);
    std::vector<std::string> events;
    bool subscribed = false;
    redis_subscriber sub(
        ioc.get_executor(), config_for(server), store.events_channel(),
        {[&](std::string m) { events.push_back(std::move(m)); }, {}, [&] { subscribed = true; }});
    sub.start();
    auto aw17 = co_await eventually([&] { return subscribed; });
    REQUIRE(aw17);

    auto k = make_key("KKKKKKKKKKKKKKKKKKKK", "svc", "alice", 100);
    auto aw18 = co_await store.create(k);
    REQUIRE(aw18.has_value());
    auto v0 = **(co_await store.get(k.id));
    CHECK(v0.version == 0);

    // Change role descriptors (with empty arrays, which must survive) and expiration.
    auto v1 = v0;
    v1.role_descriptors =
        json::parse(R"({"none":{"cluster":[],"indices":[],"run_as":[]}})").as_object();
    v1.metadata["added"] = true;
    v1.expiration = 99999;
    auto aw19 = co_await store.update(v1);
    REQUIRE(aw19.has_value());
    auto read1 = **(co_await store.get(k.id));
    CHECK(read1.version == 1);
    CHECK(read1.role_descriptors == v1.role_descriptors);
    CHECK(read1.metadata == v1.metadata);
    CHECK(read1.expiration == 99999);
    CHECK(server.cli({"GET", "esgate:key:KKKKKKKKKKKKKKKKKKKK"}).find("\"indices\":[]") !=
          std::string::npos);
    auto aw20 = co_await eventually([&] { return events.size() == 1; });
    REQUIRE(aw20);
    CHECK(events[0] == k.id);

    // A writer holding the old version loses.
    auto stale = v0;
    stale.metadata["lost"] = true;
    auto lost = co_await store.update(stale);
    REQUIRE_FALSE(lost.has_value());
    CHECK(lost.error() == errc::version_conflict);
    auto aw21 = co_await store.get(k.id);
    CHECK_FALSE((**aw21).metadata.contains("lost"));

    // Immutable fields.
    for (int field = 0; field < 3; ++field) {
      auto moved = read1;
      if (field == 0) moved.name = "renamed";
      if (field == 1) moved.username = "mallory";
      if (field == 2) moved.realm = "_es_api_key";
      auto aw22 = co_await store.update(moved);
      CHECK(aw22.error() == errc::invalid_record);
    }
    auto ghost = make_key("GGGGGGGGGGGGGGGGGGGG", "svc", "alice", 100);
    auto aw23 = co_await store.update(ghost);
    CHECK(aw23.error() == errc::key_not_found);
    ghost.id.clear();
    auto aw24 = co_await store.update(ghost);
    CHECK(aw24.error() == errc::invalid_record);

    // Two concurrent updates from the same version: exactly one wins.
    auto x = read1, y = read1;
    x.metadata["who"] = "x";
    y.metadata["who"] = "y";
    boost::system::result<void> rx, ry;
    int finished = 0;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          rx = co_await store.update(x);
          ++finished;
        },
        asio::detached);
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          ry = co_await store.update(y);
          ++finished;
        },
        asio::detached);
    auto aw25 = co_await eventually([&] { return finished == 2; });
    REQUIRE(aw25);
    CHECK(rx.has_value() != ry.has_value());
    auto final_rec = **(co_await store.get(k.id));
    CHECK(final_rec.version == 2);
    CHECK(final_rec.metadata.at("who") == (rx.has_value() ? "x" : "y"));
    auto aw26 = co_await eventually([&] { return events.size() == 2; });
    CHECK(aw26);
    sub.close();
    client.close();
  });
}

TEST_CASE("key_store: invalidate sorts ids and publishes events", "[keystore][store]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    key_store store(client, "inv:");
    std::vector<std::string> events;
    bool subscribed = false;
    redis_subscriber sub(
        ioc.get_executor(), config_for(server), "inv:events",
        {[&](std::string m) { events.push_back(std::move(m)); }, {}, [&] { subscribed = true; }});
    sub.start();
    auto aw27 = co_await eventually([&] { return subscribed; });
    REQUIRE(aw27);

    const ids names = L("k1", "k2", "k3", "old");
    for (const auto& id : names) {
      auto aw28 = co_await store.create(make_key(id, "n", "u", 1));
      REQUIRE(aw28.has_value());
    }
    ids arg2{"old"};
    auto first = co_await store.invalidate(arg2, 500);
    REQUIRE(first.has_value());
    CHECK(first->invalidated == L("old"));
    auto aw29 = co_await eventually([&] { return events.size() == 1; });
    REQUIRE(aw29);
    events.clear();

    auto aw30 = co_await client.command("SET", "inv:key:broken", "nope");
    REQUIRE(aw30.ok());
    ids arg3{"k1", "old", "missing", "k2", "k1", "broken"};
    auto r = co_await store.invalidate(arg3, 1234);
    REQUIRE(r.has_value());
    CHECK(r->invalidated == L("k1", "k2"));
    CHECK(r->previously_invalidated == L("old"));
    CHECK(r->not_found == L("missing"));
    REQUIRE(r->errors.size() == 1);
    CHECK(r->errors[0].first == "broken");
    CHECK(r->errors[0].second == errc::corrupt_record);

    auto k1 = **(co_await store.get("k1"));
    CHECK(k1.invalidated);
    CHECK(k1.invalidation == 1234);
    CHECK(k1.version == 1);
    auto old = **(co_await store.get("old"));
    CHECK(old.invalidation == 500);  // not moved by the second call
    auto k3 = **(co_await store.get("k3"));
    CHECK_FALSE(k3.invalidated);

    auto aw31 = co_await eventually([&] { return events.size() == 2; });
    REQUIRE(aw31);
    std::sort(events.begin(), events.end());
    CHECK(events == L("k1", "k2"));

    auto aw32 = co_await store.publish("*");
    CHECK(!aw32);
    auto aw33 = co_await eventually([&] { return events.size() == 3; });
    REQUIRE(aw33);
    CHECK(events.back() == "*");

    auto empty = co_await store.invalidate(ids(), 1);
    REQUIRE(empty.has_value());
    CHECK(empty->invalidated.empty());
    sub.close();
    client.close();
  });
}

TEST_CASE("key_store: last use is batched and never moves backwards", "[keystore][store]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    key_store store(client);
    auto aw34 = co_await store.create(make_key("a", "n", "u", 1));
    REQUIRE(aw34.has_value());
    auto aw35 = co_await store.create(make_key("b", "n", "u", 2));
    REQUIRE(aw35.has_value());
    std::vector<std::pair<std::string, std::int64_t>> arg4{{"a", 1700000000000},
                                                           {"b", 1700000000500}};
    auto aw36 = co_await store.touch_last_used(arg4);
    CHECK(!aw36);
    auto aw37 = co_await store.get("a");
    CHECK((**aw37).last_used == 1700000000000);
    std::vector<std::pair<std::string, std::int64_t>> arg5{{"a", 1600000000000},
                                                           {"b", 1800000000000}};
    auto aw38 = co_await store.touch_last_used(arg5);
    CHECK(!aw38);
    auto aw39 = co_await store.get("a");
    CHECK((**aw39).last_used == 1700000000000);  // older: ignored
    auto aw40 = co_await store.get("b");
    CHECK((**aw40).last_used == 1800000000000);
    ids arg6{"b", "a"};
    auto both = co_await store.get_many(arg6);
    REQUIRE(both.has_value());
    REQUIRE(both->size() == 2);
    CHECK((*both)[0].last_used == 1800000000000);
    CHECK((*both)[1].last_used == 1700000000000);

    // A large batch goes out as several bounded ZADDs in one pipeline.
    std::vector<std::pair<std::string, std::int64_t>> uses;
    for (int i = 0; i < 1500; ++i) uses.emplace_back("bulk" + std::to_string(i), 1000 + i);
    auto aw41 = co_await store.touch_last_used(std::move(uses));
    CHECK(!aw41);
    auto aw42 = co_await store.touch_last_used(std::vector<std::pair<std::string, std::int64_t>>());
    CHECK(!aw42);
    auto n = co_await client.command("ZCARD", store.last_used_key());
    CHECK(n.reply.integer == 1502);

    // Updates never conflict with touches (they live apart).
    auto rec = **(co_await store.get("a"));
    std::vector<std::pair<std::string, std::int64_t>> arg7{{"a", 1900000000000}};
    auto aw43 = co_await store.touch_last_used(arg7);
    CHECK(!aw43);
    auto aw44 = co_await store.update(rec);
    REQUIRE(aw44.has_value());
    auto aw45 = co_await store.get("a");
    CHECK((**aw45).last_used == 1900000000000);
    client.close();
  });
}

TEST_CASE("key_store: store unavailable is distinguishable from not found", "[keystore][store]") {
  redis_server server;
  run_async([&](asio::io_context& ioc) -> asio::awaitable<void> {
    redis_client client(ioc.get_executor(), config_for(server));
    key_store store(client);
    auto aw46 = co_await store.create(make_key("x", "n", "u", 1));
    REQUIRE(aw46.has_value());
    server.stop();
    auto aw47 = co_await eventually([&] { return !client.connected(); });
    REQUIRE(aw47);
    auto g = co_await store.get("x");
    REQUIRE_FALSE(g.has_value());
    CHECK(is_unavailable(g.error()));
    ids arg8{"x"};
    auto aw48 = co_await store.get_many(arg8);
    CHECK(is_unavailable(aw48.error()));
    auto aw49 = co_await store.list_all_ids();
    CHECK(is_unavailable(aw49.error()));
    auto aw50 = co_await store.list_ids_by_owner("default_file", "u");
    CHECK(is_unavailable(aw50.error()));
    auto aw51 = co_await store.create(make_key("y", "n", "u", 1));
    CHECK(is_unavailable(aw51.error()));
    auto aw52 = co_await store.update(make_key("x", "n", "u", 1));
    CHECK(is_unavailable(aw52.error()));
    ids arg9{"x"};
    auto aw53 = co_await store.invalidate(arg9, 1);
    CHECK(is_unavailable(aw53.error()));
    std::vector<std::pair<std::string, std::int64_t>> arg10{{"x", 1}};
    auto aw54 = co_await store.touch_last_used(arg10);
    CHECK(is_unavailable(aw54));
    auto aw55 = co_await store.publish("*");
    CHECK(is_unavailable(aw55));
    client.close();
  });
}
