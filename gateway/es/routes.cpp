// Route matching: a segment trie over the generated endpoint table that resolves a request the
// way Elasticsearch's PathTrie/RestController do (see routes.hpp).

#include "esgate/es/routes.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace esgate::es {
namespace {

constexpr std::size_t k_method_count = 9;
constexpr std::int32_t k_none = -1;

struct trie_node {
  // Literal children sorted by segment, for binary search without allocation.
  std::vector<std::pair<std::string_view, std::int32_t>> literals;
  std::int32_t wildcard = k_none;  // the `{param}` child (ES keys it as "*")
  // Endpoint index per method bit; the first table row registered for a (shape, method) wins.
  std::array<std::int32_t, k_method_count> handler{};
  method_set valid = 0;  // union of methods of the patterns ending here ("node has a value")

  trie_node() { handler.fill(k_none); }
};

// ES's PathTrie.TrieMatchingMode, tried in this order by RestController.
enum class mode : std::uint8_t { explicit_only, wildcard_root, wildcard_leaf, wildcard_any };
constexpr std::array<mode, 4> k_modes{mode::explicit_only, mode::wildcard_root, mode::wildcard_leaf,
                                      mode::wildcard_any};

bool is_placeholder(std::string_view s) noexcept {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

std::size_t method_index(http_method m) noexcept {
  return static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(bit(m))));
}

class trie {
 public:
  trie() {
    nodes_.emplace_back();  // root: the value for "/"
    const auto table = all_endpoints();
    for (std::size_t i = 0; i < table.size(); ++i) insert(table[i], static_cast<std::int32_t>(i));
    for (auto& n : nodes_) {
      std::sort(n.literals.begin(), n.literals.end());
    }
  }

  const trie_node& node(std::int32_t i) const noexcept {
    return nodes_[static_cast<std::size_t>(i)];
  }

  std::int32_t literal_child(const trie_node& n, std::string_view token) const noexcept {
    // ES stores `{param}` children under the key "*", so a literal "*" segment finds them.
    if (token == "*") return n.wildcard;
    const auto it = std::lower_bound(n.literals.begin(), n.literals.end(), token,
                                     [](const std::pair<std::string_view, std::int32_t>& e,
                                        std::string_view t) { return e.first < t; });
    if (it == n.literals.end() || it->first != token) return k_none;
    return it->second;
  }

  // PathTrie.TrieNode.retrieve, faithfully (including its root/leaf special cases and the
  // single level of backtracking from a literal child to the wildcard child).
  std::int32_t retrieve(std::int32_t at, const std::vector<std::string>& path, std::size_t n,
                        std::size_t i, mode m) const noexcept {
    if (i >= n) return k_none;
    const trie_node& cur = node(at);
    const std::string_view token = path[i];
    std::int32_t child = literal_child(cur, token);
    bool used_wildcard = false;
    const bool at_root = i == 0;
    const bool at_leaf = i + 1 == n;
    if (child == k_none) {
      const bool allowed = m == mode::wildcard_any || (m == mode::wildcard_root && at_root) ||
                           (m == mode::wildcard_leaf && at_leaf);
      if (!allowed || cur.wildcard == k_none) return k_none;
      child = cur.wildcard;
      used_wildcard = true;
    } else if (at_leaf && node(child).valid == 0 && cur.wildcard != k_none &&
               m != mode::explicit_only && m != mode::wildcard_root) {
      // End of path on a literal node without a value: ES prefers the wildcard sibling.
      child = cur.wildcard;
      used_wildcard = true;
    } else if (at_root && node(child).valid == 0 && cur.wildcard != k_none &&
               m == mode::wildcard_root) {
      child = cur.wildcard;
      used_wildcard = true;
    } else {
      used_wildcard = token == "*";
    }
    if (at_leaf) return node(child).valid != 0 ? child : k_none;
    std::int32_t found = retrieve(child, path, n, i + 1, m);
    if (found == k_none && !used_wildcard && m != mode::explicit_only && cur.wildcard != k_none) {
      found = retrieve(cur.wildcard, path, n, i + 1, m);
    }
    return found;
  }

