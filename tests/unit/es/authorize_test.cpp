// authorize(): request -> decision tables (issue: "A books-read-only identity can read books and
// nothing else, whatever it sends"). Each row goes through the real target parser, the real
// roles.yml loader and the compiled policy, against one fixed cluster metadata snapshot.
#include "esgate/es/authorize.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "authorize_internal.hpp"
#include "esgate/es/index_expression.hpp"
#include "esgate/policy/permission.hpp"

namespace es = esgate::es;
namespace policy = esgate::policy;
using kind = es::authz_decision::kind;

namespace {

// 2024-03-15T22:45:30Z: `<logs-{now/d}>` is logs-2024.03.15.
const auto k_now = std::chrono::system_clock::time_point{} + std::chrono::seconds{1710542730};

constexpr const char* k_roles = R"(
books-read-only:
  cluster: []
  indices:
    - names: ["books"]
      privileges: ["read"]
logs-writer:
  cluster: ["monitor"]
  indices:
    - names: ["logs-*", "/metrics-[0-9]+/"]
      privileges: ["create_doc", "create_index"]
cluster-manager:
  cluster: ["manage"]
  indices:
    - names: ["*"]
      privileges: ["all"]
owner-all:
  cluster: ["all"]
  indices:
    - names: ["*"]
      privileges: ["all"]
ops:
  cluster: ["manage"]
  indices:
    - names: ["*"]
      privileges: ["all"]
      allow_restricted_indices: true
alias-reader:
  indices:
    - names: ["books-alias", "logs-ds"]
      privileges: ["read", "view_index_metadata"]
dot-reader:
  indices:
    - names: [".kibana_1", "books"]
      privileges: ["read"]
books-admin:
  cluster: ["monitor"]
  indices:
    - names: ["books*"]
      privileges: ["manage", "write", "read"]
)";

const std::map<std::string, policy::role_descriptor, std::less<>>& roles() {
  static const auto r = [] {
    auto res = policy::parse_roles_yaml(k_roles, "roles.yml");
    REQUIRE(res.ok());
    return res.roles;
  }();
  return r;
}

policy::identity user(const char* name, std::vector<std::string> role_names) {
  policy::identity who;
  who.username = name;
  who.roles = std::move(role_names);
  who.effective = policy::permission(policy::compile_roles(who.roles, roles()));
  return who;
}

// An API key whose own descriptors grant `books` read, owned by a user holding `*` all.
policy::identity books_key() {
  policy::identity who;
  who.type = policy::identity::kind::api_key;
  who.username = "owner";
  who.roles = {"owner-all"};
  who.api_key_id = "VuaCfGcBCdbkQm-e5aOx";
  who.api_key_name = "books";
  who.api_key_descriptors = {roles().at("books-read-only")};
  who.owner_roles = policy::compile_roles(who.roles, roles());
  who.effective = policy::api_key_permission(who.api_key_descriptors, {who.owner_roles});
  return who;
}

const es::cluster_metadata& metadata() {
  static const es::cluster_metadata md{
      {"books", "secret", "secret-2", "logs-a", "logs-b", "logs-old", "metrics-1", "metrics-x",
       "hidden-idx", ".security-7", ".kibana_1", ".ds-logs-ds-2024.03.15-000001"},
      {"books-alias", "secret-alias", ".security"},
      {"logs-ds"},
      {"hidden-idx", ".security-7", ".kibana_1", ".ds-logs-ds-2024.03.15-000001", ".security"}};
  return md;
}

struct identities {
  policy::identity su = user("admin", {"superuser"});
  policy::identity reader = user("alice", {"books-read-only"});
  policy::identity writer = user("logger", {"logs-writer"});
  policy::identity manager = user("manny", {"cluster-manager"});
  policy::identity key = books_key();
  policy::identity ops = user("ops", {"ops"});
  policy::identity aliasr = user("ally", {"alias-reader"});
  policy::identity dotr = user("dot", {"dot-reader"});
  policy::identity badmin = user("bea", {"books-admin"});
};

const identities& ids() {
  static const identities i;
  return i;
}

struct expect {
  enum class what {
    allow, empty, deny, bad, not_found, method, served, unparsable, need, inspect, bound
  };
  what w;
  std::string upstream;               // allow: exact upstream target
  std::vector<std::string> contains;  // deny/bad/...: substrings of the reason
  std::vector<std::string> absent;    // ...that must not appear in the reason
  std::string context_id;             // bound: the id taken from the path

  static expect allow(std::string t) { return {what::allow, std::move(t), {}, {}, {}}; }
  static expect empty() { return {what::empty, {}, {}, {}, {}}; }
  static expect deny(std::vector<std::string> c, std::vector<std::string> a = {}) {
    return {what::deny, {}, std::move(c), std::move(a), {}};
  }
  static expect bad(std::string c) { return {what::bad, {}, {std::move(c)}, {}, {}}; }
  static expect not_found() { return {what::not_found, {}, {"no such index"}, {}, {}}; }
  static expect method() { return {what::method, {}, {}, {}, {}}; }
  static expect served() { return {what::served, {}, {}, {}, {}}; }
  // parse_request_target refuses it: the request never reaches authorize().
  static expect unparsable() { return {what::unparsable, {}, {}, {}, {}}; }
  static expect need() { return {what::need, {}, {}, {}, {}}; }
  // Allowed with the body to be authorized item by item by the session (body_authorize.hpp).
  static expect inspect(std::string t) { return {what::inspect, std::move(t), {}, {}, {}}; }
  // Allowed as a continuation of a context the session checks is the caller's (`id` from the path).
  static expect bound(std::string t, std::string id = {}) {
    return {what::bound, std::move(t), {}, {}, std::move(id)};
  }
};

struct authz_case {
  const char* method;
  const char* target;
  const policy::identity* who;
  expect e;
};

std::string describe(const es::authz_decision& d) {
  return "kind=" + std::to_string(static_cast<int>(d.k)) + " status=" + std::to_string(d.status) +
         " empty=" + std::to_string(d.empty_result) + " upstream=" + d.upstream_target +
         " type=" + d.error_type + " reason=" + d.reason;
}

void check_case(const authz_case& c, const es::cluster_metadata* md = &metadata()) {
  INFO(c.method << " " << c.target << " as " << c.who->subject());
  auto parsed = es::parse_request_target(c.target);
  if (c.e.w == expect::what::unparsable) {
    CHECK_FALSE(parsed.has_value());
    return;
  }
  REQUIRE(parsed.has_value());
  const es::authz_request req{c.method, *parsed, *c.who, k_now, md};
  const auto d = es::authorize(req);
  INFO(describe(d));
  for (const auto& s : c.e.contains) CHECK(d.reason.find(s) != std::string::npos);
  for (const auto& s : c.e.absent) CHECK(d.reason.find(s) == std::string::npos);
  switch (c.e.w) {
    case expect::what::allow:
      CHECK(d.k == kind::allow);
      CHECK(d.status == 200);
      CHECK_FALSE(d.empty_result);
      CHECK(d.upstream_target == c.e.upstream);
      break;
    case expect::what::bound:
      CHECK(d.k == kind::allow);
      CHECK(d.continues != es::context_kind::none);
      CHECK(d.upstream_target == c.e.upstream);
      CHECK(d.context_id == c.e.context_id);
      break;
    case expect::what::inspect:
      CHECK(d.k == kind::allow);
      CHECK(d.inspect != es::body_targets::none);
      CHECK(d.upstream_target == c.e.upstream);
      break;
    case expect::what::empty:
      CHECK(d.k == kind::allow);
      CHECK(d.empty_result);
      CHECK(d.upstream_target.empty());
      break;
    case expect::what::deny:
      CHECK(d.k == kind::deny);
      CHECK(d.status == 403);
      CHECK(d.error_type == "security_exception");
      CHECK(d.reason.find("is unauthorized for " + c.who->subject()) != std::string::npos);
      break;
    case expect::what::bad:
      CHECK(d.k == kind::bad_request);
      CHECK(d.status == 400);
      break;
    case expect::what::not_found:
      CHECK(d.k == kind::not_found);
      CHECK(d.status == 404);
      CHECK(d.error_type == "index_not_found_exception");
      break;
    case expect::what::method:
      CHECK(d.k == kind::method_not_allowed);
      CHECK(d.status == 405);
      CHECK_FALSE(d.allow.empty());
      break;
    case expect::what::served:
      CHECK(d.k == kind::served);
      break;
    case expect::what::need:
      CHECK(d.k == kind::need_metadata);
      break;
    case expect::what::unparsable:
      break;
  }
  if (md != nullptr) {
    // Without metadata the answer is the same, or a request for metadata: never a different
    // outcome, never an allow that needed names it did not have.
    const es::authz_request bare{c.method, *parsed, *c.who, k_now, nullptr};
    const auto b = es::authorize(bare);
    if (b.k != kind::need_metadata) {
      CHECK(b.k == d.k);
      CHECK(b.upstream_target == d.upstream_target);
      CHECK(b.reason == d.reason);
      CHECK(b.empty_result == d.empty_result);
    }
  }
}

