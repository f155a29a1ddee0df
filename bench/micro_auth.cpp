// The hot path of a request by a cached API key, piece by piece and whole:
//   digest(id, secret) → key_cache lookup → expiry/invalidation checks → permission check.
// Run: build with -DESGATE_BUILD_BENCH=ON, then bench/micro.sh (pins to one core, repetitions).
#include <benchmark/benchmark.h>

#include "esgate/auth/cache_digest.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/es/request_target.hpp"
#include "esgate/keystore/key_cache.hpp"
#include "esgate/policy/identity.hpp"
#include "esgate/policy/permission.hpp"
#include "esgate/policy/role_descriptor.hpp"

using namespace esgate;

namespace {

const std::string id = "VuaCfGcBCdbkQm-e5aOx";
const std::string secret = "ui2lp2axTNmsyakw9tvNnw";

struct cached_key_fixture {
  auth::cache_digester digester;
  keystore::key_cache cache{100000, std::chrono::minutes(5)};
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  cached_key_fixture() {
    // Realistic occupancy: 10,000 other keys in the cache.
    for (int i = 0; i < 10000; ++i) {
      keystore::key_record r;
      r.id = "k" + std::to_string(1000000000000000000ll + i);
      cache.begin_fetch(r.id);
      cache.fetched_record(r, now);
    }
    keystore::key_record r;
    r.id = id;
    cache.begin_fetch(id);
    cache.fetched_record(r, now);
    cache.verified(id, digester.digest(id, secret));
  }
};

// A role with n index entries `logs-<i>-*` (alternating read/write) plus read on `books`.
policy::role_descriptor role_with_patterns(int n) {
  policy::role_descriptor rd;
  rd.name = "many";
  for (int i = 0; i < n; ++i) {
    policy::index_privileges_entry e;
    e.names = {"logs-" + std::to_string(i) + "-*"};
    e.privileges = {i % 2 ? "read" : "write"};
    rd.indices.push_back(e);
  }
  policy::index_privileges_entry books;
  books.names = {"books"};
  books.privileges = {"read"};
  rd.indices.push_back(books);
  return rd;
}

void BM_cache_digest(benchmark::State& state) {
  auth::cache_digester d;
  for (auto _ : state) benchmark::DoNotOptimize(d.digest(id, secret));
}
BENCHMARK(BM_cache_digest);

void BM_key_cache_lookup(benchmark::State& state) {
  cached_key_fixture f;
  auto dg = f.digester.digest(id, secret);
  for (auto _ : state) benchmark::DoNotOptimize(f.cache.lookup(id, dg, f.now).v);
}
BENCHMARK(BM_key_cache_lookup);

// Whole cached-key authentication as api_key_auth.cpp does it on a hit.
void BM_cached_key_authentication(benchmark::State& state) {
  cached_key_fixture f;
  const std::int64_t wall = 1'700'000'000'000;
  for (auto _ : state) {
    auto dg = f.digester.digest(id, secret);
    auto r = f.cache.lookup(id, dg, f.now);
    bool ok = r.v == keystore::key_cache::verdict::hit && !r.e->record.invalidated &&
              (!r.e->record.expiration || *r.e->record.expiration > wall);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_cached_key_authentication);

// Per-request index authorization cost with N index patterns in the role (issue: must not grow
// with the number of patterns, roles or keys).
void BM_allows_index_with_patterns(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  const auto rd = role_with_patterns(n);
  policy::permission p(policy::compile({rd}));
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.allows_index("indices:data/read/search", "books"));
    benchmark::DoNotOptimize(p.allows_index("indices:data/read/search", "secret"));
  }
  state.SetLabel("2 checks per iteration (allowed + denied)");
}
BENCHMARK(BM_allows_index_with_patterns)->Arg(1)->Arg(100)->Arg(10000);

// The whole per-request decision: target parse + route + es::authorize() for `GET /books/_search`
// by an identity whose role has N index patterns (plus read on books).
void BM_authorize_request_with_patterns(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  const auto rd = role_with_patterns(n);
  policy::identity who;
  who.username = "bench";
  who.roles = {"many"};
  who.effective = policy::permission(policy::compile({rd}));
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    auto target = es::parse_request_target("/books/_search?size=10");
    es::authz_request req{"GET", *target, who, now, nullptr};
    auto d = es::authorize(req);
    benchmark::DoNotOptimize(d.k);
  }
}
BENCHMARK(BM_authorize_request_with_patterns)->Arg(1)->Arg(100)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
