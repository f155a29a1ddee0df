// Who may do what: manage_own_api_key forms, the same-user rule, key-created keys (escalation),
// _authenticate, _has_privileges, methods and unsupported endpoints.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace esgate;
using namespace esgate::admin::test;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr const char* own_roles = "[manage_own_api_key,manage_api_key,manage_security,all]";
constexpr const char* any_roles = "[manage_api_key,manage_security,all]";
// get and query are also granted by read_security (CLPRIV).
constexpr const char* own_read_roles =
    "[manage_own_api_key,read_security,manage_api_key,manage_security,all]";
constexpr const char* any_read_roles = "[read_security,manage_api_key,manage_security,all]";

}  // namespace

TEST_CASE("manage_own_api_key: only self-scoped forms, only own keys", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice"), bob = h.user("bob");
    const auto a = id_of(co_await h.create(alice, R"({"name":"shared"})"));
    const auto b = id_of(co_await h.create(bob, R"({"name":"shared"})"));

    struct row {
      std::string method, target, body;
      int status;
      std::string reason;  // for 403s
    };
    const std::string get_denied =
        "action [cluster:admin/xpack/security/api_key/get] is unauthorized for user [alice] with "
        "effective roles [own-keys], this action is granted by the cluster privileges ";
    const std::string inv_denied =
        "action [cluster:admin/xpack/security/api_key/invalidate] is unauthorized for user [alice] "
        "with effective roles [own-keys], this action is granted by the cluster privileges ";
    const std::vector<row> rows = {
        {"GET", "/_security/api_key", "", 403, get_denied},
        {"GET", "/_security/api_key?name=shared", "", 403, get_denied},
        {"GET", "/_security/api_key?id=" + b, "", 403, get_denied},
        {"GET", "/_security/api_key?username=bob&realm_name=default_file", "", 403, get_denied},
        {"GET", "/_security/api_key?username=alice", "", 403, get_denied},
        {"GET", "/_security/api_key?owner=true", "", 200, ""},
        {"GET", "/_security/api_key?owner=true&name=shared", "", 200, ""},
        {"GET", "/_security/api_key?username=alice&realm_name=default_file", "", 200, ""},
        {"GET", "/_security/api_key?owner=true&id=" + b, "", 404, ""},
        {"DELETE", "/_security/api_key", R"({"ids":[")" + b + "\"]}", 403, inv_denied},
        {"DELETE", "/_security/api_key", R"({"name":"shared"})", 403, inv_denied},
        {"DELETE", "/_security/api_key", R"({"username":"bob","realm_name":"default_file"})", 403,
         inv_denied},
        {"PUT", "/_security/api_key/" + b, R"({"metadata":{"x":1}})", 404, ""},
    };
    for (const auto& r : rows) {
      INFO(r.method << " " << r.target << " " << r.body);
      auto res = co_await h.call(r.method, r.target, r.body, alice);
      CHECK(res.status == r.status);
      if (r.status == 403) {
        CHECK(res.error_type() == "security_exception");
        CHECK_THAT(res.error_reason(), Catch::StartsWith(r.reason));
      }
      if (r.status == 200) CHECK(ids_of(res) == list{a});
    }
    // ES lists manage_own_api_key only when the request was about the caller's own keys.
    auto bare = co_await h.call("GET", "/_security/api_key", "", alice);
    CHECK(bare.error_reason() == get_denied + any_read_roles);

    // alice's owner=true invalidation leaves bob's key alone
    auto mine = co_await h.call("DELETE", "/_security/api_key", R"({"owner":true})", alice);
    CHECK(mine.obj().at("invalidated_api_keys") == json::array{json::string(a)});
    auto bobs = co_await h.call("GET", "/_security/api_key?owner=true", "", bob);
    CHECK(bobs.obj().at("api_keys").at(0).at("invalidated") == false);
  });
}

