#!/usr/bin/env bash
# TLS 1.3 figures from one run, esgate vs nginx vs HAProxy as TLS-terminating proxies in front of the
# same stub, with the same ECDSA P-256 certificate (method: shared/docs/benchmarking.md):
#   handshakes  full TLS 1.3 handshakes per second: bench/tls_handshake.c (compiled here), CONNS_HS
#               connections at a time, each a fresh connection (never resumed), one proxied request
#               with `Connection: close`, read to the end
#   keep-alive  wrk over TLS 1.3, CONNS keep-alive connections, small proxied GETs
# For both: the proxy's CPU time (utime + stime from /proc/PID/stat) per handshake / per request,
# the primary figure on a shared VM. esgate authenticates every request with an API key, cached
# after the first request. Proxies on core PROXY_CPU (esgate `threads: 1`, nginx 1 worker, HAProxy
# `nbthread 1`); the load generators, the stub (nginx `return 200`) and Redis on core LOAD_CPU.
# Prints a Markdown section on stdout; progress goes to stderr.
#
# Environment (all optional):
#   ESGATE_BIN    esgate binary (default <repo>/build/bin/esgate, a Release build)
#   ESGATE_SRC    git tree the binary was built from, for the commit in the report (default <repo>)
#   RUNS          repetitions per target and kind (default 3; medians are reported)
#   DURATION      seconds per measured run (default 10)
#   WARMUP        seconds of discarded load per target and kind (default 3)
#   CONNS         wrk keep-alive connections (default 50)
#   CONNS_HS      concurrent connections of the handshake client (default 16)
#   PROXY_CPU / LOAD_CPU  cores (default 0 / 1)
#   OUT           also write the Markdown section to this file
#   PERF_OUT      after the measurement, also record `perf record $PERF_ARGS` of esgate under the
#                 keep-alive load (DURATION seconds) into this file (PERF_ARGS default: -g)
#   SUMMARY_OUT   also write the medians as key=value lines to this file (for bench/run_all.sh)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

ESGATE_BIN=${ESGATE_BIN:-$root/build/bin/esgate}
ESGATE_SRC=${ESGATE_SRC:-$root}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNS=${CONNS:-50}
CONNS_HS=${CONNS_HS:-16}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT:-}
SUMMARY_OUT=${SUMMARY_OUT:-}
PERF_OUT=${PERF_OUT:-}
PERF_ARGS=${PERF_ARGS:--g}

cmd=""
for v in ESGATE_BIN RUNS DURATION WARMUP CONNS CONNS_HS PROXY_CPU LOAD_CPU PERF_OUT; do
  if printenv "$v" >/dev/null; then cmd+="$v=$(printenv "$v") "; fi
done
cmd+="bench/tls_bench.sh"

bench_name=tls_bench
for tool in nginx haproxy wrk redis-server curl openssl taskset cc ss pgrep vmstat awk; do
  command -v "$tool" >/dev/null || die "$tool not found (as root: scripts/install-deps bench)"
done
[ -x "$ESGATE_BIN" ] || die "esgate binary not found at $ESGATE_BIN (build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build esgate)"
for v in RUNS DURATION CONNS CONNS_HS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer"
[ -z "$PERF_OUT" ] || command -v perf >/dev/null || die "PERF_OUT is set but perf is not installed"

bench_init tls_bench # $work, and every process in $pids / $load_pids stopped on exit

log "building the handshake client"
cc -O2 -o "$work/tls_handshake" "$root/bench/tls_handshake.c" -lssl -lcrypto ||
  die "cannot build bench/tls_handshake.c (needs libssl-dev)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/both.pem"
