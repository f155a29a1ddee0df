// Edge cases: nasty bodies, odd names, corrupt records, other privilege holders.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace esgate;
using namespace esgate::admin::test;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {}  // namespace

TEST_CASE("create: PUT works like POST; null fields mean absent", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    auto r =
        co_await h.call("PUT", "/_security/api_key",
                        R"({"name":"k","expiration":null,"metadata":null,"role_descriptors":null})",
                        h.user("alice"));
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.obj().contains("expiration"));
    auto rec = co_await h.store().get(id_of(r.obj()));
    REQUIRE(rec.has_value());
    REQUIRE(rec->has_value());
    CHECK((*rec)->metadata.empty());
    CHECK((*rec)->role_descriptors.empty());
  });
}

TEST_CASE("create: names at the limits", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    std::string e256;
    for (int i = 0; i < 256; ++i) e256 += "\xC3\xA9";  // 256 × é = 512 bytes, 256 UTF-16 units
    auto ok = co_await h.call("POST", "/_security/api_key", "{\"name\":\"" + e256 + "\"}", alice);
    CHECK(ok.status == 200);
    std::string emoji;
    for (int i = 0; i < 129; ++i) emoji += "\xF0\x9F\x98\x80";  // 258 UTF-16 units
    auto too_long =
        co_await h.call("POST", "/_security/api_key", "{\"name\":\"" + emoji + "\"}", alice);
    CHECK(too_long.status == 400);
    auto inner = co_await h.call("POST", "/_security/api_key", R"({"name":"a b\tc"})", alice);
    CHECK(inner.status == 200);  // inner whitespace is fine
    auto nl = co_await h.call("POST", "/_security/api_key", R"({"name":"ab\n"})", alice);
    CHECK(nl.error_reason() ==
          "Validation Failed: 1: api key name may not begin or end with whitespace;");
    // duplicates are allowed (ES dropped the 7.0 uniqueness check)
    auto dup1 = co_await h.call("POST", "/_security/api_key", R"({"name":"same"})", alice);
    auto dup2 = co_await h.call("POST", "/_security/api_key", R"({"name":"same"})", alice);
    CHECK(dup1.status == 200);
    CHECK(dup2.status == 200);
    CHECK(id_of(dup1.obj()) != id_of(dup2.obj()));
  });
}

TEST_CASE("create: nasty role descriptors and metadata", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    struct row {
      std::string body;
      const char* type;
      const char* reason_part;
    };
    const std::vector<row> rows = {
        {R"({"name":"k","role_descriptors":{"r":{"indices":[{"names":["a"],"privileges":["read"],"query":"{}"}]}}})",
         "illegal_argument_exception", "document level security"},
        {R"({"name":"k","role_descriptors":{"r":{"run_as":["bob"]}}})",
         "illegal_argument_exception", "run_as"},
        {R"({"name":"k","role_descriptors":{"r":{"cluster":["all"],"cluster":["none"]}}})",
         "x_content_parse_exception", "Duplicate field 'cluster'"},
        {R"({"name":"k","role_descriptors":{"r":{"description":"x"}}})",
         "x_content_parse_exception", "unexpected field [description]"},
        {R"({"name":"k","role_descriptors":{"r":{"indices":[{"names":["/[/"],"privileges":["read"]}]}}})",
         "action_request_validation_exception", "Validation Failed: 1: "},
        {R"({"name":"k","role_descriptors":{"r":{"metadata":{"_x":1}}}})",
         "action_request_validation_exception", "Validation Failed: 1: "},
        {R"({"name":"k","metadata":)" + std::string(70, '[') + std::string(70, ']') + "}",
         "x_content_parse_exception", "nested more than 64 levels"},
        {"{\"name\":\"k\",\"metadata\":{\"x\":\"\xC0\xAF\"}}", "x_content_parse_exception",
         "failed to parse the request body"},
    };
    for (const auto& r : rows) {
      INFO(r.body.substr(0, 120));
      auto res = co_await h.call("POST", "/_security/api_key", r.body, admin);
      CHECK(res.status == 400);
      CHECK(res.error_type() == r.type);
      CHECK_THAT(res.error_reason(), Catch::Contains(r.reason_part));
    }
    auto ids = co_await h.store().list_all_ids();
    REQUIRE(ids.has_value());
    CHECK(ids->empty());
  });
}