TEST_CASE("no key privilege at all: 403 with ES's privilege list", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto dave = h.user("dave");
    struct row {
      const char *method, *target, *body, *act;
      const char* privs;
    };
    const row rows[] = {
        {"POST", "/_security/api_key", R"({"name":"k"})", "create", own_roles},
        {"GET", "/_security/api_key?owner=true", "", "get", own_read_roles},
        {"GET", "/_security/api_key", "", "get", any_read_roles},
        {"POST", "/_security/_query/api_key", "", "query", own_read_roles},
        {"DELETE", "/_security/api_key", R"({"owner":true})", "invalidate", own_roles},
        {"DELETE", "/_security/api_key", R"({"ids":["x"]})", "invalidate", any_roles},
        {"PUT", "/_security/api_key/x", "{}", "update", own_roles},
        {"POST", "/_security/api_key/_bulk_update", R"({"ids":["x"]})", "bulk_update", own_roles},
    };
    for (const auto& r : rows) {
      INFO(r.method << " " << r.target);
      auto res = co_await h.call(r.method, r.target, r.body, dave);
      CHECK(res.status == 403);
      CHECK(res.error_reason() ==
            std::string("action [cluster:admin/xpack/security/api_key/") + r.act +
                "] is unauthorized for user [dave] with effective roles [books-read], this action "
                "is granted by the cluster privileges " +
                r.privs);
      CHECK(res.raw.body.find("WWW-Authenticate") == std::string::npos);
    }
  });
}

TEST_CASE("API key callers: same-user GET, self invalidation, query of itself", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice"), admin = h.user("admin");
    // A key without any key-management privilege.
    const auto plain = id_of(co_await h.create(alice, R"({"name":"plain","role_descriptors":
        {"r":{"indices":[{"names":["books"],"privileges":["read"]}]}}})"));
    h.now += 1000;
    // A key holding manage_own_api_key (inherits alice's roles).
    const auto manager = id_of(co_await h.create(alice, R"({"name":"manager"})"));
    const auto other = id_of(co_await h.create(admin, R"({"name":"admins"})"));
    const auto plain_key = co_await h.key(plain);
    const auto manager_key = co_await h.key(manager);

    auto self = co_await h.call("GET", "/_security/api_key?id=" + plain, "", plain_key);
    CHECK(self.status == 200);
    CHECK(ids_of(self) == list{plain});
    auto self_lb = co_await h.call("GET", "/_security/api_key?with_limited_by=true&id=" + plain, "",
                                   plain_key);
    CHECK(self_lb.status == 403);
    auto sibling = co_await h.call("GET", "/_security/api_key?id=" + manager, "", plain_key);
    CHECK(sibling.status == 403);
    CHECK_THAT(sibling.error_reason(),
               Catch::StartsWith("action [cluster:admin/xpack/security/api_key/get] is "
                                 "unauthorized for API key id [" +
                                 plain + "] of user [alice]"));
    auto foreign = co_await h.call("GET", "/_security/api_key?id=" + other, "", manager_key);
    CHECK(foreign.status == 403);
    // owner=true from a key lists its owner's keys (ES getOwnersRealmNames)
    auto owned = co_await h.call("GET", "/_security/api_key?owner=true", "", manager_key);
    CHECK(ids_of(owned) == list{plain, manager});

    auto q = co_await h.call("POST", "/_security/_query/api_key", "", manager_key);
    REQUIRE(q.status == 200);
    CHECK(ids_of(q) == list{manager});  // a key's query sees only itself (AKBQB)
    auto q_lb =
        co_await h.call("POST", "/_security/_query/api_key?with_limited_by", "", manager_key);
    CHECK(q_lb.status == 403);

    auto not_self =
        co_await h.call("DELETE", "/_security/api_key",
                        R"({"ids":[")" + manager + "\",\"" + plain + "\"]}", manager_key);
    CHECK(not_self.status == 403);
    auto itself = co_await h.call("DELETE", "/_security/api_key", R"({"ids":[")" + manager + "\"]}",
                                  manager_key);
    CHECK(itself.obj().at("invalidated_api_keys") == json::array{json::string(manager)});
    auto plain_self =
        co_await h.call("DELETE", "/_security/api_key", R"({"ids":[")" + plain + "\"]}", plain_key);
    CHECK(plain_self.status == 403);  // invalidating needs manage_own_api_key
  });
}

