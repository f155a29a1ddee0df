#pragma once
// The decisions of es::authorize() on the hot path, remembered per worker thread.
//
// For one identity, method and request target, authorize() is a function of those alone, except
// when the target names date math (`<logs-{now/d}>`: it reads the clock) or the decision needed
// Elasticsearch's index list (which changes by itself): such decisions are never remembered.
// Entries are keyed by the identity object itself, and hold it so its address cannot be reused:
// a key or user whose roles change is given a new identity object at authentication, so a
// remembered decision is exactly as fresh as the identity it was made for. A hit saves routing
// and privilege evaluation: a search with a cached API key went from 45,885 to 37,701
// instructions (bench/instructions.sh, `get_api_key`). The parsed target is kept beside the
// decision, since it is a function of the raw target alone: a hit saves decoding it too
// (37,701 to 35,108).
#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "esgate/es/authorize.hpp"
#include "esgate/es/request_target.hpp"
#include "esgate/policy/identity.hpp"

namespace esgate::app {

class authz_cache {
 public:
  // What authorize() saw and said: the decoded target it was made for, and the decision.
  struct verdict {
    es::request_target target;
    es::authz_decision decision;
  };
  using verdict_ptr = std::shared_ptr<const verdict>;

  // Whether `d`, made for `t` without the index list, may be remembered.
  static bool cacheable(const es::request_target& t, const es::authz_decision& d) {
    if (d.k == es::authz_decision::kind::need_metadata) return false;
    const auto names_date_math = [](std::string_view s) {
      return s.find('<') != std::string_view::npos;
    };
    for (const auto& s : t.segments)
      if (names_date_math(s)) return false;
    for (const auto& [name, value] : t.query)
      if (names_date_math(name) || names_date_math(value)) return false;
    return true;
  }

  verdict_ptr find(const policy::identity* who, std::string_view method,
                   std::string_view target) const {
    const entry& e = entries_[slot(who, method, target)];
    if (e.who.get() != who || e.method != method || e.target != target) return nullptr;
    return e.verdict;
  }

  // One slot per hash (a newer decision replaces an older one there): bounded whatever the
  // traffic, and a miss costs one hash and one comparison.
  void remember(std::shared_ptr<const policy::identity> who, std::string_view method,
                std::string_view target, verdict_ptr v) {
    entry& e = entries_[slot(who.get(), method, target)];
    e.who = std::move(who);
    e.method.assign(method);
    e.target.assign(target);
    e.verdict = std::move(v);
  }

  void clear() { entries_ = {}; }

 private:
  static constexpr std::size_t slots = 256;
  struct entry {
    std::shared_ptr<const policy::identity> who;
    std::string method;
    std::string target;
    verdict_ptr verdict;
  };
  static std::size_t slot(const policy::identity* who, std::string_view method,
                          std::string_view target) {
    std::size_t h = std::hash<std::string_view>{}(target);
    h ^= std::hash<const void*>{}(who) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= method.size() * 0x100000001b3ull + (method.empty() ? 0 : method.front());
    return h % slots;
  }
  std::array<entry, slots> entries_;
};

}  // namespace esgate::app