// Everything `manny` (`*` all, no restricted) may see without hidden names.
constexpr const char* k_manager_all =
    "books,secret,secret-2,logs-a,logs-b,logs-old,metrics-1,metrics-x,logs-ds,books-alias,"
    "secret-alias";

std::vector<authz_case> reader_cases() {
  const auto* r = &ids().reader;
  return {
      // Own index, all the ways of naming it.
      {"GET", "/books/_search", r, expect::allow("/books/_search")},
      {"POST", "/books/_search", r, expect::allow("/books/_search")},
      {"GET", "/books/_search/", r, expect::allow("/books/_search")},
      {"GET", "/books/_search?q=title:dune", r, expect::allow("/books/_search?q=title%3Adune")},
      {"GET", "/books/_search?size=0&pretty", r, expect::allow("/books/_search?size=0&pretty=")},
      {"GET", "/%62ooks/_search", r, expect::allow("/books/_search")},
      {"GET", "/books%2Cbooks/_search", r, expect::allow("/books/_search")},
      {"GET", "/%3Cbooks%3E/_search", r, expect::allow("/books/_search")},
      {"GET", "/books/%5Fsearch", r, expect::allow("/books/_search")},
      {"GET", "/_search", r, expect::allow("/books/_search")},
      {"POST", "/_search", r, expect::allow("/books/_search")},
      {"GET", "/_all/_search", r, expect::allow("/books/_search")},
      {"GET", "/*/_search", r, expect::allow("/books/_search")},
      {"GET", "/b*/_search", r, expect::allow("/books/_search")},
      {"GET", "/books*/_search", r, expect::allow("/books/_search")},
      {"GET", "/*ks/_search", r, expect::allow("/books/_search")},
      {"GET", "/*,books/_search", r, expect::allow("/books/_search")},
      {"GET", "/books,*/_search", r, expect::allow("/books/_search")},
      {"GET", "/*,-secret/_search", r, expect::allow("/books/_search")},
      {"GET", "/*,-secret*/_search", r, expect::allow("/books/_search")},
      {"GET", "/_search?expand_wildcards=all", r,
       expect::allow("/books/_search?expand_wildcards=all")},
      {"GET", "/_search?expand_wildcards=open,hidden", r,
       expect::allow("/books/_search?expand_wildcards=open,hidden")},
      {"GET", "/*/_search?expand_wildcards=closed", r,
       expect::allow("/books/_search?expand_wildcards=closed")},
      {"GET", "/books,secret/_search?ignore_unavailable=true", r,
       expect::allow("/books/_search?ignore_unavailable=true")},
      {"GET", "/books/_count", r, expect::allow("/books/_count")},
      {"GET", "/_count", r, expect::allow("/books/_count")},
      {"POST", "/*/_count", r, expect::allow("/books/_count")},
      {"GET", "/books/_doc/1", r, expect::allow("/books/_doc/1")},
      {"HEAD", "/books/_doc/1", r, expect::allow("/books/_doc/1")},
      {"GET", "/books/_source/1", r, expect::allow("/books/_source/1")},
      {"GET", "/books/_doc/a%2Fb", r, expect::unparsable()},
      {"GET", "/books/_doc/a%20b", r, expect::allow("/books/_doc/a%20b")},
      {"GET", "/books/_explain/1", r, expect::allow("/books/_explain/1")},
      {"GET", "/books/_termvectors/1", r, expect::allow("/books/_termvectors/1")},
      {"POST", "/books/_eql/search", r, expect::allow("/books/_eql/search")},
      {"POST", "/books/_pit?keep_alive=1m", r, expect::allow("/books/_pit?keep_alive=1m")},
      {"POST", "/books/_async_search", r, expect::allow("/books/_async_search")},
      {"POST", "/_async_search", r, expect::allow("/books/_async_search")},
      {"GET", "/books/_field_caps?fields=title", r,
       expect::allow("/books/_field_caps?fields=title")},
      {"GET", "/_field_caps?fields=*", r, expect::allow("/books/_field_caps?fields=*")},
      {"GET", "/_resolve/index/*", r, expect::allow("/_resolve/index/books")},
      {"GET", "/_resolve/index/books", r, expect::allow("/_resolve/index/books")},
      {"GET", "/_resolve/index/*,-books", r, expect::allow("/_resolve/index/*,-*")},
      {"GET", "/books/_knn_search", r, expect::allow("/books/_knn_search")},
      {"POST", "/books/_rank_eval", r, expect::allow("/books/_rank_eval")},
      {"GET", "/books/_terms_enum", r, expect::allow("/books/_terms_enum")},
      {"GET", "/books/_mvt/geo/1/2/3", r, expect::allow("/books/_mvt/geo/1/2/3")},
      {"OPTIONS", "/books/_search", r, expect::allow("/books/_search")},
      // Clearing a context needs no privilege, but only its opener may (checked by the session).
      {"DELETE", "/_search/scroll", r, expect::bound("/_search/scroll")},
      {"DELETE", "/_search/scroll/abc", r, expect::bound("/_search/scroll/abc", "abc")},
      {"DELETE", "/_pit", r, expect::bound("/_pit")},
      {"POST", "/_sql/close", r, expect::allow("/_sql/close")},
      {"GET", "/_cat", r, expect::allow("/_cat")},
      // Other indices, however they are spelled.
      {"GET", "/secret/_search", r,
       expect::deny({"action [indices:data/read/search]", "on indices [secret]",
                     "this action is granted by the index privileges [read,all]"})},
      {"POST", "/secret/_search", r, expect::deny({"on indices [secret]"})},
      {"GET", "/books,secret/_search", r,
       expect::deny({"on indices [secret]"}, {"indices [books", ",books]"})},
      {"GET", "/secret,books/_search", r,
       expect::deny({"on indices [secret]"}, {"indices [books", ",books]"})},
      {"GET", "/books%2Csecret/_search", r,
       expect::deny({"on indices [secret]"}, {"indices [books", ",books]"})},
      {"GET", "/books%2csecret/_search", r, expect::deny({"on indices [secret]"})},
      {"GET", "/%73ecret/_search", r, expect::deny({"on indices [secret]"})},
      {"GET", "/%73%65%63%72%65%74/_search", r, expect::deny({"on indices [secret]"})},
      {"GET", "/secret,secret-2/_search", r, expect::deny({"on indices [secret,secret-2]"})},
      {"GET", "/books,secret,nope/_search", r, expect::deny({"on indices [secret,nope]"})},
      {"GET", "/nope/_search", r, expect::deny({"on indices [nope]"})},
      {"GET", "/secret,*/_search", r, expect::deny({"on indices [secret]"})},
      {"GET", "/*,secret/_search", r, expect::deny({"on indices [secret]"})},
      {"GET", "/secret/_search?allow_no_indices=false", r, expect::deny({"[secret]"})},
      {"GET", "/secret/_search?ignore_unavailable=false", r, expect::deny({"[secret]"})},
      {"GET", "/./secret/_search", r, expect::unparsable()},
      {"GET", "//secret/_search", r, expect::unparsable()},
      {"GET", "/books/../secret/_search", r, expect::unparsable()},
      {"GET", "/books/%2E%2E/secret/_search", r, expect::unparsable()},
      {"GET", "/books%2F..%2Fsecret/_search", r, expect::unparsable()},
      {"GET", "/books%252Csecret/_search", r, expect::unparsable()},
      {"GET", "/books;x=1/_search", r, expect::unparsable()},
      {"GET", "/books\\secret/_search", r, expect::unparsable()},
      {"GET", "http://es/secret/_search", r, expect::unparsable()},
      {"GET", "/%3Csecret-%7Bnow%2Fd%7D%3E/_search", r,
       expect::deny({"on indices [secret-2024.03.15]"})},
      {"GET", "/books,%3Csecret-%7Bnow-1d%2Fd%7D%3E/_search", r,
       expect::deny({"on indices [secret-2024.03.14]"})},
      {"GET", "/%3Cbooks-%7Bnow%2FM%7D%3E/_search", r,
       expect::deny({"on indices [books-2024.03.01]"})},
      {"GET", "/%3Cbooks%7Bnow%2Fd%7D%3E/_count", r, expect::deny({"[books2024.03.15]"})},
      {"GET", "/secret-alias/_search", r, expect::deny({"on indices [secret-alias]"})},
      {"GET", "/books-alias/_search", r, expect::deny({"on indices [books-alias]"})},
      {"GET", "/logs-ds/_search", r, expect::deny({"on indices [logs-ds]"})},
      {"GET", "/.security/_search", r, expect::deny({"on restricted indices [.security]"})},
      {"GET", "/.security-7/_search", r, expect::deny({"on restricted indices [.security-7]"})},
      {"GET", "/books,.security/_search", r,
       expect::deny({"on restricted indices [.security]"}, {"on indices"})},
      {"GET", "/secret,.security/_search", r,
       expect::deny({"on indices [secret] and restricted indices [.security]"})},
      {"GET", "/.ds-logs-ds-2024.03.15-000001/_search", r, expect::deny({"restricted indices"})},
      {"GET", "/secret/_count", r, expect::deny({"on indices [secret]"})},
      {"GET", "/secret/_doc/1", r,
       expect::deny({"action [indices:data/read/get]", "on indices [secret]"})},
      {"HEAD", "/secret/_doc/1", r, expect::deny({"on indices [secret]"})},
      {"GET", "/secret/_source/1", r, expect::deny({"on indices [secret]"})},
      {"GET", "/secret/_explain/1", r, expect::deny({"on indices [secret]"})},
      {"POST", "/secret/_pit?keep_alive=1m", r, expect::deny({"on indices [secret]"})},
      {"GET", "/secret/_field_caps?fields=*", r, expect::deny({"on indices [secret]"})},
      {"GET", "/_resolve/index/secret", r, expect::deny({"on indices [secret]"})},
      {"POST", "/secret/_async_search", r, expect::deny({"on indices [secret]"})},
      // Wildcards over nothing visible: ES's empty answers.
      {"GET", "/secret*/_search", r, expect::empty()},
      {"GET", "/*,-books/_search", r, expect::empty()},
      {"GET", "/*,-b*/_search", r, expect::empty()},
      {"GET", "/.*/_search", r, expect::empty()},
      {"GET", "/.*/_search?expand_wildcards=all", r, expect::empty()},
      {"GET", "/_all/_search?expand_wildcards=none", r, expect::empty()},
      {"GET", "/*/_search?expand_wildcards=hidden", r, expect::empty()},
      {"GET", "/secret*/_count", r, expect::empty()},
      {"GET", "/secret*/_search?allow_no_indices=false", r, expect::not_found()},
      {"GET", "/*,-books/_count?allow_no_indices=false", r, expect::not_found()},
      {"GET", "/secret*/_field_caps?fields=*", r, expect::allow("/*,-*/_field_caps?fields=*")},
      {"POST", "/secret*/_async_search", r, expect::allow("/*,-*/_async_search")},
      // Parameters that would retarget the request.
      {"GET", "/_search?index=secret", r, expect::bad("[index] query parameter")},
      {"GET", "/books/_search?index=secret", r, expect::bad("[index] query parameter")},
      {"GET", "/_count?index=secret", r, expect::bad("[index]")},
      {"GET", "/_search?source=%7B%7D&source_content_type=application/json", r,
       expect::bad("[source] query parameter is not supported by esgate")},
      {"GET", "/books/_search?source=%7B%22query%22%3A%7B%7D%7D", r, expect::bad("[source]")},
      {"GET", "/books/_search?source_content_type=application/json", r,
       expect::bad("[source_content_type]")},
      {"DELETE", "/_search/scroll?scroll_id=abc", r,
       expect::allow("/_search/scroll?scroll_id=abc")},
      {"GET", "/secret/_search?ignore_unavailable=true", r, expect::empty()},
      {"GET", "/secret/_mapping?ignore_unavailable=true", r,
       expect::allow("/*,-*/_mapping?ignore_unavailable=true")},
      {"GET", "/secret/_search?ignore_unavailable=true&allow_no_indices=false", r,
       expect::not_found()},
      {"GET", "/books/_doc/1?id=2", r, expect::bad("[id]")},
      {"GET", "/_search?expand_wildcards=bogus", r, expect::bad("No valid expand wildcard value")},
      {"GET", "/_search?ignore_unavailable=yes", r, expect::bad("only [true] or [false]")},
      {"GET", "/_search?allow_no_indices=1", r, expect::bad("only [true] or [false]")},
      {"GET", "/_search?index=books&index=secret", r, expect::unparsable()},
      // Syntax errors are 400s in ES's words.
      {"GET", "/Books/_search", r, expect::bad("must be lowercase")},
      {"GET", "/BOOKS/_search", r, expect::bad("must be lowercase")},
      {"GET", "/books,Secret/_search", r, expect::bad("must be lowercase")},
      {"GET", "/books,,secret/_search", r, expect::bad("")},
      {"GET", "/books,/_search", r, expect::bad("")},
      {"GET", "/-books/_search", r, expect::bad("must not start with")},
      {"GET", "/books,_all/_search", r, expect::bad("")},
      {"GET", "/remote:secret/_search", r, expect::bad("")},
      {"GET", "/books::failures/_search", r, expect::bad("")},
      {"GET", "/%3Csecret-%7Bnow%2Fx%7D%3E/_search", r, expect::bad("")},
      {"GET", "/%3Csecret-%7Bnow%7D/_search", r, expect::bad("")},
      {"GET", "/books*/_doc/1", r, expect::bad("does not support wildcards")},
      {"GET", "/_all/_doc/1", r, expect::bad("does not support accessing all indices")},
      {"GET", "/*/_doc/1", r, expect::bad("does not support wildcards")},
      {"GET", "/books,secret/_doc/1", r, expect::bad("must not contain")},
      {"GET", "/books*/_source/1", r, expect::bad("does not support wildcards")},
      {"GET", "/books*/_termvectors/1", r, expect::bad("does not support wildcards")},
      // Writes and admin on their own index are still not reads.
      {"PUT", "/books/_doc/1", r,
       expect::deny({"action [indices:data/write/index:op_type/index]", "on indices [books]",
                     "[create,index,write,all]"})},
      {"POST", "/books/_doc", r,
       expect::deny(
           {"indices:data/write/index:op_type/create", "[create_doc,create,index,write,all]"})},
      {"PUT", "/books/_create/1", r, expect::deny({"op_type/create"})},
      {"POST", "/books/_update/1", r, expect::deny({"indices:data/write/update"})},
      {"DELETE", "/books/_doc/1", r, expect::deny({"indices:data/write/delete"})},
      {"POST", "/books/_delete_by_query", r, expect::deny({"indices:data/write/delete/byquery"})},
      {"POST", "/books/_update_by_query", r, expect::deny({"indices:data/write/update/byquery"})},
      {"PUT", "/books", r, expect::deny({"indices:admin/create", "[create_index,manage,all]"})},
      {"DELETE", "/books", r, expect::deny({"indices:admin/delete", "on indices [books]"})},
      {"HEAD", "/books", r, expect::deny({"indices:admin/get"})},
      {"GET", "/books", r, expect::deny({"indices:admin/get"})},
      {"GET", "/books/_mapping", r, expect::deny({"indices:admin/mappings/get"})},
      {"PUT", "/books/_mapping", r, expect::deny({"indices:admin/mapping/put"})},
      {"GET", "/books/_settings", r, expect::deny({"indices:monitor/settings/get"})},
      {"PUT", "/books/_settings", r, expect::deny({"indices:admin/settings/update"})},
      {"POST", "/books/_refresh", r, expect::deny({"indices:admin/refresh"})},
      {"POST", "/books/_close", r, expect::deny({"indices:admin/close"})},
      {"PUT", "/books/_alias/a", r, expect::deny({"indices:admin/aliases"})},
      {"GET", "/books/_stats", r, expect::deny({"indices:monitor/stats"})},
      {"GET", "/books/_validate/query", r, expect::deny({"indices:admin/validate/query"})},
      {"PUT", "/_data_stream/books", r, expect::deny({"indices:admin/data_stream/create"})},
      // Listings are narrowed to what the identity may see (here: nothing).
      {"GET", "/_mapping", r, expect::allow("/*,-*/_mapping")},
      {"GET", "/_settings", r, expect::allow("/*,-*/_settings")},
      {"GET", "/_stats", r, expect::allow("/*,-*/_stats")},
      {"GET", "/_stats/docs", r, expect::allow("/*,-*/_stats/docs")},
      {"GET", "/_alias", r, expect::allow("/*,-*/_alias")},
      {"GET", "/_data_stream", r, expect::allow("/_data_stream/*,-*")},
      {"GET", "/_segments", r, expect::allow("/*,-*/_segments")},
      {"POST", "/_refresh", r, expect::allow("/*,-*/_refresh")},
      {"PUT", "/_settings", r, expect::allow("/*,-*/_settings")},
      {"GET", "/_mapping?allow_no_indices=false", r, expect::not_found()},
      {"GET", "/_cat/indices", r,
       expect::deny({"action [cluster:monitor/state]", ",monitor,manage,all]"})},
      {"GET", "/_cat/aliases", r, expect::deny({"cluster:monitor/state"})},
      {"GET", "/_cat/shards", r, expect::deny({"cluster:monitor/state"})},
      {"GET", "/_cat/count", r, expect::allow("/_cat/count/books")},
      {"GET", "/_cat/count/secret", r, expect::deny({"on indices [secret]"})},
      // Bodies that name their own targets.
      {"POST", "/_bulk", r,
       expect::deny({"action [indices:data/write/bulk]",
                     "granted by the index privileges [create_doc,create,delete,index,write,all]"},
                    {"on indices"})},
      {"POST", "/books/_bulk", r, expect::deny({"indices:data/write/bulk"})},
      {"POST", "/_mget", r, expect::inspect("/_mget")},
      {"POST", "/books/_mget", r, expect::inspect("/books/_mget")},
      {"POST", "/secret/_mget", r, expect::inspect("/secret/_mget")},
      {"POST", "/_msearch", r, expect::inspect("/_msearch")},
      {"POST", "/books/_msearch", r, expect::inspect("/books/_msearch")},
      {"POST", "/secret/_msearch", r, expect::inspect("/secret/_msearch")},
      {"POST", "/books*/_msearch", r, expect::inspect("/books*/_msearch")},
      {"POST", "/_mtermvectors", r, expect::inspect("/_mtermvectors")},
      {"GET", "/books/_search/template", r, expect::deny({"are not authorized by esgate yet"})},
      {"POST", "/_msearch/template", r, expect::inspect("/_msearch/template")},
      {"POST", "/_sql", r, expect::deny({"are not authorized by esgate yet"})},
      {"POST", "/_sql/translate", r, expect::deny({"are not authorized by esgate yet"})},
      {"POST", "/_query", r, expect::deny({"are not authorized by esgate yet"})},
      {"POST", "/_reindex", r, expect::deny({"action [indices:data/write/reindex]"})},
      {"POST", "/_aliases", r, expect::deny({"action [indices:admin/aliases]"})},
      // Continuations of contexts the gateway cannot attribute to a key yet.
      {"GET", "/_search/scroll", r, expect::bound("/_search/scroll")},
      {"POST", "/_search/scroll/abc", r, expect::bound("/_search/scroll/abc", "abc")},
      {"GET", "/_async_search/abc", r, expect::bound("/_async_search/abc", "abc")},
      {"DELETE", "/_async_search/abc", r, expect::bound("/_async_search/abc", "abc")},
      {"GET", "/_eql/search/abc", r, expect::bound("/_eql/search/abc", "abc")},
      {"GET", "/_query/async/abc", r, expect::bound("/_query/async/abc", "abc")},
      {"GET", "/_sql/async/abc", r, expect::bound("/_sql/async/abc", "abc")},
      // Cluster and unclassified.
      {"GET", "/", r, expect::deny({"action [cluster:monitor/main]", "[monitor,manage,all]"})},
      {"GET", "/_cluster/health", r,
       expect::deny({"action [cluster:monitor/health]", "[monitor,manage,all]"})},
      {"GET", "/_cluster/health/books", r, expect::deny({"cluster:monitor/health"})},
      {"GET", "/_cluster/health?index=secret", r, expect::deny({"cluster:monitor/health"})},
      {"GET", "/_cluster/health?source=%7B%7D", r, expect::bad("[source]")},
      {"GET", "/_cluster/state", r, expect::deny({"cluster:monitor/state"})},
      {"GET", "/_nodes", r, expect::deny({"cluster:monitor/nodes/info"})},
      {"PUT", "/_cluster/settings", r, expect::deny({"cluster:admin/settings/update"})},
      {"GET", "/_security/role", r, expect::deny({"cluster:admin/xpack/security/role/get"})},
      {"GET", "/_tasks/abc:1", r, expect::deny({"cluster:monitor/task/get"})},
      {"PUT", "/_index_template/t", r, expect::deny({"indices:admin/index_template/put"})},
      {"GET", "/_internal/desired_balance", r,
       expect::deny({"[_internal.get_desired_balance]", "cluster privileges [all]"})},
      {"GET", "/_reindex/abc:1", r, expect::deny({"cluster privileges [all]"})},
      {"GET", "/_security/_authenticate", r, expect::served()},
      {"POST", "/_security/api_key", r, expect::served()},
      {"DELETE", "/_security/api_key", r, expect::served()},
      {"GET", "/_security/user/_has_privileges", r, expect::served()},
      // Routing.
      {"DELETE", "/_search", r, expect::method()},
      {"PUT", "/books/_search", r, expect::method()},
      {"PATCH", "/books/_search", r, expect::method()},
      {"get", "/books/_search", r, expect::method()},
      {"GET", "/_nope", r, expect::bad("")},
      {"GET", "/books/_nope/x/y", r, expect::bad("no handler found for uri [/books/_nope/x/y]")},
      {"GET", "/_BULK", r, expect::bad("")},
  };
}

