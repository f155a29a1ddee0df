// esgate-fuzz-deps: esgate::multi
// Input: one byte choosing the path index, then a body read as an _msearch body and as an
// _mget body (the reindex, query-body and pit parsers run on it too). Plans must never crash;
// forwarded + denied == total; every forwarded msearch line ends with `\n`; a forwarded body
// planned again with an allow-all authorizer forwards everything, unchanged.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "esgate/multi/multi.hpp"

namespace multi = esgate::multi;
using esgate::body::target_verdict;

namespace {

// Reads `books`, `logs-*` (narrowed), `none-*` (narrowed to nothing) and all; `Bad` is a bad
// name; anything else is denied.
target_verdict decide(std::string_view, std::string_view expr, bool) {
  target_verdict v;
  v.k = target_verdict::kind::allow;
  if (expr.empty()) {
    v.names = {"books", "logs-a"};
    v.rewritten = true;
  } else if (expr == "books") {
    v.names = {"books"};
  } else if (expr == "logs-*") {
    v.names = {"logs-a", "logs-b"};
    v.rewritten = true;
  } else if (expr == "none-*") {
    v.rewritten = true;
  } else if (expr == "Bad") {
    v.k = target_verdict::kind::bad_request;
    v.type = "invalid_index_name_exception";
    v.reason = "bad";
  } else {
    v.k = target_verdict::kind::deny;
    v.reason = "denied";
  }
  return v;
}

target_verdict allow_all(std::string_view, std::string_view expr, bool) {
  target_verdict v;
  v.k = target_verdict::kind::allow;
  v.names = {std::string(expr)};
  return v;
}

void check_counts(const multi::multi_plan& p) {
  if (p.forwarded + p.denied.size() != p.total) std::abort();
  for (std::size_t i = 1; i < p.denied.size(); ++i)
    if (p.denied[i - 1].position >= p.denied[i].position) std::abort();
}

void fuzz_msearch(std::string_view body, std::string_view path_index) {
  const auto plan = multi::plan_msearch(body, path_index, "indices:data/read/search", decide);
  if (!plan) return;
  check_counts(*plan);
  if (plan->total == 0) return;
  const auto& fwd = plan->forward_body;
  if (!fwd.empty() && fwd.back() != '\n') std::abort();
  if (plan->forwarded == 0) return;
  const auto again = multi::plan_msearch(fwd, path_index, "indices:data/read/search", allow_all);
  if (!again || again->total != plan->forwarded || again->forwarded != again->total ||
      again->forward_body != fwd)
    std::abort();
}

void fuzz_docs(std::string_view body, std::string_view path_index) {
  const auto plan = multi::plan_docs(body, path_index, "indices:data/read/mget[shard]", decide);
  if (!plan) return;
  check_counts(*plan);
  if (plan->denied.empty()) {
    if (plan->forward_body != body) std::abort();
    return;
  }
  if (plan->forwarded == 0) return;
  const auto again =
      multi::plan_docs(plan->forward_body, path_index, "indices:data/read/mget[shard]", allow_all);
  if (!again || again->total != plan->forwarded || again->forward_body != plan->forward_body)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::array<std::string_view, 4> k_paths = {"", "books", "logs-*", "secret"};
  const std::string_view path_index = k_paths[data[0] % k_paths.size()];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  fuzz_msearch(body, path_index);
  fuzz_docs(body, path_index);
  (void)multi::plan_reindex(body, (data[0] & 4) != 0, decide);
  (void)multi::check_query_body(body, decide);
  (void)multi::pit_id_of(body);
  return 0;
}