TEST_CASE("key-created keys: never wider than the creator", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    // read on books + manage_own_api_key
    const auto parent_id = id_of(co_await h.create(alice, R"({"name":"parent","role_descriptors":{
        "books":{"cluster":["manage_own_api_key"],
                 "indices":[{"names":["books"],"privileges":["read"]}]}}})"));
    const auto parent = co_await h.key(parent_id);
    auto before = co_await h.store().list_all_ids();
    REQUIRE(before.has_value());

    struct attempt {
      const char* body;
    };
    const attempt wider[] = {
        {R"({"name":"evil","role_descriptors":{"x":{"indices":[{"names":["*"],"privileges":["all"]}]}}})"},
        {R"({"name":"evil","role_descriptors":{"x":{"cluster":["all"]}}})"},
        {R"({"name":"evil","role_descriptors":{"x":{"cluster":["manage_api_key"]}}})"},
        {R"({"name":"evil","role_descriptors":{"x":{"indices":[{"names":["books"],"privileges":["write"]}]}}})"},
        {R"({"name":"evil","role_descriptors":{"x":{"indices":[{"names":["logs-a"],"privileges":["read"]}]}}})"},
        {R"({"name":"evil","role_descriptors":{"x":{"indices":[{"names":["books*"],"privileges":["read"]}]}}})"},
        {R"({"name":"evil","role_descriptors":{"ok":{"indices":[{"names":["books"],"privileges":["read"]}]},
                                              "x":{"indices":[{"names":[".security"],"privileges":["read"],"allow_restricted_indices":true}]}}})"},
    };
    for (const auto& w : wider) {
      INFO(w.body);
      auto r = co_await h.call("POST", "/_security/api_key", w.body, parent);
      CHECK(r.status == 403);
      CHECK(r.error_type() == "security_exception");
      CHECK_THAT(r.error_reason(),
                 Catch::StartsWith("action [cluster:admin/xpack/security/api_key/create] is "
                                   "unauthorized for API key id [" +
                                   parent_id + "] of user [alice]"));
    }
    auto after = co_await h.store().list_all_ids();
    REQUIRE(after.has_value());
    CHECK(*after == *before);  // nothing stored

    // Narrower: fine, and limited by the creator's descriptors.
    auto narrow = co_await h.create(parent, R"({"name":"narrow","role_descriptors":{
        "n":{"indices":[{"names":["books"],"privileges":["read"]}]}}})");
    auto rec = co_await h.store().get(id_of(narrow));
    REQUIRE(rec.has_value());
    REQUIRE(rec->has_value());
    CHECK((*rec)->username == "alice");
    REQUIRE((*rec)->limited_by_key.has_value());
    CHECK((*rec)->limited_by_key->contains("books"));
    CHECK((*rec)->limited_by_key->at("books").at("cluster") == json::array{"manage_own_api_key"});
    // A derived key with no privileges at all (ES's only allowed form) works too.
    co_await h.create(parent, R"({"name":"noop","role_descriptors":{"noop":{}}})");

    // Inheriting (no descriptors): the child is exactly the parent, not alice.
    auto inherit = co_await h.create(parent, R"({"name":"child"})");
    const auto child = co_await h.key(id_of(inherit));
    CHECK(child.effective.allows_index("indices:data/read/search", "books"));
    CHECK_FALSE(child.effective.allows_index("indices:data/read/search", "logs-a"));
    CHECK(alice.effective.allows_index("indices:data/read/search", "logs-a"));

    // The grandchild cannot get back what the parent lacked either.
    auto grand = co_await h.call(
        "POST", "/_security/api_key",
        R"({"name":"g","role_descriptors":{"x":{"indices":[{"names":["logs-*"],"privileges":["read"]}]}}})",
        child);
    CHECK(grand.status == 403);
    auto grand_ok = co_await h.create(child, R"({"name":"g"})");
    const auto grandchild = co_await h.key(id_of(grand_ok));
    CHECK(grandchild.effective.allows_index("indices:data/read/search", "books"));
    CHECK_FALSE(grandchild.effective.allows_index("indices:data/read/search", "logs-a"));

    // with_limited_by shows the creating key as a second layer
    auto lb = co_await h.call("GET", "/_security/api_key?with_limited_by&id=" + id_of(narrow), "",
                              h.user("carol"));
    REQUIRE(lb.status == 200);
    CHECK(lb.obj().at("api_keys").at(0).at("limited_by").as_array().size() == 2);
  });
}

