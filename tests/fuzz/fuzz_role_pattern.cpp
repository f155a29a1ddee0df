// esgate-fuzz-deps: esgate::policy
// Index-name pattern compilation and matching, the conservative subset check behind
// _has_privileges / key creation, and API key role_descriptors parsing.
//
// Input: line 1 = a role's `names` pattern, line 2 = a requested pattern, further lines = index
// names. Checked properties:
//   - wildcard matching agrees with a reference dynamic-programming matcher (ASCII inputs);
//   - soundness: if has_index_privilege(read, requested) is true, every name the requested pattern
//     matches is allowed by the role;
//   - nothing crashes, hangs or leaks on any pattern (regexes run on RE2).
// The whole input is also tried as a JSON role_descriptors object.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "esgate/policy/index_pattern.hpp"
#include "esgate/policy/permission.hpp"
#include "esgate/policy/role_descriptor.hpp"

namespace {

using namespace esgate::policy;

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// O(|p| * |s|) reference for `*`, `?`, `\` wildcards.
bool reference_match(std::string_view p, std::string_view s) {
  // Tokenize: 0 = literal, 1 = any one, 2 = star.
  std::vector<std::pair<int, char>> toks;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '*')
      toks.push_back({2, 0});
    else if (p[i] == '?')
      toks.push_back({1, 0});
    else if (p[i] == '\\' && i + 1 < p.size())
      toks.push_back({0, p[++i]});
    else
      toks.push_back({0, p[i]});
  }
  const std::size_t n = toks.size(), m = s.size();
  std::vector<std::vector<char>> dp(n + 1, std::vector<char>(m + 1, 0));
  dp[n][m] = 1;
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m + 1; j-- > 0;) {
      const auto [k, c] = toks[i];
      if (k == 2)
        dp[i][j] = dp[i + 1][j] || (j < m && dp[i][j + 1]);
      else if (j < m && (k == 1 || s[j] == c))
        dp[i][j] = dp[i + 1][j + 1];
    }
  }
  return dp[0][0];
}

std::vector<std::string_view> split_lines(std::string_view in) {
  std::vector<std::string_view> out;
  while (!in.empty() && out.size() < 32) {
    const std::size_t nl = in.find('\n');
    out.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto lines = split_lines(in);
  if (lines.size() >= 1) {
    const std::string_view pattern = lines[0];
    auto compiled = index_pattern::compile(pattern);
    if (auto* p = std::get_if<index_pattern>(&compiled)) {
      for (std::size_t i = 1; i < lines.size(); ++i) {
        const bool got = p->matches(lines[i]);
        if (p->type() != index_pattern::kind::regex && is_ascii(pattern) && is_ascii(lines[i]) &&
            got != reference_match(pattern, lines[i]))
          std::abort();
      }
    }
    if (lines.size() >= 2 && pattern.size() <= 256 && lines[1].size() <= 256) {
      for (bool restricted : {false, true}) {
        role_descriptor r;
        r.name = "r";
        r.indices.push_back({{std::string(pattern)}, {"read"}, restricted});
        const permission perm(compile({r}));
        const std::string_view requested = lines[1];
        if (perm.has_index_privilege("read", requested, restricted)) {
          auto req = index_pattern::compile(requested);
          if (auto* rp = std::get_if<index_pattern>(&req)) {
            for (std::size_t i = 2; i < lines.size(); ++i) {
              const std::string_view name = lines[i];
              // Names only ASCII and without ':': the role's patterns run as RE2 sets in UTF-8
              // mode, where a wildcard does not match invalid UTF-8 (fail closed), while the
              // requested pattern's own matcher takes any byte; and `name::x` is a selector,
              // denied unless x is data/failures (no index name holds ':').
              const bool in_request = is_ascii(name) && name.find(':') == std::string_view::npos &&
                                      rp->matches(name) &&
                                      (restricted || rp->type() == index_pattern::kind::literal ||
                                       !is_restricted_index(name));
              if (in_request && !perm.allows_index("indices:data/read/search", name))
                std::abort();  // claimed coverage that does not hold
            }
          }
        }
      }
    }
  }
  boost::json::error_code ec;
  const boost::json::value v = boost::json::parse(in, ec);
  if (!ec) {
    auto r = parse_role_descriptors_json(v);
    if (r.ok()) {
      const permission p(compile(r.roles));
      (void)p.allows_index("indices:data/read/search", "logs-1");
      (void)is_subset_of(r.roles, p);
      (void)to_json(r.roles);
    }
  }
  return 0;
}
