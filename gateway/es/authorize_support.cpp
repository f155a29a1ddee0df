// Helpers of authorize(): name resolution over cluster metadata, route families, ES denial texts
// and the empty answers the gateway gives itself.
#include <algorithm>
#include <cstddef>
#include <unordered_set>

#include "authorize_internal.hpp"
#include "esgate/policy/index_pattern.hpp"
#include "esgate/policy/privileges.hpp"

namespace esgate::es::detail {
namespace {

bool is_placeholder(std::string_view s) noexcept {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

std::string_view placeholder_name(std::string_view s) noexcept { return s.substr(1, s.size() - 2); }

std::size_t index_of(const endpoint& ep) noexcept {
  return static_cast<std::size_t>(&ep - all_endpoints().data());
}

struct family_entry {
  std::vector<std::string_view> params;
  insert_variant variant;
};

// Does `longer` equal `shorter` with one extra `{param}` segment? Returns that param or "".
std::string_view extra_placeholder(const endpoint& shorter, const endpoint& longer) {
  if (longer.segments.size() != shorter.segments.size() + 1) return {};
  for (std::size_t p = 0; p < longer.segments.size(); ++p) {
    if (!is_placeholder(longer.segments[p])) continue;
    bool same = true;
    for (std::size_t i = 0, j = 0; i < shorter.segments.size(); ++i, ++j) {
      if (j == p) ++j;
      if (shorter.segments[i] != longer.segments[j]) {
        same = false;
        break;
      }
    }
    if (same) return placeholder_name(longer.segments[p]);
  }
  return {};
}

// Built once: the route table is static data.
const std::vector<family_entry>& families() {
  static const std::vector<family_entry> table = [] {
    const auto eps = all_endpoints();
    std::vector<family_entry> out(eps.size());
    for (std::size_t i = 0; i < eps.size(); ++i) {
      const endpoint& r = eps[i];
      auto& f = out[i];
      for (const endpoint& c : eps) {
        if (c.name != r.name) continue;
        for (const std::string_view seg : c.segments) {
          if (is_placeholder(seg) &&
              std::find(f.params.begin(), f.params.end(), placeholder_name(seg)) == f.params.end())
            f.params.push_back(placeholder_name(seg));
        }
        // Only multi-target listings mean "all" when the index is omitted (`/_analyze` without
        // an index uses no index at all).
        if (!r.multi_target || !r.index_param.empty() || c.kind != r.kind ||
            (c.methods & r.methods) != r.methods)
          continue;
        const std::string_view extra = extra_placeholder(r, c);
        if (extra.empty()) continue;
        const bool is_index = extra == c.index_param;
        // The second parameter (alias names) only when the route names no alias either.
        if (!is_index && (extra != c.second_index_param || !r.second_index_param.empty())) continue;
        // Prefer the index parameter (`/_alias` -> `/{index}/_alias`, not `/_alias/{name}`).
        if (f.variant.ep == nullptr || (is_index && f.variant.param != f.variant.ep->index_param))
          f.variant = {&c, extra};
      }
    }
    return out;
  }();
  return table;
}

bool is_hidden_listed(std::string_view name, const std::vector<std::string_view>& hidden) {
  return std::find(hidden.begin(), hidden.end(), name) != hidden.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) (s += i ? "," : "") += v[i];
  return s;
}

}  // namespace

bool name_exists(const cluster_metadata& md, std::string_view name) {
  const auto in = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), name) != v.end();
  };
  return in(md.indices) || in(md.aliases) || in(md.data_streams);
}

const std::vector<std::string_view>& family_path_params(const endpoint& ep) {
  return families()[index_of(ep)].params;
}

insert_variant variant_with_expression(const endpoint& ep) {
  return families()[index_of(ep)].variant;
}

