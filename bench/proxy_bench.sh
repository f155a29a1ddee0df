#!/usr/bin/env bash
# esgate proxy overhead, side by side in one run (method: shared/docs/benchmarking.md):
#   direct  wrk -> nginx stub (return 200)
#   nginx   wrk -> nginx plain reverse proxy (1 worker, core 0, upstream keepalive) -> stub
#   esgate  wrk -> esgate (1 thread, core 0, cached Basic auth of a superuser)   -> stub
# Load generator, stub and Redis share core 1; the proxy under test has core 0 to itself.
# Prints a Markdown section on stdout; progress and warnings go to stderr.
#
# Environment (all optional):
#   ESGATE_BIN    esgate binary                 (default: <repo>/build/bin/esgate)
#   ESGATE_SRC    git tree the binary was built from, for the commit in the report (default: <repo>)
#   ESGATE_COMMIT commit to report instead, e.g. for a tree exported with `git archive` (no .git)
#   RUNS          repetitions per configuration (default 3; medians are reported)
#   DURATION      seconds per throughput run    (default 10, wrk -c$CONNS)
#   LAT_DURATION  seconds per light-load run    (default 10, wrk -c1 and -c8)
#   WARMUP        seconds of discarded warm-up load per target (default 3)
#   CONNS         connections for the throughput run (default 50)
#   BENCH_PATH    request path                  (default /bench/_search)
#   PROXY_CPU / LOAD_CPU  cores for the proxy / for wrk+stub+redis (default 0 / 1)
#   OUT           also write the Markdown section to this file
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

ESGATE_BIN=${ESGATE_BIN:-$root/build/bin/esgate}
ESGATE_SRC=${ESGATE_SRC:-$root}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
LAT_DURATION=${LAT_DURATION:-10}
WARMUP=${WARMUP:-3}
CONNS=${CONNS:-50}
BENCH_PATH=${BENCH_PATH:-/bench/_search}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT:-}

# The exact command, with the knobs that were set, for the report.
cmd=""
for v in ESGATE_BIN ESGATE_SRC ESGATE_COMMIT RUNS DURATION LAT_DURATION WARMUP CONNS BENCH_PATH PROXY_CPU LOAD_CPU; do
  if printenv "$v" >/dev/null; then cmd+="$v=$(printenv "$v") "; fi
done
cmd+="bench/proxy_bench.sh${*:+ $*}"

bench_name=proxy_bench
for tool in nginx wrk redis-server curl taskset ss pgrep vmstat awk; do
  command -v "$tool" >/dev/null || die "$tool not found (as root: apt-get install -y nginx-light wrk redis-server curl procps)"
done
[ -x "$ESGATE_BIN" ] || die "esgate binary not found at $ESGATE_BIN (build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DESGATE_BUILD_TESTS=OFF && ninja -C build esgate)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"

# ---------------------------------------------------------------------------------------------
# Every process we start is tracked (lib.sh) and stopped on exit, whatever the exit path.
bench_init proxy_bench

stub_port=$(free_port)
nginx_port=$(free_port)
esgate_port=$(free_port)
redis_port=$(free_port)
mkdir -p "$work/tmp"

# Keep-alive limits raised so neither nginx closes a connection every 1000 requests (esgate does
# not), which would add reconnects to two of the three columns only.
nginx_common="daemon off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid PIDFILE;
error_log ERRLOG warn;
events { worker_connections 4096; }"
nginx_http_common="access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;"

