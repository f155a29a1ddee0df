// The security API against a real redis-server: create, get, query, update, bulk update,
// invalidate, with Elasticsearch's shapes, field order and wording.
#include <catch2/catch.hpp>

#include <algorithm>

#include "esgate/auth/base64.hpp"
#include "esgate/auth/secret_hash.hpp"
#include "harness.hpp"

using namespace esgate;
using namespace esgate::admin::test;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::vector<std::string> keys_of(const json::object& o) {
  std::vector<std::string> out;
  for (const auto& kv : o) out.emplace_back(kv.key());
  return out;
}

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("create: response shape, id/secret format, stored record", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    auto r = co_await h.call("POST", "/_security/api_key?refresh=wait_for",
                             R"({"name":"my-key","metadata":{"app":"x"},
                                 "role_descriptors":{"r1":{"cluster":["monitor"],
                                   "indices":[{"names":["books"],"privileges":["read"]}]}}})",
                             admin);
    INFO(r.raw.body);
    REQUIRE(r.status == 200);
    CHECK(keys_of(r.obj()) == list{"id", "name", "api_key", "encoded"});
    const std::string id(r.obj().at("id").as_string());
    const std::string secret(r.obj().at("api_key").as_string());
    CHECK(id.size() == 20);
    CHECK(secret.size() == 22);
    CHECK(r.obj().at("name") == "my-key");
    CHECK(r.obj().at("encoded").as_string() == auth::base64_encode(id + ":" + secret));
    bool has_product = false;
    for (const auto& [k, v] : r.raw.headers)
      if (k == "X-Elastic-Product" && v == "Elasticsearch") has_product = true;
    CHECK(has_product);
    REQUIRE(h.changed.size() == 1);
    CHECK(h.changed[0] == list{id});

    auto got = co_await h.store().get(id);
    REQUIRE(got.has_value());
    REQUIRE(got->has_value());
    const auto& rec = **got;
    CHECK(rec.username == "admin");
    CHECK(rec.realm == "default_file");
    CHECK(rec.realm_type == "file");
    CHECK(rec.creation == h.now);
    CHECK_FALSE(rec.expiration.has_value());
    CHECK_FALSE(rec.limited_by_key.has_value());
    CHECK(rec.metadata == json::object{{"app", "x"}});
    CHECK(rec.api_key_hash.rfind("{SSHA256}", 0) == 0);
    CHECK(auth::verify_secret(secret, rec.api_key_hash));
    CHECK(rec.role_descriptors.at("r1").at("indices").at(0).at("allow_restricted_indices") ==
          false);  // stored in full form
  });
}

TEST_CASE("create: expiration is now plus whole seconds", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    struct row {
      const char* exp;
      std::int64_t delta;
    };
    for (const row& r :
         {row{"1d", 86'400'000}, row{"30m", 1'800'000}, row{"1500ms", 1000}, row{"500ms", 0}}) {
      INFO(r.exp);
      auto o =
          co_await h.create(alice, std::string(R"({"name":"k","expiration":")") + r.exp + "\"}");
      CHECK(keys_of(o) == list{"id", "name", "expiration", "api_key", "encoded"});
      CHECK(o.at("expiration").as_int64() == h.now + r.delta);
    }
  });
}

