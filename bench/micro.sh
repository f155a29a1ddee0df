#!/usr/bin/env bash
# Builds and runs the micro-benchmarks pinned to one core, 5 repetitions, medians reported.
# Usage: bench/micro.sh [extra google-benchmark flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps build bench
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DESGATE_BUILD_TESTS=OFF \
  -DESGATE_BUILD_BENCH=ON >/dev/null
cmake --build build-bench --target bench_auth bench_bulk
for b in bench_auth bench_bulk; do
  taskset -c 0 build-bench/bin/$b --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true "$@"
done
