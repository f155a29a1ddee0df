#include "esgate/keystore/key_cache.hpp"

#include <algorithm>

#include "esgate/observability/metrics.hpp"

namespace esgate::keystore {

namespace {

// Same stored content? last_used lives outside the record (P last_used) and changes with every
// batch of touches, so it does not count as a change.
bool same_record(key_record a, key_record b) {
  a.last_used.reset();
  b.last_used.reset();
  return a.version == b.version && to_json(a) == to_json(b);
}

}  // namespace

key_cache::key_cache(std::size_t max_keys, std::chrono::milliseconds ttl,
                     std::chrono::milliseconds negative_ttl,
                     std::chrono::milliseconds stale_if_error)
    : max_keys_(std::max<std::size_t>(1, max_keys)),
      ttl_(ttl),
      negative_ttl_(negative_ttl),
      stale_if_error_(stale_if_error) {}

key_cache::slot* key_cache::find(std::string_view id) {
  // unordered_map<std::string> without heterogeneous lookup in C++20 libstdc++ 12: one small
  // string construction (ids are 20 chars: within SSO, no allocation).
  auto it = entries_.find(std::string(id));
  return it == entries_.end() ? nullptr : &it->second;
}

key_cache::lookup_result key_cache::known_verdict(entry& e, const auth::cache_digest& d) {
  if (e.verified) {
    // Secrets never change for a key, so any other secret is wrong: no hashing needed.
    return {auth::equal(e.verified_digest, d) ? verdict::hit : verdict::wrong_secret, &e};
  }
  for (auto& f : e.failed_digests)
    if (auth::equal(f, d)) return {verdict::wrong_secret, &e};
  return {verdict::need_verify, &e};
}

key_cache::lookup_result key_cache::lookup(std::string_view id, const auth::cache_digest& d,
                                           steady_time now) {
  slot* s = find(id);
  if (outage_since_) return lookup_in_outage(s, d, now);
  if (!s) return {verdict::miss};
  switch (s->st) {
    case state::pending:
      return {verdict::pending};
    case state::unknown:
      if (now < s->negative_until) return {verdict::unknown_id};
      entries_.erase(std::string(id));
      return {verdict::miss};
    case state::known:
      break;
  }
  // Expired: re-read Redis (the record may have changed). The slot stays until then, so
  // begin_fetch can keep the record aside in case Redis does not answer.
  if (now >= s->e.expires) return {verdict::miss};
  return known_verdict(s->e, d);
}

bool key_cache::serving_stale(steady_time now) const noexcept {
  return outage_since_ && now < *outage_since_ + stale_if_error_;
}

key_cache::lookup_result key_cache::lookup_in_outage(slot* s, const auth::cache_digest& d,
                                                     steady_time now) {
  // No Redis reads in outage mode: what is not cached cannot be checked now (503, never 401: the
  // key may well be valid, and a 401 makes clients throw it away).
  if (!s) return {verdict::unavailable};
  switch (s->st) {
    case state::pending:
      return {verdict::pending};  // a read from before the outage: it completes or fails soon
    case state::unknown:
      return {verdict::unavailable};  // the key may have been created since
    case state::known:
      break;
  }
  if (!serving_stale(now)) return {verdict::unavailable};
  if (s->single_use && now >= s->e.expires) return {verdict::unavailable};
  return known_verdict(s->e, d);
}

void key_cache::make_room() {
  if (entries_.size() < max_keys_) return;
  // Bounded: drop pending-free entries until there is room (order is arbitrary, which is fine
  // for a cache whose misses cost one Redis read and one fast hash).
  for (auto it = entries_.begin(); it != entries_.end() && entries_.size() >= max_keys_;) {
    if (it->second.st != state::pending) {
      it = entries_.erase(it);
      observability::record_key_cache(observability::cache_event::eviction);
    } else
      ++it;
  }
}

void key_cache::begin_fetch(std::string_view id) {
  std::string key(id);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    make_room();
    it = entries_.try_emplace(std::move(key)).first;
  }
  slot& s = it->second;
  // An expired record is kept aside (not a single-use one: it raced an invalidation).
  const bool keep = s.st == state::known && !s.single_use;
  entry copy = keep ? std::move(s.e) : entry{};
  s = slot{};
  s.st = state::pending;
  s.has_copy = keep;
  s.e = std::move(copy);
}

