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
//                     ├──► miss           read Redis: begin_fetch(), then fetched_*()
//                     └──► unavailable    key-store outage and nothing trustworthy cached → 503
//
// Entries expire after `ttl` (cache_ttl) and are dropped on invalidation events; negative entries
// live `negative_ttl`. Only keyed digests of secrets are held (auth::cache_digester), never
// secrets.
//
// Key-store outages (issue 10, README "Key-store outages"). Invalidations reach this cache
// through Redis pub/sub; when the subscription drops (or a read of this thread fails) the cache
// can no longer know that its records are current. Instead of flushing (fail closed, which turns
// a Redis blip into an outage of every API key), it enters outage mode at that time point:
//
//   enter_outage(t)        records keep answering — past their ttl — while now < t +
//                          stale_if_error; after that, or for anything not cached (unknown ids,
//                          negative entries, records that raced an invalidation), `unavailable`.
//                          Nothing is read from Redis for authentication meanwhile (misses are
//                          `unavailable` at once, no connect timeout waited on). A second call
//                          keeps the first time point: the window never extends.
//   begin_revalidation()   the subscription is back: every cached id is read again (one
//                          pipelined read, key_store::get_many) before it is trusted further;
//   revalidated(...)       each batch read: unchanged records are kept (and their ttl renewed),
//                          changed ones replaced (verified digest and memo dropped, so the new
//                          record is verified again), missing ones dropped;
//   finish_revalidation()  leaves outage mode, unless an outage (or another revalidation) began
//                          after begin_revalidation — the cache stays in outage mode while the
//                          read is in flight.
//
// stale_if_error = 0 is the fail-closed behaviour: in outage mode every lookup is `unavailable`.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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
  enum class verdict { hit, wrong_secret, unknown_id, need_verify, pending, miss, unavailable };

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
            std::chrono::milliseconds negative_ttl = std::chrono::seconds(2),
            std::chrono::milliseconds stale_if_error = std::chrono::milliseconds(0));

  lookup_result lookup(std::string_view id, const auth::cache_digest& d, steady_time now);

  // Single flight: the first miss calls begin_fetch; later lookups of the id see `pending` until
  // one of the fetched_* / fetch_failed calls. An expired record is kept aside while it is read
  // again, so a failed read (fetch_failed, then enter_outage) can still serve it stale.
  void begin_fetch(std::string_view id);
  void fetched_record(key_record rec, steady_time now);
  void fetched_unknown(std::string_view id, steady_time now);
  void fetch_failed(std::string_view id);  // store unavailable: only the expired copy survives

  // Outcome of hashing a presented secret against the record's stored hash.
  void verified(std::string_view id, const auth::cache_digest& d);
  void verification_failed(std::string_view id, const auth::cache_digest& d);

  // A key changed or was invalidated anywhere (pub/sub), or was created (drops a negative entry).
  void invalidate(std::string_view id);
  void clear();  // "*": nothing cached can be trusted

  // ---- Key-store outages (see the top of this file)
  void enter_outage(steady_time now);
  bool in_outage() const noexcept { return outage_since_.has_value(); }
  std::optional<steady_time> outage_since() const noexcept { return outage_since_; }
  std::chrono::milliseconds stale_if_error() const noexcept { return stale_if_error_; }
  // In outage mode and still inside the stale window: cached records answer.
  bool serving_stale(steady_time now) const noexcept;

  struct revalidation {
    std::uint64_t token = 0;
    std::vector<std::string> ids;  // every cached record's id, to be read again
  };
  struct revalidation_counts {
    std::size_t confirmed = 0;  // unchanged in Redis: kept, ttl renewed
    std::size_t replaced = 0;   // changed (updated, invalidated): new record, verified again
    std::size_t dropped = 0;    // no longer in Redis
  };
  // Also drops negative entries (a "created" event may have been missed) and makes in-flight
  // reads single-use (they may predate a missed invalidation and are not part of the batch).
  revalidation begin_revalidation();
  // `found` = the records key_store::get_many returned for `ids` (missing ones absent). Entries
  // that changed since begin_revalidation (invalidated, re-read) are left alone: newer wins.
  revalidation_counts revalidated(std::uint64_t token, const std::vector<std::string>& ids,
                                  std::vector<key_record> found, steady_time now);
  // True when the cache is (now) out of outage mode.
  bool finish_revalidation(std::uint64_t token);

  std::size_t size() const { return entries_.size(); }

 private:
  enum class state { pending, unknown, known };
  struct slot {
    state st = state::pending;
    bool changed_while_pending = false;  // an invalidation raced the Redis read
    // The record was read while an invalidation raced it: good for the request that read it,
    // never served past its expiry (also not during an outage).
    bool single_use = false;
    bool has_copy = false;           // pending: `e` still holds the expired record being re-read
    std::uint64_t revalidation = 0;  // token of the revalidation this record is part of
    steady_time negative_until{};
    entry e;
  };
  slot* find(std::string_view id);
  void make_room();
  lookup_result known_verdict(entry& e, const auth::cache_digest& d);
  lookup_result lookup_in_outage(slot* s, const auth::cache_digest& d, steady_time now);

  std::size_t max_keys_;
  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds negative_ttl_;
  std::chrono::milliseconds stale_if_error_;
  std::optional<steady_time> outage_since_;
  std::uint64_t epoch_ = 0;  // bumped by enter_outage and begin_revalidation
  std::unordered_map<std::string, slot> entries_;
  static constexpr std::size_t max_failed_digests = 8;
};

}  // namespace esgate::keystore