TEST_CASE("create: validation errors in Elasticsearch's words", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    struct row {
      std::string body;
      int status;
      const char* type;
      std::string reason;
    };
    const std::string long_name(257, 'a');
    const std::vector<row> rows = {
        {R"({})", 400, "action_request_validation_exception",
         "Validation Failed: 1: api key name is required;"},
        {R"({"name":""})", 400, "action_request_validation_exception",
         "Validation Failed: 1: api key name is required;"},
        {R"({"name":")" + long_name + "\"}", 400, "action_request_validation_exception",
         "Validation Failed: 1: api key name may not be more than 256 characters long;"},
        {R"({"name":" padded"})", 400, "action_request_validation_exception",
         "Validation Failed: 1: api key name may not begin or end with whitespace;"},
        {R"({"name":"_hidden "})", 400, "action_request_validation_exception",
         "Validation Failed: 1: api key name may not begin or end with whitespace;2: api key name "
         "may not begin with an underscore;"},
        {R"({"name":"k","metadata":{"_reserved":1}})", 400, "action_request_validation_exception",
         "Validation Failed: 1: API key metadata keys may not start with [_];"},
        {R"({"name":"_k","role_descriptors":{"r":{"cluster":["fly"]}}})", 400,
         "action_request_validation_exception",
         "Validation Failed: 1: api key name may not begin with an underscore;2: unknown cluster "
         "privilege [fly]. a privilege must be either one of the predefined cluster privilege "
         "names ["},
        {R"({"name":"k","role_descriptors":{"r":{"indices":"books"}}})", 400,
         "x_content_parse_exception", "failed to parse indices privileges for role [r]"},
        {R"({"name":"k","role_descriptors":[]})", 400, "x_content_parse_exception",
         "failed to parse field [role_descriptors]"},
        {R"({"name":"k","expiration":"1.5d"})", 400, "illegal_argument_exception",
         "failed to parse [1.5d], fractional time values are not supported"},
        {R"({"name":"k","expiration":"10"})", 400, "illegal_argument_exception",
         "failed to parse setting [expiration] with value [10] as a time value: unit is missing "
         "or unrecognized"},
        {R"({"name":"k","expiration":10})", 400, "x_content_parse_exception",
         "[api_key_request] expiration doesn't support values of type: VALUE_NUMBER"},
        {R"({"name":5})", 400, "x_content_parse_exception",
         "[api_key_request] name doesn't support values of type: VALUE_NUMBER"},
        {R"({"name":"k","metadata":[]})", 400, "x_content_parse_exception",
         "[api_key_request] metadata doesn't support values of type: START_ARRAY"},
        {R"({"name":"k","nme":"x"})", 400, "x_content_parse_exception",
         "[api_key_request] unknown field [nme]"},
        {R"({"name":"a","name":"b"})", 400, "x_content_parse_exception", "Duplicate field 'name'"},
        {R"({"name":)", 400, "x_content_parse_exception", "failed to parse the request body"},
        {R"(["name"])", 400, "x_content_parse_exception",
         "[api_key_request] Expected START_OBJECT but was: START_ARRAY"},
        {"", 400, "parse_exception", "request body is required"},
    };
    for (const auto& r : rows) {
      INFO(r.body);
      auto res = co_await h.call("POST", "/_security/api_key", r.body, alice);
      CHECK(res.status == r.status);
      CHECK(res.error_type() == r.type);
      CHECK_THAT(res.error_reason(), Catch::Contains(r.reason));
    }
    auto bad_refresh =
        co_await h.call("POST", "/_security/api_key?refresh=soon", R"({"name":"k"})", alice);
    CHECK(bad_refresh.status == 400);
    CHECK(bad_refresh.error_reason() == "Unknown value for refresh: [soon].");
    auto unknown = co_await h.call("PUT", "/_security/api_key?flavour=x", R"({"name":"k"})", alice);
    CHECK(unknown.status == 400);
    CHECK(unknown.error_reason() ==
          "request [/_security/api_key] contains unrecognized parameter: [flavour]");
    auto ids = co_await h.store().list_all_ids();
    REQUIRE(ids.has_value());
    CHECK(ids->empty());  // nothing was created by any refused request
    CHECK(h.changed.empty());
  });
}

TEST_CASE("create: pbkdf2 hashing goes through hash_secret", "[admin][redis]") {
  with_harness(
      [](harness& h) -> asio::awaitable<void> {
        auto o = co_await h.create(h.user("alice"), R"({"name":"slow"})");
        CHECK(h.slow_hashes == 1);
        auto got = co_await h.store().get(std::string(o.at("id").as_string()));
        REQUIRE(got.has_value());
        REQUIRE(got->has_value());
        CHECK((*got)->api_key_hash.rfind("{PBKDF2}", 0) == 0);
        CHECK(auth::verify_secret(std::string(o.at("api_key").as_string()), (*got)->api_key_hash));
      },
      config::key_hashing::pbkdf2);
}