cat >"$work/stub.conf" <<EOF
${nginx_common//PIDFILE/$work/stub.pid}
http {
  $nginx_http_common
  server {
    listen 127.0.0.1:$stub_port;
    location / { return 200 "ok\n"; }
  }
}
EOF
sed -i "s|ERRLOG|$work/stub.err|" "$work/stub.conf"

cat >"$work/proxy.conf" <<EOF
${nginx_common//PIDFILE/$work/proxy.pid}
http {
  $nginx_http_common
  upstream stub {
    server 127.0.0.1:$stub_port;
    keepalive 64;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://stub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
sed -i "s|ERRLOG|$work/proxy.err|" "$work/proxy.conf"

# ---------------------------------------------------------------------------------------------
log "machine load before: $(uptime)"
vmstat_before=$(vmstat 1 3)
load_before=$(loadavg)

log "starting stub nginx (core $LOAD_CPU) on :$stub_port, proxy nginx (core $PROXY_CPU) on :$nginx_port"
taskset -c "$LOAD_CPU" nginx -p "$work/" -e "$work/stub.early.err" -c "$work/stub.conf" &
stub_master=$!; pids+=("$stub_master")
taskset -c "$PROXY_CPU" nginx -p "$work/" -e "$work/proxy.early.err" -c "$work/proxy.conf" &
proxy_master=$!; pids+=("$proxy_master")
wait_http "http://127.0.0.1:$stub_port/" "stub nginx"
wait_http "http://127.0.0.1:$nginx_port/" "proxy nginx"
stub_worker=$(nginx_worker "$stub_master"); pids+=("$stub_worker")
proxy_worker=$(nginx_worker "$proxy_master"); pids+=("$proxy_worker")

log "starting redis-server (core $LOAD_CPU) on :$redis_port"
start_redis "$redis_port" "$LOAD_CPU"

# A superuser for HTTP Basic; the password is random per run and never leaves $work.
password=$(random_password)
make_superuser "$ESGATE_BIN" bench "$password" "$work"
cat >"$work/esgate.yaml" <<EOF
threads: 1
listen: {address: 127.0.0.1, port: $esgate_port}
upstream: {nodes: ["http://127.0.0.1:$stub_port"]}
redis: {url: "redis://127.0.0.1:$redis_port/0"}
security: {users_file: users.yml, roles_file: roles.yml}
EOF
auth="Authorization: Basic $(printf 'bench:%s' "$password" | base64 -w0)"

log "starting esgate (1 thread, core $PROXY_CPU) on :$esgate_port"
taskset -c "$PROXY_CPU" "$ESGATE_BIN" --config "$work/esgate.yaml" 2>"$work/esgate.log" &
esgate_pid=$!; pids+=("$esgate_pid")
LOG_OF_PID=$work/esgate.log wait_http "http://127.0.0.1:$esgate_port/_esgate/health" esgate "$esgate_pid"

# ---------------------------------------------------------------------------------------------
# Each target must answer 200 before anything is measured; esgate must also refuse a request
# without credentials, or we would be measuring a gateway that does not authenticate.
# esgate_key: the same gateway, authenticated by an API key (no role_descriptors: the key inherits
# its superuser owner's roles), created through the gateway's own API.
key_json=$(curl -s --max-time 10 -u "bench:$password" -X POST -H 'Content-Type: application/json' \
  -d '{"name":"bench"}' "http://127.0.0.1:$esgate_port/_security/api_key") || die "creating an API key failed"
encoded=$(printf '%s' "$key_json" | sed -n 's/.*"encoded":"\([^"]*\)".*/\1/p')
[ -n "$encoded" ] || die "no API key in: $key_json"
targets=(direct nginx esgate esgate_key)
declare -A url=(
  [direct]="http://127.0.0.1:$stub_port$BENCH_PATH"
  [nginx]="http://127.0.0.1:$nginx_port$BENCH_PATH"
  [esgate]="http://127.0.0.1:$esgate_port$BENCH_PATH"
  [esgate_key]="http://127.0.0.1:$esgate_port$BENCH_PATH"
)
declare -A hdr=([direct]="$auth" [nginx]="$auth" [esgate]="$auth" [esgate_key]="Authorization: ApiKey $encoded")
declare -A cpu_pid=([nginx]=$proxy_worker [esgate]=$esgate_pid [esgate_key]=$esgate_pid)

status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }
for t in "${targets[@]}"; do
  code=$(status -H "${hdr[$t]}" "${url[$t]}")  # for esgate this first one pays the bcrypt
  [ "$code" = 200 ] || { [ "$t" = esgate ] && tail -n 20 "$work/esgate.log" >&2; die "$t answered $code, not 200, on ${url[$t]}"; }
  log "check: $t -> $code"
done
code=$(status "${url[esgate]}")
[ "$code" = 401 ] || die "esgate answered $code without credentials (expected 401)"
log "check: esgate without credentials -> 401"

# wrk prints its own summary (kept in the log); this adds one machine-readable line with exact
# numbers: latency in µs, error counts by kind.
cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%.1f p99_us=%.1f errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

# run_wrk TARGET CONNS SECONDS sets $result to "rps cpu_us_per_req cpu_pct wait_pct p50_us p99_us errors".
# wrk runs in the background and is waited for, so a signal to this script stops the run at once.
result=""
run_wrk() {
  local t=$1 c=$2 d=$3 pid=${cpu_pid[$1]:-} before=0 after=0 wait_before=0 wait_after=0 out line
  if [ -n "$pid" ]; then before=$(cpu_ticks "$pid"); wait_before=$(run_delay_ns "$pid"); fi
  timeout $((d + 30)) taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"${d}s" --latency \
    -H "${hdr[$t]}" -s "$work/report.lua" "${url[$t]}" >"$work/wrk.out" &
  load_pids=("$!")
  wait "${load_pids[0]}" || die "wrk failed against $t"
  load_pids=()
  if [ -n "$pid" ]; then after=$(cpu_ticks "$pid"); wait_after=$(run_delay_ns "$pid"); fi
  out=$(<"$work/wrk.out")
  printf '### %s c=%s d=%ss\n%s\n' "$t" "$c" "$d" "$out" >>"$work/wrk.log"
  line=$(grep '^BENCH ' <<<"$out") || die "no summary from wrk against $t"
  result=$(awk -v ticks=$((after - before)) -v wait_ns=$((wait_after - wait_before)) -v hz="$clk_tck" -v has_pid="${pid:+1}" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      secs = v["duration_us"] / 1e6
      cpu_us = ticks * 1e6 / hz
      printf "%.0f %s %s %s %.0f %.0f %d\n", v["requests"] / secs,
        has_pid ? sprintf("%.2f", cpu_us / v["requests"]) : "-",
        has_pid ? sprintf("%.0f", 100 * cpu_us / v["duration_us"]) : "-",
        has_pid ? sprintf("%.0f", wait_ns / 10 / v["duration_us"]) : "-",
        v["p50_us"], v["p99_us"], v["errors"]
    }' <<<"$line")
}

# Record the whole run's vmstat (on the load core) to spot noise from other tenants.
taskset -c "$LOAD_CPU" vmstat -n 1 >"$work/vmstat.log" &
pids+=("$!")

log "warm-up: ${WARMUP}s per target at -c$CONNS (discarded)"
for t in "${targets[@]}"; do run_wrk "$t" "$CONNS" "$WARMUP"; done

# results.tsv: target load run rps cpu_us_per_req cpu_pct wait_pct p50 p99 errors
loads=("$CONNS:$DURATION" "1:$LAT_DURATION" "8:$LAT_DURATION")
total=$((RUNS * ${#loads[@]} * ${#targets[@]}))
n=0
for run in $(seq "$RUNS"); do
  # Rotate the target order each run so slow drift does not always favour the same one.
  order=()
  for i in "${!targets[@]}"; do order+=("${targets[$(((i + run - 1) % ${#targets[@]}))]}"); done
  for spec in "${loads[@]}"; do
    c=${spec%%:*} d=${spec##*:}
    for t in "${order[@]}"; do
      n=$((n + 1))
      run_wrk "$t" "$c" "$d"
      r=$result
      log "[$n/$total] run $run $t -c$c: $r"
      printf '%s\tc%s\t%s\t%s\n' "$t" "$c" "$run" "${r// /$'\t'}" >>"$work/results.tsv"
    done
  done
done

load_after=$(loadavg)
esgate_threads=$(awk '/^Threads:/ { print $2 }' "/proc/$esgate_pid/status")
log "machine load after: $(uptime)"

# ---------------------------------------------------------------------------------------------
# Medians and ratios.
# median_of TARGET LOAD COLUMN(4..10): lib.sh's median of that column of results.tsv over the runs.
median_of() { awk -F'\t' -v t="$1" -v l="$2" -v c="$3" '$1 == t && $2 == l { print $c }' "$work/results.tsv" | median; }

declare -A m
for t in "${targets[@]}"; do
  for l in "c$CONNS" c1 c8; do
    m[$t,$l,rps]=$(median_of "$t" "$l" 4)
    m[$t,$l,cpu]=$(median_of "$t" "$l" 5)
    m[$t,$l,pct]=$(median_of "$t" "$l" 6)
    m[$t,$l,wait]=$(median_of "$t" "$l" 7)
    m[$t,$l,p50]=$(median_of "$t" "$l" 8)
    m[$t,$l,p99]=$(median_of "$t" "$l" 9)
  done
done
errors_total=$(awk -F'\t' '{ s += $10 } END { print s + 0 }' "$work/results.tsv")

commit=$(commit_desc "$ESGATE_SRC")
[ "$commit" != unknown ] || commit="\`unknown\`" # this report has always shown it as code
version=$("$ESGATE_BIN" --version 2>/dev/null | head -n 1 || true)
vm_summary=$(vmstat_summary "$work/vmstat.log")
vm_before=$(vmstat_brief <<<"$vmstat_before")

C=c$CONNS
pct() { [ "$1" = - ] && echo - || echo "$(fmt "$1")%"; }
busy_wait() { [ "${m[$1,$2,pct]}" = - ] && echo - || echo "$(fmt "${m[$1,$2,pct]}")+$(fmt "${m[$1,$2,wait]}")%"; }
report() {
  cat <<EOF
## Proxy overhead: esgate vs nginx vs direct ($(date -u '+%Y-%m-%d %H:%M UTC'))

- Machine: $(machine_desc)
- Commit: $commit; binary \`$ESGATE_BIN\`${version:+ ($version)}, $esgate_threads thread(s) in the process
- Command: \`$cmd\`
- Load average before: $load_before ($vm_before over \`vmstat 1 3\`); after: $load_after
- During the run (\`vmstat 1\`): $vm_summary
- Setup: proxy under test on core $PROXY_CPU (nginx: 1 worker, upstream \`keepalive 64\`; esgate: \`threads: 1\`,
  cached Basic auth of a superuser); wrk, the nginx stub (\`return 200\`) and Redis on core $LOAD_CPU.
  \`GET $BENCH_PATH\`, wrk 1 thread, closed loop. $RUNS runs per cell, medians shown; ${DURATION}s at -c$CONNS,
  ${LAT_DURATION}s at -c1 and -c8; ${WARMUP}s warm-up per target discarded.
  Errors (socket + non-2xx) over all measured runs: $errors_total.

Throughput and cost (-c$CONNS). CPU µs/req is the primary figure. "busy" is the proxy's CPU time and "waited"
its threads' run-queue delay, both over wall time: busy + waited near 100% means the proxy was the bottleneck
(sharing its core with other tenants when waited is large); well below 100% means it was idle part of the time.

| target | req/s | proxy CPU µs/req | proxy busy | proxy waited for CPU |
| --- | ---: | ---: | ---: | ---: |
EOF
  for t in "${targets[@]}"; do
    printf '| %s | %s | %s | %s | %s |\n' "$t" "$(fmt "${m[$t,$C,rps]}")" "$(fmt "${m[$t,$C,cpu]}" 1)" \
      "$(pct "${m[$t,$C,pct]}")" "$(pct "${m[$t,$C,wait]}")"
  done
  cat <<EOF

Latency at light load (closed loop, 1 and 8 connections; µs). A proxy whose busy + waited nears 100% at -c8
is saturated there, and its -c8 latency is queueing, not overhead.

| target | p50 -c1 | p99 -c1 | p50 -c8 | p99 -c8 | proxy CPU µs/req -c1 / -c8 | proxy busy + waited -c1 / -c8 |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
  for t in "${targets[@]}"; do
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$t" \
      "$(fmt "${m[$t,c1,p50]}")" "$(fmt "${m[$t,c1,p99]}")" "$(fmt "${m[$t,c8,p50]}")" "$(fmt "${m[$t,c8,p99]}")" \
      "$(fmt "${m[$t,c1,cpu]}" 1) / $(fmt "${m[$t,c8,cpu]}" 1)" \
      "$(busy_wait "$t" c1) / $(busy_wait "$t" c8)"
  done
  cat <<EOF

| ratio | req/s -c$CONNS | CPU µs/req -c$CONNS | CPU µs/req -c1 | p50 -c1 | p99 -c1 | p50 -c8 | p99 -c8 |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
  local b
  local a
  for pair in esgate:nginx esgate:direct esgate_key:nginx esgate_key:esgate; do
    a=${pair%%:*} b=${pair##*:}
    printf '| %s / %s | %s | %s | %s | %s | %s | %s | %s |\n' "$a" "$b" \
      "$(ratio "${m[$a,$C,rps]}" "${m[$b,$C,rps]}")" "$(ratio "${m[$a,$C,cpu]}" "${m[$b,$C,cpu]}")" \
      "$(ratio "${m[$a,c1,cpu]}" "${m[$b,c1,cpu]}")" \
      "$(ratio "${m[$a,c1,p50]}" "${m[$b,c1,p50]}")" "$(ratio "${m[$a,c1,p99]}" "${m[$b,c1,p99]}")" \
      "$(ratio "${m[$a,c8,p50]}" "${m[$b,c8,p50]}")" "$(ratio "${m[$a,c8,p99]}" "${m[$b,c8,p99]}")"
  done
  printf '\nAdded p50 latency at -c1 over direct: nginx %s µs, esgate %s µs.\n' \
    "$(awk -v a="${m[nginx,c1,p50]}" -v b="${m[direct,c1,p50]}" 'BEGIN { printf "%+.0f", a - b }')" \
    "$(awk -v a="${m[esgate,c1,p50]}" -v b="${m[direct,c1,p50]}" 'BEGIN { printf "%+.0f", a - b }')"
  cat <<EOF

<details><summary>Every run</summary>

| target | load | run | req/s | proxy CPU µs/req | proxy busy | proxy waited | p50 µs | p99 µs | errors |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
  sort -t$'\t' -k1,1 -k2,2V -k3,3n "$work/results.tsv" |
    awk -F'\t' '{ u = ($6 == "-" ? "" : "%"); printf "| %s | -%s | %s | %s | %s | %s%s | %s%s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, u, $7, u, $8, $9, $10 }'
  printf '\n</details>\n'
}

report | { if [ -n "$OUT" ]; then tee "$OUT"; else cat; fi; }
[ "$errors_total" = 0 ] || log "warning: $errors_total errors (socket or non-2xx) during measurement; see the per-run table"
