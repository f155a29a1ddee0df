#!/usr/bin/env bash
# esgate `_bulk` throughput with per-item authorization, side by side in one run
# (method: shared/docs/benchmarking.md; patterns: bench/proxy_bench.sh):
#   direct         wrk -> nginx stub (reads the whole body, answers a small bulk response)
#   nginx_buf      wrk -> nginx proxy, proxy_request_buffering on (nginx's default), body in memory
#   nginx_stream   wrk -> nginx proxy, proxy_request_buffering off
#   esgate         wrk -> esgate (1 thread), API key allowed create_doc on logs-* only; one item in
#                  1,000 targets `secret` and is denied, so every request is filtered and spliced
#   esgate_nodeny  the same gateway and key, a body of the same size with no denied item
# plus the peak RSS growth of esgate for one in-flight bulk of BIG_MB (streamed: larger than the
# default limits.body_lookahead of 16 MiB).
# The proxy under test has core 0 to itself; wrk, the stub and Redis share core 1.
# Prints a Markdown section on stdout; progress and warnings go to stderr.
#
# Environment (all optional):
#   ESGATE_BIN    esgate binary                 (default: <repo>/build/bin/esgate, a Release build)
#   ESGATE_SRC    git tree the binary was built from, for the commit in the report (default: <repo>)
#   ESGATE_COMMIT commit to report instead, e.g. for a tree exported with `git archive` (no .git)
#   RUNS          repetitions per target        (default 3; medians are reported)
#   DURATION      seconds per wrk run           (default 10)
#   WARMUP        seconds of discarded warm-up load per target (default 3)
#   CONNS         wrk connections               (default 4)
#   BODY_MB       size of the measured bulk body, in MB of 10^6 bytes (default 10)
#   BIG_MB        size of the bulk for the RSS measurement (default 100; 0 skips it)
#   RESPONSE      the stub's bulk answer: items (default; one result per forwarded item, as
#                 Elasticsearch answers, so esgate splices its 403 items in) or empty ("items":[])
#   PROXY_CPU / LOAD_CPU  cores for the proxy / for wrk+stub+redis (default 0 / 1)
#   PERF_OUT      after the measurement, also record `perf record -g` of esgate under the same load
#                 (DURATION seconds) into this file
#   PERF_TARGET   the target perf records under (default esgate; esgate_nodeny)
#   PERF_ARGS     options for perf record (default -g; e.g. "--call-graph dwarf" for callers
#                 through code built without frame pointers)
#   OUT           also write the Markdown section to this file
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
CONNS=${CONNS:-4}
BODY_MB=${BODY_MB:-10}
BIG_MB=${BIG_MB:-100}
RESPONSE=${RESPONSE:-items}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT:-}
SUMMARY_OUT=${SUMMARY_OUT:-}
PERF_OUT=${PERF_OUT:-}
PERF_ARGS=${PERF_ARGS:--g}
PERF_TARGET=${PERF_TARGET:-esgate}

# The exact command, with the knobs that were set, for the report.
cmd=""
for v in ESGATE_BIN ESGATE_SRC ESGATE_COMMIT RUNS DURATION WARMUP CONNS BODY_MB BIG_MB RESPONSE PROXY_CPU LOAD_CPU PERF_OUT PERF_TARGET; do
  if printenv "$v" >/dev/null; then cmd+="$v=$(printenv "$v") "; fi
done
cmd+="bench/bulk_bench.sh${*:+ $*}"

bench_name=bulk_bench
for tool in nginx wrk redis-server curl taskset ss pgrep vmstat awk; do
  command -v "$tool" >/dev/null || die "$tool not found (as root: apt-get install -y nginx-light wrk redis-server curl procps)"
done
[ -x "$ESGATE_BIN" ] || die "esgate binary not found at $ESGATE_BIN (build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DESGATE_BUILD_TESTS=OFF && ninja -C build esgate)"
for v in RUNS DURATION CONNS BODY_MB; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[[ $BIG_MB =~ ^[0-9]+$ ]] || die "BIG_MB must be a non-negative integer"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer"
[[ $RESPONSE =~ ^(items|empty)$ ]] || die "RESPONSE must be items or empty"
[ "$BIG_MB" -le 190 ] || die "BIG_MB must stay below the 200mb body limits configured here"
[ -z "$PERF_OUT" ] || command -v perf >/dev/null || die "PERF_OUT is set but perf is not installed"

