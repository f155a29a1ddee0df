#!/usr/bin/env bash
# All of issue 12's benchmarks in one go: bench/perf_bench.sh (plain HTTP), bench/tls_bench.sh (TLS)
# and bench/bulk_bench.sh (_bulk), one after the other, then one report: a table of issue 12's
# targets (measured value, met / not met) at the top, followed by the three scripts' sections.
# Markdown on stdout (and in OUT), the scripts' progress on stderr.
#
# Environment (all optional): everything reaches the three scripts, which read their own knobs
# (RUNS, DURATION, WARMUP, ESGATE_BIN, PROXY_CPU / LOAD_CPU, SCENARIOS for perf_bench, BIG_MB and
# BODY_MB for bulk_bench, ...). CONNS is left to each script's own default (50 / 50 / 4): to
# change one script's connections, run that script alone.
#   OUT      also write the whole report to this file
#   SCRIPTS  subset of "perf tls bulk" (default: all three)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench_name=run_all
OUT=${OUT:-}
SCRIPTS=${SCRIPTS:-perf tls bulk}
ESGATE_SRC=${ESGATE_SRC:-$root}
export ESGATE_BIN=${ESGATE_BIN:-$root/build/bin/esgate}
[ -z "${CONNS:-}" ] || { log "CONNS=$CONNS is ignored here: each script keeps its own default"; unset CONNS; }
for s in $SCRIPTS; do
  [[ " perf tls bulk " == *" $s "* ]] || die "unknown script '$s' in SCRIPTS (known: perf tls bulk)"
done

cmd=""
for v in ESGATE_BIN ESGATE_SRC ESGATE_COMMIT RUNS DURATION WARMUP SCENARIOS BIG_MB BODY_MB PROXY_CPU LOAD_CPU SCRIPTS; do
  if printenv "$v" >/dev/null; then cmd+="$v=$(printenv "$v" | sed "s/.* .*/'&'/") "; fi
done
cmd+="bench/run_all.sh"