TEST_CASE("no secret ever reaches Redis", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    std::vector<std::string> secrets, encoded;
    for (const char* who : {"admin", "alice", "carol"}) {
      auto o = co_await h.create(h.user(who), R"({"name":"s","metadata":{"m":1}})");
      secrets.emplace_back(o.at("api_key").as_string());
      encoded.emplace_back(o.at("encoded").as_string());
    }
    // A key-created key too.
    auto parent = co_await h.create(h.user("alice"), R"({"name":"p"})");
    auto parent_id = co_await h.key(std::string(parent.at("id").as_string()));
    auto child = co_await h.create(parent_id, R"({"name":"c"})");
    secrets.emplace_back(child.at("api_key").as_string());
    secrets.emplace_back(parent.at("api_key").as_string());
    const auto dump = dump_redis(h.prefix());
    CHECK(dump.size() >= 8);
    for (const auto& text : dump) {
      for (const auto& s : secrets) CHECK(text.find(s) == std::string::npos);
      for (const auto& e : encoded) CHECK(text.find(e) == std::string::npos);
    }
  });
}

TEST_CASE("get: by id, name, prefix, all, username, owner, active_only", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin"), alice = h.user("alice"), bob = h.user("bob");
    auto a1 = co_await h.create(alice, R"({"name":"web-1","metadata":{"env":"prod"}})");
    h.now += 1000;
    auto a2 = co_await h.create(alice, R"({"name":"web-2","expiration":"10s"})");
    h.now += 1000;
    auto b1 = co_await h.create(bob, R"({"name":"web-1"})");
    h.now += 1000;
    auto b2 = co_await h.create(bob, R"({"name":"batch"})");
    const std::string id_a1(a1.at("id").as_string()), id_a2(a2.at("id").as_string()),
        id_b1(b1.at("id").as_string()), id_b2(b2.at("id").as_string());

    auto one = co_await h.call("GET", "/_security/api_key?id=" + id_a1, "", admin);
    REQUIRE(one.status == 200);
    const auto& k = one.obj().at("api_keys").at(0).as_object();
    CHECK(keys_of(k) == list{"id", "name", "type", "creation", "invalidated", "username", "realm",
                             "realm_type", "metadata", "role_descriptors"});
    CHECK(k.at("type") == "rest");
    CHECK(k.at("username") == "alice");
    CHECK(k.at("realm") == "default_file");
    CHECK(k.at("realm_type") == "file");
    CHECK(k.at("metadata") == json::object{{"env", "prod"}});
    CHECK(k.at("role_descriptors") == json::object{});
    CHECK(k.at("invalidated") == false);
    CHECK(one.raw.body.find("api_key_hash") == std::string::npos);
    CHECK(one.raw.body.find("{SSHA256}") == std::string::npos);

    auto missing = co_await h.call("GET", "/_security/api_key?id=AAAAAAAAAAAAAAAAAAAA", "", admin);
    CHECK(missing.status == 404);
    CHECK(missing.raw.body == R"({"api_keys":[]})");

    struct row {
      std::string query;
      list expected;
    };
    const std::vector<row> rows = {
        {"", {id_a1, id_a2, id_b1, id_b2}},
        {"?name=web-1", {id_a1, id_b1}},
        {"?name=web*", {id_a1, id_a2, id_b1}},
        {"?name=*", {id_a1, id_a2, id_b1, id_b2}},
        {"?name=Web*", {}},
        {"?username=bob", {id_b1, id_b2}},
        {"?username=bob&realm_name=default_file", {id_b1, id_b2}},
        {"?realm_name=default_file", {id_a1, id_a2, id_b1, id_b2}},
        {"?realm_name=other", {}},
        {"?owner=true", {}},  // admin owns none
        {"?active_only=true", {id_a1, id_a2, id_b1, id_b2}},
    };
    for (const auto& r : rows) {
      INFO(r.query);
      auto res = co_await h.call("GET", "/_security/api_key" + r.query, "", admin);
      CHECK(res.status == 200);
      CHECK(ids_of(res) == r.expected);
    }
    h.now += 20'000;  // a2 has expired
    auto active =
        co_await h.call("GET", "/_security/api_key?active_only&username=alice", "", admin);
    CHECK(ids_of(active) == list{id_a1});
    auto all_alice = co_await h.call("GET", "/_security/api_key?owner=true", "", alice);
    CHECK(ids_of(all_alice) == list{id_a1, id_a2});
    auto expired = all_alice.obj().at("api_keys").at(1).as_object();
    CHECK(keys_of(expired) == list{"id", "name", "type", "creation", "expiration", "invalidated",
                                   "username", "realm", "realm_type", "metadata",
                                   "role_descriptors"});
  });
}