# ---------------------------------------------------------------------------------------------
# Every process we start is tracked (lib.sh) and stopped on exit, whatever the exit path.
bench_init bulk_bench

# ---------------------------------------------------------------------------------------------
# Bodies: `create` items of ~300-byte log documents; in the denied variant every 1,000th item
# targets `secret`. Generated once per run into the work dir (nothing of them is reused).
gen_bulk() { # FILE TARGET_BYTES DENY(1|0)
  awk -v target="$2" -v deny="$3" 'BEGIN {
    pad = sprintf("%130s", ""); gsub(/ /, "x", pad)
    ok = "{\"create\":{\"_index\":\"logs-a\"}}"
    no = "{\"create\":{\"_index\":\"secret\"}}"
    n = 0; bytes = 0; denied = 0
    while (bytes < target) {
      a = (deny && n % 1000 == 999) ? no : ok
      if (a == no) denied++
      d = sprintf("{\"@timestamp\":\"2026-11-28T12:%02d:%02d.%03dZ\",\"event\":{\"id\":%d,\"dataset\":\"bench.logs\"},\"host\":{\"name\":\"web-%02d\"},\"http\":{\"method\":\"GET\",\"status\":200,\"path\":\"/api/v1/items/%d\"},\"message\":\"%s\"}",
                  (n / 60) % 60, n % 60, n % 1000, n, n % 16, n * 7 % 100000, pad)
      printf "%s\n%s\n", a, d
      bytes += length(a) + length(d) + 2
      n++
    }
    printf "%d %d %d\n", n, denied, length(d) > "/dev/stderr"
  }' >"$1" 2>"$1.meta"
}

log "generating bulk bodies (2 x ${BODY_MB} MB, ${BIG_MB} MB) in $work"
gen_bulk "$work/bulk.ndjson" $((BODY_MB * 1000000)) 1
gen_bulk "$work/bulk_nodeny.ndjson" $((BODY_MB * 1000000)) 0
read -r body_items body_denied doc_bytes <"$work/bulk.ndjson.meta"
body_bytes=$(stat -c %s "$work/bulk.ndjson")
nodeny_bytes=$(stat -c %s "$work/bulk_nodeny.ndjson")
if [ "$BIG_MB" -gt 0 ]; then
  gen_bulk "$work/big.ndjson" $((BIG_MB * 1000000)) 1
  read -r big_items big_denied _ <"$work/big.ndjson.meta"
  big_bytes=$(stat -c %s "$work/big.ndjson")
fi
log "body: $body_bytes bytes, $body_items items ($body_denied denied), documents of $doc_bytes bytes"

stub_port=$(free_port)
nginx_buf_port=$(free_port)
nginx_stream_port=$(free_port)
esgate_port=$(free_port)
redis_port=$(free_port)
mkdir -p "$work/tmp"

# Keep-alive limits raised so neither nginx closes a connection every 1000 requests (esgate does
# not), which would add reconnects to some columns only.
nginx_common="daemon off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid PIDFILE;
error_log ERRLOG warn;
events { worker_connections 4096; }"
nginx_http_common="access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_max_body_size 200m;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;"

# The stub reads the whole body before it answers: `mirror` reads it in the precontent phase (into
# one 16m buffer, no temp file), the static handler refuses the POST and `error_page 405 =200`
# serves the answer as a GET of a file. (`return 200` would answer before the body is read and
# drop it afterwards; wrk, which writes the whole request before it reads, then stalls.)
# It also answers the index list esgate fetches to authorize bulk items.
# nginx's workers run unprivileged: they may traverse the work dir (not list it) and read stubroot.
chmod 711 "$work"
mkdir -p "$work/stubroot"
# RESPONSE=items (default): the answer Elasticsearch gives (without filter_path) to the denied
# variant's forwarded items, one `create` result per item, so esgate splices its 403 items in
# exactly as in production; RESPONSE=empty: `"items":[]` (esgate then passes the answer on).
if [ "$RESPONSE" = items ]; then
  awk -v n=$((body_items - body_denied)) 'BEGIN {
    printf "{\"took\":42,\"errors\":false,\"items\":["
    for (i = 0; i < n; i++)
      printf "%s{\"create\":{\"_index\":\"logs-a\",\"_id\":\"bench%015d\",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},\"_seq_no\":%d,\"_primary_term\":1,\"status\":201}}", (i ? "," : ""), i, i
    printf "]}"
  }' >"$work/stubroot/_bulk"
