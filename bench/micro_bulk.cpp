// `_bulk` scan + per-item filter throughput over a generated ~10 MB NDJSON body: ~300-byte
// documents into one index, an always-allow authorizer, and one denied item per 1000.
// Fed in 64 KiB pieces as the session would, the unconsumed tail passed again.
// Run: build with -DESGATE_BUILD_BENCH=ON, then bench/micro.sh (pins to one core, repetitions).
#include <benchmark/benchmark.h>

#include <string>

#include "esgate/bulk/bulk_filter.hpp"

using namespace esgate;

namespace {

std::string make_body(bool with_denied) {
  std::string body;
  body.reserve(11 << 20);
  std::string doc(260, 'x');
  for (int i = 0; body.size() < (10u << 20); ++i) {
    bool denied = with_denied && i % 1000 == 999;
    body += R"({"create":{"_index":")";
    body += denied ? "secret-logs" : "logs-app-prod";
    body += R"(","_id":")" + std::to_string(1000000 + i) + "\"}}\n";
    body += R"({"@timestamp":"2024-05-01T12:00:00Z","level":"info","n":)" + std::to_string(i) +
            R"(,"message":")" + doc + "\"}\n";
  }
  return body;
}

body::target_verdict verdict(std::string_view, std::string_view index, bool) {
  body::target_verdict v;
  if (index.starts_with("logs-")) v.k = body::target_verdict::kind::allow;
  v.reason = "denied";
  return v;
}

void run(benchmark::State& state, bool with_denied) {
  const std::string body = make_body(with_denied);
  const std::size_t piece = 64 * 1024;
  const std::string_view all(body);
  std::size_t forwarded = 0;
  for (auto _ : state) {
    bulk::bulk_filter f({}, verdict);
    forwarded = 0;
    // Slices of one buffer: the unconsumed tail is passed again with the next 64 KiB.
    std::size_t pos = 0;
    std::size_t end = 0;
    while (true) {
      end = std::min(end + piece, all.size());
      bool last = end == all.size();
      auto out = f.feed(all.substr(pos, end - pos), last);
      if (!out) {
        state.SkipWithError("bulk body refused");
        return;
      }
      for (auto [b, e] : out->forward) forwarded += e - b;
      pos += out->consumed;
      if (last) break;
    }
    benchmark::DoNotOptimize(forwarded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

void bm_bulk_filter_all_allowed(benchmark::State& state) { run(state, false); }
void bm_bulk_filter_one_denied_per_1000(benchmark::State& state) { run(state, true); }

}  // namespace

BENCHMARK(bm_bulk_filter_all_allowed)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_bulk_filter_one_denied_per_1000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