TEST_CASE("key-created keys: creator without manage_own_api_key is refused", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto reader = id_of(co_await h.create(h.user("alice"), R"({"name":"r","role_descriptors":
        {"r":{"indices":[{"names":["books"],"privileges":["read"]}]}}})"));
    const auto key = co_await h.key(reader);
    auto r = co_await h.call("POST", "/_security/api_key", R"({"name":"x"})", key);
    CHECK(r.status == 403);
    CHECK(r.error_reason() ==
          "action [cluster:admin/xpack/security/api_key/create] is unauthorized for API key id [" +
              reader + "] of user [alice], this action is granted by the cluster privileges " +
              own_roles);
  });
}

TEST_CASE("_authenticate: user and API key shapes", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    auto alice = h.user("alice");
    alice.full_name = "Alice A";
    auto u = co_await h.call("GET", "/_security/_authenticate", "", alice);
    CHECK(u.status == 200);
    CHECK(
        u.raw.body ==
        R"({"username":"alice","roles":["own-keys"],"full_name":"Alice A","email":null,)"
        R"("metadata":{},"enabled":true,"authentication_realm":{"name":"default_file","type":"file"},)"
        R"("lookup_realm":{"name":"default_file","type":"file"},"authentication_type":"realm"})");
    const auto id = id_of(co_await h.create(alice, R"({"name":"my-key"})"));
    auto key = co_await h.key(id);
    auto k = co_await h.call("GET", "/_security/_authenticate", "", key);
    CHECK(k.raw.body ==
          R"({"username":"alice","roles":[],"full_name":null,"email":null,"metadata":{},)"
          R"("enabled":true,"authentication_realm":{"name":"_es_api_key","type":"_es_api_key"},)"
          R"("lookup_realm":{"name":"_es_api_key","type":"_es_api_key"},)"
          R"("authentication_type":"api_key","api_key":{"id":")" +
              id + R"(","name":"my-key"}})");
    auto post = co_await h.call("POST", "/_security/_authenticate", "", alice);
    CHECK(post.status == 405);
  });
}

TEST_CASE("_has_privileges from the effective permission", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto alice = h.user("alice");
    auto r = co_await h.call("POST", "/_security/user/_has_privileges",
                             R"({"cluster":["manage_own_api_key","monitor","cluster:monitor/main"],
                                 "index":[{"names":["books","logs-*"],"privileges":["read","write"]},
                                          {"names":"secret","privileges":["read"]}],
                                 "application":[{"application":"kibana","privileges":["read"],
                                                 "resources":["*"]}]})",
                             alice);
    INFO(r.raw.body);
    REQUIRE(r.status == 200);
    CHECK(r.raw.body ==
          R"({"username":"alice","has_all_requested":false,)"
          R"("cluster":{"manage_own_api_key":true,"monitor":false,"cluster:monitor/main":false},)"
          R"("index":{"books":{"read":true,"write":false},"logs-*":{"read":true,"write":false},)"
          R"("secret":{"read":false}},"application":{"kibana":{"*":{"read":false}}}})");

    auto all = co_await h.call("GET", "/_security/user/alice/_has_privileges",
                               R"({"index":[{"names":["books"],"privileges":["read"]}]})", alice);
    CHECK(all.raw.body == R"({"username":"alice","has_all_requested":true,"cluster":{},)"
                          R"("index":{"books":{"read":true}},"application":{}})");

    // A key is checked against its limited permission; username is the owner.
    const auto id = id_of(co_await h.create(alice, R"({"name":"k","role_descriptors":
        {"r":{"indices":[{"names":["logs-*"],"privileges":["read"]}]}}})"));
    auto key = co_await h.key(id);
    auto kr =
        co_await h.call("POST", "/_security/user/_has_privileges",
                        R"({"index":[{"names":["books","logs-a"],"privileges":["read"]}]})", key);
    CHECK(kr.raw.body ==
          R"({"username":"alice","has_all_requested":false,"cluster":{},)"
          R"("index":{"books":{"read":false},"logs-a":{"read":true}},"application":{}})");

    struct row {
      std::string target, body;
      const policy::identity* who;
      int status;
      std::string reason;
    };
    const auto admin = h.user("admin");
    const std::vector<row> errors = {
        {"/_security/user/bob/_has_privileges", R"({"cluster":["all"]})", &alice, 403,
         "action [cluster:admin/xpack/security/user/has_privileges] is unauthorized for user "
         "[alice] with effective roles [own-keys], this action is granted by the cluster "
         "privileges ["},
        {"/_security/user/bob/_has_privileges", R"({"cluster":["all"]})", &admin, 400,
         "users may only check the privileges of their own account"},
        {"/_security/user/_has_privileges", R"({})", &alice, 400,
         "Validation Failed: 1: must specify at least one privilege;"},
        {"/_security/user/_has_privileges", R"({"cluster":["fly"]})", &alice, 400,
         "unknown cluster privilege [fly]"},
        {"/_security/user/_has_privileges", R"({"index":[{"names":["a"],"privileges":["dance"]}]})",
         &alice, 400, "unknown index privilege [dance]"},
        {"/_security/user/_has_privileges", R"({"indexes":[]})", &alice, 400,
         "failed to parse privileges check [alice]. unexpected field [indexes]"},
        {"/_security/user/_has_privileges", R"({"index":[{"privileges":["read"]}]})", &alice, 400,
         "failed to parse privileges check [alice]. missing required [names] field"},
        {"/_security/user/_has_privileges", "", &alice, 400, "request body is required"},
    };
    for (const auto& e : errors) {
      INFO(e.target << " " << e.body);
      auto res = co_await h.call("POST", e.target, e.body, *e.who);
      CHECK(res.status == e.status);
      CHECK_THAT(res.error_reason(), Catch::StartsWith(e.reason));
    }
  });
}

