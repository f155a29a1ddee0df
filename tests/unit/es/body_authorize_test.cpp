// authorize_body_target(): one target named by a body (bulk item, msearch header, mget doc,
// reindex source/dest), as a table over the real roles.yml loader and compiled policy.
#include "esgate/es/body_authorize.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "esgate/policy/permission.hpp"

namespace es = esgate::es;
namespace policy = esgate::policy;
using verdict = esgate::body::target_verdict::kind;

namespace {

const auto k_now = std::chrono::system_clock::time_point{} + std::chrono::seconds{1710542730};

constexpr const char* k_roles = R"(
logs-creator:
  indices:
    - names: ["logs-*"]
      privileges: ["create_doc"]
logs-writer:
  indices:
    - names: ["logs-*"]
      privileges: ["create_doc", "create_index"]
books-reader:
  indices:
    - names: ["books", "logs-*"]
      privileges: ["read"]
)";

policy::identity user(std::vector<std::string> role_names) {
  static const auto roles = [] {
    auto res = policy::parse_roles_yaml(k_roles, "roles.yml");
    REQUIRE(res.ok());
    return res.roles;
  }();
  policy::identity who;
  who.username = "u";
  who.roles = std::move(role_names);
  who.effective = policy::permission(policy::compile_roles(who.roles, roles));
  return who;
}

const es::cluster_metadata& metadata() {
  static const es::cluster_metadata md{
      {"books", "secret", "logs-a", "logs-b", ".hidden-logs"}, {"logs-alias"}, {}, {}};
  return md;
}

struct row {
  const char* role;
  const char* action;
  const char* expression;
  bool single;
  verdict expected;
  std::vector<std::string> names;  // allow: what to forward
  const char* reason_part;          // deny / bad_request: a fragment of the reason
};

constexpr const char* k_create = "indices:data/write/index:op_type/create";
constexpr const char* k_index = "indices:data/write/index:op_type/index";
constexpr const char* k_search = "indices:data/read/search";

}  // namespace

TEST_CASE("authorize_body_target table", "[body_authorize]") {
  const std::vector<row> rows = {
      // Bulk items: one concrete name each.
      {"logs-creator", k_create, "logs-a", true, verdict::allow, {"logs-a"}, ""},
      {"logs-creator", k_create, "secret", true, verdict::deny, {},
       "action [indices:data/write/index:op_type/create] is unauthorized for user [u] with "
       "effective roles [logs-creator] on indices [secret], this action is granted by the index "
       "privileges [create_doc,create,index,write,all]"},
      {"logs-creator", k_index, "logs-a", true, verdict::deny, {}, "op_type/index"},
      // Writing to a missing index creates it: auto_create is needed (create_index grants it).
      {"logs-creator", k_create, "logs-new", true, verdict::deny, {}, "indices:admin/auto_create"},
      {"logs-writer", k_create, "logs-new", true, verdict::allow, {"logs-new"}, ""},
      // Date math resolved before the check.
      {"logs-writer", k_create, "<logs-{now/d}>", true, verdict::allow, {"logs-2024.03.15"}, ""},
      // Lists and wildcards are invalid names where one is required.
      {"logs-writer", k_create, "logs-a,logs-b", true, verdict::bad_request, {}, "Invalid index name"},
      {"logs-writer", k_create, "logs-*", true, verdict::bad_request, {}, "Invalid index name"},
      {"logs-writer", k_create, "Logs-A", true, verdict::bad_request, {}, "lowercase"},
      // Multi-target (msearch headers, reindex source): literals checked, wildcards narrowed.
      {"books-reader", k_search, "books", false, verdict::allow, {"books"}, ""},
      {"books-reader", k_search, "books,secret", false, verdict::deny, {}, "on indices [secret]"},
      {"books-reader", k_search, "logs-*", false, verdict::allow, {"logs-a", "logs-b", "logs-alias"}, ""},
      {"books-reader", k_search, "", false, verdict::allow, {"books", "logs-a", "logs-b", "logs-alias"}, ""},
      {"books-reader", k_search, "sec*", false, verdict::allow, {}, ""},
      {"books-reader", k_search, "*,-logs-b", false, verdict::allow, {"books", "logs-a", "logs-alias"}, ""},
  };
  for (const auto& r : rows) {
    INFO(r.role << " " << r.action << " [" << r.expression << "] single=" << r.single);
    const auto who = user({r.role});
    const es::body_target_context ctx{who, k_now, &metadata(), {}, false};
    const auto v = es::authorize_body_target(ctx, r.action, r.expression, r.single);
    INFO(v.reason);
    CHECK(v.k == r.expected);
    if (r.expected == verdict::allow) {
      CHECK(v.names == r.names);
    } else {
      CHECK(v.reason.find(r.reason_part) != std::string::npos);
    }
  }
}

TEST_CASE("a literal name asked as is is not rewritten", "[body_authorize]") {
  const auto who = user({"books-reader"});
  const es::body_target_context ctx{who, k_now, &metadata(), {}, false};
  CHECK_FALSE(es::authorize_body_target(ctx, k_search, "books", false).rewritten);
  CHECK(es::authorize_body_target(ctx, k_search, "logs-*", false).rewritten);
  CHECK(es::authorize_body_target(ctx, k_search, "", false).rewritten);
}

TEST_CASE("without metadata a write to an unknown index is not assumed to exist",
          "[body_authorize]") {
  const auto who = user({"logs-creator"});
  const es::body_target_context ctx{who, k_now, nullptr, {}, false};
  CHECK(es::authorize_body_target(ctx, k_create, "logs-a", true).k == verdict::deny);
}
