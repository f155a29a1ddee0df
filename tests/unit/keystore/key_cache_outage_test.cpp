// The key cache in a key-store outage (issue 10: stale_if_error) and the revalidation that ends
// it. Pure state machine with injected time: one row per case.
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
keystore::key_record rec(std::string id, std::uint64_t version = 0) {
  keystore::key_record r;
  r.id = std::move(id);
  r.name = "k";
  r.api_key_hash = "{SSHA256}x";
  r.version = version;
  return r;
}
const std::string id = "AAAAAAAAAAAAAAAAAAAA";
const std::string other = "BBBBBBBBBBBBBBBBBBBB";
const keystore::steady_time t0{};

// What the cache holds for `id` before the outage begins (fetched at t0).
enum class held { verified, unverified, negative, single_use, pending, nothing };

void prepare(key_cache& c, held h) {
  switch (h) {
    case held::verified:
    case held::unverified:
      c.begin_fetch(id);
      c.fetched_record(rec(id), t0);
      if (h == held::verified) c.verified(id, dg(1));
      break;
    case held::negative:
      c.begin_fetch(id);
      c.fetched_unknown(id, t0);
      break;
    case held::single_use:  // read while an invalidation raced it
      c.begin_fetch(id);
      c.invalidate(id);
      c.fetched_record(rec(id), t0);
      c.verified(id, dg(1));
      break;
    case held::pending:
      c.begin_fetch(id);
      break;
    case held::nothing:
      break;
  }
}

}  // namespace

TEST_CASE("key_cache outage: what a lookup answers, by what is held and when") {
  // ttl 1 min, negative ttl 2 s, stale_if_error 5 min (or 0); the outage begins at t0 + 10 s.
  struct row {
    const char* what;
    held h;
    std::chrono::milliseconds stale_if_error;
    std::chrono::milliseconds at;  // lookup time after t0
    unsigned char secret;
    V expect;
  };
  const std::vector<row> rows{
      {"verified key inside its ttl", held::verified, 5min, 20s, 1, V::hit},
      {"verified key past its ttl, inside the window", held::verified, 5min, 4min, 1, V::hit},
      {"verified key just before the window closes", held::verified, 5min, 10s + 5min - 1ms, 1,
       V::hit},
      {"verified key once the window has passed", held::verified, 5min, 10s + 5min, 1,
       V::unavailable},
      {"verified key, window passed, ttl not yet", held::verified, 20s, 40s, 1, V::unavailable},
      {"another secret of a verified key: still known wrong", held::verified, 5min, 1min, 2,
       V::wrong_secret},
      {"record known, secret not verified yet: verify locally", held::unverified, 5min, 2min, 1,
       V::need_verify},
      {"unknown id: no read, 503 at once", held::nothing, 5min, 20s, 1, V::unavailable},
      {"negative entry: the key may have been created since", held::negative, 5min, 11s, 1,
       V::unavailable},
      {"read racing an invalidation: never served stale", held::single_use, 5min, 20s, 1,
       V::unavailable},
      {"a read from before the outage is still in flight", held::pending, 5min, 20s, 1, V::pending},
      {"stale_if_error 0: fail closed, even inside the ttl", held::verified, 0ms, 11s, 1,
       V::unavailable},
      {"stale_if_error 0: unknown ids too", held::nothing, 0ms, 11s, 1, V::unavailable},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    key_cache c(10, 1min, 2s, r.stale_if_error);
    prepare(c, r.h);
    c.enter_outage(t0 + 10s);
    CHECK(c.in_outage());
    CHECK(c.lookup(id, dg(r.secret), t0 + r.at).v == r.expect);
  }
}

TEST_CASE("key_cache outage: the window counts from the first failure, never extends") {
  key_cache c(10, 1min, 2s, 30s);
  prepare(c, held::verified);
  c.enter_outage(t0 + 10s);
  c.enter_outage(t0 + 30s);  // e.g. a read failed again, the subscription dropped again
  CHECK(c.outage_since() == t0 + 10s);
  CHECK(c.lookup(id, dg(1), t0 + 39s).v == V::hit);
  CHECK(c.lookup(id, dg(1), t0 + 40s).v == V::unavailable);
  CHECK(c.serving_stale(t0 + 39s));
  CHECK_FALSE(c.serving_stale(t0 + 40s));
}