TEST_CASE("get: request validation and parameters", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    struct row {
      std::string target;
      const char* type;
      const char* reason;
    };
    const std::vector<row> rows = {
        {"/_security/api_key?id=x&username=u", "action_request_validation_exception",
         "Validation Failed: 1: username or realm name must not be specified when the api key id "
         "or api key name is specified;"},
        {"/_security/api_key?owner=true&username=u", "action_request_validation_exception",
         "Validation Failed: 1: neither username nor realm-name may be specified when retrieving "
         "owned API keys;"},
        {"/_security/api_key?id=x&name=y", "action_request_validation_exception",
         "Validation Failed: 1: only one of [api key id, api key name] can be specified;"},
        {"/_security/api_key?name=y&realm_name=r&owner", "action_request_validation_exception",
         "Validation Failed: 1: username or realm name must not be specified when the api key id "
         "or api key name is specified;2: neither username nor realm-name may be specified when "
         "retrieving owned API keys;"},
        {"/_security/api_key?owner=yes", "illegal_argument_exception",
         "Failed to parse value [yes] as only [true] or [false] are allowed."},
        {"/_security/api_key?ids=x&size=2", "illegal_argument_exception",
         "request [/_security/api_key] contains unrecognized parameters: [ids], [size]"},
    };
    for (const auto& r : rows) {
      INFO(r.target);
      auto res = co_await h.call("GET", r.target, "", admin);
      CHECK(res.status == 400);
      CHECK(res.error_type() == r.type);
      CHECK(res.error_reason() == r.reason);
    }
    auto body = co_await h.call("GET", "/_security/api_key", R"({"id":"x"})", admin);
    CHECK(body.status == 400);
    CHECK(body.error_reason() == "request [GET /_security/api_key] does not support having a body");
    auto globals =
        co_await h.call("GET", "/_security/api_key?pretty&with_profile_uid=true", "", admin);
    CHECK(globals.status == 200);
  });
}

TEST_CASE("get: with_limited_by shows the owner's current roles", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice"), carol = h.user("carol");
    auto o = co_await h.create(alice, R"({"name":"k"})");
    const std::string id(o.at("id").as_string());
    auto res =
        co_await h.call("GET", "/_security/api_key?with_limited_by=true&id=" + id, "", carol);
    REQUIRE(res.status == 200);
    const auto& k = res.obj().at("api_keys").at(0).as_object();
    CHECK(keys_of(k).back() == "limited_by");
    const auto& lb = k.at("limited_by").as_array();
    REQUIRE(lb.size() == 1);
    const auto& own_keys = lb.at(0).at("own-keys").as_object();
    CHECK(own_keys.at("cluster") == json::array{"manage_own_api_key"});
    CHECK(own_keys.at("indices").at(0).at("names") == json::array{"books", "logs-*"});
    CHECK(keys_of(own_keys) ==
          list{"cluster", "indices", "applications", "run_as", "metadata", "transient_metadata"});
  });
}