TEST_CASE("methods, OPTIONS and refused endpoints", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    const auto admin = h.user("admin");
    auto patch = co_await h.call("PATCH", "/_security/api_key?id=x", "", admin);
    CHECK(patch.status == 405);
    CHECK(
        patch.raw.body ==
        R"({"error":"Incorrect HTTP method for uri [/_security/api_key?id=x] and method [PATCH], allowed: [DELETE, POST, GET, PUT]","status":405})");
    bool allow = false;
    for (const auto& [k, v] : patch.raw.headers)
      if (k == "Allow" && v == "DELETE,POST,GET,PUT") allow = true;
    CHECK(allow);
    struct row {
      const char *method, *target;
      int status;
    };
    const row rows[] = {
        {"GET", "/_security/api_key/abc", 405},
        {"DELETE", "/_security/_query/api_key", 405},
        {"GET", "/_security/api_key/_bulk_update", 405},
        {"PUT", "/_security/user/_has_privileges", 405},
        {"POST", "/_security/api_key/grant", 400},
        {"PUT", "/_security/api_key/clone", 400},
        {"POST", "/_security/cross_cluster/api_key", 400},
        {"PUT", "/_security/cross_cluster/api_key/abc", 400},
        {"OPTIONS", "/_security/api_key", 200},
    };
    for (const auto& r : rows) {
      INFO(r.method << " " << r.target);
      auto res = co_await h.call(r.method, r.target, "{}", admin);
      CHECK(res.status == r.status);
    }
  });
}

TEST_CASE("clear cache needs manage_security and reports the ids", "[admin][redis]") {
  with_harness([](harness& h) -> asio::awaitable<void> {
    auto carol =
        co_await h.call("POST", "/_security/api_key/a,b/_clear_cache", "", h.user("carol"));
    CHECK(carol.status == 403);
    CHECK(h.changed.empty());
    auto erin = co_await h.call("POST", "/_security/api_key/a,b/_clear_cache", "", h.user("erin"));
    CHECK(erin.status == 200);
    CHECK(h.changed == std::vector<list>{{"a", "b"}});
    auto star = co_await h.call("POST", "/_security/api_key/*/_clear_cache", "", h.user("admin"));
    CHECK(star.status == 200);
    CHECK(h.changed.back() == list{"*"});
  });
}
