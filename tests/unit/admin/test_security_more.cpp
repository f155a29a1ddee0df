// Concurrency, chains of key-created keys, headers, and smaller shapes.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "harness.hpp"

using namespace esgate;
using namespace esgate::admin::test;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

template <class F>
// Like with_harness, and `f` also gets the io_context (concurrent calls spawned on it).
void with_harness_io(F f) {
  run_async(
      [&](asio::io_context& ioc) -> asio::awaitable<void> {
        harness h(ioc);
        co_await f(h, ioc);
      },
      30s);
}

bool has_header(const reply& r, std::string_view name, std::string_view value) {
  for (const auto& [k, v] : r.raw.headers)
    if (k == name && v == value) return true;
  return false;
}

}  // namespace

TEST_CASE("concurrent updates of one key all land (compare-and-set retries)", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context& ioc) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    const auto id = id_of(co_await h.create(alice, R"({"name":"k"})"));
    constexpr int n = 4;
    std::vector<int> statuses;
    for (int i = 0; i < n; ++i) {
      asio::co_spawn(
          ioc,
          [&, i]() -> asio::awaitable<void> {
            auto r =
                co_await h.call("PUT", "/_security/api_key/" + id,
                                "{\"metadata\":{\"writer\":" + std::to_string(i) + "}}", alice);
            statuses.push_back(r.status);
          },
          asio::detached);
    }
    CHECK(co_await eventually([&] { return statuses.size() == n; }));
    CHECK(statuses == std::vector<int>(n, 200));
    auto rec = co_await h.store().get(id);
    REQUIRE(rec.has_value());
    REQUIRE(rec->has_value());
    CHECK((*rec)->version >= 1);
    CHECK((*rec)->version <= n);
  });
}

TEST_CASE("concurrent invalidations report each key once", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context& ioc) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    const auto id = id_of(co_await h.create(admin, R"({"name":"k"})"));
    std::vector<std::size_t> invalidated;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          ioc,
          [&]() -> asio::awaitable<void> {
            auto r = co_await h.call("DELETE", "/_security/api_key", R"({"ids":[")" + id + "\"]}",
                                     admin);
            invalidated.push_back(r.obj().at("invalidated_api_keys").as_array().size());
          },
          asio::detached);
    }
    CHECK(co_await eventually([&] { return invalidated.size() == 3; }));
    std::size_t total = 0;
    for (auto n : invalidated) total += n;
    CHECK(total == 1);
  });
}

TEST_CASE("key-created keys: an empty creator records an empty limited_by_key", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    const auto parent =
        co_await h.key(id_of(co_await h.create(h.user("alice"), R"({"name":"p"})")));
    auto child = co_await h.create(parent, R"({"name":"c"})");
    auto rec = co_await h.store().get(id_of(child));
    REQUIRE(rec.has_value());
    REQUIRE(rec->has_value());
    REQUIRE((*rec)->limited_by_key.has_value());  // provenance: a key made it
    CHECK((*rec)->limited_by_key->empty());
    CHECK((*rec)->role_descriptors.empty());
    const auto key = co_await h.key(id_of(child));
    CHECK(key.effective.allows_index("indices:data/read/search", "logs-a"));  // = alice's roles
  });
}

TEST_CASE("key-created keys: inheriting from a key limited twice keeps both layers",
          "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    const auto k1 =
        co_await h.key(id_of(co_await h.create(alice, R"({"name":"k1","role_descriptors":{
        "a":{"cluster":["manage_own_api_key"],"indices":[{"names":["books","logs-a"],"privileges":["read"]}]}}})")));
    const auto k2_id = id_of(co_await h.create(k1, R"({"name":"k2","role_descriptors":{
        "b":{"cluster":["manage_own_api_key"],"indices":[{"names":["books"],"privileges":["read"]}]}}})"));
    // The owner later widens k2's own descriptors: k2 stays limited by k1 (limited_by_key).
    auto upd = co_await h.call("PUT", "/_security/api_key/" + k2_id, R"({"role_descriptors":{
        "b":{"cluster":["manage_own_api_key"],"indices":[{"names":["books","logs-b"],"privileges":["read"]}]}}})",
                               alice);
    CHECK(upd.raw.body == R"({"updated":true})");
    const auto k2 = co_await h.key(k2_id);
    CHECK(k2.effective.allows_index("indices:data/read/search", "books"));
    CHECK_FALSE(k2.effective.allows_index("indices:data/read/search", "logs-b"));
    // Neither of k2's layers contains the other: the child carries both.
    auto k3_obj = co_await h.create(k2, R"({"name":"k3"})");
    auto rec = co_await h.store().get(id_of(k3_obj));
    REQUIRE(rec.has_value());
    REQUIRE(rec->has_value());
    CHECK((*rec)->role_descriptors.contains("b"));
    REQUIRE((*rec)->limited_by_key.has_value());
    CHECK((*rec)->limited_by_key->contains("a"));
    const auto k3 = co_await h.key(id_of(k3_obj));
    CHECK(k3.effective.allows_index("indices:data/read/search", "books"));
    CHECK_FALSE(k3.effective.allows_index("indices:data/read/search", "logs-a"));
    CHECK_FALSE(k3.effective.allows_index("indices:data/read/search", "logs-b"));
  });
}

