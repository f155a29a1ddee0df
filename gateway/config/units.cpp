// Elasticsearch-style durations (TimeValue) and sizes (ByteSizeValue).
#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <string>
#include <utility>

#include "esgate/config/settings.hpp"

namespace esgate::config {
namespace {

std::string normalize(std::string_view text) {
  // Elasticsearch trims and lower-cases before looking at the unit ("10S" == "10s").
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Unsigned decimal integer, digits only, without overflow.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  unsigned __int128 v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

}  // namespace

std::optional<duration> parse_duration(std::string_view text) {
  std::string s = normalize(text);
  if (s == "0") return duration{0};  // the one unit-less value Elasticsearch accepts (besides -1)
  struct unit {
    std::string_view suffix;
    std::uint64_t numerator;  // milliseconds per unit = numerator / denominator
    std::uint64_t denominator;
  };
  // Longer suffixes first: "nanos" and "micros" end in "s", "ms" ends in "s".
  static constexpr std::array<unit, 7> units{{{"nanos", 1, 1'000'000},
                                              {"micros", 1, 1000},
                                              {"ms", 1, 1},
                                              {"s", 1000, 1},
                                              {"m", 60'000, 1},
                                              {"h", 3'600'000, 1},
                                              {"d", 86'400'000, 1}}};
  for (const auto& u : units) {
    if (s.size() <= u.suffix.size() || !std::string_view(s).ends_with(u.suffix)) continue;
    auto number = parse_u64(trim_right(std::string_view(s).substr(0, s.size() - u.suffix.size())));
    if (!number) return std::nullopt;  // also fractions and signs, as in Elasticsearch
    unsigned __int128 ms = static_cast<unsigned __int128>(*number) * u.numerator;
    // Sub-millisecond values round up so that a tiny non-zero timeout never becomes "none".
    ms = (ms + u.denominator - 1) / u.denominator;
    if (ms > static_cast<unsigned __int128>(std::numeric_limits<duration::rep>::max()))
      return std::nullopt;
    return duration{static_cast<duration::rep>(ms)};
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::string s = normalize(text);
  struct unit {
    std::string_view suffix;
    unsigned shift;
  };
  static constexpr std::array<unit, 11> units{{{"pb", 50},
                                               {"tb", 40},
                                               {"gb", 30},
                                               {"mb", 20},
                                               {"kb", 10},
                                               {"p", 50},
                                               {"t", 40},
                                               {"g", 30},
                                               {"m", 20},
                                               {"k", 10},
                                               {"b", 0}}};
  std::string_view number = s;
  unsigned shift = 0;
  for (const auto& u : units) {
    if (s.size() > u.suffix.size() && std::string_view(s).ends_with(u.suffix)) {
      number = trim_right(std::string_view(s).substr(0, s.size() - u.suffix.size()));
      shift = u.shift;
      break;
    }
  }
  // Fractions ("1.5gb") are accepted for scaled units like Elasticsearch does; bytes stay whole.
  std::string_view whole = number;
  std::string_view fraction;
  if (auto dot = number.find('.'); dot != std::string_view::npos) {
    whole = number.substr(0, dot);
    fraction = number.substr(dot + 1);
    if (shift == 0 || fraction.empty() || fraction.size() > 18) return std::nullopt;
  }
  auto w = parse_u64(whole);
  if (!w) return std::nullopt;
  unsigned __int128 bytes = static_cast<unsigned __int128>(*w) << shift;
  if (!fraction.empty()) {
    auto f = parse_u64(fraction);
    if (!f) return std::nullopt;
    unsigned __int128 scale = 1;
    for (std::size_t i = 0; i < fraction.size(); ++i) scale *= 10;
    // f < 10^18 < 2^60 and shift <= 50, so the product fits in 128 bits; truncate like ES.
    bytes += (static_cast<unsigned __int128>(*f) << shift) / scale;
  }
  if (bytes > std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

}  // namespace esgate::config