else
  printf '%s' '{"took":1,"errors":false,"items":[]}' >"$work/stubroot/_bulk"
fi
response_bytes=$(stat -c %s "$work/stubroot/_bulk")
if [ "$RESPONSE" = items ]; then
  response_desc="what Elasticsearch answers for the denied variant's $((body_items - body_denied)) forwarded items (one \`create\` result each, no filter_path), so esgate reads it whole and splices its $body_denied denied items (status 403) in at their positions; for \`esgate_nodeny\` the count differs and esgate passes it on unread"
else
  response_desc="\`{\"took\":1,\"errors\":false,\"items\":[]}\` (shorter than what esgate forwarded, so esgate passes it on instead of splicing: the splice is not measured)"
fi
chmod 755 "$work/stubroot"; chmod 644 "$work/stubroot/_bulk"
cat >"$work/stub.conf" <<EOF
${nginx_common//PIDFILE/$work/stub.pid}
http {
  $nginx_http_common
  client_body_buffer_size 16m;
  server {
    listen 127.0.0.1:$stub_port;
    root $work/stubroot;
    default_type application/json;
    location / {
      mirror /null;
      error_page 405 =200 /_bulk;
    }
    location = /null { internal; return 204; }
    # esgate's index list (GET /_resolve/index/*, at most once a second per thread): both exist.
    location /_resolve/index/ {
      return 200 '{"indices":[{"name":"logs-a","attributes":["open"]},{"name":"secret","attributes":["open"]}],"aliases":[],"data_streams":[]}';
    }
  }
}
EOF
sed -i "s|ERRLOG|$work/stub.err|" "$work/stub.conf"

# The reference proxy: one worker, two servers. nginx_buf is nginx's default request buffering,
# with client_body_buffer_size raised to 16m so the body is held in memory (as esgate holds up to
# limits.body_lookahead) rather than written to a temp file; nginx_stream passes it on as it reads.
proxy_location="location / {
      proxy_pass http://stub;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      REQBUF
    }"
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
    listen 127.0.0.1:$nginx_buf_port;
    client_body_buffer_size 16m;
    ${proxy_location//REQBUF/proxy_request_buffering on;}
  }
  server {
    listen 127.0.0.1:$nginx_stream_port;
    ${proxy_location//REQBUF/proxy_request_buffering off;}
  }
}
EOF
sed -i "s|ERRLOG|$work/proxy.err|" "$work/proxy.conf"

# ---------------------------------------------------------------------------------------------
log "machine load before: $(uptime)"
vmstat_before=$(vmstat 1 3)
load_before=$(loadavg)

log "starting stub nginx (core $LOAD_CPU) on :$stub_port, proxy nginx (core $PROXY_CPU) on :$nginx_buf_port/:$nginx_stream_port"
taskset -c "$LOAD_CPU" nginx -p "$work/" -e "$work/stub.early.err" -c "$work/stub.conf" &
stub_master=$!; pids+=("$stub_master")
taskset -c "$PROXY_CPU" nginx -p "$work/" -e "$work/proxy.early.err" -c "$work/proxy.conf" &
proxy_master=$!; pids+=("$proxy_master")
wait_http "http://127.0.0.1:$stub_port/" "stub nginx"
wait_http "http://127.0.0.1:$nginx_buf_port/" "proxy nginx"
stub_worker=$(nginx_worker "$stub_master"); pids+=("$stub_worker")
proxy_worker=$(nginx_worker "$proxy_master"); pids+=("$proxy_worker")

log "starting redis-server (core $LOAD_CPU) on :$redis_port"
start_redis "$redis_port" "$LOAD_CPU"

