// _bulk scanning throughput: bulk_filter over a generated 10 MB NDJSON body (~300-byte documents,
// one index), all items allowed and one denied per 1,000. Bytes/s is what matters (target: at
// least 1 GB/s on one core); the authorizer is a constant-time fake, as the verdict is cached per
// (action, index) in the filter anyway.
#include <benchmark/benchmark.h>

#include <string>

#include "esgate/bulk/bulk_filter.hpp"

namespace {

using esgate::body::target_verdict;

std::string make_body(bool with_denied) {
  std::string body;
  const std::string doc =
      R"({"@timestamp":"2024-03-15T22:45:30.123Z","host":{"name":"web-01","ip":"10.1.2.3"},)"
      R"("message":"GET /index.html HTTP/1.1 200 1234 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"",)"
      R"("event":{"dataset":"nginx.access","duration":1234567},"user_agent":{"name":"Firefox"},)"
      R"("tags":["prod","eu-west-1"]})";
  for (int i = 0; body.size() < 10 * 1024 * 1024; ++i) {
    const bool denied = with_denied && i % 1000 == 999;
    body += denied ? R"({"create":{"_index":"secret"}})" : R"({"create":{"_index":"logs-a"}})";
    body += '\n';
    body += doc;
    body += '\n';
  }
  return body;
}

target_verdict verdict(std::string_view, std::string_view index, bool) {
  target_verdict v;
  if (index != "secret") {
    v.k = target_verdict::kind::allow;
    v.names = {std::string(index)};
  }
  return v;
}

void run(benchmark::State& state, bool with_denied) {
  const std::string body = make_body(with_denied);
  std::size_t forwarded = 0;
  for (auto _ : state) {
    esgate::bulk::bulk_filter f({}, verdict);
    // Fed in 64 KiB pieces, as the session's streaming path does.
    std::string_view rest = body;
    std::string carry;
    while (!rest.empty()) {
      const auto n = std::min<std::size_t>(rest.size(), 64 * 1024);
      carry.append(rest.substr(0, n));
      rest.remove_prefix(n);
      auto out = f.feed(carry, rest.empty());
      if (!out) state.SkipWithError("parse error");
      for (const auto& [b, e] : out->forward) forwarded += e - b;
      carry.erase(0, out->consumed);
    }
    benchmark::DoNotOptimize(forwarded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

void BM_bulk_filter_all_allowed(benchmark::State& s) { run(s, false); }
void BM_bulk_filter_one_denied_per_1000(benchmark::State& s) { run(s, true); }

}  // namespace

BENCHMARK(BM_bulk_filter_all_allowed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bulk_filter_one_denied_per_1000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