std::vector<authz_case> writer_cases() {
  const auto* w = &ids().writer;
  return {
      {"POST", "/logs-a/_doc", w, expect::allow("/logs-a/_doc")},
      {"POST", "/logs-new/_doc", w, expect::allow("/logs-new/_doc")},
      {"POST", "/logs-a/_doc?op_type=create", w, expect::allow("/logs-a/_doc?op_type=create")},
      {"POST", "/logs-a/_doc?op_type=CREATE", w, expect::allow("/logs-a/_doc?op_type=CREATE")},
      {"PUT", "/logs-a/_doc/1?op_type=create", w, expect::allow("/logs-a/_doc/1?op_type=create")},
      {"PUT", "/logs-a/_create/1", w, expect::allow("/logs-a/_create/1")},
      {"POST", "/logs-a/_create/1", w, expect::allow("/logs-a/_create/1")},
      {"POST", "/metrics-1/_doc", w, expect::allow("/metrics-1/_doc")},
      {"POST", "/metrics-42/_doc", w, expect::allow("/metrics-42/_doc")},
      {"POST", "/logs-ds/_doc", w, expect::allow("/logs-ds/_doc")},
      {"POST", "/%3Clogs-%7Bnow%2Fd%7D%3E/_doc", w, expect::allow("/logs-2024.03.15/_doc")},
      {"POST", "/%3Clogs-%7Bnow%2FM%7Byyyy.MM%7D%7D%3E/_doc", w,
       expect::allow("/logs-2024.03/_doc")},
      {"PUT", "/logs-new", w, expect::allow("/logs-new")},
      {"PUT", "/%3Clogs-%7Bnow%2Fd%7D%3E", w, expect::allow("/logs-2024.03.15")},
      {"PUT", "/_data_stream/logs-new", w, expect::allow("/_data_stream/logs-new")},
      {"PUT", "/logs-a/_doc/1", w,
       expect::deny({"action [indices:data/write/index:op_type/index]", "on indices [logs-a]",
                     "[create,index,write,all]"})},
      {"POST", "/logs-a/_doc?op_type=index", w, expect::deny({"op_type/index"})},
      {"PUT", "/logs-a/_doc/1?op_type=bogus", w, expect::deny({"op_type/index"})},
      {"POST", "/secret/_doc", w,
       expect::deny(
           {"op_type/create", "on indices [secret]", "[create_doc,create,index,write,all]"})},
      {"POST", "/metrics-x/_doc", w, expect::deny({"on indices [metrics-x]"})},
      {"POST", "/Logs-a/_doc", w, expect::bad("must be lowercase")},
      {"POST", "/%3Csecret-%7Bnow%2Fd%7D%3E/_doc", w, expect::deny({"[secret-2024.03.15]"})},
      {"POST", "/logs-*/_doc", w, expect::bad("does not support wildcards")},
      {"POST", "/_all/_doc", w, expect::bad("does not support accessing all indices")},
      {"POST", "/logs-a,secret/_doc", w, expect::bad("must not contain")},
      {"POST", "/logs-a/_update/1", w, expect::deny({"indices:data/write/update"})},
      {"DELETE", "/logs-a/_doc/1", w, expect::deny({"indices:data/write/delete"})},
      {"PUT", "/logs-*", w, expect::bad("does not support wildcards")},
      {"PUT", "/secret-new", w,
       expect::deny({"action [indices:admin/create]", "[create_index,manage,all]"})},
      {"DELETE", "/logs-a", w, expect::deny({"indices:admin/delete", "[delete_index,manage,all]"})},
      {"DELETE", "/logs-*", w, expect::bad("Wildcard expressions or all indices are not allowed")},
      {"DELETE", "/_all", w, expect::bad("Wildcard expressions or all indices are not allowed")},
      {"POST", "/logs-*/_close", w, expect::bad("Wildcard expressions")},
      {"PUT", "/logs-*/_block/write", w, expect::bad("Wildcard expressions")},
      {"GET", "/logs-a/_search", w, expect::deny({"on indices [logs-a]"})},
      {"GET", "/logs-*/_search", w, expect::empty()},
      {"GET", "/_search", w, expect::empty()},
      {"GET", "/logs-a/_doc/1", w, expect::deny({"indices:data/read/get"})},
      {"POST", "/_bulk", w, expect::inspect("/_bulk")},
      {"POST", "/logs-a/_bulk", w, expect::inspect("/logs-a/_bulk")},
      {"PUT", "/logs-a/_bulk", w, expect::inspect("/logs-a/_bulk")},
      // The path's index is only the items' default: each item is authorized by the session.
      {"POST", "/secret/_bulk", w, expect::inspect("/secret/_bulk")},
      {"POST", "/logs-*/_bulk", w, expect::inspect("/logs-*/_bulk")},
      {"POST", "/_mget", w, expect::deny({"action [indices:data/read/mget]", "[read,all]"})},
      {"GET", "/", w, expect::allow("/")},
      {"GET", "/_cluster/health", w, expect::allow("/_cluster/health")},
      {"GET", "/_cluster/health/secret", w, expect::allow("/_cluster/health/secret")},
      {"GET", "/_cluster/health?index=secret", w, expect::allow("/_cluster/health?index=secret")},
      {"GET", "/_cluster/health?source=%7B%7D", w, expect::bad("[source]")},
      {"GET", "/_cluster/state", w, expect::allow("/_cluster/state")},
      {"GET", "/_nodes/stats", w, expect::allow("/_nodes/stats")},
      {"GET", "/_cat/health", w, expect::allow("/_cat/health")},
      {"GET", "/_cat/nodes?v", w, expect::allow("/_cat/nodes?v=")},
      {"GET", "/_cat/indices", w, expect::allow("/_cat/indices/*,-*")},
      {"GET", "/_cat/indices?format=json", w, expect::allow("/_cat/indices/*,-*?format=json")},
      {"GET", "/_cat/indices/secret", w,
       expect::deny({"on indices [secret]", "indices:monitor/stats"})},
      {"GET", "/_cat/indices?index=secret", w, expect::bad("[index]")},
      {"GET", "/_xpack", w, expect::allow("/_xpack")},
      {"GET", "/_license", w, expect::allow("/_license")},
      {"GET", "/_index_template/t", w, expect::allow("/_index_template/t")},
      {"PUT", "/_index_template/t", w, expect::deny({"[manage_index_templates,manage,all]"})},
      {"PUT", "/_cluster/settings", w, expect::deny({"cluster:admin/settings/update"})},
      {"POST", "/_cluster/reroute", w, expect::deny({"cluster:admin/reroute"})},
      {"PUT", "/_ingest/pipeline/p", w, expect::deny({"cluster:admin/ingest/pipeline/put"})},
      {"GET", "/_internal/desired_balance", w, expect::deny({"cluster privileges [all]"})},
      {"POST", "/_security/api_key", w, expect::served()},
      {"GET", "/_mapping", w, expect::allow("/*,-*/_mapping")},
  };
}

