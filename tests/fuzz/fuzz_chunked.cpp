// esgate-fuzz-deps: esgate::body
// Fuzzes the strict chunked decoder: the input fed whole, split at a position taken from the first
// byte, and one byte at a time must give the same verdict, the same decoded bytes and the same
// count of consumed bytes; nothing consumed beyond the input, no more data than input.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "esgate/body/chunked_decoder.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

struct result {
  bool done = false, failed = false;
  std::size_t consumed = 0;
  std::string data;
};

// Feeds `input` in pieces of at most `piece` bytes, carrying what was not consumed.
result run(std::string_view input, std::size_t piece) {
  esgate::body::chunked_decoder d;
  result r;
  std::string pending;
  std::size_t fed = 0;
  while (!d.done() && !d.failed()) {
    if (fed < input.size()) {
      const auto n = std::min(piece, input.size() - fed);
      pending.append(input.substr(fed, n));
      fed += n;
    }
    bool progress = false;
    while (!pending.empty() && !d.done() && !d.failed()) {
      const auto step = d.next(pending);
      check(step.consumed <= pending.size());
      r.data.append(step.data);
      pending.erase(0, step.consumed);
      r.consumed += step.consumed;
      if (step.consumed == 0) break;
      progress = true;
    }
    if (!progress && fed == input.size()) break;
  }
  r.done = d.done();
  r.failed = d.failed();
  check(r.data.size() <= input.size());
  check(r.consumed <= input.size());
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + bytes[0] % 64;
  const std::string_view input(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const auto whole = run(input, input.size() + 1);
  const auto split = run(input, piece);
  const auto bytewise = run(input, 1);
  for (const auto* other : {&split, &bytewise}) {
    check(other->done == whole.done && other->failed == whole.failed);
    if (!whole.failed) {
      check(other->data == whole.data);
      if (whole.done) check(other->consumed == whole.consumed);
    }
  }
  return 0;
}