chmod 711 "$work"; chmod 644 "$work"/*.pem
mkdir -p "$work/tmp"

stub_port=$(free_port) nginx_port=$(free_port) haproxy_port=$(free_port) esgate_port=$(free_port)
redis_port=$(free_port)
nofile=$(ulimit -Hn)
ulimit -n "$nofile"

cat >"$work/stub.conf" <<EOF
daemon off; worker_processes 1; worker_rlimit_nofile 16384; pid $work/stub.pid;
error_log $work/stub.err warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 100000000; keepalive_timeout 75s;
  client_body_temp_path $work/tmp/b; proxy_temp_path $work/tmp/p; fastcgi_temp_path $work/tmp/f;
  uwsgi_temp_path $work/tmp/u; scgi_temp_path $work/tmp/s;
  server { listen 127.0.0.1:$stub_port; location / { default_type application/json; return 200 '{"ok":true}'; } }
}
EOF
cat >"$work/proxy.conf" <<EOF
daemon off; worker_processes 1; worker_rlimit_nofile 16384; pid $work/proxy.pid;
error_log $work/proxy.err warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 100000000; keepalive_timeout 75s;
  client_body_temp_path $work/tmp/b2; proxy_temp_path $work/tmp/p2; fastcgi_temp_path $work/tmp/f2;
  uwsgi_temp_path $work/tmp/u2; scgi_temp_path $work/tmp/s2;
  upstream stub { server 127.0.0.1:$stub_port; keepalive 64; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; ssl_protocols TLSv1.3;
    location / { proxy_pass http://stub; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
cat >"$work/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 75s
  timeout server 75s
  timeout http-keep-alive 75s
frontend tls
  bind 127.0.0.1:$haproxy_port ssl crt $work/both.pem ssl-min-ver TLSv1.3
  default_backend stub
backend stub
  http-reuse always
  server s1 127.0.0.1:$stub_port
EOF

password=$(random_password)
make_superuser "$ESGATE_BIN" bench "$password" "$work"
cat >"$work/esgate.yaml" <<EOF
threads: 1
listen:
  address: 127.0.0.1
  port: $esgate_port
  tls: {certificate: $work/cert.pem, key: $work/key.pem, min_version: "1.3"}
upstream: {nodes: ["http://127.0.0.1:$stub_port"]}
redis: {url: "redis://127.0.0.1:$redis_port/0"}
security: {users_file: users.yml, roles_file: roles.yml}
EOF

log "machine load before: $(uptime)"
vmstat_before=$(vmstat 1 3)
load_before=$(loadavg)

taskset -c "$LOAD_CPU" nginx -p "$work/" -e "$work/stub.early" -c "$work/stub.conf" & pids+=("$!")
stub_master=$!
taskset -c "$PROXY_CPU" nginx -p "$work/" -e "$work/proxy.early" -c "$work/proxy.conf" & pids+=("$!")
proxy_master=$!
taskset -c "$PROXY_CPU" haproxy -f "$work/haproxy.cfg" 2>"$work/haproxy.err" & pids+=("$!")
haproxy_pid=$!
start_redis "$redis_port" "$LOAD_CPU"
taskset -c "$PROXY_CPU" "$ESGATE_BIN" --config "$work/esgate.yaml" 2>"$work/esgate.log" & pids+=("$!")
esgate_pid=$!
wait_http "https://127.0.0.1:$nginx_port/" nginx
wait_http "https://127.0.0.1:$haproxy_port/" haproxy
wait_http "https://127.0.0.1:$esgate_port/_esgate/health" esgate
stub_worker=$(nginx_worker "$stub_master"); pids+=("$stub_worker")
proxy_worker=$(nginx_worker "$proxy_master"); pids+=("$proxy_worker")

# The API key (the superuser's own privileges), created through the gateway's API over TLS.
key_json=$(curl -sk --max-time 10 -u "bench:$password" -X POST -H 'Content-Type: application/json' \
  -d '{"name":"tls-bench"}' "https://127.0.0.1:$esgate_port/_security/api_key") || die "creating an API key failed"
encoded=$(printf '%s' "$key_json" | sed -n 's/.*"encoded":"\([^"]*\)".*/\1/p')
[ -n "$encoded" ] || die "no API key in: $key_json"
key_hdr="Authorization: ApiKey $encoded"
path=/bench/_search