std::vector<authz_case> manager_cases() {
  const auto* m = &ids().manager;
  const std::string all = k_manager_all;
  return {
      {"GET", "/secret/_search", m, expect::allow("/secret/_search")},
      {"GET", "/_search", m, expect::allow("/" + all + "/_search")},
      {"GET", "/_search?expand_wildcards=all", m,
       expect::allow("/books,secret,secret-2,logs-a,logs-b,logs-old,metrics-1,metrics-x,hidden-idx,"
                     "logs-ds,books-alias,secret-alias/_search?expand_wildcards=all")},
      {"GET", "/*,-secret*/_search", m,
       expect::allow(
           "/books,logs-a,logs-b,logs-old,metrics-1,metrics-x,logs-ds,books-alias/_search")},
      {"GET", "/logs-*,-logs-old/_search", m, expect::allow("/logs-a,logs-b,logs-ds/_search")},
      {"GET", "/logs-*,-logs-*/_search", m, expect::empty()},
      {"GET", "/hidden-*/_search", m, expect::empty()},
      {"GET", "/hidden-*/_search?expand_wildcards=open,hidden", m,
       expect::allow("/hidden-idx/_search?expand_wildcards=open,hidden")},
      {"GET", "/hidden-idx/_search", m, expect::allow("/hidden-idx/_search")},
      {"GET", "/.security/_search", m, expect::deny({"on restricted indices [.security]"})},
      {"GET", "/.kibana_1/_search", m, expect::deny({"on restricted indices [.kibana_1]"})},
      {"GET", "/.*/_search", m, expect::empty()},
      {"GET", "/.*/_search?expand_wildcards=all", m, expect::empty()},
      {"GET", "/*/_search?expand_wildcards=all", m,
       expect::allow("/books,secret,secret-2,logs-a,logs-b,logs-old,metrics-1,metrics-x,hidden-idx,"
                     "logs-ds,books-alias,secret-alias/_search?expand_wildcards=all")},
      {"GET", "/_cat/indices", m, expect::allow("/_cat/indices/" + all)},
      {"GET", "/_cat/indices/logs-*", m,
       expect::allow("/_cat/indices/logs-a,logs-b,logs-old,logs-ds")},
      {"GET", "/_cat/aliases", m, expect::allow("/_cat/aliases/books-alias,secret-alias")},
      {"GET", "/_cat/aliases/books*", m, expect::allow("/_cat/aliases/books-alias")},
      {"GET", "/_cat/shards/books", m, expect::allow("/_cat/shards/books")},
      {"GET", "/_mapping", m, expect::allow("/" + all + "/_mapping")},
      {"GET", "/_alias", m, expect::allow("/" + all + "/_alias")},
      {"GET", "/_alias/books*", m, expect::allow("/" + all + "/_alias/books-alias")},
      {"GET", "/books/_alias/*", m, expect::allow("/books/_alias/books-alias,secret-alias")},
      {"GET", "/_resolve/index/*", m, expect::allow("/_resolve/index/" + all)},
      {"GET", "/_settings/index.number_*", m,
       expect::allow("/" + all + "/_settings/index.number_*")},
      {"GET", "/_stats/docs", m, expect::allow("/" + all + "/_stats/docs")},
      {"GET", "/_data_stream", m, expect::allow("/_data_stream/logs-ds")},
      {"GET", "/_data_stream/logs-*", m, expect::allow("/_data_stream/logs-ds")},
      {"GET", "/_cluster/health", m, expect::allow("/_cluster/health")},
      {"PUT", "/_cluster/settings", m, expect::allow("/_cluster/settings")},
      {"PUT", "/_index_template/t", m, expect::allow("/_index_template/t")},
      {"PUT", "/_ingest/pipeline/p", m, expect::allow("/_ingest/pipeline/p")},
      {"GET", "/_security/role", m,
       expect::deny({"cluster:admin/xpack/security/role/get"}, {"[manage,"})},
      {"PUT", "/_security/role/x", m, expect::deny({"cluster:admin/xpack/security/role/put"})},
      {"GET", "/_internal/desired_balance", m, expect::deny({"cluster privileges [all]"})},
      {"POST", "/_encryption/_reset", m, expect::deny({"cluster privileges [all]"})},
      {"GET", "/_migration/reindex/books/_status", m, expect::deny({"cluster privileges [all]"})},
      {"DELETE", "/books", m, expect::allow("/books")},
      {"DELETE", "/books,secret", m, expect::allow("/books,secret")},
      {"DELETE", "/*", m, expect::bad("Wildcard expressions or all indices are not allowed")},
      {"DELETE", "/_all", m, expect::bad("Wildcard expressions")},
      {"DELETE", "/.security", m, expect::deny({"on restricted indices [.security]"})},
      {"POST", "/logs-*/_close", m, expect::bad("Wildcard expressions")},
      {"POST", "/logs-*/_open", m, expect::allow("/logs-a,logs-b,logs-old,logs-ds/_open")},
      {"POST", "/_refresh", m, expect::allow("/" + all + "/_refresh")},
      {"PUT", "/books/_alias/books-2", m, expect::allow("/books/_alias/books-2")},
      {"PUT", "/books/_alias/b*", m, expect::bad("does not support wildcards")},
      {"PUT", "/books/_alias/.hidden-alias", m,
       expect::deny({"restricted indices [.hidden-alias]"})},
      {"DELETE", "/books/_alias/*", m, expect::allow("/books/_alias/books-alias,secret-alias")},
      {"POST", "/books/_clone/books-2", m, expect::allow("/books/_clone/books-2")},
      {"POST", "/books/_clone/.sneaky", m, expect::deny({"restricted indices [.sneaky]"})},
      {"POST", "/books/_clone/b*", m, expect::bad("does not support wildcards")},
      {"PUT", "/books/_doc/1", m, expect::allow("/books/_doc/1")},
      {"PUT", "/.security/_doc/1", m, expect::deny({"restricted indices [.security]"})},
      {"POST", "/_bulk", m, expect::inspect("/_bulk")},
      {"POST", "/books/_bulk", m, expect::inspect("/books/_bulk")},
      {"POST", "/_msearch", m, expect::inspect("/_msearch")},
      {"POST", "/_reindex", m, expect::inspect("/_reindex")},
      {"GET", "/_search/scroll", m, expect::bound("/_search/scroll")},
      {"GET", "/_tasks/abc:1", m, expect::bound("/_tasks/abc%3A1", "abc:1")},
      {"POST", "/_tasks/_cancel", m, expect::bound("/_tasks/_cancel")},
      {"GET", "/_async_search/status/abc", m, expect::bound("/_async_search/status/abc", "abc")},
      {"GET", "/_analyze", m, expect::allow("/_analyze")},
      {"GET", "/books/_analyze", m, expect::allow("/books/_analyze")},
      {"GET", "/books*/_analyze", m, expect::bad("does not support wildcards")},
  };
}