TEST_CASE("manage_api_key and manage_security holders reach every key", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto carol = h.user("carol"), erin = h.user("erin"), alice = h.user("alice");
    const auto a = id_of(co_await h.create(alice, R"({"name":"a"})"));
    h.now += 1;
    const auto c = id_of(co_await h.create(carol, R"({"name":"c"})"));
    h.now += 1;
    const auto e = id_of(co_await h.create(erin, R"({"name":"e"})"));
    for (const auto* who : {&carol, &erin}) {
      auto all = co_await h.call("GET", "/_security/api_key", "", *who);
      CHECK(ids_of(all) == list{a, c, e});
      auto q = co_await h.call("POST", "/_security/_query/api_key",
                               R"({"query":{"term":{"username":"alice"}}})", *who);
      CHECK(ids_of(q) == list{a});
    }
    auto inv = co_await h.call("DELETE", "/_security/api_key", R"({"ids":[")" + a + "\"]}", carol);
    CHECK(inv.obj().at("invalidated_api_keys") == json::array{json::string(a)});
    auto realm =
        co_await h.call("DELETE", "/_security/api_key", R"({"realm_name":"default_file"})", erin);
    CHECK(realm.obj().at("invalidated_api_keys").as_array().size() == 2);
  });
}

TEST_CASE("corrupt or dangling index entries are skipped", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    const auto good = id_of(co_await h.create(admin, R"({"name":"good"})"));
    auto& s = shared_redis();
    s.cli({"SET", h.prefix() + "key:BBBBBBBBBBBBBBBBBBBB", "{not json"});
    s.cli({"ZADD", h.prefix() + "idx:all", "1", "BBBBBBBBBBBBBBBBBBBB"});
    s.cli({"ZADD", h.prefix() + "idx:all", "2", "CCCCCCCCCCCCCCCCCCCC"});  // no record
    auto all = co_await h.call("GET", "/_security/api_key", "", admin);
    CHECK(all.status == 200);
    CHECK(ids_of(all) == list{good});
    auto q = co_await h.call("POST", "/_security/_query/api_key", "", admin);
    CHECK(q.obj().at("total") == 1);
    auto inv = co_await h.call("DELETE", "/_security/api_key",
                               R"({"ids":["BBBBBBBBBBBBBBBBBBBB","CCCCCCCCCCCCCCCCCCCC"]})", admin);
    CHECK(inv.status == 200);
    CHECK(inv.obj().at("invalidated_api_keys").as_array().empty());
    CHECK(inv.obj().at("error_count") == 0);
    auto by_id = co_await h.call("GET", "/_security/api_key?id=BBBBBBBBBBBBBBBBBBBB", "", admin);
    CHECK(by_id.status == 404);
  });
}

TEST_CASE("query: GET with a body, size 0, with_limited_by, no _sort without sort",
          "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin"), alice = h.user("alice");
    for (int i = 0; i < 3; ++i) {
      co_await h.create(alice, R"({"name":"k"})");
      h.now += 1;
    }
    auto zero = co_await h.call("GET", "/_security/_query/api_key", R"({"size":0})", admin);
    CHECK(zero.raw.body == R"({"total":3,"count":0,"api_keys":[]})");
    auto lb = co_await h.call("POST", "/_security/_query/api_key?with_limited_by=true",
                              R"({"size":1})", admin);
    const auto& k = lb.obj().at("api_keys").at(0).as_object();
    CHECK(k.contains("limited_by"));
    CHECK_FALSE(k.contains("_sort"));
    auto lb_own =
        co_await h.call("POST", "/_security/_query/api_key?with_limited_by=true", "", alice);
    CHECK(lb_own.status == 200);  // a user may see its own keys' limits
    auto bad = co_await h.call("POST", "/_security/_query/api_key", R"({"query":)", admin);
    CHECK(bad.status == 400);
    CHECK(bad.error_type() == "x_content_parse_exception");
    auto bad_param = co_await h.call("POST", "/_security/_query/api_key?size=1", "", admin);
    CHECK(bad_param.status == 400);
  });
}