TEST_CASE("every response carries the Elasticsearch product and JSON headers", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    const auto dave = h.user("dave");
    for (auto [method, target, body] :
         {std::tuple{"GET", "/_security/_authenticate", ""},
          std::tuple{"GET", "/_security/api_key", ""},                 // 403
          std::tuple{"POST", "/_security/api_key", "{"},               // 400
          std::tuple{"PATCH", "/_security/api_key", ""},               // 405
          std::tuple{"GET", "/_security/api_key?owner=maybe", ""}}) {  // 400
      INFO(method << " " << target);
      auto r = co_await h.call(method, target, body, dave);
      CHECK(has_header(r, "X-Elastic-Product", "Elasticsearch"));
      CHECK(has_header(r, "Content-Type", "application/json"));
      CHECK(r.body.is_object());
    }
  });
}

TEST_CASE("OPTIONS lists the methods; 405 names the uri", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    auto o = co_await h.call("OPTIONS", "/_security/_query/api_key", "", h.user("dave"));
    CHECK(o.status == 200);
    CHECK(has_header(o, "Allow", "POST,GET"));
    CHECK(o.raw.body.empty());
    auto m = co_await h.call("DELETE", "/_security/_authenticate", "", h.user("dave"));
    CHECK(m.status == 405);
    CHECK(m.obj().at("error") ==
          "Incorrect HTTP method for uri [/_security/_authenticate] and method [DELETE], allowed: "
          "[GET]");
    CHECK(m.obj().at("status") == 405);
  });
}

TEST_CASE("with_limited_by of a superuser's key shows the built-in superuser role",
          "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    const auto id = id_of(co_await h.create(admin, R"({"name":"k"})"));
    auto r = co_await h.call("GET", "/_security/api_key?with_limited_by&id=" + id, "", admin);
    const auto& lb = r.obj().at("api_keys").at(0).at("limited_by").as_array();
    REQUIRE(lb.size() == 1);
    const auto& su = lb.at(0).at("superuser").as_object();
    CHECK(su.at("cluster") == json::array{"all"});
    CHECK(su.at("indices").at(0).at("allow_restricted_indices") == true);
  });
}

TEST_CASE("update: expiration 0 expires the key at once", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    const auto id = id_of(co_await h.create(alice, R"({"name":"k"})"));
    auto r = co_await h.call("PUT", "/_security/api_key/" + id, R"({"expiration":"0"})", alice);
    CHECK(r.raw.body == R"({"updated":true})");
    auto active = co_await h.call("GET", "/_security/api_key?owner&active_only", "", alice);
    CHECK(active.obj().at("api_keys").as_array().empty());
    auto again = co_await h.call("PUT", "/_security/api_key/" + id, R"({"metadata":{}})", alice);
    CHECK(again.error_reason() == "cannot update expired API key [" + id + "]");
  });
}

TEST_CASE("query: paging past the end keeps the total", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    for (int i = 0; i < 3; ++i) co_await h.create(admin, R"({"name":"k"})");
    auto r = co_await h.call("POST", "/_security/_query/api_key", R"({"from":5,"size":5})", admin);
    CHECK(r.raw.body == R"({"total":3,"count":0,"api_keys":[]})");
  });
}

TEST_CASE("_has_privileges for an API key holding manage_own_api_key", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    const auto key = co_await h.key(id_of(co_await h.create(h.user("alice"), R"({"name":"k"})")));
    auto r = co_await h.call("POST", "/_security/user/alice/_has_privileges",
                             R"({"cluster":["manage_own_api_key","manage_api_key"]})", key);
    CHECK(
        r.raw.body ==
        R"({"username":"alice","has_all_requested":false,)"
        R"("cluster":{"manage_own_api_key":true,"manage_api_key":false},"index":{},"application":{}})");
  });
}

TEST_CASE("GET by id returns invalidated keys with their invalidation time", "[admin][redis]") {
  with_harness_io([](harness& h, asio::io_context&) -> asio::awaitable<void> {
    const auto carol = h.user("carol");
    const auto id = id_of(co_await h.create(h.user("alice"), R"({"name":"k"})"));
    h.now += 5000;
    co_await h.call("DELETE", "/_security/api_key", R"({"name":"k"})", carol);
    auto r = co_await h.call("GET", "/_security/api_key?id=" + id, "", carol);
    CHECK(r.status == 200);
    CHECK(r.obj().at("api_keys").at(0).at("invalidation") == h.now);
    auto active = co_await h.call("GET", "/_security/api_key?active_only=true&id=" + id, "", carol);
    CHECK(active.status == 404);  // id given, nothing matched
  });
}