std::vector<authz_case> key_cases() {
  const auto* k = &ids().key;
  const std::string subject = "API key id [VuaCfGcBCdbkQm-e5aOx] of user [owner]";
  return {
      {"GET", "/books/_search", k, expect::allow("/books/_search")},
      {"GET", "/_search", k, expect::allow("/books/_search")},
      {"GET", "/*/_search?expand_wildcards=all", k,
       expect::allow("/books/_search?expand_wildcards=all")},
      {"GET", "/_all/_count", k, expect::allow("/books/_count")},
      {"GET", "/books/_doc/1", k, expect::allow("/books/_doc/1")},
      {"GET", "/secret/_search", k,
       expect::deny({"action [indices:data/read/search] is unauthorized for " + subject +
                     " on indices [secret], this action is granted by the index privileges "
                     "[read,all]"})},
      {"GET", "/books,secret/_search", k, expect::deny({subject, "on indices [secret]"})},
      {"GET", "/books%2Csecret/_search", k, expect::deny({"on indices [secret]"})},
      {"GET", "/%3Csecret-%7Bnow%2Fd%7D%3E/_search", k, expect::deny({"[secret-2024.03.15]"})},
      {"GET", "/.security/_search", k, expect::deny({subject, "restricted indices [.security]"})},
      {"GET", "/secret*/_search", k, expect::empty()},
      {"GET", "/*,-books/_search", k, expect::empty()},
      {"GET", "/_search?index=secret", k, expect::bad("[index]")},
      {"GET", "/_search?source=%7B%7D", k, expect::bad("[source]")},
      {"PUT", "/books/_doc/1", k, expect::deny({subject, "op_type/index"})},
      {"DELETE", "/books", k, expect::deny({"indices:admin/delete"})},
      {"PUT", "/books", k, expect::deny({"indices:admin/create"})},
      {"POST", "/_bulk", k, expect::deny({subject, "indices:data/write/bulk"})},
      {"POST", "/books/_mget", k, expect::inspect("/books/_mget")},
      {"GET", "/_cluster/health", k,
       expect::deny({"action [cluster:monitor/health] is unauthorized for " + subject +
                     ", this action is granted by the cluster privileges [monitor,manage,all]"})},
      {"GET", "/", k, expect::deny({"cluster:monitor/main"})},
      {"GET", "/_cat/indices", k, expect::deny({"cluster:monitor/state"})},
      {"GET", "/_mapping", k, expect::allow("/*,-*/_mapping")},
      {"GET", "/_internal/desired_balance", k, expect::deny({"cluster privileges [all]"})},
      {"PUT", "/_cluster/settings", k, expect::deny({"cluster:admin/settings/update"})},
      {"GET", "/_search/scroll", k, expect::bound("/_search/scroll")},
      {"DELETE", "/_pit", k, expect::allow("/_pit")},
      {"GET", "/_security/_authenticate", k, expect::served()},
      {"GET", "/_resolve/index/*", k, expect::allow("/_resolve/index/books")},
      {"GET", "/./secret/_search", k, expect::unparsable()},
  };
}