TEST_CASE("update: role descriptors are validated and stored in full form", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    const auto id = id_of(co_await h.create(alice, R"({"name":"k"})"));
    const std::string path = "/_security/api_key/" + id;
    auto bad =
        co_await h.call("PUT", path, R"({"role_descriptors":{"r":{"cluster":["fly"]}}})", alice);
    CHECK(bad.status == 400);
    CHECK(bad.error_type() == "action_request_validation_exception");
    auto bad_exp = co_await h.call("PUT", path, R"({"expiration":"1y"})", alice);
    CHECK(bad_exp.status == 400);
    CHECK(bad_exp.error_type() == "illegal_argument_exception");
    auto ok = co_await h.call(
        "PUT", path,
        R"({"role_descriptors":{"r":{"indices":[{"names":"books","privileges":["read"]}]}}})",
        alice);
    CHECK(ok.raw.body == R"({"updated":true})");
    auto got = co_await h.call("GET", "/_security/api_key?owner=true", "", alice);
    const auto& r = got.obj().at("api_keys").at(0).at("role_descriptors").at("r").as_object();
    CHECK(
        json::serialize(r) ==
        R"({"cluster":[],"indices":[{"names":["books"],"privileges":["read"],"allow_restricted_indices":false}],"applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}})");
    // The key's effective permission follows the update.
    auto key = co_await h.key(id);
    CHECK(key.effective.allows_index("indices:data/read/search", "books"));
    CHECK_FALSE(key.effective.allows_index("indices:data/read/search", "logs-a"));
  });
}

TEST_CASE("invalidate: an expired key can still be invalidated", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    const auto id = id_of(co_await h.create(alice, R"({"name":"k","expiration":"1s"})"));
    h.now += 10'000;
    auto r = co_await h.call("DELETE", "/_security/api_key", R"({"owner":true})", alice);
    CHECK(r.obj().at("invalidated_api_keys") == json::array{json::string(id)});
    CHECK(h.changed.back() == list{id});
  });
}

TEST_CASE("_has_privileges: superuser and restricted indices", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    auto r = co_await h.call("POST", "/_security/user/_has_privileges",
                             R"({"cluster":["all","manage_security"],
                                 "index":[{"names":[".security"],"privileges":["read"],
                                           "allow_restricted_indices":true},
                                          {"names":["*"],"privileges":["all"]}]})",
                             h.user("admin"));
    CHECK(r.obj().at("has_all_requested") == true);
    auto carol = co_await h.call("POST", "/_security/user/_has_privileges",
                                 R"({"index":[{"names":[".security-7"],"privileges":["read"],
                                               "allow_restricted_indices":true},
                                              {"names":["logs-*"],"privileges":["all"]}]})",
                                 h.user("carol"));
    CHECK(carol.obj().at("index").at(".security-7").at("read") == false);
    CHECK(carol.obj().at("index").at("logs-*").at("all") == true);
  });
}

TEST_CASE("_authenticate refuses bodies and unknown parameters", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    auto body = co_await h.call("GET", "/_security/_authenticate", R"({"a":1})", h.user("dave"));
    CHECK(body.status == 400);
    CHECK(body.error_reason() ==
          "request [GET /_security/_authenticate] does not support having a body");
    auto param = co_await h.call("GET", "/_security/_authenticate?x=1", "", h.user("dave"));
    CHECK(param.status == 400);
    auto ok = co_await h.call("GET", "/_security/_authenticate?pretty", "", h.user("dave"));
    CHECK(ok.status == 200);
  });
}