# A superuser for HTTP Basic (only to create the API key); random password, never leaves $work.
password=$(random_password)
make_superuser "$ESGATE_BIN" bench "$password" "$work"
# max_body_bytes raised above its 100mb default so the BIG_MB bulk fits; body_lookahead default.
cat >"$work/esgate.yaml" <<EOF
threads: 1
listen: {address: 127.0.0.1, port: $esgate_port}
upstream: {nodes: ["http://127.0.0.1:$stub_port"]}
redis: {url: "redis://127.0.0.1:$redis_port/0"}
security: {users_file: users.yml, roles_file: roles.yml}
limits: {max_body_bytes: 200mb}
EOF

log "starting esgate (1 thread, core $PROXY_CPU) on :$esgate_port"
taskset -c "$PROXY_CPU" "$ESGATE_BIN" --config "$work/esgate.yaml" 2>"$work/esgate.log" &
esgate_pid=$!; pids+=("$esgate_pid")
LOG_OF_PID=$work/esgate.log wait_http "http://127.0.0.1:$esgate_port/_esgate/health" esgate "$esgate_pid"

# ---------------------------------------------------------------------------------------------
# The API key: create_doc (+ create_index, which covers auto-create) on logs-* only, created
# through the gateway's own API by the Basic superuser.
key_req='{"name":"bulk-bench","role_descriptors":{"w":{"indices":[{"names":["logs-*"],"privileges":["create_doc","create_index"]}]}}}'
key_json=$(curl -s --max-time 10 -u "bench:$password" -X POST -H 'Content-Type: application/json' \
  -d "$key_req" "http://127.0.0.1:$esgate_port/_security/api_key") || die "creating an API key failed"
encoded=$(printf '%s' "$key_json" | sed -n 's/.*"encoded":"\([^"]*\)".*/\1/p')
[ -n "$encoded" ] || die "no API key in: $key_json"
key_hdr="Authorization: ApiKey $encoded"
ndjson_hdr="Content-Type: application/x-ndjson"

targets=(direct nginx_buf nginx_stream esgate esgate_nodeny)
declare -A url=(
  [direct]="http://127.0.0.1:$stub_port/_bulk"
  [nginx_buf]="http://127.0.0.1:$nginx_buf_port/_bulk"
  [nginx_stream]="http://127.0.0.1:$nginx_stream_port/_bulk"
  [esgate]="http://127.0.0.1:$esgate_port/_bulk"
  [esgate_nodeny]="http://127.0.0.1:$esgate_port/_bulk"
)
declare -A body=([direct]="$work/bulk.ndjson" [nginx_buf]="$work/bulk.ndjson" [nginx_stream]="$work/bulk.ndjson"
  [esgate]="$work/bulk.ndjson" [esgate_nodeny]="$work/bulk_nodeny.ndjson")
declare -A cpu_pid=([nginx_buf]=$proxy_worker [nginx_stream]=$proxy_worker [esgate]=$esgate_pid
  [esgate_nodeny]=$esgate_pid)

# post URL FILE [curl args...]: prints "status size_upload time_total" and leaves the body in $work/resp.
post() {
  local u=$1 f=$2
  shift 2
  curl -s -o "$work/resp" -w '%{http_code} %{size_upload} %{time_total}' --max-time 120 -X POST \
    -H 'Expect:' -H "$key_hdr" -H "$ndjson_hdr" --data-binary "@$f" "$@" "$u" || true
}

# Checks that esgate really authorizes: without credentials 401; a bulk naming only `secret` is
# answered by the gateway itself (nothing to forward), 200 with a 403 item.
printf '{"create":{"_index":"secret"}}\n{"a":1}\n' >"$work/secret.ndjson"
printf '{"create":{"_index":"logs-a"}}\n{"a":1}\n{"create":{"_index":"secret"}}\n{"a":1}\n' >"$work/mixed.ndjson"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H "$ndjson_hdr" \
  --data-binary "@$work/secret.ndjson" "${url[esgate]}" || true)
[ "$code" = 401 ] || die "esgate answered $code to a bulk without credentials (expected 401)"
log "check: esgate without credentials -> 401"
read -r code _ _ <<<"$(post "${url[esgate]}" "$work/secret.ndjson")"
if ! { [ "$code" = 200 ] && grep -q '"status":403' "$work/resp" && grep -q '"errors":true' "$work/resp"; }; then
  tail -n 20 "$work/esgate.log" >&2
  die "esgate answered $code to a denied-only bulk: $(head -c 400 "$work/resp")"