std::vector<authz_case> superuser_cases() {
  const auto* s = &ids().su;
  return {
      {"GET", "/secret/_search", s, expect::allow("/secret/_search")},
      {"GET", "/_search", s, expect::allow("/_search")},
      {"GET", "/*/_search", s, expect::allow("/*/_search")},
      {"GET", "/_all/_search?expand_wildcards=all", s,
       expect::allow("/_all/_search?expand_wildcards=all")},
      {"GET", "/*,-books/_search", s, expect::allow("/*,-books/_search")},
      {"GET", "/books%2Csecret/_search", s, expect::allow("/books,secret/_search")},
      {"GET", "/%3Clogs-%7Bnow%2Fd%7D%3E/_search", s,
       expect::allow("/%3Clogs-%7Bnow%2Fd%7D%3E/_search")},
      {"GET", "/.security/_search", s, expect::allow("/.security/_search")},
      {"GET", "/_search?index=secret", s, expect::allow("/_search?index=secret")},
      {"GET", "/_search?source=%7B%7D", s, expect::allow("/_search?source=%7B%7D")},
      {"POST", "/_bulk", s, expect::allow("/_bulk")},
      {"POST", "/secret/_bulk", s, expect::allow("/secret/_bulk")},
      {"POST", "/_msearch", s, expect::allow("/_msearch")},
      {"POST", "/_reindex", s, expect::allow("/_reindex")},
      {"GET", "/_search/scroll", s, expect::allow("/_search/scroll")},
      {"GET", "/_async_search/abc", s, expect::allow("/_async_search/abc")},
      {"DELETE", "/*", s, expect::allow("/*")},
      {"GET", "/_internal/desired_balance", s, expect::allow("/_internal/desired_balance")},
      {"GET", "/_cat/indices", s, expect::allow("/_cat/indices")},
      {"GET", "/_mapping", s, expect::allow("/_mapping")},
      {"GET", "/_cluster/health", s, expect::allow("/_cluster/health")},
      {"PUT", "/_security/role/x", s, expect::allow("/_security/role/x")},
      {"GET", "/_security/_authenticate", s, expect::served()},
      {"DELETE", "/_search", s, expect::method()},
      {"GET", "/books/_nope/x/y", s, expect::bad("no handler found")},
      {"GET", "/books/../secret/_search", s, expect::unparsable()},
      {"GET", "//secret/_search", s, expect::unparsable()},
  };
}

