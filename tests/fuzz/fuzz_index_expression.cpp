// esgate-fuzz-deps: esgate::es
// Fuzzes index-expression parsing (date math included), narrowing and the linear wildcard
// matcher, which is checked against a slow reference matcher on short inputs.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/es/date_math.hpp"
#include "esgate/es/index_expression.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Obviously-correct O(|p|*|s|) dynamic-programming reference for `*`-only globs.
bool reference_match(std::string_view p, std::string_view s) {
  // row[j]: does p[0..i) match s[0..j)?
  std::vector<char> row(s.size() + 1, 0);
  row[0] = 1;
  for (char pc : p) {
    std::vector<char> next(s.size() + 1, 0);
    if (pc == '*') {
      next[0] = row[0];
      for (std::size_t j = 1; j <= s.size(); ++j) next[j] = row[j] || next[j - 1];
    } else {
      for (std::size_t j = 1; j <= s.size(); ++j) next[j] = row[j - 1] && s[j - 1] == pc;
    }
    row.swap(next);
  }
  return row[s.size()] != 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::time_point{} + std::chrono::seconds{1710542730};

  (void)esgate::es::resolve_date_math(input, now);

  auto items = esgate::es::parse_index_expression(input, now);
  if (items) {
    check(!items->empty());
    for (const auto& item : *items) {
      check(!item.text.empty());
      if (item.kind == esgate::es::item_kind::literal ||
          item.kind == esgate::es::item_kind::date_math_resolved) {
        check(!esgate::es::validate_index_name(item.text).has_value());
      }
    }
    const std::vector<std::string> known = {"books", "secret", "logs-a", ".kibana", "logs-old"};
    const auto out = esgate::es::narrow(
        *items, known, [](std::string_view n) { return n != "secret"; },
        esgate::es::expand_wildcards{true, false, true});
    // A wildcard never yields an unauthorized name; only concrete (literal) names can.
    bool has_literal_secret = false;
    for (const auto& item : *items) {
      const bool concrete = item.kind == esgate::es::item_kind::literal ||
                            item.kind == esgate::es::item_kind::date_math_resolved;
      if (concrete && item.text == "secret") {
        has_literal_secret = true;
      }
    }
    for (const auto& name : out) check(name != "secret" || has_literal_secret);
  }

  // Split the input at the first NUL (or the middle) into pattern and name.
  auto cut = input.find('\0');
  if (cut == std::string_view::npos) cut = input.size() / 2;
  const std::string_view pattern = input.substr(0, cut);
  const std::string_view name = input.substr(std::min(cut + 1, input.size()));
  const bool fast = esgate::es::simple_match(pattern, name);
  if (pattern.size() <= 64 && name.size() <= 256) check(fast == reference_match(pattern, name));
  return 0;
}