TEST_CASE("key_cache outage: an expired record whose re-read fails is served stale") {
  key_cache c(10, 1min, 2s, 5min);
  prepare(c, held::verified);
  REQUIRE(c.lookup(id, dg(1), t0 + 2min).v == V::miss);  // expired: read Redis again
  c.begin_fetch(id);
  CHECK(c.lookup(id, dg(1), t0 + 2min).v == V::pending);
  c.fetch_failed(id);  // Redis does not answer: the thread enters outage mode
  CHECK(c.size() == 1);
  c.enter_outage(t0 + 2min);
  CHECK(c.lookup(id, dg(1), t0 + 3min).v == V::hit);
  CHECK(c.lookup(id, dg(2), t0 + 3min).v == V::wrong_secret);
  CHECK(c.lookup(id, dg(1), t0 + 7min).v == V::unavailable);
}

TEST_CASE("key_cache outage: a failed re-read keeps nothing of an invalidated record") {
  key_cache c(10, 1min, 2s, 5min);
  prepare(c, held::verified);
  c.begin_fetch(id);
  c.invalidate(id);  // the event arrived while the read was in flight
  c.fetch_failed(id);
  c.enter_outage(t0 + 2min);
  CHECK(c.size() == 0);
  CHECK(c.lookup(id, dg(1), t0 + 2min).v == V::unavailable);
}

TEST_CASE("key_cache outage: invalidation events still drop entries") {
  key_cache c(10, 1min, 2s, 5min);
  prepare(c, held::verified);
  c.enter_outage(t0 + 10s);
  c.invalidate(id);  // e.g. this instance invalidated it itself
  CHECK(c.lookup(id, dg(1), t0 + 20s).v == V::unavailable);
}

TEST_CASE("key_cache revalidation: unchanged, changed, invalidated and missing records") {
  // One row per record state found by the pipelined read after the outage.
  enum class in_redis { same, updated, invalidated, missing };
  struct row {
    const char* what;
    in_redis found;
    V after;  // lookup with the verified secret right after the revalidation
  };
  const std::vector<row> rows{
      {"unchanged: trusted again without hashing", in_redis::same, V::hit},
      {"updated: the new record is verified again", in_redis::updated, V::need_verify},
      {"invalidated: the new record says so (401 when verified)", in_redis::invalidated,
       V::need_verify},
      {"gone: dropped, read again on the next request", in_redis::missing, V::miss},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    key_cache c(10, 1min, 2s, 5min);
    prepare(c, held::verified);
    auto* e = c.lookup(id, dg(1), t0).e;
    REQUIRE(e != nullptr);
    e->memo = std::make_shared<int>(7);  // a compiled identity
    c.enter_outage(t0 + 10s);
    auto job = c.begin_revalidation();
    CHECK(job.ids == std::vector<std::string>{id});
    CHECK(c.in_outage());  // still in outage mode while the read is in flight
    CHECK(c.lookup(id, dg(1), t0 + 2min).v == V::hit);
    CHECK(c.lookup(other, dg(1), t0 + 2min).v == V::unavailable);
    std::vector<keystore::key_record> found;
    auto fresh = rec(id);
    if (r.found == in_redis::updated) {
      fresh.version = 1;
      fresh.metadata["changed"] = true;
    }
    if (r.found == in_redis::invalidated) {
      fresh.version = 1;
      fresh.invalidated = true;
    }
    if (r.found != in_redis::missing) found.push_back(fresh);
    auto counts = c.revalidated(job.token, job.ids, std::move(found), t0 + 3min);
    CHECK(counts.confirmed == (r.found == in_redis::same ? 1u : 0u));
    CHECK(counts.replaced ==
          (r.found == in_redis::updated || r.found == in_redis::invalidated ? 1u : 0u));
    CHECK(counts.dropped == (r.found == in_redis::missing ? 1u : 0u));
    CHECK(c.finish_revalidation(job.token));
    CHECK_FALSE(c.in_outage());
    auto got = c.lookup(id, dg(1), t0 + 3min);
    CHECK(got.v == r.after);
    if (got.e) {
      CHECK(got.e->record.invalidated == (r.found == in_redis::invalidated));
      CHECK((got.e->memo != nullptr) == (r.found == in_redis::same));  // rebuilt when changed
    }
    // A confirmed record is as fresh as a read made at the revalidation.
    if (r.found == in_redis::same) {
      CHECK(c.lookup(id, dg(1), t0 + 3min + 59s).v == V::hit);
      CHECK(c.lookup(id, dg(1), t0 + 4min).v == V::miss);
    }
  }
}

