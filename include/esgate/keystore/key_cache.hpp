#pragma once
// The local API key cache: a pure state machine (no I/O, time injected), one instance per I/O
// thread so lookups take no lock. The gateway drives it (style.md "pure core, thin I/O"):
//
//   lookup(id, digest) ──► hit            verified before with this very secret → authenticated
//                     ├──► wrong_secret   a different secret than the verified one, or one that
//                     │                   already failed → 401 without hashing
//                     ├──► unknown_id     negative entry: Redis said "no such key" recently → 401
//                     ├──► need_verify    record known, this secret not checked yet → hash once
//                     ├──► pending        another request is reading this id from Redis: wait
//                     └──► miss           read Redis: begin_fetch(), then fetched_*()
//
// Entries expire after `ttl` (cache_ttl) and are dropped on invalidation events; negative entries
// live `negative_ttl`. Only keyed digests of secrets are held (auth::cache_digester), never
// secrets.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "esgate/auth/cache_digest.hpp"
#include "esgate/keystore/key_record.hpp"

namespace esgate::keystore {

using steady_time = std::chrono::steady_clock::time_point;

class key_cache {
 public:
  enum class verdict { hit, wrong_secret, unknown_id, need_verify, pending, miss };

  struct entry {
    key_record record;
    bool verified = false;
    auth::cache_digest verified_digest{};
    std::vector<auth::cache_digest> failed_digests;  // small, bounded
    steady_time expires{};
    // Memo of derived data (the compiled identity), tagged with the policy generation it was
    // built from, so a roles.yml/users.yml reload recomputes it.
    std::shared_ptr<const void> memo;
    std::uint64_t memo_generation = 0;
  };

  struct lookup_result {
    verdict v;
    entry* e = nullptr;  // set for hit, wrong_secret and need_verify
  };

  key_cache(std::size_t max_keys, std::chrono::milliseconds ttl,
            std::chrono::milliseconds negative_ttl = std::chrono::seconds(2));

  lookup_result lookup(std::string_view id, const auth::cache_digest& d, steady_time now);

  // Single flight: the first miss calls begin_fetch; later lookups of the id see `pending` until
  // one of the fetched_* / fetch_failed calls.
  void begin_fetch(std::string_view id);
  void fetched_record(key_record rec, steady_time now);
  void fetched_unknown(std::string_view id, steady_time now);
  void fetch_failed(std::string_view id);  // store unavailable: nothing cached

  // Outcome of hashing a presented secret against the record's stored hash.
  void verified(std::string_view id, const auth::cache_digest& d);
  void verification_failed(std::string_view id, const auth::cache_digest& d);

  // A key changed or was invalidated anywhere (pub/sub), or was created (drops a negative entry).
  void invalidate(std::string_view id);
  void clear();  // e.g. the pub/sub connection was lost: nothing cached can be trusted

  std::size_t size() const { return entries_.size(); }

 private:
  enum class state { pending, unknown, known };
  struct slot {
    state st = state::pending;
    bool changed_while_pending = false;  // an invalidation raced the Redis read
    steady_time negative_until{};
    entry e;
  };
  slot* find(std::string_view id);
  void make_room();

  std::size_t max_keys_;
  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds negative_ttl_;
  std::unordered_map<std::string, slot> entries_;
  static constexpr std::size_t max_failed_digests = 8;
};

}  // namespace esgate::keystore
