// The key cache's state machine, one transition per case (style.md: pure core, table-like tests).
#include <catch2/catch.hpp>

#include "esgate/keystore/key_cache.hpp"

using namespace esgate;
using keystore::key_cache;
using V = key_cache::verdict;
using namespace std::chrono_literals;

namespace {
auth::cache_digest dg(unsigned char b) {
  auth::cache_digest d{};
  d.fill(b);
  return d;
}
keystore::key_record rec(std::string id) {
  keystore::key_record r;
  r.id = std::move(id);
  r.name = "k";
  return r;
}
const std::string id = "AAAAAAAAAAAAAAAAAAAA";
const keystore::steady_time t0{};
}  // namespace

TEST_CASE("key_cache: miss, single flight, fetch, verify, hit") {
  key_cache c(10, 5min);
  CHECK(c.lookup(id, dg(1), t0).v == V::miss);
  c.begin_fetch(id);
  CHECK(c.lookup(id, dg(1), t0).v == V::pending);  // concurrent requests wait, no second read
  CHECK(c.lookup(id, dg(2), t0).v == V::pending);
  c.fetched_record(rec(id), t0);
  auto r = c.lookup(id, dg(1), t0);
  REQUIRE(r.v == V::need_verify);
  REQUIRE(r.e != nullptr);
  CHECK(r.e->record.id == id);
  c.verified(id, dg(1));
  CHECK(c.lookup(id, dg(1), t0 + 1s).v == V::hit);
  CHECK(c.lookup(id, dg(2), t0 + 1s).v == V::wrong_secret);  // no hash needed once verified
}

TEST_CASE("key_cache: a failed secret is remembered, the right one still verifies") {
  key_cache c(10, 5min);
  c.begin_fetch(id);
  c.fetched_record(rec(id), t0);
  c.verification_failed(id, dg(9));
  CHECK(c.lookup(id, dg(9), t0).v == V::wrong_secret);
  CHECK(c.lookup(id, dg(1), t0).v == V::need_verify);
  c.verified(id, dg(1));
  CHECK(c.lookup(id, dg(1), t0).v == V::hit);
  CHECK(c.lookup(id, dg(9), t0).v == V::wrong_secret);
}

TEST_CASE("key_cache: unknown ids are negatively cached briefly") {
  key_cache c(10, 5min, 2s);
  c.begin_fetch(id);
  c.fetched_unknown(id, t0);
  CHECK(c.lookup(id, dg(1), t0 + 1s).v == V::unknown_id);
  CHECK(c.lookup(id, dg(1), t0 + 3s).v == V::miss);
}

TEST_CASE("key_cache: entries expire after the ttl") {
  key_cache c(10, 5min);
  c.begin_fetch(id);
  c.fetched_record(rec(id), t0);
  c.verified(id, dg(1));
  CHECK(c.lookup(id, dg(1), t0 + 4min).v == V::hit);
  CHECK(c.lookup(id, dg(1), t0 + 5min).v == V::miss);
}

TEST_CASE("key_cache: invalidation drops a known entry and a negative one") {
  key_cache c(10, 5min);
  c.begin_fetch(id);
  c.fetched_record(rec(id), t0);
  c.verified(id, dg(1));
  c.invalidate(id);
  CHECK(c.lookup(id, dg(1), t0).v == V::miss);
  c.begin_fetch(id);
  c.fetched_unknown(id, t0);
  c.invalidate(id);  // e.g. "created" event from another instance
  CHECK(c.lookup(id, dg(1), t0).v == V::miss);
}

TEST_CASE("key_cache: an invalidation racing a fetch makes the fetched record single-use") {
  key_cache c(10, 5min);
  c.begin_fetch(id);
  c.invalidate(id);
  CHECK(c.lookup(id, dg(1), t0).v == V::pending);
  c.fetched_record(rec(id), t0);
  CHECK(c.lookup(id, dg(1), t0).v == V::miss);  // read again rather than trust a stale record
}

TEST_CASE("key_cache: clear keeps in-flight fetches but marks them stale") {
  key_cache c(10, 5min);
  c.begin_fetch(id);
  c.fetched_record(rec(id), t0);
  c.verified(id, dg(1));
  const std::string other = "BBBBBBBBBBBBBBBBBBBB";
  c.begin_fetch(other);
  c.clear();
  CHECK(c.lookup(id, dg(1), t0).v == V::miss);
  CHECK(c.lookup(other, dg(1), t0).v == V::pending);
}

TEST_CASE("key_cache: fetch failure leaves nothing cached") {
  key_cache c(10, 5min);
  c.begin_fetch(id);
  c.fetch_failed(id);
  CHECK(c.lookup(id, dg(1), t0).v == V::miss);
  CHECK(c.size() == 0);
}

TEST_CASE("key_cache: bounded by max_keys") {
  key_cache c(3, 5min);
  for (int i = 0; i < 10; ++i) {
    std::string k(20, static_cast<char>('a' + i));
    c.begin_fetch(k);
    c.fetched_record(rec(k), t0);
  }
  CHECK(c.size() <= 3);
}