TEST_CASE("query: ownership filter, bool/range/sort/paging and _sort", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin"), alice = h.user("alice"), bob = h.user("bob");
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) {
      const auto& who = i % 2 ? bob : alice;
      auto o = co_await h.create(who, "{\"name\":\"k" + std::to_string(i) +
                                          "\",\"metadata\":{\"n\":" + std::to_string(i) + "}}");
      ids.emplace_back(o.at("id").as_string());
      h.now += 60'000;
    }
    auto all = co_await h.call("POST", "/_security/_query/api_key", "", admin);
    REQUIRE(all.status == 200);
    CHECK(keys_of(all.obj()) == list{"total", "count", "api_keys"});
    CHECK(all.obj().at("total") == 6);
    CHECK(all.obj().at("count") == 6);
    CHECK(ids_of(all) == ids);

    auto mine = co_await h.call("GET", "/_security/_query/api_key", "", alice);
    REQUIRE(mine.status == 200);
    CHECK(ids_of(mine) == list{ids[0], ids[2], ids[4]});
    // alice cannot reach bob's keys even by asking for them
    auto sneaky = co_await h.call("POST", "/_security/_query/api_key",
                                  R"({"query":{"term":{"username":"bob"}}})", alice);
    CHECK(sneaky.obj().at("total") == 0);

    auto page =
        co_await h.call("POST", "/_security/_query/api_key",
                        R"({"query":{"bool":{"must":[{"range":{"creation":{"gte":1700000060000}}}],
              "must_not":[{"term":{"metadata.n":"5"}}]}},
            "sort":[{"creation":{"order":"desc"}},"name"],"from":1,"size":2})",
                        admin);
    INFO(page.raw.body);
    REQUIRE(page.status == 200);
    CHECK(page.obj().at("total") == 4);  // k1..k4
    CHECK(page.obj().at("count") == 2);
    CHECK(ids_of(page) == list{ids[3], ids[2]});
    const auto& first = page.obj().at("api_keys").at(0).as_object();
    CHECK(keys_of(first).back() == "_sort");
    CHECK(first.at("_sort") == json::array{1'700'000'180'000, "k3"});

    auto after =
        co_await h.call("POST", "/_security/_query/api_key",
                        R"({"sort":["creation"],"search_after":[1700000120000],"size":10})", admin);
    CHECK(ids_of(after) == list{ids[3], ids[4], ids[5]});
    auto bad = co_await h.call("POST", "/_security/_query/api_key",
                               R"({"query":{"match_phrase":{"name":"x"}}})", admin);
    CHECK(bad.status == 400);
    CHECK(bad.error_reason() == "Query type [match_phrase] is not supported for API Key query");
  });
}

TEST_CASE("invalidate: by ids, name, owner, username; response shape", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin"), alice = h.user("alice"), bob = h.user("bob");
    auto id = [](const json::object& o) { return std::string(o.at("id").as_string()); };
    const auto a1 = id(co_await h.create(alice, R"({"name":"x-1"})"));
    const auto a2 = id(co_await h.create(alice, R"({"name":"x-2"})"));
    const auto a3 = id(co_await h.create(alice, R"({"name":"y"})"));
    const auto b1 = id(co_await h.create(bob, R"({"name":"x-1"})"));
    const auto b2 = id(co_await h.create(bob, R"({"name":"z"})"));
    h.changed.clear();

    auto by_ids = co_await h.call("DELETE", "/_security/api_key",
                                  R"({"ids":[")" + a1 + R"(","AAAAAAAAAAAAAAAAAAAA"]})", admin);
    REQUIRE(by_ids.status == 200);
    CHECK(by_ids.raw.body == R"({"invalidated_api_keys":[")" + a1 +
                                 R"("],"previously_invalidated_api_keys":[],"error_count":0})");
    CHECK(h.changed == std::vector<list>{{a1}});

    // Again: the key is reported as previously invalidated (and nothing is announced).
    h.changed.clear();
    auto again = co_await h.call("DELETE", "/_security/api_key", R"({"id":")" + a1 + "\"}", admin);
    CHECK(again.raw.body == R"({"invalidated_api_keys":[],"previously_invalidated_api_keys":[")" +
                                a1 + R"("],"error_count":0})");
    CHECK(h.changed.empty());

    auto by_name = co_await h.call("DELETE", "/_security/api_key", R"({"name":"x-*"})", admin);
    CHECK(strings(by_name.obj().at("invalidated_api_keys")) == [&] {
      list l{a2, b1};
      std::sort(l.begin(), l.end());
      return l;
    }());
    CHECK(strings(by_name.obj().at("previously_invalidated_api_keys")) == list{a1});

    auto by_owner = co_await h.call("DELETE", "/_security/api_key", R"({"owner":true})", alice);
    CHECK(strings(by_owner.obj().at("invalidated_api_keys")) == list{a3});

    auto by_user = co_await h.call("DELETE", "/_security/api_key",
                                   R"({"username":"bob","realm_name":"default_file"})", admin);
    CHECK(strings(by_user.obj().at("invalidated_api_keys")) == list{b2});

    auto got = co_await h.call("GET", "/_security/api_key?id=" + a1, "", admin);
    const auto& k = got.obj().at("api_keys").at(0).as_object();
    CHECK(k.at("invalidated") == true);
    CHECK(k.at("invalidation") == h.now);
    CHECK(keys_of(k) == list{"id", "name", "type", "creation", "invalidated", "invalidation",
                             "username", "realm", "realm_type", "metadata", "role_descriptors"});
    auto active = co_await h.call("GET", "/_security/api_key?active_only=true", "", admin);
    CHECK(ids_of(active).empty());
    auto invalidated = co_await h.call("POST", "/_security/_query/api_key",
                                       R"({"query":{"term":{"invalidated":true}}})", admin);
    CHECK(invalidated.obj().at("total") == 5);
  });
}