fi
log "check: esgate denied-only bulk -> 200 with a 403 item: $(head -c 300 "$work/resp")"
read -r code _ _ <<<"$(post "${url[esgate]}" "$work/mixed.ndjson")"
[ "$code" = 200 ] || die "esgate answered $code to a mixed bulk: $(head -c 400 "$work/resp")"
mixed_resp=$(head -c 400 "$work/resp")
log "check: esgate mixed bulk -> 200: $mixed_resp"

# ---------------------------------------------------------------------------------------------
# Peak RSS growth of esgate for one in-flight BIG_MB bulk, on a fresh gateway (before any
# BODY_MB request raised its high-water mark). VmHWM is reset to the current RSS first
# (clear_refs 5) where the kernel lets us, so the peak is this request's alone.
rss_rows=""
if [ "$BIG_MB" -gt 0 ]; then
  i=0
  for framing in length chunked; do
    i=$((i + 1))
    framing_args=()
    [ "$framing" = chunked ] && framing_args=(-H 'Transfer-Encoding: chunked')
    hwm_reset=no
    if { echo 5 >"/proc/$esgate_pid/clear_refs"; } 2>/dev/null; then hwm_reset=yes; fi
    rss0=$(status_kb "$esgate_pid" VmRSS) hwm0=$(status_kb "$esgate_pid" VmHWM)
    t0=$(cpu_ticks "$esgate_pid")
    read -r code up secs <<<"$(post "${url[esgate]}" "$work/big.ndjson" "${framing_args[@]}")"
    t1=$(cpu_ticks "$esgate_pid")
    rss1=$(status_kb "$esgate_pid" VmRSS) hwm1=$(status_kb "$esgate_pid" VmHWM)
    [ "$code" = 200 ] || { tail -n 20 "$work/esgate.log" >&2; die "esgate answered $code to the $BIG_MB MB bulk: $(head -c 400 "$work/resp")"; }
    row=$(awk -v i="$i" -v fr="$framing" -v r0="$rss0" -v h0="$hwm0" -v r1="$rss1" -v h1="$hwm1" -v s="$secs" -v b="$big_bytes" \
      -v t=$((t1 - t0)) -v hz="$clk_tck" -v reset="$hwm_reset" 'BEGIN {
      printf "| %d | %s | %.1f | %.1f | %.1f | **%.1f** | %+.1f | %.2f | %.0f | %.0f | %s |\n", i, fr, r0 / 1024, h1 / 1024,
        r1 / 1024, (h1 - (reset == "yes" ? r0 : h0)) / 1024, (r1 - r0) / 1024, s, b / 1e6 / s,
        t * 1e6 / hz / (b / 1e6), reset }')
    rss_rows+="$row"$'\n'
    log "RSS, $BIG_MB MB bulk #$i: $row"
  done
fi

# ---------------------------------------------------------------------------------------------
# Each target must answer 200 to the exact body wrk will send.
for t in "${targets[@]}"; do
  read -r code up _ <<<"$(post "${url[$t]}" "${body[$t]}")"
  [ "$code" = 200 ] || { [[ $t == esgate* ]] && tail -n 20 "$work/esgate.log" >&2; die "$t answered $code, not 200: $(head -c 400 "$work/resp")"; }
  log "check: $t -> $code ($up bytes sent): $(head -c 200 "$work/resp")"
done