# Each script runs in the background and is waited for, so that a signal to this script reaches it
# at once; it is sent SIGTERM (never SIGKILL: its own trap stops what it started) and waited for.
work=$(mktemp -d /tmp/esgate-run_all.XXXXXX)
child=""
trap 'rm -rf "$work"' EXIT
on_signal() {
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
started=$(date +%s)
load_before=$(loadavg)
declare -A status wall
for s in $SCRIPTS; do
  log "running bench/${s}_bench.sh"
  t0=$(date +%s)
  rc=0
  OUT="" SUMMARY_OUT="$work/$s.kv" "$root/bench/${s}_bench.sh" >"$work/$s.md" &
  child=$!
  wait "$child" || rc=$?
  child=""
  wall[$s]=$(($(date +%s) - t0))
  if [ "$rc" = 0 ]; then status[$s]=ok; else status[$s]="**failed (exit $rc)**"; log "bench/${s}_bench.sh failed (exit $rc)"; fi
  log "bench/${s}_bench.sh: ${status[$s]}, ${wall[$s]}s"
done
load_after=$(loadavg)
total_wall=$(($(date +%s) - started))

# get SCRIPT KEY: a figure from a script's key=value file, "-" when absent.
get() {
  [ -f "$work/$1.kv" ] || { echo -; return; }
  awk -F= -v k="$2" '$1 == k { v = substr($0, length(k) + 2) } END { print (v == "" ? "-" : v) }' "$work/$1.kv"
}
le() { awk -v r="$1" -v lim="$2" 'BEGIN { if (r == "-") print "-"; else print (r + 0 <= lim + 0) ? "met" : "**not met**" }'; }
ge() { awk -v r="$1" -v lim="$2" 'BEGIN { if (r == "-") print "-"; else print (r + 0 >= lim + 0) ? "met" : "**not met**" }'; }

p_cpu_n=$(get perf small_cpu_ratio_nginx)
p_cpu_h=$(get perf small_cpu_ratio_haproxy)
t_cpu_n=$(get tls keepalive_cpu_ratio_nginx)
t_cpu_h=$(get tls keepalive_cpu_ratio_haproxy)
p_rps_n=$(get perf small_rps_ratio_nginx)
b_mb_n=$(get bulk mb_ratio_nginx_buf)
add_e=$(get perf latency_added_p99_esgate)
add_n=$(get perf latency_added_p99_nginx)
add_h=$(get perf latency_added_p99_haproxy)
add_met=$(awk -v e="$add_e" -v n="$add_n" 'BEGIN { if (e == "-" || n == "-") print "-"; else print (e + 0 <= n + 0) ? "met" : "**not met**" }')
fl=$(get perf flood_p99_ratio)

row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
report() {
  cat <<EOF
# esgate benchmarks, issue 12 ($(date -u '+%Y-%m-%d %H:%M UTC'))

- Machine: $(machine_desc)
- Commit: $(commit_desc "$ESGATE_SRC"); binary \`$ESGATE_BIN\`$(scripts_desc "$root" "$ESGATE_SRC")
- Command: \`$cmd\`; wall time ${total_wall}s ($(for s in $SCRIPTS; do printf '%s_bench %ss, ' "$s" "${wall[$s]}"; done | sed 's/, $//'))
- Load average before: $load_before; after: $load_after
- Scripts: $(for s in $SCRIPTS; do printf '%s_bench %s (errors during measurement: %s), ' "$s" "${status[$s]}" "$(get "$s" errors_total)"; done | sed 's/, $//')

## Issue 12 targets

Ratios are esgate / reference, medians of the runs in each script's own section below (measured side by side in
one run of that script). On a shared 2-core VM the CPU-per-request ratios are the figures to trust; req/s and
latency move with whatever else runs on the machine.

| target | measured | met | from |
| --- | ---: | --- | --- |
EOF
  row "CPU/req ≤ 1.0× nginx, small plain requests (keep-alive, -c50)" "$p_cpu_n" "$(le "$p_cpu_n" 1.0)" "perf_bench small"
  row "CPU/req ≤ 1.0× HAProxy, small plain requests" "$p_cpu_h" "$(le "$p_cpu_h" 1.0)" "perf_bench small"
  row "CPU/req ≤ 1.1× nginx, TLS 1.3 keep-alive" "$t_cpu_n" "$(le "$t_cpu_n" 1.1)" "tls_bench keep-alive"
  row "CPU/req ≤ 1.1× HAProxy, TLS 1.3 keep-alive" "$t_cpu_h" "$(le "$t_cpu_h" 1.1)" "tls_bench keep-alive"
  row "saturated req/s ≥ 1.0× nginx (small plain, -c50)" "$p_rps_n" "$(ge "$p_rps_n" 1.0)" "perf_bench small"
  row "\`_bulk\` MB/s ≥ 1.0× nginx (\`nginx_buf\`)" "$b_mb_n" "$(ge "$b_mb_n" 1.0)" "bulk_bench"
  row "added p99 at moderate load ≤ nginx's" "esgate $add_e µs, nginx $add_n µs (HAProxy $add_h µs)" "$add_met" "perf_bench latency"
  row "random-key flood leaves legitimate p99 within 2×" "$fl" "$(le "$fl" 2)" "perf_bench flood"
  cat <<EOF

Other figures (no target in the issue):

| figure | measured |
| --- | ---: |
EOF
  printf '| CPU/req esgate / nginx, 1 MB answers | %s |\n' "$(ratio "$(get perf 1mb.esgate.cpu)" "$(get perf 1mb.nginx.cpu)")"
  printf '| MB/s esgate / nginx, 1 MB answers | %s |\n' "$(ratio "$(get perf 1mb.esgate.mbps)" "$(get perf 1mb.nginx.mbps)")"
  printf '| CPU/req esgate / nginx, 1000 connections | %s |\n' "$(ratio "$(get perf conns1000.esgate.cpu)" "$(get perf conns1000.nginx.cpu)")"
  printf '| req/s esgate / nginx, 1000 connections | %s |\n' "$(ratio "$(get perf conns1000.esgate.rps)" "$(get perf conns1000.nginx.rps)")"
  printf '| cold key (Redis read per request) / cached: req/s, CPU/req | %s, %s |\n' "$(get perf cold_rps_vs_cached)" "$(get perf cold_cpu_vs_cached)"
  printf '| TLS handshake CPU esgate / nginx, / HAProxy | %s, %s |\n' "$(get tls handshake_cpu_ratio_nginx)" "$(get tls handshake_cpu_ratio_haproxy)"
  # shellcheck disable=SC2016 # the backticks are Markdown
  printf '| `_bulk` CPU/req esgate / nginx_buf | %s |\n' "$(get bulk cpu_ratio_nginx_buf)"
  echo
  for s in $SCRIPTS; do
    echo
    if [ -s "$work/$s.md" ]; then
      # The scripts' sections are "##"; under this report's "#" they stay at that level.
      cat "$work/$s.md"
    else
      echo "## bench/${s}_bench.sh: ${status[$s]}, no report"
    fi
    echo
  done
}

report | { if [ -n "$OUT" ]; then tee "$OUT"; else cat; fi; }
for s in $SCRIPTS; do [ "${status[$s]}" = ok ] || exit 1; done