TEST_CASE("key_cache revalidation: last_used alone is not a change") {
  key_cache c(10, 1min, 2s, 5min);
  prepare(c, held::verified);
  c.enter_outage(t0 + 10s);
  auto job = c.begin_revalidation();
  auto fresh = rec(id);
  fresh.last_used = 12345;
  auto counts = c.revalidated(job.token, job.ids, {fresh}, t0 + 20s);
  CHECK(counts.confirmed == 1);
  CHECK(c.finish_revalidation(job.token));
  CHECK(c.lookup(id, dg(1), t0 + 20s).v == V::hit);
}

TEST_CASE("key_cache revalidation: an invalidation that arrives during the read wins") {
  key_cache c(10, 1min, 2s, 5min);
  prepare(c, held::verified);
  c.enter_outage(t0 + 10s);
  auto job = c.begin_revalidation();
  c.invalidate(id);  // pub/sub is back: the event lands before the batch's answer
  auto counts = c.revalidated(job.token, job.ids, {rec(id)}, t0 + 20s);
  CHECK(counts.confirmed == 0);
  CHECK(c.finish_revalidation(job.token));
  CHECK(c.lookup(id, dg(1), t0 + 20s).v == V::miss);  // read again, not the batch's copy
}

TEST_CASE("key_cache revalidation: a record re-read meanwhile is newer than the batch") {
  key_cache c(10, 1min, 2s, 5min);
  prepare(c, held::verified);
  auto job = c.begin_revalidation();  // normal mode (e.g. the first subscription)
  c.invalidate(id);
  c.begin_fetch(id);
  auto newer = rec(id, 2);
  newer.invalidated = true;
  c.fetched_record(newer, t0 + 1s);
  auto counts = c.revalidated(job.token, job.ids, {rec(id, 1)}, t0 + 2s);
  CHECK(counts.confirmed + counts.replaced + counts.dropped == 0);
  auto got = c.lookup(id, dg(1), t0 + 2s);
  REQUIRE(got.e != nullptr);
  CHECK(got.e->record.invalidated);
}

TEST_CASE("key_cache revalidation: an outage during the read keeps the cache in outage mode") {
  key_cache c(10, 1min, 2s, 5min);
  prepare(c, held::verified);
  c.enter_outage(t0 + 10s);
  auto job = c.begin_revalidation();
  c.enter_outage(t0 + 20s);  // the subscription dropped again while the read was in flight
  c.revalidated(job.token, job.ids, {rec(id)}, t0 + 21s);
  CHECK_FALSE(c.finish_revalidation(job.token));
  CHECK(c.in_outage());
  CHECK(c.outage_since() == t0 + 10s);  // the first window still counts
  auto again = c.begin_revalidation();
  CHECK(c.finish_revalidation(again.token));
  CHECK_FALSE(c.in_outage());
}

TEST_CASE("key_cache revalidation: negative entries and in-flight reads are not trusted") {
  key_cache c(10, 1min, 2s, 5min);
  c.begin_fetch(id);
  c.fetched_unknown(id, t0);
  c.begin_fetch(other);  // read in flight from before the outage
  c.enter_outage(t0 + 1s);
  auto job = c.begin_revalidation();
  CHECK(job.ids.empty());
  c.fetched_record(rec(other), t0 + 1s);  // its answer may predate a missed invalidation
  CHECK(c.finish_revalidation(job.token));
  CHECK(c.lookup(id, dg(1), t0 + 1s).v == V::miss);     // the negative entry is gone
  CHECK(c.lookup(other, dg(1), t0 + 1s).v == V::miss);  // single-use: read again
}

TEST_CASE("key_cache revalidation: in normal mode the cache keeps serving meanwhile") {
  key_cache c(10, 1min, 2s, 5min);
  prepare(c, held::verified);
  auto job = c.begin_revalidation();
  CHECK_FALSE(c.in_outage());
  CHECK(c.lookup(id, dg(1), t0 + 1s).v == V::hit);
  CHECK(c.lookup(other, dg(1), t0 + 1s).v == V::miss);
  c.revalidated(job.token, job.ids, {rec(id)}, t0 + 2s);
  CHECK(c.finish_revalidation(job.token));
}