void key_cache::fetched_record(key_record rec, steady_time now) {
  std::string id = rec.id;
  slot& s = entries_[id];
  // A record read before an invalidation that arrived meanwhile may be stale: keep it only for
  // this instant, so every later lookup reads Redis again.
  const bool stale = s.st == state::pending && s.changed_while_pending;
  s = slot{};
  s.st = state::known;
  s.single_use = stale;
  s.e.record = std::move(rec);
  s.e.expires = stale ? now : now + ttl_;
}

void key_cache::fetched_unknown(std::string_view id, steady_time now) {
  slot& s = entries_[std::string(id)];
  s = slot{};
  s.st = state::unknown;
  s.negative_until = now + negative_ttl_;
}

void key_cache::fetch_failed(std::string_view id) {
  auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return;
  slot& s = it->second;
  if (s.st == state::pending && s.has_copy) {
    // Back to the expired record: outage mode may serve it for the stale window.
    s.st = state::known;
    s.has_copy = false;
    s.changed_while_pending = false;
    return;
  }
  entries_.erase(it);
}

void key_cache::verified(std::string_view id, const auth::cache_digest& d) {
  slot* s = find(id);
  if (!s || s->st != state::known) return;
  s->e.verified = true;
  s->e.verified_digest = d;
  s->e.failed_digests.clear();
}

void key_cache::verification_failed(std::string_view id, const auth::cache_digest& d) {
  slot* s = find(id);
  if (!s || s->st != state::known) return;
  auto& f = s->e.failed_digests;
  if (f.size() >= max_failed_digests) f.erase(f.begin());
  f.push_back(d);
}

void key_cache::invalidate(std::string_view id) {
  auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return;
  slot& s = it->second;
  if (s.st == state::pending) {
    s.changed_while_pending = true;  // its reader completes it, marked stale
    s.has_copy = false;              // and the record kept aside is the one that changed
    s.e = entry{};
  } else {
    entries_.erase(it);
  }
}

void key_cache::clear() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.st != state::pending) {
      it = entries_.erase(it);
    } else {
      it->second.changed_while_pending = true;
      it->second.has_copy = false;
      it->second.e = entry{};
      ++it;
    }
  }
}

void key_cache::enter_outage(steady_time now) {
  if (!outage_since_) outage_since_ = now;  // the window counts from the first failure
  ++epoch_;                                 // a revalidation in flight no longer ends it
}

key_cache::revalidation key_cache::begin_revalidation() {
  revalidation job;
  job.token = ++epoch_;
  job.ids.reserve(entries_.size());
  for (auto it = entries_.begin(); it != entries_.end();) {
    slot& s = it->second;
    switch (s.st) {
      case state::known:
        s.revalidation = job.token;
        job.ids.push_back(it->first);
        ++it;
        break;
      case state::unknown:  // cheap to read again; a "created" event may have been missed
        it = entries_.erase(it);
        break;
      case state::pending:
        // Its read may have been answered before an invalidation this cache never heard of,
        // and it is not in the batch: its result serves the request that made it, no more.
        s.changed_while_pending = true;
        s.has_copy = false;
        s.e = entry{};
        ++it;
        break;
    }
  }
  return job;
}

key_cache::revalidation_counts key_cache::revalidated(std::uint64_t token,
                                                      const std::vector<std::string>& ids,
                                                      std::vector<key_record> found,
                                                      steady_time now) {
  revalidation_counts counts;
  std::unordered_map<std::string_view, key_record*> by_id;
  by_id.reserve(found.size());
  for (auto& r : found) by_id.emplace(r.id, &r);
  for (const auto& id : ids) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;  // invalidated (and not read again) meanwhile
    slot& s = it->second;
    // Changed since the batch was taken (invalidated and read again, a newer revalidation): what
    // the cache holds now is newer than this read.
    if (s.st != state::known || s.revalidation != token) continue;
    auto f = by_id.find(id);
    if (f == by_id.end()) {
      entries_.erase(it);
      ++counts.dropped;
      continue;
    }
    if (same_record(s.e.record, *f->second)) {
      ++counts.confirmed;
    } else {
      // Updated or invalidated during the outage: the new record starts over, as a fresh read
      // does (its secret is verified again, its identity rebuilt from the new descriptors).
      s.e = entry{};
      s.e.record = std::move(*f->second);
      ++counts.replaced;
    }
    s.e.expires = now + ttl_;  // as fresh as a read made now
    s.single_use = false;
    s.revalidation = 0;
  }
  return counts;
}

bool key_cache::finish_revalidation(std::uint64_t token) {
  if (token != epoch_) return !outage_since_;  // an outage (or a newer revalidation) since
  outage_since_.reset();
  return true;
}

}  // namespace esgate::keystore
