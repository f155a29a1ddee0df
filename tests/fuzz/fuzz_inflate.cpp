// esgate-fuzz-deps: esgate::body
// Fuzzes the inflater (gzip and deflate) with a small cap: it must never crash, never produce
// more than the cap, and give the same verdict fed whole or split.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "esgate/body/content_coding.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::uint64_t k_cap = 1 << 20;

struct result {
  bool failed = false;
  std::string out;
};

result run(esgate::body::coding c, std::string_view input, std::size_t cut) {
  esgate::body::inflater f(c, k_cap);
  result r;
  f.feed(input.substr(0, cut), r.out, false);
  if (!f.failed()) f.feed(input.substr(cut), r.out, true);
  r.failed = f.failed();
  check(r.out.size() <= k_cap + 65536);  // at most one output block past the cap before failing
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size < 2) return 0;
  const auto c = bytes[0] & 1 ? esgate::body::coding::gzip : esgate::body::coding::deflate;
  const std::string_view input(reinterpret_cast<const char*>(bytes) + 2, size - 2);
  const std::size_t cut = input.empty() ? 0 : bytes[1] % (input.size() + 1);
  const auto whole = run(c, input, input.size());
  const auto split = run(c, input, cut);
  check(whole.failed == split.failed);
  if (!whole.failed) check(whole.out == split.out);
  return 0;
}