TEST_CASE("invalidate: request validation", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    struct row {
      const char* body;
      const char* type;
      const char* reason;
    };
    const row rows[] = {
        {R"({})", "action_request_validation_exception",
         "Validation Failed: 1: One of [api key id(s), api key name, username, realm name] must be "
         "specified if [owner] flag is false;"},
        {R"({"owner":false})", "action_request_validation_exception",
         "Validation Failed: 1: One of [api key id(s), api key name, username, realm name] must be "
         "specified if [owner] flag is false;"},
        {R"({"ids":["a"],"username":"u"})", "action_request_validation_exception",
         "Validation Failed: 1: username or realm name must not be specified when the api key "
         "id(s) or api key name are specified;"},
        {R"({"owner":true,"realm_name":"r"})", "action_request_validation_exception",
         "Validation Failed: 1: neither username nor realm-name may be specified when invalidating "
         "owned API keys;"},
        {R"({"ids":["a"],"name":"n"})", "action_request_validation_exception",
         "Validation Failed: 1: only one of [api key id(s), api key name] can be specified;"},
        {R"({"ids":[]})", "action_request_validation_exception",
         "Validation Failed: 1: Field [ids] cannot be an empty array;"},
        {R"({"ids":["a"," ",""]})", "action_request_validation_exception",
         "Validation Failed: 1: Field [ids] must not contain blank id, but got blank ids at index "
         "positions: [1, 2];"},
        {R"({"id":"a","ids":["b"]})", "illegal_argument_exception",
         "Must use either [id] or [ids], not both at the same time"},
        {R"({"ids":"a","owner":"yes"})", "x_content_parse_exception",
         "[invalidate_api_key_request] owner doesn't support values of type: VALUE_STRING"},
        {R"({"idz":["a"]})", "x_content_parse_exception",
         "[invalidate_api_key_request] unknown field [idz]"},
    };
    for (const auto& r : rows) {
      INFO(r.body);
      auto res = co_await h.call("DELETE", "/_security/api_key", r.body, admin);
      CHECK(res.status == 400);
      CHECK(res.error_type() == r.type);
      CHECK(res.error_reason() == r.reason);
    }
    auto none = co_await h.call("DELETE", "/_security/api_key", "", admin);
    CHECK(none.status == 400);
    CHECK(none.error_type() == "parse_exception");
  });
}