std::vector<authz_case> other_cases() {
  const auto* o = &ids().ops;
  const auto* a = &ids().aliasr;
  const auto* d = &ids().dotr;
  const auto* b = &ids().badmin;
  return {
      // ops: every privilege on every index including restricted ones, cluster manage: not a
      // superuser, but nothing a body could name is out of its reach.
      {"POST", "/_bulk", o, expect::allow("/_bulk")},
      {"POST", "/logs-a/_bulk", o, expect::allow("/logs-a/_bulk")},
      {"POST", "/_msearch", o, expect::allow("/_msearch")},
      {"POST", "/logs-*/_msearch", o, expect::allow("/logs-a,logs-b,logs-old,logs-ds/_msearch")},
      {"POST", "/_reindex", o, expect::allow("/_reindex")},
      {"POST", "/_sql", o, expect::allow("/_sql")},
      {"POST", "/_mget", o, expect::allow("/_mget")},
      {"GET", "/.security/_search", o, expect::allow("/.security/_search")},
      {"GET", "/.*/_search?expand_wildcards=all", o,
       expect::allow("/.security-7,.kibana_1,.ds-logs-ds-2024.03.15-000001,.security/"
                     "_search?expand_wildcards=all")},
      {"GET", "/.s*/_search", o, expect::allow("/.security-7,.security/_search")},
      {"GET", "/_search/scroll", o, expect::bound("/_search/scroll")},
      {"GET", "/_internal/desired_balance", o, expect::deny({"cluster privileges [all]"})},
      {"GET", "/_search?source=%7B%7D", o, expect::bad("[source]")},
      {"GET", "/_search?index=secret", o, expect::bad("[index]")},
      // Aliases and data streams are authorized by their own names.
      {"GET", "/books-alias/_search", a, expect::allow("/books-alias/_search")},
      {"GET", "/books*/_search", a, expect::allow("/books-alias/_search")},
      {"GET", "/logs-*/_search", a, expect::allow("/logs-ds/_search")},
      {"GET", "/logs-ds/_search", a, expect::allow("/logs-ds/_search")},
      {"GET", "/_search", a, expect::allow("/logs-ds,books-alias/_search")},
      {"GET", "/books/_search", a, expect::deny({"on indices [books]"})},
      {"GET", "/secret-alias/_search", a, expect::deny({"on indices [secret-alias]"})},
      {"GET", "/.ds-logs-ds-2024.03.15-000001/_search", a, expect::deny({"restricted indices"})},
      {"GET", "/_alias", a, expect::allow("/logs-ds,books-alias/_alias")},
      {"GET", "/_alias/*", a, expect::allow("/logs-ds,books-alias/_alias/books-alias")},
      {"GET", "/_mapping", a, expect::allow("/logs-ds,books-alias/_mapping")},
      {"GET", "/books-alias/_mapping", a, expect::allow("/books-alias/_mapping")},
      {"GET", "/_data_stream", a, expect::allow("/_data_stream/logs-ds")},
      {"GET", "/_data_stream/*", a, expect::allow("/_data_stream/logs-ds")},
      {"GET", "/_data_stream/books-alias", a, expect::allow("/_data_stream/books-alias")},
      {"GET", "/_resolve/index/*", a, expect::allow("/_resolve/index/logs-ds,books-alias")},
      {"GET", "/_cat/aliases", a, expect::deny({"cluster:monitor/state"})},
      {"GET", "/books-alias", a, expect::allow("/books-alias")},
      // An explicitly granted restricted name.
      {"GET", "/.kibana_1/_search", d, expect::allow("/.kibana_1/_search")},
      {"GET", "/.k*/_search", d, expect::allow("/.kibana_1/_search")},
      {"GET", "/*/_search", d, expect::allow("/books/_search")},
      {"GET", "/*/_search?expand_wildcards=all", d,
       expect::allow("/books,.kibana_1/_search?expand_wildcards=all")},
      {"GET", "/.security/_search", d, expect::deny({"restricted indices [.security]"})},
      {"GET", "/.kibana_1,.security/_search", d,
       expect::deny({"on restricted indices [.security]"}, {".kibana_1"})},
      // books-admin: books* manage/write/read, cluster monitor.
      {"GET", "/_cat/indices", b, expect::allow("/_cat/indices/books,books-alias")},
      {"GET", "/_cat/indices/*", b, expect::allow("/_cat/indices/books,books-alias")},
      {"GET", "/_mapping", b, expect::allow("/books,books-alias/_mapping")},
      {"GET", "/_settings", b, expect::allow("/books,books-alias/_settings")},
      {"PUT", "/books/_mapping", b, expect::allow("/books/_mapping")},
      {"PUT", "/books-new", b, expect::allow("/books-new")},
      {"PUT", "/books-new/_doc/1", b, expect::allow("/books-new/_doc/1")},
      {"PUT", "/books/_doc/1", b, expect::allow("/books/_doc/1")},
      {"POST", "/books/_update/1", b, expect::allow("/books/_update/1")},
      {"DELETE", "/books/_doc/1", b, expect::allow("/books/_doc/1")},
      {"POST", "/books/_delete_by_query", b, expect::allow("/books/_delete_by_query")},
      {"POST", "/books*/_delete_by_query", b, expect::allow("/books,books-alias/_delete_by_query")},
      {"POST", "/secret/_delete_by_query", b, expect::deny({"on indices [secret]"})},
      {"DELETE", "/books", b, expect::allow("/books")},
      {"DELETE", "/books*", b, expect::bad("Wildcard expressions")},
      {"PUT", "/books/_alias/books-x", b, expect::allow("/books/_alias/books-x")},
      {"PUT", "/books/_alias/secret-x", b,
       expect::deny({"action [indices:admin/aliases]", "on indices [secret-x]"},
                    {"indices [books"})},
      {"PUT", "/secret/_alias/books-x", b, expect::deny({"on indices [secret]"})},
      {"POST", "/books/_clone/secret-copy", b, expect::deny({"on indices [secret-copy]"})},
      {"POST", "/books/_shrink/books-small", b, expect::allow("/books/_shrink/books-small")},
      {"POST", "/books-alias/_rollover", b, expect::allow("/books-alias/_rollover")},
      {"POST", "/books-alias/_rollover/secret-next", b, expect::deny({"[secret-next]"})},
      {"POST", "/books/_bulk", b, expect::inspect("/books/_bulk")},
      {"GET", "/_cluster/health", b, expect::allow("/_cluster/health")},
  };
}

void run(const std::vector<authz_case>& cases, std::size_t& count) {
  for (const auto& c : cases) {
    check_case(c);
    ++count;
  }
}

std::size_t g_cases = 0;

}  // namespace

TEST_CASE("authorize: books-read-only reads books and nothing else", "[authorize]") {
  run(reader_cases(), g_cases);
}

TEST_CASE("authorize: logs-writer creates documents and indices in logs-*", "[authorize]") {
  run(writer_cases(), g_cases);
}

TEST_CASE("authorize: a manage-cluster admin without security or restricted indices",
          "[authorize]") {
  run(manager_cases(), g_cases);
}

TEST_CASE("authorize: a key limited to books over an owner with *", "[authorize]") {
  run(key_cases(), g_cases);
}

TEST_CASE("authorize: superusers are forwarded the canonical target unchanged", "[authorize]") {
  run(superuser_cases(), g_cases);
}

TEST_CASE("authorize: restricted power, aliases, data streams, explicit restricted names",
          "[authorize]") {
  run(other_cases(), g_cases);
}

TEST_CASE("authorize: the table has at least 300 cases", "[authorize]") {
  const std::size_t n = reader_cases().size() + writer_cases().size() + manager_cases().size() +
                        key_cases().size() + superuser_cases().size() + other_cases().size();
  INFO("table cases: " << n);
  CHECK(n >= 300);
  WARN("authorize table cases: " << n);
}

TEST_CASE("authorize: metadata is asked for only when a pattern must be resolved", "[authorize]") {
  const auto& i = ids();
  const std::vector<authz_case> cases = {
      {"GET", "/_search", &i.reader, expect::need()},
      {"GET", "/*/_search", &i.reader, expect::need()},
      {"GET", "/_all/_search", &i.reader, expect::need()},
      {"GET", "/_mapping", &i.reader, expect::need()},
      {"GET", "/books*/_search", &i.reader, expect::need()},
      {"GET", "/books/_search", &i.reader, expect::allow("/books/_search")},
      {"GET", "/%3Cbooks%3E/_search", &i.reader, expect::allow("/books/_search")},
      // Explicit denied names are denied before anything is fetched.
      {"GET", "/secret,b*/_search", &i.reader, expect::deny({"on indices [secret]"})},
      {"GET", "/secret/_search", &i.reader, expect::deny({"on indices [secret]"})},
      {"GET", "/_cat/indices", &i.reader, expect::deny({"cluster:monitor/state"})},
      // Writes need metadata only when the identity could not auto-create the index anyway.
      {"POST", "/logs-a/_doc", &i.writer, expect::allow("/logs-a/_doc")},
      {"PUT", "/books/_doc/1", &i.badmin, expect::allow("/books/_doc/1")},
      // A pattern in a bulk URL is not worth a fetch when the body cannot be forwarded.
      {"POST", "/books*/_msearch", &i.reader, expect::inspect("/books*/_msearch")},
      {"POST", "/logs-*/_msearch", &i.ops, expect::need()},
      {"GET", "/_search", &i.su, expect::allow("/_search")},
  };
  for (const auto& c : cases) check_case(c, nullptr);
}

