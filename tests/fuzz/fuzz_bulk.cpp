// esgate-fuzz-deps: esgate::bulk
// Feeds arbitrary bytes to bulk_filter whole and in pieces (cut points taken from the input's
// first bytes). Invariants: forwarded ranges lie within what was consumed, ordered and
// non-overlapping; whole and split give the same forwarded bytes, denials and error-or-not.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/bulk/bulk_filter.hpp"

namespace {

namespace bulk = esgate::bulk;
using esgate::body::target_verdict;

void check(bool ok) {
  if (!ok) std::abort();
}

target_verdict authorize(std::string_view action, std::string_view index, bool single) {
  check(single);
  check(!index.empty());  // an empty name must never reach the authorizer ("all indices")
  target_verdict v;
  if (index.starts_with("l")) {
    v.k = target_verdict::kind::allow;
  } else if (index.starts_with("B")) {
    v.k = target_verdict::kind::bad_request;
    v.type = "invalid_index_name_exception";
  }
  v.reason = std::string(action) + std::string(index);
  return v;
}

struct outcome {
  bool error = false;
  std::string error_reason;
  std::string forwarded;
  std::string denied;
  std::size_t items = 0;
  bool operator==(const outcome&) const = default;
};

outcome run(std::string_view body, const std::vector<std::size_t>& cuts, std::string path) {
  bulk::bulk_filter f({std::move(path), false}, authorize);
  outcome o;
  std::string pending;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    std::size_t to = i < cuts.size() ? std::max(from, std::min(cuts[i], body.size())) : body.size();
    pending.append(body.substr(from, to - from));
    from = to;
    bool last = i == cuts.size();
    auto out = f.feed(pending, last);
    if (!out) {
      check(f.error().has_value() && f.done());
      return outcome{true, f.error()->reason, {}, {}, 0};
    }
    check(out->consumed <= pending.size());
    std::size_t prev = 0;
    for (auto [b, e] : out->forward) {
      check(prev <= b && b < e && e <= out->consumed);
      prev = e;
      o.forwarded.append(pending, b, e - b);
    }
    pending.erase(0, out->consumed);
    if (last) check(pending.empty() && f.done());
  }
  for (const auto& d : f.denied()) {
    check(d.position < f.items());
    o.denied += std::to_string(d.position) + d.index + "\x01" + d.id + "\x01" + d.reason + "\x02";
    (void)bulk::denied_item_json(d);
  }
  o.items = f.items();
  check(f.denied().size() <= f.items());
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0: cut stride; byte 1: path index or not. The rest is the body.
  std::size_t stride = 1 + data[0] % 17;
  std::string path = data[1] & 1 ? "lp" : "";
  std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  outcome whole = run(body, {}, path);
  std::vector<std::size_t> cuts;
  for (std::size_t c = stride; c < body.size(); c += stride) cuts.push_back(c);
  check(run(body, cuts, path) == whole);
  std::vector<std::size_t> every;
  for (std::size_t c = 0; c < body.size() && body.size() < 512; ++c) every.push_back(c);
  check(run(body, every, path) == whole);
  if (!whole.error && whole.denied.empty()) {
    // Everything authorized: the body goes through as is, minus only a trailing orphan action.
    check(body.starts_with(whole.forwarded));
  }
  return 0;
}