TEST_CASE("bulk update by an API key, and with only unknown ids", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    const auto id = id_of(co_await h.create(alice, R"({"name":"k"})"));
    const auto key = co_await h.key(id);
    auto by_key = co_await h.call("POST", "/_security/api_key/_bulk_update",
                                  R"({"ids":[")" + id + "\"]}", key);
    CHECK(by_key.status == 400);
    CHECK(by_key.error_reason() ==
          "authentication via API key not supported: only the owner user can update an API key");
    auto unknown = co_await h.call("POST", "/_security/api_key/_bulk_update",
                                   R"({"ids":["AAAAAAAAAAAAAAAAAAAA"],"metadata":{}})", alice);
    CHECK(unknown.raw.body ==
          R"({"updated":[],"noops":[],"errors":{"count":1,"details":{"AAAAAAAAAAAAAAAAAAAA":)"
          R"({"type":"resource_not_found_exception","reason":"no API key owned by requesting user )"
          R"(found for ID [AAAAAAAAAAAAAAAAAAAA]"}}}})");
    auto unknown_field = co_await h.call("POST", "/_security/api_key/_bulk_update",
                                         R"({"ids":["x"],"name":"n"})", alice);
    CHECK(unknown_field.error_reason() == "[bulk_update_api_key_request] unknown field [name]");
  });
}

TEST_CASE("invalidate by username alone, and get by name for owner=true", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice"), bob = h.user("bob"), carol = h.user("carol");
    const auto a = id_of(co_await h.create(alice, R"({"name":"svc-a"})"));
    h.now += 1;
    const auto a2 = id_of(co_await h.create(alice, R"({"name":"other"})"));
    const auto b = id_of(co_await h.create(bob, R"({"name":"svc-b"})"));
    auto mine = co_await h.call("GET", "/_security/api_key?owner=true&name=svc*", "", alice);
    CHECK(ids_of(mine) == list{a});
    auto by_user = co_await h.call("DELETE", "/_security/api_key", R"({"username":"bob"})", carol);
    CHECK(by_user.obj().at("invalidated_api_keys") == json::array{json::string(b)});
    auto left = co_await h.call("GET", "/_security/api_key?active_only=true", "", carol);
    CHECK(ids_of(left) == list{a, a2});
  });
}

TEST_CASE("query over Redis: terms, exists and metadata", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    const auto a = id_of(co_await h.create(admin, R"({"name":"a","metadata":{"tier":"gold"}})"));
    h.now += 1;
    const auto b = id_of(co_await h.create(admin, R"({"name":"b","expiration":"1d"})"));
    h.now += 1;
    const auto c = id_of(co_await h.create(admin, R"({"name":"c","metadata":{"tier":"silver"}})"));
    auto t = co_await h.call("POST", "/_security/_query/api_key",
                             R"({"query":{"terms":{"metadata.tier":["gold","silver"]}}})", admin);
    CHECK(ids_of(t) == list{a, c});
    auto e = co_await h.call("POST", "/_security/_query/api_key",
                             R"({"query":{"exists":{"field":"expiration"}}})", admin);
    CHECK(ids_of(e) == list{b});
    auto ids = co_await h.call("POST", "/_security/_query/api_key",
                               R"({"query":{"ids":{"values":[")" + c + "\"]}}}", admin);
    CHECK(ids_of(ids) == list{c});
    auto sort_bad =
        co_await h.call("POST", "/_security/_query/api_key", R"({"sort":["owner"]})", admin);
    CHECK(sort_bad.status == 400);
    CHECK(sort_bad.error_reason() ==
          "Field [owner] is not allowed for API Key query or aggregation");
  });
}

TEST_CASE("blank bodies count as no body", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    auto create = co_await h.call("POST", "/_security/api_key", " \r\n\t", admin);
    CHECK(create.status == 400);
    CHECK(create.error_reason() == "request body is required");
    auto query = co_await h.call("POST", "/_security/_query/api_key", "\n", admin);
    CHECK(query.status == 200);
    auto get = co_await h.call("GET", "/_security/api_key", " ", admin);
    CHECK(get.status == 200);
  });
}

TEST_CASE("paths that are not the security API get ES's no-handler answer", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    auto r = co_await h.call("GET", "/_security/role", "", h.user("admin"));
    CHECK(r.status == 400);
    CHECK(r.error_reason() == "no handler found for uri [/_security/role] and method [GET]");
  });
}