TEST_CASE("authorize: auto-creating an index needs auto_create", "[authorize]") {
  // create_doc without create_index: may write existing logs-* indices, not create new ones.
  auto res = policy::parse_roles_yaml(R"(
appender:
  indices:
    - names: ["logs-*"]
      privileges: ["create_doc"]
)",
                                      "r.yml");
  REQUIRE(res.ok());
  policy::identity who;
  who.username = "app";
  who.roles = {"appender"};
  who.effective = policy::permission(policy::compile_roles(who.roles, res.roles));
  const std::vector<authz_case> cases = {
      {"POST", "/logs-a/_doc", &who, expect::allow("/logs-a/_doc")},
      {"POST", "/logs-ds/_doc", &who, expect::allow("/logs-ds/_doc")},
      {"POST", "/logs-new/_doc", &who,
       expect::deny({"action [indices:admin/auto_create]", "on indices [logs-new]",
                     "[auto_configure,create_index,manage,all]"})},
      {"PUT", "/logs-new/_create/1", &who, expect::deny({"indices:admin/auto_create"})},
  };
  for (const auto& c : cases) check_case(c);
  check_case({"POST", "/logs-new/_doc", &who, expect::need()}, nullptr);
}

TEST_CASE("authorize: routing errors use ES's words", "[authorize]") {
  const auto t = es::parse_request_target("/books/_search?q=x");
  REQUIRE(t.has_value());
  const es::authz_request r{"DELETE", *t, ids().reader, k_now, nullptr};
  const auto d = es::authorize(r);
  CHECK(d.k == kind::method_not_allowed);
  CHECK(d.reason ==
        "Incorrect HTTP method for uri [/books/_search?q=x] and method [DELETE], allowed: [GET, "
        "POST]");
  CHECK(d.allow == "GET,POST");
  const auto t2 = es::parse_request_target("/books/_nope/x/y");
  REQUIRE(t2.has_value());
  const auto d2 = es::authorize({"GET", *t2, ids().reader, k_now, nullptr});
  CHECK(d2.k == kind::bad_request);
  CHECK(d2.reason == "no handler found for uri [/books/_nope/x/y] and method [GET]");
  const auto d3 = es::authorize({"OPTIONS", *t, ids().reader, k_now, nullptr});
  CHECK(d3.k == kind::allow);
  CHECK(d3.allow == "GET,POST");
}

TEST_CASE("authorize: decisions carry the endpoint and the action", "[authorize]") {
  const auto t = es::parse_request_target("/logs-a/_doc?op_type=index");
  REQUIRE(t.has_value());
  const auto d = es::authorize({"POST", *t, ids().writer, k_now, &metadata()});
  REQUIRE(d.ep != nullptr);
  CHECK(d.ep->name == "index");
  CHECK(d.action == "indices:data/write/index:op_type/index");
  const auto t2 = es::parse_request_target("/books/_search");
  REQUIRE(t2.has_value());
  const auto d2 = es::authorize({"GET", *t2, ids().reader, k_now, &metadata()});
  REQUIRE(d2.ep != nullptr);
  CHECK(d2.action == "indices:data/read/search");
}

TEST_CASE("empty_response_body: ES's empty search and count", "[authorize]") {
  const auto search = es::match_route("GET", {"_search"});
  const auto count = es::match_route("GET", {"_count"});
  const auto mapping = es::match_route("GET", {"_mapping"});
  REQUIRE(search);
  REQUIRE(count);
  REQUIRE(mapping);
  CHECK(
      es::empty_response_body(*search->ep) ==
      R"({"took":0,"timed_out":false,"_shards":{"total":0,"successful":0,"skipped":0,"failed":0},)"
      R"("hits":{"total":{"value":0,"relation":"eq"},"max_score":null,"hits":[]}})");
  const es::query_params as_int{{"rest_total_hits_as_int", "true"}};
  CHECK(es::empty_response_body(*search->ep, &as_int).find(R"("total":0,)") != std::string::npos);
  CHECK(es::empty_response_body(*count->ep) ==
        R"({"count":0,"_shards":{"total":0,"successful":0,"skipped":0,"failed":0}})");
  CHECK(es::empty_response_body(*mapping->ep) == "{}");
}

TEST_CASE("resolve_names agrees with es::narrow", "[authorize]") {
  const auto& md = metadata();
  std::vector<std::string> known = md.indices;
  known.insert(known.end(), md.data_streams.begin(), md.data_streams.end());
  known.insert(known.end(), md.aliases.begin(), md.aliases.end());
  const auto auth = [](std::string_view n) { return n.find("secret") == std::string_view::npos; };
  const std::vector<const char*> exprs = {"*",
                                          "_all",
                                          "b*",
                                          "*,-b*",
                                          "logs-*,-logs-old",
                                          ".*",
                                          "books,*",
                                          "secret,*",
                                          "*,-secret",
                                          "*,books,-books",
                                          "l*,-*-a,logs-a",
                                          "*s*",
                                          ".s*,-.s*7",
                                          "nope,*,-nope",
                                          "x*",
                                          "*-*"};
  for (const auto* e : exprs) {
    auto items = es::parse_index_expression(e, k_now);
    REQUIRE(items.has_value());
    // narrow() knows only the `.` rule: give both the same view of hidden names.
    for (const es::expand_wildcards ew :
         {es::expand_wildcards{true, false, true}, es::expand_wildcards{false, false, false}}) {
      INFO(e << " hidden=" << ew.hidden);
      const auto expected = es::narrow(*items, known, auth, ew);
      const auto got =
          es::detail::resolve_names(*items, md, auth, ew, es::detail::name_domain::all);
      CHECK(std::vector<std::string>(got.begin(), got.end()) == expected);
    }
  }
}

TEST_CASE("resolve_names hides listed hidden names unless expand_wildcards has hidden",
          "[authorize]") {
  const auto items = es::parse_index_expression("hidden*", k_now);
  REQUIRE(items.has_value());
  const auto yes = [](std::string_view) { return true; };
  CHECK(
      es::detail::resolve_names(*items, metadata(), yes, {}, es::detail::name_domain::all).empty());
  CHECK(es::detail::resolve_names(*items, metadata(), yes, {true, false, true},
                                  es::detail::name_domain::all)
            .size() == 1);
  const auto aliases = es::parse_index_expression("*", k_now);
  REQUIRE(aliases.has_value());
  const auto got =
      es::detail::resolve_names(*aliases, metadata(), yes, {}, es::detail::name_domain::aliases);
  CHECK(std::vector<std::string>(got.begin(), got.end()) ==
        std::vector<std::string>{"books-alias", "secret-alias"});
}

TEST_CASE("route families: omitted expressions and query-borne path parameters", "[authorize]") {
  struct row {
    const char* method;
    std::vector<std::string> segs;
    const char* variant;  // expected variant path, "" = none
    const char* param;
  };
  const std::vector<row> rows = {
      {"GET", {"_search"}, "/{index}/_search", "index"},
      {"GET", {"_cat", "indices"}, "/_cat/indices/{index}", "index"},
      {"GET", {"_cat", "aliases"}, "/_cat/aliases/{name}", "name"},
      {"GET", {"_alias"}, "/{index}/_alias", "index"},
      {"GET", {"_alias", "x"}, "/{index}/_alias/{name}", "index"},
      {"GET", {"_stats", "docs"}, "/{index}/_stats/{metric}", "index"},
      {"GET", {"_data_stream"}, "/_data_stream/{name}", "name"},
      {"GET", {"_analyze"}, "", ""},
      {"POST", {"_bulk"}, "", ""},
      {"GET", {"_cluster", "health"}, "", ""},
  };
  for (const auto& r : rows) {
    const auto m = es::match_route(r.method, r.segs);
    REQUIRE(m);
    INFO(m->ep->path);
    const auto v = es::detail::variant_with_expression(*m->ep);
    if (*r.variant == '\0') {
      CHECK(v.ep == nullptr);
    } else {
      REQUIRE(v.ep != nullptr);
      CHECK(v.ep->path == r.variant);
      CHECK(v.param == r.param);
    }
  }
  const auto search = es::match_route("GET", {"_search"});
  REQUIRE(search);
  const auto& params = es::detail::family_path_params(*search->ep);
  CHECK(std::find(params.begin(), params.end(), "index") != params.end());
  const auto doc = es::match_route("PUT", {"books", "_doc", "1"});
  REQUIRE(doc);
  const auto& dp = es::detail::family_path_params(*doc->ep);
  CHECK(std::find(dp.begin(), dp.end(), "version") == dp.end());  // ?version= stays usable
}
