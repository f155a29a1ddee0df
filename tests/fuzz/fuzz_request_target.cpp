// esgate-fuzz-deps: esgate::es
// Fuzzes parse_request_target and the canonical round trip: whatever the parser accepts must
// rebuild to a target that parses back to the same segments and query, and the rebuilt form
// must be a fixed point. Any violation aborts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "esgate/es/request_target.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto first = esgate::es::parse_request_target(input);
  if (!first) {
    check(!first.error().reason.empty());
    return 0;
  }
  for (const auto& seg : first->segments) {
    check(!seg.empty() && seg != "." && seg != "..");
    check(seg.find('\\') == std::string::npos);
    check(seg.find('\0') == std::string::npos);
  }
  check(first->segments.size() <= esgate::es::max_path_segments);

  const std::string rebuilt = esgate::es::build_upstream_target(*first);
  check(!rebuilt.empty() && rebuilt.front() == '/');
  for (char c : rebuilt) {
    const auto u = static_cast<unsigned char>(c);
    check(u > 0x20 && u < 0x7f && c != '\\' && c != '#' && c != ';');
  }
  // Re-encoding can grow a target past the size limit; only compare when it still fits.
  if (rebuilt.size() > esgate::es::max_target_bytes) return 0;
  auto second = esgate::es::parse_request_target(rebuilt);
  check(second.has_value());
  check(*second == *first);
  check(esgate::es::build_upstream_target(*second) == rebuilt);
  return 0;
}