  std::int32_t retrieve(const std::vector<std::string>& path, std::size_t n,
                        mode m) const noexcept {
    if (n == 0) return node(0).valid != 0 ? 0 : k_none;
    return retrieve(0, path, n, 0, m);
  }

 private:
  void insert(const endpoint& ep, std::int32_t index) {
    std::int32_t at = 0;
    for (const std::string_view seg : ep.segments) {
      if (is_placeholder(seg)) {
        if (nodes_[static_cast<std::size_t>(at)].wildcard == k_none) {
          const auto created = static_cast<std::int32_t>(nodes_.size());
          nodes_.emplace_back();
          nodes_[static_cast<std::size_t>(at)].wildcard = created;
        }
        at = nodes_[static_cast<std::size_t>(at)].wildcard;
        continue;
      }
      auto& lits = nodes_[static_cast<std::size_t>(at)].literals;
      const auto it =
          std::find_if(lits.begin(), lits.end(), [seg](const auto& e) { return e.first == seg; });
      if (it != lits.end()) {
        at = it->second;
        continue;
      }
      const auto created = static_cast<std::int32_t>(nodes_.size());
      lits.emplace_back(seg, created);
      nodes_.emplace_back();
      at = created;
    }
    trie_node& leaf = nodes_[static_cast<std::size_t>(at)];
    for (std::size_t b = 0; b < k_method_count; ++b) {
      if ((ep.methods & (1u << b)) != 0 && leaf.handler[b] == k_none) leaf.handler[b] = index;
    }
    leaf.valid = static_cast<method_set>(leaf.valid | ep.methods);
  }

  std::vector<trie_node> nodes_;
};

const trie& the_trie() {
  static const trie t;  // built once; C++11 guarantees thread-safe initialisation
  return t;
}

route_match bind(const endpoint& ep, const std::vector<std::string>& path) {
  route_match m;
  m.ep = &ep;
  for (std::size_t i = 0; i < ep.segments.size(); ++i) {
    const std::string_view seg = ep.segments[i];
    if (is_placeholder(seg)) m.params.emplace_back(seg.substr(1, seg.size() - 2), path[i]);
  }
  return m;
}

}  // namespace

std::optional<std::string_view> route_match::param(std::string_view name) const noexcept {
  for (const auto& [k, v] : params) {
    if (k == name) return std::string_view{v};
  }
  return std::nullopt;
}

route_result resolve_route(std::string_view method, const std::vector<std::string>& segments) {
  const trie& t = the_trie();
  // Java's String.split drops trailing empty strings: "/_search/" resolves as "/_search".
  std::size_t n = segments.size();
  while (n > 0 && segments[n - 1].empty()) --n;

  std::array<std::int32_t, k_modes.size()> candidates{};
  method_set valid = 0;
  for (std::size_t k = 0; k < k_modes.size(); ++k) {
    candidates[k] = t.retrieve(segments, n, k_modes[k]);
    if (candidates[k] != k_none)
      valid = static_cast<method_set>(valid | t.node(candidates[k]).valid);
  }

  const std::optional<http_method> m = parse_method(method);
  if (!m) return route_method_not_allowed{valid, true};
  const std::size_t mi = method_index(*m);

  // RestController.tryAllHandlers: the first mode whose pattern has a handler for the method
  // wins; otherwise a method valid for none of the matching patterns is answered at once.
  for (const std::int32_t c : candidates) {
    if (c != k_none && t.node(c).handler[mi] != k_none) {
      return bind(all_endpoints()[static_cast<std::size_t>(t.node(c).handler[mi])], segments);
    }
    if ((valid & bit(*m)) == 0) {
      if (*m == http_method::options) return route_options{valid};
      if (valid != 0) return route_method_not_allowed{valid, false};
    }
  }
  return route_not_found{};
}

std::optional<route_match> match_route(std::string_view method,
                                       const std::vector<std::string>& segments) {
  route_result r = resolve_route(method, segments);
  if (auto* m = std::get_if<route_match>(&r)) return std::move(*m);
  return std::nullopt;
}

}  // namespace esgate::es
