#pragma once
// Strict UTF-8 (RFC 3629) decoding, shared by every module that reads untrusted text (credentials,
// request targets, index names, role patterns). Callers add their own rules on the code points
// (controls, look-alikes); the byte-level rules live only here. Header-only: no module dependency.
#include <cstddef>
#include <optional>
#include <string_view>

namespace esgate::util {

// Decodes the code point at s[i] and advances i past it. nullopt (i unchanged) for malformed input:
// a stray or truncated continuation, overlong forms (0xC0/0xC1, E0 80..9F, F0 80..8F), UTF-16
// surrogates (ED A0..BF) and anything above U+10FFFF (F4 90.., F5..FF).
inline std::optional<char32_t> next_code_point(std::string_view s, std::size_t& i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the first continuation byte
  char32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return std::nullopt;
  }
  if (s.size() - i < len) return std::nullopt;
  for (std::size_t k = 1; k < len; ++k) {
    const auto ck = static_cast<unsigned char>(s[i + k]);
    if (ck < (k == 1 ? lo : 0x80) || ck > (k == 1 ? hi : 0xbf)) return std::nullopt;
    cp = (cp << 6) | (ck & 0x3f);
  }
  i += len;
  return cp;
}

inline bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();)
    if (!next_code_point(s, i)) return false;
  return true;
}

}  // namespace esgate::util
