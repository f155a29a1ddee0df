#include "esgate/keystore/key_cache.hpp"

#include <algorithm>

namespace esgate::keystore {

key_cache::key_cache(std::size_t max_keys, std::chrono::milliseconds ttl,
                     std::chrono::milliseconds negative_ttl)
    : max_keys_(std::max<std::size_t>(1, max_keys)), ttl_(ttl), negative_ttl_(negative_ttl) {}

key_cache::slot* key_cache::find(std::string_view id) {
  // unordered_map<std::string> without heterogeneous lookup in C++20 libstdc++ 12: one small
  // string construction (ids are 20 chars: within SSO, no allocation).
  auto it = entries_.find(std::string(id));
  return it == entries_.end() ? nullptr : &it->second;
}

key_cache::lookup_result key_cache::lookup(std::string_view id, const auth::cache_digest& d,
                                           steady_time now) {
  slot* s = find(id);
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
  entry& e = s->e;
  if (now >= e.expires) {  // re-read Redis: the record may have changed
    entries_.erase(std::string(id));
    return {verdict::miss};
  }
  if (e.verified) {
    // Secrets never change for a key, so any other secret is wrong: no hashing needed.
    return {auth::equal(e.verified_digest, d) ? verdict::hit : verdict::wrong_secret, &e};
  }
  for (auto& f : e.failed_digests)
    if (auth::equal(f, d)) return {verdict::wrong_secret, &e};
  return {verdict::need_verify, &e};
}

void key_cache::make_room() {
  if (entries_.size() < max_keys_) return;
  // Bounded: drop pending-free entries until there is room (order is arbitrary, which is fine
  // for a cache whose misses cost one Redis read and one fast hash).
  for (auto it = entries_.begin(); it != entries_.end() && entries_.size() >= max_keys_;) {
    if (it->second.st != state::pending)
      it = entries_.erase(it);
    else
      ++it;
  }
}

void key_cache::begin_fetch(std::string_view id) {
  make_room();
  slot& s = entries_[std::string(id)];
  s = slot{};
  s.st = state::pending;
}

void key_cache::fetched_record(key_record rec, steady_time now) {
  std::string id = rec.id;
  slot& s = entries_[id];
  // A record read before an invalidation that arrived meanwhile may be stale: keep it only for
  // this instant, so every later lookup reads Redis again.
  const bool stale = s.st == state::pending && s.changed_while_pending;
  s.st = state::known;
  s.changed_while_pending = false;
  s.e = entry{};
  s.e.record = std::move(rec);
  s.e.expires = stale ? now : now + ttl_;
}

void key_cache::fetched_unknown(std::string_view id, steady_time now) {
  slot& s = entries_[std::string(id)];
  s.st = state::unknown;
  s.negative_until = now + negative_ttl_;
  s.e = entry{};
}

void key_cache::fetch_failed(std::string_view id) { entries_.erase(std::string(id)); }

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
  if (it->second.st == state::pending)
    it->second.changed_while_pending = true;  // its reader completes it, marked stale
  else
    entries_.erase(it);
}

void key_cache::clear() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.st != state::pending) {
      it = entries_.erase(it);
    } else {
      it->second.changed_while_pending = true;
      ++it;
    }
  }
}

}  // namespace esgate::keystore
