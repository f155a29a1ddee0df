// esgate-fuzz-deps: esgate::bulk
// Fuzzes the _bulk filter: arbitrary bytes fed whole and split at a position taken from the
// first byte. Invariants: forwarded ranges lie inside the input, in order, without overlap;
// whole and split feeding agree on the forwarded bytes, the denials and error-or-not.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "esgate/bulk/bulk_filter.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

esgate::body::target_verdict fake(std::string_view, std::string_view index, bool) {
  esgate::body::target_verdict v;
  if (!index.empty() && index.front() == 'a') {
    v.k = esgate::body::target_verdict::kind::allow;
    v.names = {std::string(index)};
  } else {
    v.reason = "denied";
  }
  return v;
}

struct result {
  bool failed = false;
  std::string forwarded;
  std::size_t denied = 0;
};

result run(std::string_view body, std::size_t cut) {
  esgate::bulk::bulk_filter f({"a-default", false}, fake);
  result r;
  std::string pending;
  for (int step = 0; step < 2; ++step) {
    const bool last = step == 1;
    pending.append(last ? body.substr(cut) : body.substr(0, cut));
    auto out = f.feed(pending, last);
    if (!out) {
      r.failed = true;
      return r;
    }
    std::size_t prev = 0;
    for (const auto& [b, e] : out->forward) {
      check(b >= prev && b < e && e <= out->consumed && out->consumed <= pending.size());
      prev = e;
      r.forwarded.append(pending, b, e - b);
    }
    pending.erase(0, out->consumed);
  }
  r.denied = f.denied().size();
  check(f.done());
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t cut = data[0] % size;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto whole = run(body, 0);
  const auto split = run(body, std::min(cut, body.size()));
  check(whole.failed == split.failed);
  if (!whole.failed) {
    check(whole.forwarded == split.forwarded);
    check(whole.denied == split.denied);
    check(whole.forwarded.size() <= body.size());
  }
  return 0;
}
