// The per-worker memory of authorization decisions (gateway/app/authz_cache.hpp): what may be
// remembered, and that a decision is only ever found again for the very same identity object,
// method and target.
#include "authz_cache.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

using esgate::app::authz_cache;
namespace es = esgate::es;
namespace policy = esgate::policy;

namespace {

es::request_target target_of(std::string_view t) {
  auto parsed = es::parse_request_target(t);
  REQUIRE(parsed.has_value());
  return *parsed;
}

authz_cache::verdict_ptr decision(es::authz_decision::kind k, std::string reason = {}) {
  authz_cache::verdict v;
  v.target = target_of("/books/_search");
  v.decision.k = k;
  v.decision.reason = std::move(reason);
  return std::make_shared<const authz_cache::verdict>(std::move(v));
}

}  // namespace

TEST_CASE("authz_cache: decisions that depend on more than identity, method and target") {
  using K = es::authz_decision::kind;
  es::authz_decision allow;
  allow.k = K::allow;
  es::authz_decision needs_index_list;
  needs_index_list.k = K::need_metadata;

  CHECK(authz_cache::cacheable(target_of("/books/_search"), allow));
  CHECK(authz_cache::cacheable(target_of("/books/_search?q=title:dune&size=3"), allow));
  // The index list changes by itself: never remembered.
  CHECK_FALSE(authz_cache::cacheable(target_of("/books/_search"), needs_index_list));
  // Date math reads the clock, in the path or in the query, encoded or not.
  CHECK_FALSE(authz_cache::cacheable(target_of("/%3Clogs-%7Bnow%2Fd%7D%3E/_search"), allow));
  CHECK_FALSE(authz_cache::cacheable(target_of("/books,%3Clogs-%7Bnow%7D%3E/_search"), allow));
  CHECK_FALSE(authz_cache::cacheable(target_of("/_field_caps?index=%3Clogs-%7Bnow%7D%3E"), allow));
  es::authz_decision deny;
  deny.k = K::deny;
  CHECK(authz_cache::cacheable(target_of("/secret/_search"), deny));
}

TEST_CASE("authz_cache: found again only for the same identity object, method and target") {
  using K = es::authz_decision::kind;
  authz_cache cache;
  auto alice = std::make_shared<const policy::identity>();
  auto alice_again = std::make_shared<const policy::identity>();  // equal content, other object
  auto d = decision(K::allow);

  CHECK_FALSE(cache.find(alice.get(), "GET", "/books/_search"));
  cache.remember(alice, "GET", "/books/_search", d);
  CHECK(cache.find(alice.get(), "GET", "/books/_search") == d);

  CHECK_FALSE(cache.find(alice_again.get(), "GET", "/books/_search"));
  CHECK_FALSE(cache.find(alice.get(), "POST", "/books/_search"));
  CHECK_FALSE(cache.find(alice.get(), "GET", "/books/_search?q=x"));
  CHECK_FALSE(cache.find(alice.get(), "GET", "/books/_searcH"));
  CHECK_FALSE(cache.find(alice.get(), "GET", "/books/_search/"));
  CHECK_FALSE(cache.find(nullptr, "GET", "/books/_search"));

  cache.clear();
  CHECK_FALSE(cache.find(alice.get(), "GET", "/books/_search"));
}

TEST_CASE("authz_cache: an entry holds its identity, so the address is not reused while it lives") {
  using K = es::authz_decision::kind;
  authz_cache cache;
  std::weak_ptr<const policy::identity> watch;
  {
    auto bob = std::make_shared<const policy::identity>();
    watch = bob;
    cache.remember(bob, "GET", "/books/_search", decision(K::deny, "no"));
  }
  CHECK_FALSE(watch.expired());  // the cache keeps it alive...
  CHECK(cache.find(watch.lock().get(), "GET", "/books/_search")->decision.reason == "no");
  cache.clear();
  CHECK(watch.expired());  // ...and only the cache
}

TEST_CASE("authz_cache: bounded: many targets replace each other, the newest is found") {
  using K = es::authz_decision::kind;
  authz_cache cache;
  auto who = std::make_shared<const policy::identity>();
  std::weak_ptr<const authz_cache::verdict> first;
  {
    auto d = decision(K::allow);
    first = d;
    cache.remember(who, "GET", "/i0/_search", d);
  }
  for (int i = 1; i < 10000; ++i)
    cache.remember(who, "GET", "/i" + std::to_string(i) + "/_search", decision(K::allow));
  CHECK(first.expired());  // replaced: at most one decision per slot is kept
  CHECK(cache.find(who.get(), "GET", "/i9999/_search"));
}