TEST_CASE("update: owner only, noop detection, ES errors", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice"), carol = h.user("carol");
    auto o = co_await h.create(alice, R"({"name":"k","metadata":{"v":1},
        "role_descriptors":{"r":{"indices":[{"names":["books"],"privileges":["read"]}]}}})");
    const std::string id(o.at("id").as_string());
    const std::string path = "/_security/api_key/" + id;
    h.changed.clear();

    auto same = co_await h.call("PUT", path, R"({"metadata":{"v":1}})", alice);
    CHECK(same.raw.body == R"({"updated":false})");
    auto empty = co_await h.call("PUT", path, "", alice);
    CHECK(empty.raw.body == R"({"updated":false})");
    auto same_rd = co_await h.call(
        "PUT", path,
        R"({"role_descriptors":{"r":{"indices":[{"names":["books"],"privileges":["read"]}]}}})",
        alice);
    CHECK(same_rd.raw.body == R"({"updated":false})");
    CHECK(h.changed.empty());

    auto meta = co_await h.call("PUT", path, R"({"metadata":{"v":2}})", alice);
    CHECK(meta.raw.body == R"({"updated":true})");
    CHECK(h.changed == std::vector<list>{{id}});
    auto exp = co_await h.call("PUT", path, R"({"expiration":"2d"})", alice);
    CHECK(exp.raw.body == R"({"updated":true})");
    auto clear = co_await h.call("PUT", path, R"({"role_descriptors":{}})", alice);
    CHECK(clear.raw.body == R"({"updated":true})");
    auto rec = co_await h.store().get(id);
    REQUIRE(rec.has_value());
    REQUIRE(rec->has_value());
    CHECK((*rec)->metadata == json::object{{"v", 2}});
    CHECK((*rec)->expiration == h.now + 2 * 86'400'000);
    CHECK((*rec)->role_descriptors.empty());
    CHECK((*rec)->version == 3);

    // carol holds manage_api_key but only owners update (ES: 404 for anyone else)
    auto other = co_await h.call("PUT", path, R"({"metadata":{}})", carol);
    CHECK(other.status == 404);
    CHECK(other.error_type() == "resource_not_found_exception");
    CHECK(other.error_reason() == "no API key owned by requesting user found for ID [" + id + "]");
    auto unknown = co_await h.call("PUT", "/_security/api_key/AAAAAAAAAAAAAAAAAAAA", "{}", alice);
    CHECK(unknown.status == 404);

    auto key = co_await h.key(id);
    auto by_key = co_await h.call("PUT", path, R"({"metadata":{}})", key);
    CHECK(by_key.status == 400);
    CHECK(by_key.error_reason() ==
          "authentication via API key not supported: only the owner user can update an API key");

    auto bad = co_await h.call("PUT", path, R"({"name":"renamed"})", alice);
    CHECK(bad.status == 400);
    CHECK(bad.error_reason() == "[update_api_key_request_payload] unknown field [name]");
    auto reserved = co_await h.call("PUT", path, R"({"metadata":{"_x":1}})", alice);
    CHECK(reserved.error_reason() ==
          "Validation Failed: 1: API key metadata keys may not start with [_];");

    h.now += 3 * 86'400'000;
    auto expired = co_await h.call("PUT", path, R"({"metadata":{"v":3}})", alice);
    CHECK(expired.status == 400);
    CHECK(expired.error_reason() == "cannot update expired API key [" + id + "]");
    co_await h.call("DELETE", "/_security/api_key", R"({"owner":true})", alice);
    auto gone = co_await h.call("PUT", path, R"({"metadata":{"v":3}})", alice);
    CHECK(gone.status == 400);
    CHECK(gone.error_reason() == "cannot update invalidated API key [" + id + "]");
  });
}

