#pragma once
// Where the parts of a multi-item answer are (`{"took":..,"errors":..,"items":[...]}`), so the
// gateway's own items can be put between the upstream's elements as bytes (see splice.cpp).
// Only texts that Boost.JSON's parser accepts get a layout: the splice must not trust a scanner
// with malformed input.
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace esgate::response {

struct byte_span {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the last byte
  bool operator==(const byte_span&) const = default;
};

struct array_layout {
  std::size_t object_open = 0;            // offset of the root `{`
  std::optional<byte_span> array_inner;   // between `[` and `]` of the array (its last occurrence)
  std::vector<byte_span> elements;        // of that array, in order
  std::optional<byte_span> errors_value;  // the value of `errors` (its last occurrence)
  bool operator==(const array_layout&) const = default;
};

// One pass for the common case, a few times faster than validating and then scanning: ASCII
// strings without escapes, nesting up to 64, numbers up to 32 characters. For such a text it
// validates exactly what Boost.JSON does. nullopt for anything else (including every invalid
// text): not "invalid", only "not handled here".
std::optional<array_layout> scan_layout_fast(std::string_view text, std::string_view array_key);

// Any JSON: validated with Boost.JSON's parser (depth up to 1000), then scanned.
// nullopt when the text is not valid JSON, its root not an object, or the array is missing.
std::optional<array_layout> scan_layout_checked(std::string_view text, std::string_view array_key);

// The fast pass, else the checked one.
inline std::optional<array_layout> scan_layout(std::string_view text, std::string_view array_key) {
  if (auto l = scan_layout_fast(text, array_key)) return l;
  return scan_layout_checked(text, array_key);
}

}  // namespace esgate::response