std::vector<std::string_view> resolve_names(const std::vector<index_item>& expression,
                                            const cluster_metadata& md,
                                            const std::function<bool(std::string_view)>& authorized,
                                            expand_wildcards expand, name_domain domain) {
  // Hidden names that do not start with '.' (those are hidden by name): usually none.
  std::vector<std::string_view> hidden;
  if (!expand.hidden) {
    for (const auto& h : md.hidden)
      if (!h.empty() && h.front() != '.') hidden.push_back(h);
  }
  std::vector<std::string_view> out;
  std::unordered_set<std::string_view> seen;
  const auto add = [&](std::string_view name) {
    if (seen.insert(name).second) out.push_back(name);
  };
  const auto remove = [&](std::string_view name) {
    if (seen.erase(name) > 0) out.erase(std::find(out.begin(), out.end(), name));
  };
  const auto visible = [&](std::string_view pattern, std::string_view name) {
    if (!expand.open && !expand.closed) return false;
    if (name.front() == '.') return expand.hidden || (!pattern.empty() && pattern.front() == '.');
    return hidden.empty() || !is_hidden_listed(name, hidden);
  };
  const auto each_match = [&](std::string_view pattern, auto&& fn) {
    const auto scan = [&](const std::vector<std::string>& names) {
      for (const auto& n : names)
        if (!n.empty() && simple_match(pattern, n) && visible(pattern, n) && authorized(n)) fn(n);
    };
    if (domain == name_domain::all) scan(md.indices);
    if (domain != name_domain::aliases) scan(md.data_streams);
    if (domain != name_domain::data_streams) scan(md.aliases);
  };

  if (expression.empty()) {
    each_match("*", add);
    return out;
  }
  for (const auto& item : expression) {
    switch (item.kind) {
      case item_kind::all:
        each_match("*", add);
        break;
      case item_kind::wildcard:
        each_match(item.text, add);
        break;
      case item_kind::exclusion:
        if (is_wildcard(item))
          each_match(item.text, remove);
        else
          remove(item.text);
        break;
      case item_kind::literal:
      case item_kind::date_math_resolved:
        add(item.text);
        break;
    }
  }
  return out;
}

std::string index_denial(std::string_view action, const policy::identity& who,
                         const std::vector<std::string_view>& denied) {
  std::string plain, restricted;
  for (const auto n : denied) {
    std::string& list = policy::is_restricted_index(n) ? restricted : plain;
    (list += list.empty() ? "" : ",") += n;
  }
  std::string s = "action [" + std::string(action) + "] is unauthorized for " + who.subject();
  if (!plain.empty()) s += " on indices [" + plain + "]";
  if (!restricted.empty())
    s += (plain.empty() ? " on restricted indices [" : " and restricted indices [") + restricted +
         "]";
  const auto granting = policy::index_privileges_granting(action);
  if (!granting.empty())
    s += ", this action is granted by the index privileges [" + join(granting) + "]";
  return s;
}

std::string index_action_denial(std::string_view action, const policy::identity& who) {
  return index_denial(action, who, {});
}

std::string cluster_denial(std::string_view action, const policy::identity& who) {
  std::string s = "action [" + std::string(action) + "] is unauthorized for " + who.subject();
  const auto granting = policy::cluster_privileges_granting(action, false);
  if (!granting.empty())
    s += ", this action is granted by the cluster privileges [" + join(granting) + "]";
  return s;
}

}  // namespace esgate::es::detail

namespace esgate::es {

std::string empty_response_body(const endpoint& ep, const query_params* query) {
  constexpr std::string_view shards =
      R"("_shards":{"total":0,"successful":0,"skipped":0,"failed":0})";
  if (ep.name == "count") return "{\"count\":0," + std::string(shards) + "}";
  if (ep.name == "search") {
    const auto as_int = query ? find_query_param(*query, "rest_total_hits_as_int") : std::nullopt;
    const bool int_total = as_int && (as_int->empty() || *as_int == "true");
    return R"({"took":0,"timed_out":false,)" + std::string(shards) + R"(,"hits":{"total":)" +
           (int_total ? std::string("0") : std::string(R"({"value":0,"relation":"eq"})")) +
           R"(,"max_score":null,"hits":[]}})";
  }
  return "{}";
}

}  // namespace esgate::es