TEST_CASE("bulk update: updated, noops and per-id errors", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice"), bob = h.user("bob");
    auto id = [](const json::object& o) { return std::string(o.at("id").as_string()); };
    const auto a1 = id(co_await h.create(alice, R"({"name":"a1","metadata":{"t":"x"}})"));
    const auto a2 = id(co_await h.create(alice, R"({"name":"a2"})"));
    const auto a3 = id(co_await h.create(alice, R"({"name":"a3"})"));
    const auto b1 = id(co_await h.create(bob, R"({"name":"b1"})"));
    co_await h.call("DELETE", "/_security/api_key", R"({"ids":[")" + a3 + "\"]}", h.user("admin"));
    h.changed.clear();

    auto r = co_await h.call("POST", "/_security/api_key/_bulk_update",
                             R"({"ids":[")" + a1 + "\",\"" + a2 + "\",\"" + a3 + "\",\"" + b1 +
                                 "\",\"" + a1 + R"("],"metadata":{"t":"x"}})",
                             alice);
    INFO(r.raw.body);
    REQUIRE(r.status == 200);
    CHECK(keys_of(r.obj()) == list{"updated", "noops", "errors"});
    CHECK(r.obj().at("updated") == json::array{json::string(a2)});
    CHECK(r.obj().at("noops") == json::array{json::string(a1)});
    const auto& errors = r.obj().at("errors").as_object();
    CHECK(errors.at("count") == 2);
    CHECK(errors.at("details").at(a3).at("type") == "illegal_argument_exception");
    CHECK(errors.at("details").at(a3).at("reason").as_string() ==
          "cannot update invalidated API key [" + a3 + "]");
    CHECK(errors.at("details").at(b1).at("type") == "resource_not_found_exception");
    CHECK(h.changed == std::vector<list>{{a2}});

    auto clean = co_await h.call("POST", "/_security/api_key/_bulk_update",
                                 R"({"ids":")" + a1 + R"(","expiration":"1h"})", alice);
    CHECK(clean.raw.body == R"({"updated":[")" + a1 + R"("],"noops":[]})");
    auto empty = co_await h.call("POST", "/_security/api_key/_bulk_update", R"({"ids":[]})", alice);
    CHECK(empty.status == 400);
    CHECK(empty.error_reason() == "Validation Failed: 1: Field [ids] cannot be empty;");
    auto put = co_await h.call("PUT", "/_security/api_key/_bulk_update", "{}", alice);
    CHECK(put.status == 404);  // PUT = update of a key with that id, as ES's path trie does
  });
}

TEST_CASE("last_used is shown when the gateway recorded a use", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    auto o = co_await h.create(h.user("alice"), R"({"name":"k"})");
    const std::string id(o.at("id").as_string());
    std::vector<std::pair<std::string, std::int64_t>> uses;
    uses.emplace_back(id, h.now + 42);
    auto ec = co_await h.store().touch_last_used(std::move(uses));
    CHECK_FALSE(ec);
    auto r = co_await h.call("GET", "/_security/api_key?owner=true", "", h.user("alice"));
    const auto& k = r.obj().at("api_keys").at(0).as_object();
    CHECK(keys_of(k).back() == "last_used");
    CHECK(k.at("last_used") == h.now + 42);
  });
}

TEST_CASE("key store unavailable: 503, no key made", "[admin][redis]") {
  run_async([](asio::io_context& ioc) -> asio::awaitable<void> {
    keystore::redis_config cfg;
    cfg.port = free_loopback_port();  // nobody listens here
    cfg.connect_timeout = 500ms;
    cfg.command_timeout = 500ms;
    keystore::redis_client client(ioc.get_executor(), cfg);
    keystore::key_store store(client, "x:");
    std::map<std::string, policy::role_descriptor, std::less<>> roles;
    int changed = 0;
    admin::security_api_context ctx{store,
                                    config::key_hashing::ssha256,
                                    {},
                                    roles,
                                    [](std::string_view) { return true; },
                                    [](std::string_view) { return nullptr; },
                                    [&](const std::vector<std::string>&) { ++changed; }};
    policy::identity who;
    who.username = "admin";
    who.roles = {"superuser"};
    who.effective = policy::permission(policy::superuser_permission());
    const std::vector<std::string> segs{"_security", "api_key"};
    const std::vector<std::pair<std::string, std::string>> q;
    for (const char* method : {"POST", "GET"}) {
      admin::security_api_request req{method, segs, q, R"({"name":"k"})", who, 1};
      if (std::string_view(method) == "GET") req.body = "";
      auto r = co_await admin::handle_security_api(ctx, req);
      CHECK(r.status == 503);
      CHECK(r.body.find("esgate_key_store_unavailable_exception") != std::string::npos);
      CHECK(r.body.find("\"api_key\"") == std::string::npos);
    }
    CHECK(changed == 0);
    client.close();
  });
}