targets=(nginx haproxy esgate)
declare -A port=([nginx]=$nginx_port [haproxy]=$haproxy_port [esgate]=$esgate_port)
declare -A pid_of=([nginx]=$proxy_worker [haproxy]=$haproxy_pid [esgate]=$esgate_pid)

# Every target answers 200 to the request both loads send (the same header to all three);
# esgate refuses it without the key.
for t in "${targets[@]}"; do
  code=$(curl -sk -o "$work/resp" -w '%{http_code}' --max-time 5 -H "$key_hdr" "https://127.0.0.1:${port[$t]}$path" || true)
  [ "$code" = 200 ] || { tail -n 20 "$work/esgate.log" >&2; die "$t answered $code: $(head -c 300 "$work/resp")"; }
done
code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "https://127.0.0.1:$esgate_port$path" || true)
[ "$code" = 401 ] || die "esgate answered $code without credentials (expected 401)"
log "check: all answer 200 with the key; esgate without it: 401"
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\nConnection: close\r\n\r\n' "$path" "$key_hdr" >"$work/request"

cat >"$work/done.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%.1f p99_us=%.1f errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

# measure KIND TARGET SECONDS -> $result = "rate cpu_us busy_pct wait_pct errors extra"
result=""
measure() {
  local kind=$1 t=$2 d=$3 pid=${pid_of[$2]} before after wb wa line
  before=$(cpu_ticks "$pid"); wb=$(run_delay_ns "$pid")
  if [ "$kind" = keepalive ]; then
    timeout $((d + 60)) taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${d}s" --latency -H "$key_hdr" \
      -s "$work/done.lua" "https://127.0.0.1:${port[$t]}$path" >"$work/load.out" &
  else
    timeout $((d + 60)) taskset -c "$LOAD_CPU" "$work/tls_handshake" 127.0.0.1 "${port[$t]}" "$d" "$CONNS_HS" \
      "$work/request" >"$work/load.out" &
  fi
  load_pids=("$!")
  wait "${load_pids[0]}" || die "the $kind load against $t failed: $(tail -n 3 "$work/load.out")"
  load_pids=()
  after=$(cpu_ticks "$pid"); wa=$(run_delay_ns "$pid")
  printf '### %s %s %ss\n%s\n' "$kind" "$t" "$d" "$(cat "$work/load.out")" >>"$work/load.log"
  line=$(grep '^BENCH ' "$work/load.out") || die "no summary from the $kind load against $t"
  result=$(awk -v kind="$kind" -v ticks=$((after - before)) -v wait_ns=$((wa - wb)) -v hz="$clk_tck" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      cpu_us = ticks * 1e6 / hz
      if (kind == "keepalive") { n = v["requests"]; us = v["duration_us"]; err = v["errors"]; extra = "p50=" v["p50_us"] "us" }
      else { n = v["handshakes"]; us = v["seconds"] * 1e6; err = v["errors"] + v["resumed"] + v["not_200"]
             extra = v["cipher"] "/" v["group"] (v["resumed"] > 0 ? " resumed=" v["resumed"] : "") }
      printf "%.1f %.2f %.0f %.0f %d %s\n", n / (us / 1e6), n ? cpu_us / n : 0, 100 * cpu_us / us,
        wait_ns / 10 / us, err, extra
    }' <<<"$line")
}

taskset -c "$LOAD_CPU" vmstat -n 1 >"$work/vmstat.log" & pids+=("$!")
kinds=(handshake keepalive)
if [ "$WARMUP" -gt 0 ]; then
  log "warm-up: ${WARMUP}s per target and kind (discarded)"
  for k in "${kinds[@]}"; do for t in "${targets[@]}"; do measure "$k" "$t" "$WARMUP"; done; done