# wrk POSTs the body file named by $BULK_BODY (read once at load time, before wrk builds its
# request); done() adds one machine-readable line with exact numbers (latency in µs).
cat >"$work/bulk.lua" <<'EOF'
local f = assert(io.open(os.getenv("BULK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%.1f p99_us=%.1f errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

# run_wrk TARGET SECONDS sets $result to "rps mb_s cpu_us_per_req cpu_us_per_mb cpu_pct wait_pct p50_ms p99_ms errors".
# wrk runs in the background and is waited for, so a signal to this script stops the run at once.
result=""
run_wrk() {
  local t=$1 d=$2 pid=${cpu_pid[$1]:-} before=0 after=0 wait_before=0 wait_after=0 out line bytes
  bytes=$(stat -c %s "${body[$t]}")
  if [ -n "$pid" ]; then before=$(cpu_ticks "$pid"); wait_before=$(run_delay_ns "$pid"); fi
  BULK_BODY=${body[$t]} timeout $((d + 60)) taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${d}s" --timeout 30s \
    --latency -H "$key_hdr" -s "$work/bulk.lua" "${url[$t]}" >"$work/wrk.out" &
  load_pids=("$!")
  wait "${load_pids[0]}" || die "wrk failed against $t"
  load_pids=()
  if [ -n "$pid" ]; then after=$(cpu_ticks "$pid"); wait_after=$(run_delay_ns "$pid"); fi
  out=$(<"$work/wrk.out")
  printf '### %s c=%s d=%ss\n%s\n' "$t" "$CONNS" "$d" "$out" >>"$work/wrk.log"
  line=$(grep '^BENCH ' <<<"$out") || die "no summary from wrk against $t"
  result=$(awk -v ticks=$((after - before)) -v wait_ns=$((wait_after - wait_before)) -v hz="$clk_tck" \
    -v has_pid="${pid:+1}" -v mb="$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      secs = v["duration_us"] / 1e6
      cpu_us = ticks * 1e6 / hz
      n = v["requests"]
      printf "%.2f %.1f %s %s %s %s %.1f %.1f %d\n", n / secs, n * mb / secs,
        has_pid && n ? sprintf("%.0f", cpu_us / n) : "-",
        has_pid && n ? sprintf("%.0f", cpu_us / n / mb) : "-",
        has_pid ? sprintf("%.0f", 100 * cpu_us / v["duration_us"]) : "-",
        has_pid ? sprintf("%.0f", wait_ns / 10 / v["duration_us"]) : "-",
        v["p50_us"] / 1000, v["p99_us"] / 1000, v["errors"]
    }' <<<"$line")
}

# Record the whole run's vmstat (on the load core) to spot noise from other tenants.
taskset -c "$LOAD_CPU" vmstat -n 1 >"$work/vmstat.log" &
pids+=("$!")

if [ "$WARMUP" -gt 0 ]; then
  log "warm-up: ${WARMUP}s per target at -c$CONNS (discarded)"
  for t in "${targets[@]}"; do run_wrk "$t" "$WARMUP"; done
fi

# results.tsv: target run rps mb_s cpu_us_req cpu_us_mb busy wait p50_ms p99_ms errors
total=$((RUNS * ${#targets[@]}))
n=0
for run in $(seq "$RUNS"); do
  # Rotate the target order each run so slow drift does not always favour the same one.
  for i in "${!targets[@]}"; do
    t=${targets[$(((i + run - 1) % ${#targets[@]}))]}
    n=$((n + 1))
    run_wrk "$t" "$DURATION"
    r=$result
    log "[$n/$total] run $run $t: $r"
    printf '%s\t%s\t%s\n' "$t" "$run" "${r// /$'\t'}" >>"$work/results.tsv"
  done
done

load_after=$(loadavg)

if [ -n "$PERF_OUT" ]; then
  log "perf record $PERF_ARGS of esgate for ${DURATION}s into $PERF_OUT"
  # shellcheck disable=SC2086 # PERF_ARGS is a list of options
  perf record $PERF_ARGS -o "$PERF_OUT" -p "$esgate_pid" -- sleep "$((DURATION + 1))" >"$work/perf.log" 2>&1 &
  perf_pid=$!; pids+=("$perf_pid")
  run_wrk "$PERF_TARGET" "$DURATION"
  wait "$perf_pid" || log "warning: perf record failed: $(tail -n 3 "$work/perf.log")"
fi
esgate_threads=$(awk '/^Threads:/ { print $2 }' "/proc/$esgate_pid/status")
esgate_hwm_end=$(awk '{ printf "%.1f", $1 / 1024 }' <<<"$(status_kb "$esgate_pid" VmHWM)")
esgate_rss_end=$(awk '{ printf "%.1f", $1 / 1024 }' <<<"$(status_kb "$esgate_pid" VmRSS)")
log "machine load after: $(uptime)"

# esgate's own log: anything at warning level or above is worth a look.
esgate_log_bad=$(grep -ciE '\b(warn|warning|error|critical|err)\b' "$work/esgate.log" || true)
esgate_log_head=$(grep -iE '\b(warn|warning|error|critical|err)\b' "$work/esgate.log" | sort | uniq -c | sort -rn | head -n 5 || true)
[ "$esgate_log_bad" = 0 ] || log "esgate logged $esgate_log_bad warning/error line(s): $esgate_log_head"

# ---------------------------------------------------------------------------------------------
# Medians and ratios.
# median_of TARGET COLUMN(3..11): lib.sh's median of that column of results.tsv over the target's runs.
median_of() { awk -F'\t' -v t="$1" -v c="$2" '$1 == t { print $c }' "$work/results.tsv" | median; }
pct() { [ "$1" = - ] && echo - || echo "$(fmt "$1")%"; }

declare -A m
cols=(rps mb cpu cpumb busy wait p50 p99)
for t in "${targets[@]}"; do
  for i in "${!cols[@]}"; do m[$t,${cols[$i]}]=$(median_of "$t" $((i + 3))); done
done
errors_total=$(awk -F'\t' '{ s += $11 } END { print s + 0 }' "$work/results.tsv")

commit=$(commit_desc "$ESGATE_SRC")
[ "$commit" != unknown ] || commit="\`unknown\`" # this report has always shown it as code
version=$("$ESGATE_BIN" --version 2>/dev/null | head -n 1 || true)
vm_summary=$(vmstat_summary "$work/vmstat.log")
vm_before=$(vmstat_brief <<<"$vmstat_before")
mb_of() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

report() {
  cat <<EOF
## Bulk bodies: esgate vs nginx vs direct ($(date -u '+%Y-%m-%d %H:%M UTC'))

- Machine: $(machine_desc)
- Commit: $commit; binary \`$ESGATE_BIN\`${version:+ ($version)}, $esgate_threads thread(s) in the process
- Command: \`$cmd\`
- Load average before: $load_before ($vm_before over \`vmstat 1 3\`); after: $load_after
- During the run (\`vmstat 1\`): $vm_summary
- Body: \`POST /_bulk\`, \`Content-Type: application/x-ndjson\`, $(mb_of "$body_bytes") MB ($body_bytes bytes), $body_items
  \`create\` items of ${doc_bytes}-byte documents into \`logs-a\`, one in 1,000 into \`secret\` ($body_denied denied for
  the key). \`esgate_nodeny\`: the same size ($nodeny_bytes bytes), every item allowed.
- Setup: proxy under test on core $PROXY_CPU: nginx 1 worker (upstream \`keepalive 64\`, \`client_max_body_size 200m\`;
  \`nginx_buf\`: \`proxy_request_buffering on\` (the default) with \`client_body_buffer_size 16m\` so the body stays in
  memory; \`nginx_stream\`: \`proxy_request_buffering off\`), esgate \`threads: 1\`, \`limits: {max_body_bytes: 200mb}\`,
  default \`body_lookahead\` (16 MiB: these bodies are read whole, filtered, then forwarded), authenticated by an API
  key whose role descriptor allows \`create_doc\` and \`create_index\` on \`logs-*\` only. wrk, the stub and Redis
  on core $LOAD_CPU. The stub is nginx reading the whole body into memory (\`mirror\`, \`client_body_buffer_size 16m\`)
  and then answering $response_desc (\`application/json\`, $(mb_of "$response_bytes") MB); wrk and the stub share core $LOAD_CPU,
  which caps what any target can reach (see \`direct\`).
  (Mixed-bulk check answer: \`$mixed_resp\`.)
- Load: \`wrk -t1 -c$CONNS -d${DURATION}s --timeout 30s\`, closed loop, $RUNS runs per target (order rotated), medians
  shown; ${WARMUP}s warm-up per target discarded. Errors (socket + non-2xx) over all measured runs: $errors_total.
- esgate log: $esgate_log_bad line(s) at warning level or above.

MB/s is requests/s × body size (10^6 bytes). CPU is the proxy process's utime + stime from \`/proc/PID/stat\`, per request
and per MB of body. "busy" and "waited" are its CPU time and run-queue delay over wall time (busy + waited ≈ 100%: the
proxy was the bottleneck). Latency is per request of the whole body, in ms, under this closed load, not overhead at light load.

| target | req/s | MB/s | proxy CPU µs/req | proxy CPU µs/MB | proxy busy | proxy waited | p50 ms | p99 ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
  for t in "${targets[@]}"; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(fmt "${m[$t,rps]}" 1)" "$(fmt "${m[$t,mb]}")" \
      "$(fmt "${m[$t,cpu]}")" "$(fmt "${m[$t,cpumb]}")" "$(pct "${m[$t,busy]}")" "$(pct "${m[$t,wait]}")" \
      "$(fmt "${m[$t,p50]}" 1)" "$(fmt "${m[$t,p99]}" 1)"
  done
  cat <<EOF

| ratio | MB/s | CPU µs/req | p50 |
| --- | ---: | ---: | ---: |
EOF
  local a b
  for pair in esgate:nginx_buf esgate:nginx_stream esgate:direct esgate_nodeny:nginx_buf esgate:esgate_nodeny; do
    a=${pair%%:*} b=${pair##*:}
    printf '| %s / %s | %s | %s | %s |\n' "$a" "$b" "$(ratio "${m[$a,mb]}" "${m[$b,mb]}")" \
      "$(ratio "${m[$a,cpu]}" "${m[$b,cpu]}")" "$(ratio "${m[$a,p50]}" "${m[$b,p50]}")"
  done
  if [ -n "$rss_rows" ]; then
    cat <<EOF

esgate memory for one in-flight $(mb_of "$big_bytes") MB bulk ($big_items items, $big_denied denied; larger than the
look-ahead, so it streams), sent with \`curl --data-binary @file\` to a freshly started gateway before the throughput
runs, twice in a row: first with a \`Content-Length\`, then \`Transfer-Encoding: chunked\`. Peak growth = VmHWM after −
VmRSS before, VmHWM being reset with \`clear_refs\` first ("HWM reset" yes; else VmHWM after − VmHWM before). Sizes in
MiB of RSS; MB/s and CPU µs/MB of that one request. After all the throughput runs ($CONNS in-flight $(mb_of "$body_bytes") MB bulks,
read whole): VmHWM $esgate_hwm_end MiB, VmRSS $esgate_rss_end MiB.

| # | framing | VmRSS before | VmHWM after | VmRSS after | peak growth | retained | seconds | MB/s | CPU µs/MB | HWM reset |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
$rss_rows
EOF
  fi
  cat <<EOF

<details><summary>Every run</summary>

| target | run | req/s | MB/s | proxy CPU µs/req | µs/MB | busy | waited | p50 ms | p99 ms | errors |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
  sort -t$'\t' -k1,1 -k2,2n "$work/results.tsv" |
    awk -F'\t' '{ u = ($7 == "-" ? "" : "%"); printf "| %s | %s | %s | %s | %s | %s | %s%s | %s%s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, u, $8, u, $9, $10, $11 }'
  printf '\n</details>\n'
  if [ "$esgate_log_bad" != 0 ]; then
    # shellcheck disable=SC2016 # the backticks are Markdown
    printf '\nesgate log, most frequent warning/error lines (count, line):\n\n```\n%s\n```\n' "$esgate_log_head"
  fi
}

report | { if [ -n "$OUT" ]; then tee "$OUT"; else cat; fi; }
if [ -n "$SUMMARY_OUT" ]; then
  {
    echo "errors_total=$errors_total"
    for t in "${targets[@]}"; do
      for c in "${cols[@]}"; do echo "$t.$c=${m[$t,$c]}"; done
    done
    for b in nginx_buf nginx_stream; do
      echo "mb_ratio_$b=$(ratio "${m[esgate,mb]}" "${m[$b,mb]}")"
      echo "cpu_ratio_$b=$(ratio "${m[esgate,cpu]}" "${m[$b,cpu]}")"
    done
  } >"$SUMMARY_OUT"
fi
[ "$errors_total" = 0 ] || log "warning: $errors_total errors (socket or non-2xx) during measurement; see the per-run table"