fi
total=$((RUNS * ${#targets[@]} * ${#kinds[@]})) n=0
for run in $(seq "$RUNS"); do
  for k in "${kinds[@]}"; do
    for i in "${!targets[@]}"; do  # order rotated per run: slow drift favours no target
      t=${targets[$(((i + run - 1) % ${#targets[@]}))]}
      n=$((n + 1))
      measure "$k" "$t" "$DURATION"
      log "[$n/$total] run $run $k $t: $result"
      printf '%s\t%s\t%s\t%s\n' "$k" "$t" "$run" "${result// /$'\t'}" >>"$work/results.tsv"
    done
  done
done
load_after=$(loadavg)
if [ -n "$PERF_OUT" ]; then
  log "perf record $PERF_ARGS of esgate for ${DURATION}s into $PERF_OUT"
  # shellcheck disable=SC2086 # PERF_ARGS is a list of options
  perf record $PERF_ARGS -o "$PERF_OUT" -p "$esgate_pid" -- sleep "$((DURATION + 1))" >"$work/perf.log" 2>&1 &
  perf_pid=$!; pids+=("$perf_pid")
  measure keepalive esgate "$DURATION"
  wait "$perf_pid" || log "warning: perf record failed: $(tail -n 3 "$work/perf.log")"
fi
esgate_log_bad=$(grep -ciE '\b(warn|warning|error|critical)\b' "$work/esgate.log" || true)

# median_of KIND TARGET COLUMN: lib.sh's median of that column of results.tsv over the runs.
median_of() { awk -F'\t' -v k="$1" -v t="$2" -v c="$3" '$1 == k && $2 == t { print $c }' "$work/results.tsv" | median; }
declare -A m
for k in "${kinds[@]}"; do
  for t in "${targets[@]}"; do
    m[$k,$t,rate]=$(median_of "$k" "$t" 4); m[$k,$t,cpu]=$(median_of "$k" "$t" 5)
    m[$k,$t,busy]=$(median_of "$k" "$t" 6); m[$k,$t,wait]=$(median_of "$k" "$t" 7)
  done
done
errors_total=$(awk -F'\t' '{ s += $8 } END { print s + 0 }' "$work/results.tsv")
cipher=$(awk -F'\t' '$1 == "handshake" { print $9 }' "$work/results.tsv" | sort | uniq -c | sort -rn | awk '{ $1 = ""; print }' | head -n 1)
commit=$(git -C "$ESGATE_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
[ -n "$(git -C "$ESGATE_SRC" status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=" (uncommitted changes)"
vm_summary=$(vmstat_summary "$work/vmstat.log")
vm_before=$(vmstat_brief <<<"$vmstat_before")
target_ratio=$(ratio "${m[keepalive,esgate,cpu]}" "${m[keepalive,nginx,cpu]}")
met=$(awk -v r="$target_ratio" 'BEGIN { print (r != "-" && r <= 1.1) ? "yes" : "**no**" }')

report() {
  cat <<EOF
## Run: TLS 1.3 handshakes and keep-alive requests: esgate vs nginx vs HAProxy ($(date -u '+%Y-%m-%d %H:%M UTC'))

- Machine: $(machine_desc), $(openssl version)
- Commit: \`$commit\`$dirty; binary \`$ESGATE_BIN\`; command: \`$cmd\`
- Load average before: $load_before ($vm_before over \`vmstat 1 3\`); after: $load_after
- During the run (\`vmstat 1\`): $vm_summary
- Proxies on core $PROXY_CPU: nginx $(nginx -v 2>&1 | sed 's/.*\///') (1 worker, \`ssl_protocols TLSv1.3\`, upstream
  \`keepalive 64\`), HAProxy $(haproxy -v | head -1 | awk '{print $3}') (\`nbthread 1\`, \`ssl-min-ver TLSv1.3\`, \`http-reuse always\`),
  esgate (\`threads: 1\`, \`min_version: "1.3"\`, every request authenticated by an API key, cached after the
  first). One ECDSA P-256 certificate for all; negotiated: $cipher. Stub (nginx \`return 200\`, 11 bytes of JSON),
  Redis and the load generators on core $LOAD_CPU. \`GET $path\` with the same \`Authorization: ApiKey …\` header to all.
- Handshakes: \`bench/tls_handshake.c\`, $CONNS_HS connections at a time, closed loop; each one a new TCP connection,
  a full handshake (no session cache: 0 resumed), one request with \`Connection: close\`, read until the proxy closes.
  Keep-alive: \`wrk -t1 -c$CONNS --latency\` over TLS 1.3. ${DURATION}s per run, $RUNS runs per target and kind (order
  rotated), medians; ${WARMUP}s warm-up per target and kind discarded. Errors (failed or resumed handshakes,
  non-200 answers, wrk socket/status errors) over all measured runs: $errors_total.
- CPU = the proxy process's utime + stime over the run, per handshake (with its request) or per request;
  busy / waited = its CPU time and run-queue delay over wall time (busy + waited ≈ 100%: the proxy was the
  bottleneck; well below: the load generator's core was).
- esgate log: $esgate_log_bad line(s) at warning level or above.

| target | handshakes/s | CPU µs per handshake | busy + waited | keep-alive req/s | CPU µs per request | busy + waited |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
  for t in "${targets[@]}"; do
    printf '| %s | %s | %s | %s+%s%% | %s | %s | %s+%s%% |\n' "$t" "$(fmt "${m[handshake,$t,rate]}")" \
      "$(fmt "${m[handshake,$t,cpu]}" 1)" "$(fmt "${m[handshake,$t,busy]}")" "$(fmt "${m[handshake,$t,wait]}")" \
      "$(fmt "${m[keepalive,$t,rate]}")" "$(fmt "${m[keepalive,$t,cpu]}" 2)" "$(fmt "${m[keepalive,$t,busy]}")" \
      "$(fmt "${m[keepalive,$t,wait]}")"
  done
  cat <<EOF

| ratio | handshakes/s | CPU per handshake | keep-alive req/s | CPU per request |
| --- | ---: | ---: | ---: | ---: |
EOF
  for b in nginx haproxy; do
    printf '| esgate / %s | %s | %s | %s | %s |\n' "$b" "$(ratio "${m[handshake,esgate,rate]}" "${m[handshake,$b,rate]}")" \
      "$(ratio "${m[handshake,esgate,cpu]}" "${m[handshake,$b,cpu]}")" \
      "$(ratio "${m[keepalive,esgate,rate]}" "${m[keepalive,$b,rate]}")" \
      "$(ratio "${m[keepalive,esgate,cpu]}" "${m[keepalive,$b,cpu]}")"
  done
  cat <<EOF

Target (issue 10): TLS keep-alive CPU per request ≤ 1.1× nginx's: **$target_ratio** — met: $met.

<details><summary>Every run</summary>

| kind | target | run | rate /s | CPU µs each | busy | waited | errors | |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |
EOF
  sort -t$'\t' -k1,1 -k2,2 -k3,3n "$work/results.tsv" |
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s%% | %s%% | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
  printf '\n</details>\n'
}

report | { if [ -n "$OUT" ]; then tee "$OUT"; else cat; fi; }
if [ -n "$SUMMARY_OUT" ]; then
  {
    echo "errors_total=$errors_total"
    for k in "${kinds[@]}"; do
      for t in "${targets[@]}"; do echo "$k.$t.rate=${m[$k,$t,rate]}"; echo "$k.$t.cpu=${m[$k,$t,cpu]}"; done
    done
    for b in nginx haproxy; do
      echo "keepalive_cpu_ratio_$b=$(ratio "${m[keepalive,esgate,cpu]}" "${m[keepalive,$b,cpu]}")"
      echo "handshake_cpu_ratio_$b=$(ratio "${m[handshake,esgate,cpu]}" "${m[handshake,$b,cpu]}")"
    done
  } >"$SUMMARY_OUT"
fi
[ "$errors_total" = 0 ] || log "warning: $errors_total errors during measurement; see the per-run table"
