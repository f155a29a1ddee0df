#!/usr/bin/env bash
# Issue 12's plain-HTTP figures, side by side in one run (method: shared/docs/benchmarking.md):
#   direct   load -> nginx stub (return 200, a small JSON body; a 1 MB static file for `1mb`)
#   nginx    load -> nginx reverse proxy (1 worker, upstream keepalive)             -> stub
#   haproxy  load -> HAProxy (nbthread 1, http-reuse always)                        -> stub
#   esgate   load -> esgate (threads: 1), every request authenticated by an API key (cached after the
#                    first request) whose role descriptor (read on books*) is checked -> stub
# The proxy under test runs alone on core PROXY_CPU; the load generators, the stub and Redis share
# core LOAD_CPU. Every request is `GET /books/_search` (`/books-big/_search` for the 1 MB answer)
# with the same `Authorization: ApiKey ...` header; nginx and HAProxy pass it on.
#
# Scenarios (SCENARIOS, default all, in this order):
#   small      wrk -t1 -c$CONNS, saturated keep-alive: req/s and the proxy's CPU µs per request
#   latency    bench/rate_client.c (compiled here): RATE req/s over RATE_CONNS keep-alive connections
#              on a fixed schedule, latency from the scheduled send time: p50 / p99 / p99.9, added p99
#   1mb        1 MB answers, wrk -c$MB_CONNS: req/s, MB/s, CPU µs per request
#   conns1000  wrk -c$BIG_CONNS (1000) keep-alive connections: req/s, CPU µs/req, p99 (closed loop)
#   cold       esgate only: COLD_KEYS distinct keys in Redis, a second gateway with
#              cache_ttl COLD_TTL so every request misses its cache; vs the cached key, same load
#   flood      esgate only: legitimate traffic (RATE over RATE_CONNS) alone and beside a flood of
#              random well-formed API keys at FLOOD_RATE over FLOOD_CONNS: legit p50/p99, 401 count
# Each cell runs RUNS times (target order rotated per run), medians reported.
# Markdown report on stdout, progress on stderr.
#
# Environment (all optional):
#   ESGATE_BIN    esgate binary (default <repo>/build/bin/esgate, a Release build)
#   ESGATE_SRC    git tree the binary was built from, for the commit in the report (default <repo>)
#   ESGATE_COMMIT commit to report instead (a tree without .git)
#   RUNS          repetitions per cell (default 3)
#   DURATION      seconds per measured run (default 10)
#   WARMUP        seconds of discarded load per target and scenario (default 3; 0 = none)
#   SCENARIOS     subset of "small latency 1mb conns1000 cold flood" (default: all)
#   CONNS         wrk connections for small and cold (default 50)
#   RATE / RATE_CONNS      fixed rate and connections for latency and flood's legit traffic (2000 / 8)
#   MB_CONNS      wrk connections for 1mb (default 16)
#   BIG_CONNS     wrk connections for conns1000 (default 1000)
#   COLD_KEYS     distinct API keys for cold (default 2000)
#   COLD_TTL      cache_ttl of the cold gateway (default 10ms)
#   FLOOD_RATE / FLOOD_CONNS   the random-key flood (default 10000 req/s over 16 connections)
#   PROXY_CPU / LOAD_CPU  cores (default 0 / 1)
#   OUT           also write the Markdown report to this file
#   SUMMARY_OUT   also write the medians as key=value lines to this file (for bench/run_all.sh)
#   KEEP_WORK     set: keep the work directory (logs, configs, raw results)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

ESGATE_BIN=${ESGATE_BIN:-$root/build/bin/esgate}
ESGATE_SRC=${ESGATE_SRC:-$root}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
all_scenarios="small latency 1mb conns1000 cold flood"
SCENARIOS=${SCENARIOS:-$all_scenarios}
CONNS=${CONNS:-50}
RATE=${RATE:-2000}
RATE_CONNS=${RATE_CONNS:-8}
MB_CONNS=${MB_CONNS:-16}
BIG_CONNS=${BIG_CONNS:-1000}
COLD_KEYS=${COLD_KEYS:-2000}
COLD_TTL=${COLD_TTL:-10ms}
FLOOD_RATE=${FLOOD_RATE:-10000}
FLOOD_CONNS=${FLOOD_CONNS:-16}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT:-}
SUMMARY_OUT=${SUMMARY_OUT:-}

cmd=""
for v in ESGATE_BIN ESGATE_SRC ESGATE_COMMIT RUNS DURATION WARMUP SCENARIOS CONNS RATE RATE_CONNS MB_CONNS BIG_CONNS \
  COLD_KEYS COLD_TTL FLOOD_RATE FLOOD_CONNS PROXY_CPU LOAD_CPU; do
  if printenv "$v" >/dev/null; then cmd+="$v=$(printenv "$v" | sed "s/.* .*/'&'/") "; fi
done
cmd+="bench/perf_bench.sh"

bench_name=perf_bench
for tool in nginx haproxy wrk redis-server curl taskset cc ss pgrep vmstat awk; do
  command -v "$tool" >/dev/null || die "$tool not found (as root: scripts/install-deps bench)"
done
[ -x "$ESGATE_BIN" ] || die "esgate binary not found at $ESGATE_BIN (build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build esgate)"
for v in RUNS DURATION CONNS RATE RATE_CONNS MB_CONNS BIG_CONNS COLD_KEYS FLOOD_RATE FLOOD_CONNS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer"
[[ $COLD_TTL =~ ^[1-9][0-9]*(ms|s)$ ]] || die "COLD_TTL must be a duration such as 10ms"
scenarios=()
for s in $SCENARIOS; do
  [[ " $all_scenarios " == *" $s "* ]] || die "unknown scenario '$s' (known: $all_scenarios)"
  scenarios+=("$s")
done
[ ${#scenarios[@]} -gt 0 ] || die "SCENARIOS is empty"
has() { [[ " ${scenarios[*]} " == *" $1 "* ]]; }

ulimit -n "$(ulimit -Hn)"
nofile=$(ulimit -n)
[ "$nofile" -gt $((BIG_CONNS * 2 + 200)) ] || die "open files limit $nofile too low for BIG_CONNS=$BIG_CONNS"

bench_init perf_bench
mkdir -p "$work/tmp" "$work/stubroot/books-big"
chmod 711 "$work"

log "building the rate client"
cc -O2 -o "$work/rate_client" "$root/bench/rate_client.c" || die "cannot build bench/rate_client.c"

stub_port=$(free_port) nginx_port=$(free_port) haproxy_port=$(free_port) esgate_port=$(free_port)
cold_port=$(free_port) redis_port=$(free_port)

# ---------------------------------------------------------------------------------------------
# The stub: a small search answer for everything, and a 1,000,000-byte one (JSON hits) as a file.
small_body='{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":0,"relation":"eq"},"max_score":null,"hits":[]}}'
big_bytes=1000000
awk -v target=$big_bytes 'BEGIN {
  pre = "{\"took\":3,\"timed_out\":false,\"hits\":{\"total\":{\"value\":1,\"relation\":\"eq\"},\"hits\":["
  suf = "]}}"
  out = pre; n = 0
  pad = sprintf("%200s", ""); gsub(/ /, "x", pad)
  while (1) {
    doc = sprintf("{\"_index\":\"books\",\"_id\":\"%08d\",\"_source\":{\"title\":\"%s\"}}", n, pad)
    if (length(out) + 1 + length(doc) + length(suf) + 300 > target) break
    out = out (n ? "," : "") doc; n++
  }
  fill = target - length(out) - length(suf) - length(sprintf("{\"_index\":\"books\",\"_id\":\"%08d\",\"_source\":{\"title\":\"\"}}", n)) - 1
  last = sprintf("%" fill "s", ""); gsub(/ /, "y", last)
  out = out "," sprintf("{\"_index\":\"books\",\"_id\":\"%08d\",\"_source\":{\"title\":\"%s\"}}", n, last) suf
  printf "%s", out
}' >"$work/stubroot/books-big/_search"
[ "$(stat -c %s "$work/stubroot/books-big/_search")" = $big_bytes ] || die "the 1 MB body is not $big_bytes bytes"
chmod 755 "$work/stubroot" "$work/stubroot/books-big"; chmod 644 "$work/stubroot/books-big/_search"

nginx_head() { # NAME WORKER_CONNECTIONS
  cat <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid $work/$1.pid;
error_log $work/$1.err warn;
events { worker_connections $2; }
EOF
}
nginx_http_common="access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;"

{
  nginx_head stub 8192
  cat <<EOF
http {
  $nginx_http_common
  sendfile on;
  server {
    listen 127.0.0.1:$stub_port backlog=4096;
    root $work/stubroot;
    default_type application/json;
    location / { return 200 '$small_body'; }
    location = /books-big/_search { }
    location /_resolve/index/ {
      return 200 '{"indices":[{"name":"books","attributes":["open"]},{"name":"books-big","attributes":["open"]},{"name":"secret","attributes":["open"]}],"aliases":[],"data_streams":[]}';
    }
  }
}
EOF
} >"$work/stub.conf"

# The nginx reference: upstream keepalive 1024 (not 64) so that 1000 client connections do not
# churn upstream connections beyond the idle pool. For the 1 MB answer nginx reads with 64 KiB
# buffers and never spills to a temp file (no disk I/O during runs); small answers use defaults.
{
  nginx_head proxy 8192
  cat <<EOF
http {
  $nginx_http_common
  upstream stub {
    server 127.0.0.1:$stub_port;
    keepalive 1024;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    location / {
      proxy_pass http://stub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location /books-big/ {
      proxy_pass http://stub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffers 8 64k;
      proxy_busy_buffers_size 128k;
      proxy_max_temp_file_size 0;
    }
  }
}
EOF
} >"$work/proxy.conf"

cat >"$work/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  maxconn 4000
  timeout connect 5s
  timeout client 75s
  timeout server 75s
  timeout http-keep-alive 75s
frontend plain
  bind 127.0.0.1:$haproxy_port
  backlog 4096
  default_backend stub
backend stub
  http-reuse always
  server s1 127.0.0.1:$stub_port
EOF

# esgate: a superuser for HTTP Basic (only to create the keys); max_connections_per_ip raised from
# its default 1000 so that conns1000's 1000 connections from 127.0.0.1 never brush the limit while
# the previous run's connections are being closed.
password=$(random_password)
make_superuser "$ESGATE_BIN" bench "$password" "$work"
esgate_yaml() { # PORT [API_KEY_SETTINGS]
  local api=""
  [ -z "${2:-}" ] || api=", api_key: {$2}"
  cat <<EOF
threads: 1
listen: {address: 127.0.0.1, port: $1}
upstream: {nodes: ["http://127.0.0.1:$stub_port"]}
redis: {url: "redis://127.0.0.1:$redis_port/0"}
security: {users_file: users.yml, roles_file: roles.yml$api}
limits: {max_connections_per_ip: 4000}
EOF
}
esgate_yaml "$esgate_port" >"$work/esgate.yaml"
esgate_yaml "$cold_port" "cache_ttl: $COLD_TTL" >"$work/esgate_cold.yaml"

# ---------------------------------------------------------------------------------------------
log "machine load before: $(uptime)"
vmstat_before=$(vmstat 1 3)
load_before=$(loadavg)

log "starting the stub (core $LOAD_CPU), nginx and HAProxy (core $PROXY_CPU), Redis (core $LOAD_CPU)"
taskset -c "$LOAD_CPU" nginx -p "$work/" -e "$work/stub.early.err" -c "$work/stub.conf" &
stub_master=$!; track "$stub_master"
taskset -c "$PROXY_CPU" nginx -p "$work/" -e "$work/proxy.early.err" -c "$work/proxy.conf" &
proxy_master=$!; track "$proxy_master"
taskset -c "$PROXY_CPU" haproxy -f "$work/haproxy.cfg" 2>"$work/haproxy.err" &
haproxy_pid=$!; track "$haproxy_pid"
start_redis "$redis_port" "$LOAD_CPU"
LOG_OF_PID=$work/stub.err wait_http "http://127.0.0.1:$stub_port/" "stub nginx" "$stub_master"
LOG_OF_PID=$work/proxy.err wait_http "http://127.0.0.1:$nginx_port/" "proxy nginx" "$proxy_master"
LOG_OF_PID=$work/haproxy.err wait_http "http://127.0.0.1:$haproxy_port/" haproxy "$haproxy_pid"
stub_worker=$(nginx_worker "$stub_master"); track "$stub_worker"
proxy_worker=$(nginx_worker "$proxy_master"); track "$proxy_worker"

log "starting esgate (threads: 1, core $PROXY_CPU) on :$esgate_port"
taskset -c "$PROXY_CPU" "$ESGATE_BIN" --config "$work/esgate.yaml" 2>"$work/esgate.log" &
esgate_pid=$!; track "$esgate_pid"
LOG_OF_PID=$work/esgate.log wait_http "http://127.0.0.1:$esgate_port/_esgate/health" esgate "$esgate_pid"
cold_pid=""
if has cold; then
  log "starting the cold gateway (cache_ttl $COLD_TTL, core $PROXY_CPU) on :$cold_port"
  taskset -c "$PROXY_CPU" "$ESGATE_BIN" --config "$work/esgate_cold.yaml" 2>"$work/esgate_cold.log" &
  cold_pid=$!; track "$cold_pid"
  LOG_OF_PID=$work/esgate_cold.log wait_http "http://127.0.0.1:$cold_port/_esgate/health" "cold esgate" "$cold_pid"
fi

# ---------------------------------------------------------------------------------------------
# Keys, created through the gateway's own API by the Basic superuser (this first request pays the
# bcrypt). The measured one may only read books*; `admin` (no role descriptors: the superuser's
# own privileges) reads the gateway's metrics.
api="http://127.0.0.1:$esgate_port/_security/api_key"
key_req='{"name":"perf-bench","role_descriptors":{"books-read":{"indices":[{"names":["books*"],"privileges":["read"]}]}}}'
printf 'user = "bench:%s"\n' "$password" >"$work/curl_auth"
chmod 600 "$work/curl_auth"
create_keys() { # COUNT BODY -> encoded keys, one a line
  local i
  for i in $(seq "$1"); do printf 'url = "%s"\n' "$api"; done >"$work/curl_urls"
  curl -s --max-time 300 -K "$work/curl_auth" -K "$work/curl_urls" -X POST -H 'Content-Type: application/json' \
    -d "$2" | grep -o '"encoded":"[^"]*"' | sed 's/"encoded":"\(.*\)"/\1/'
}
encoded=$(create_keys 1 "$key_req")
[ -n "$encoded" ] || die "creating the API key failed (esgate log: $(tail -n 5 "$work/esgate.log"))"
admin_key=$(create_keys 1 '{"name":"perf-bench-admin"}')
[ -n "$admin_key" ] || die "creating the admin API key failed"
key_hdr="Authorization: ApiKey $encoded"
printf '%s\n' "$encoded" >"$work/key1.txt"
if has cold; then
  log "creating $COLD_KEYS API keys for the cold scenario"
  create_keys "$COLD_KEYS" "$key_req" >"$work/cold_keys.txt"
  [ "$(wc -l <"$work/cold_keys.txt")" = "$COLD_KEYS" ] ||
    die "created $(wc -l <"$work/cold_keys.txt") of $COLD_KEYS keys"
fi

# Metrics of a gateway (sum of the samples whose line matches REGEX).
metric() { # PORT REGEX
  curl -s --max-time 5 -H "Authorization: ApiKey $admin_key" "http://127.0.0.1:$1/_esgate/metrics" |
    awk -v re="$2" '!/^#/ && $1 ~ re { s += $2 } END { printf "%.0f", s }'
}
[ -n "$(metric "$esgate_port" '^esgate_key_cache_total')" ] || die "no esgate_key_cache_total in the metrics"

targets_of() { # SCENARIO
  case $1 in
    small | latency | 1mb | conns1000) echo direct nginx haproxy esgate ;;
    cold) echo esgate esgate_cold ;;
    flood) echo esgate_quiet esgate_flood ;;
  esac
}
declare -A port_of=([direct]=$stub_port [nginx]=$nginx_port [haproxy]=$haproxy_port [esgate]=$esgate_port
  [esgate_cold]=$cold_port [esgate_quiet]=$esgate_port [esgate_flood]=$esgate_port)
declare -A pid_of=([nginx]=$proxy_worker [haproxy]=$haproxy_pid [esgate]=$esgate_pid [esgate_cold]=$cold_pid
  [esgate_quiet]=$esgate_pid [esgate_flood]=$esgate_pid)

# ---------------------------------------------------------------------------------------------
# Checks: each target answers the exact requests of the load 200 (the 1 MB one in full); esgate
# refuses no key (401), a random well-formed key (401) and an index outside books* (403).
status() { curl -s -o "$work/resp" -w '%{http_code} %{size_download}' --max-time 10 "$@" || true; }
random_key() { printf '%s:%s' "$(head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 20)" \
  "$(head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 22)" | base64 -w0; }
check() { # WHAT EXPECTED_CODE [EXPECTED_SIZE] -- curl args
  local what=$1 want=$2 size=${3:-} code got
  shift 4
  read -r code got <<<"$(status "$@")"
  if [ "$code" != "$want" ] || { [ -n "$size" ] && [ "$got" != "$size" ]; }; then
    tail -n 10 "$work/esgate.log" >&2
    die "check failed: $what answered $code ($got bytes), expected $want${size:+ ($size bytes)}: $(head -c 300 "$work/resp")"
  fi
  checks+="- $what → $code${size:+ ($got bytes)}"$'\n'
  log "check: $what -> $code${size:+ ($got bytes)}"
}
checks=""
for t in direct nginx haproxy esgate; do
  check "$t \`GET /books/_search\` with the key" 200 "${#small_body}" -- -H "$key_hdr" "http://127.0.0.1:${port_of[$t]}/books/_search"
  if has 1mb; then
    check "$t \`GET /books-big/_search\` with the key" 200 "$big_bytes" -- -H "$key_hdr" "http://127.0.0.1:${port_of[$t]}/books-big/_search"
  fi
done
gw_checks() { # PORT NAME KEY
  check "$2 without credentials" 401 "" -- "http://127.0.0.1:$1/books/_search"
  check "$2 with a random well-formed API key" 401 "" -- -H "Authorization: ApiKey $(random_key)" "http://127.0.0.1:$1/books/_search"
  check "$2 \`GET /secret/_search\` with the key (outside books*)" 403 "" -- -H "Authorization: ApiKey $3" "http://127.0.0.1:$1/secret/_search"
}
gw_checks "$esgate_port" esgate "$encoded"
if has cold; then
  check "esgate_cold \`GET /books/_search\` with a cold key" 200 "${#small_body}" -- -H "Authorization: ApiKey $(sed -n 7p "$work/cold_keys.txt")" "http://127.0.0.1:$cold_port/books/_search"
  gw_checks "$cold_port" esgate_cold "$(sed -n 8p "$work/cold_keys.txt")"
fi

# Requests for the rate client (Host as wrk sends it).
for t in direct nginx haproxy esgate esgate_cold; do
  printf 'GET /books/_search HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n%s\r\n\r\n' "${port_of[$t]}" "$key_hdr" >"$work/req_$t"
done
printf 'GET /books/_search HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nAuthorization: ApiKey @APIKEY@\r\n\r\n' "$esgate_port" >"$work/req_flood"
# The rate client itself, briefly, against each target it will load: all 200 (flood: all 401).
rc_check() { # NAME REQFILE PORT FIELD [-k]
  local out
  out=$(taskset -c "$LOAD_CPU" "$work/rate_client" 127.0.0.1 "$3" 200 4 0.5 "$2" ${5:+"$5"}) || die "rate_client failed against $1"
  awk -v f="$4" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { exit !(v["sent"] == 100 && v[f] == 100 && v["errors"] == 0 && v["timeouts"] == 0) }' <<<"$out" ||
    die "rate_client check against $1: expected 100 answers counted in $4: $out"
}
if has latency || has flood; then
  for t in direct nginx haproxy esgate; do rc_check "$t" "$work/req_$t" "${port_of[$t]}" s2xx; done
  checks+="- the rate client: 100 of 100 answers 200 from each target"$'\n'
fi
if has flood; then
  rc_check "esgate (random keys)" "$work/req_flood" "$esgate_port" s401 -k
  checks+="- the rate client with random keys (\`-k\`): 100 of 100 answers 401 from esgate"$'\n'
fi
log "checks passed"

# ---------------------------------------------------------------------------------------------
# Lua for wrk: one machine-readable line; keys.lua also sends, round robin, the keys of KEYS_FILE.
cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d p50_us=%.1f p99_us=%.1f errors=%d status_errors=%d\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout, e.status))
end
EOF
cat "$work/report.lua" - >"$work/keys.lua" <<'EOF'
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local reqs, i = {}, 0
init = function(args)
  for k, v in ipairs(keys) do
    reqs[k] = wrk.format("GET", wrk.path, { ["Host"] = wrk.headers["Host"], ["Authorization"] = "ApiKey " .. v })
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
EOF

kv() { # LINE KEY: a value of a "BENCH k=v ..." line
  awk -v k="$2" '{ for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) { print a[2]; exit } } }' <<<"$1"
}

# One measured (or warm-up) run. Sets $result to "key=value ..." for results.tsv.
result=""
measure() { # SCENARIO TARGET SECONDS
  local scen=$1 t=$2 d=$3 pid=${pid_of[$2]:-} port=${port_of[$2]} t0=0 t1=0 w0=0 w1=0 line fline="" m0=0 m1=0 h0=0 h1=0
  local ld0 ld1
  local -a load_cmd
  case $scen in
    small) load_cmd=(wrk -t1 -c"$CONNS" -d"${d}s" --latency -H "$key_hdr" -s "$work/report.lua" "http://127.0.0.1:$port/books/_search") ;;
    1mb) load_cmd=(wrk -t1 -c"$MB_CONNS" -d"${d}s" --latency -H "$key_hdr" -s "$work/report.lua" "http://127.0.0.1:$port/books-big/_search") ;;
    conns1000) load_cmd=(wrk -t1 -c"$BIG_CONNS" -d"${d}s" --latency --timeout 10s -H "$key_hdr" -s "$work/report.lua" "http://127.0.0.1:$port/books/_search") ;;
    cold) load_cmd=(wrk -t1 -c"$CONNS" -d"${d}s" --latency -s "$work/keys.lua" "http://127.0.0.1:$port/books/_search") ;;
    latency | flood) load_cmd=("$work/rate_client" 127.0.0.1 "$port" "$RATE" "$RATE_CONNS" "$d" "$work/req_${t/esgate_*/esgate}") ;;
  esac
  if [ "$scen" = cold ]; then
    m0=$(metric "$port" '^esgate_key_cache_total\{.*event="miss"'); h0=$(metric "$port" '^esgate_key_cache_total\{.*event="hit"')
  fi
  if [ "$t" = esgate_flood ]; then
    m0=$(metric "$port" '^esgate_authentications_total\{.*result="unknown_key"')
    # The flood starts 1 s before the legitimate traffic and ends 1 s after it; its statistics
    # leave out its first second (-w 1).
    taskset -c "$LOAD_CPU" "$work/rate_client" 127.0.0.1 "$port" "$FLOOD_RATE" "$FLOOD_CONNS" $((d + 2)) \
      "$work/req_flood" -k -w 1 >"$work/flood.out" &
    load_pids=("$!")
    sleep 1
  fi
  if [ -n "$pid" ]; then t0=$(cpu_ticks "$pid"); w0=$(run_delay_ns "$pid"); fi
  ld0=$(listen_drops)
  KEYS_FILE=$work/$([ "$t" = esgate_cold ] && echo cold_keys.txt || echo key1.txt) \
    timeout $((d + 60)) taskset -c "$LOAD_CPU" "${load_cmd[@]}" >"$work/load.out" &
  load_pids+=("$!")
  wait "${load_pids[-1]}" || die "the load against $t ($scen) failed: $(tail -n 3 "$work/load.out")"
  if [ -n "$pid" ]; then t1=$(cpu_ticks "$pid"); w1=$(run_delay_ns "$pid"); fi
  ld1=$(listen_drops)
  if [ "$t" = esgate_flood ]; then
    wait "${load_pids[0]}" || die "the flood failed: $(tail -n 3 "$work/flood.out")"
    fline=$(grep '^BENCH ' "$work/flood.out") || die "no summary from the flood"
    m1=$(metric "$port" '^esgate_authentications_total\{.*result="unknown_key"')
  fi
  load_pids=()
  if [ "$scen" = cold ]; then
    m1=$(metric "$port" '^esgate_key_cache_total\{.*event="miss"'); h1=$(metric "$port" '^esgate_key_cache_total\{.*event="hit"')
  fi
  printf '### %s %s %ss\n%s\n%s\n' "$scen" "$t" "$d" "$(cat "$work/load.out")" "$fline" >>"$work/load.log"
  line=$(grep '^BENCH ' "$work/load.out") || die "no summary from the load against $t ($scen)"
  result=$(awk -v scen="$scen" -v ticks=$((t1 - t0)) -v wait_ns=$((w1 - w0)) -v hz="$clk_tck" -v has_pid="${pid:+1}" \
    -v d="$d" -v big="$big_bytes" -v dm=$((m1 - m0)) -v dh=$((h1 - h0)) -v fline="$fline" -v ld=$((ld1 - ld0)) '
    function grab(s, arr,   n, i, parts, kv) { n = split(s, parts, " "); for (i = 2; i <= n; i++) { split(parts[i], kv, "="); arr[kv[1]] = kv[2] } }
    { grab($0, v) }
    END {
      cpu_us = ticks * 1e6 / hz
      if ("duration_us" in v) {  # wrk
        n = v["requests"]; us = v["duration_us"]
        out = sprintf("requests=%d rps=%.1f p50=%.1f p99=%.1f errors=%d", n, n / (us / 1e6), v["p50_us"], v["p99_us"], v["errors"])
        if (scen == "1mb") out = out sprintf(" mbps=%.1f", n * big / 1e6 / (us / 1e6))
      } else {  # rate_client
        n = v["done"]; us = v["seconds"] * 1e6
        out = sprintf("requests=%d rps=%.1f p50=%.1f p99=%.1f p999=%.1f max=%.1f errors=%d lag1ms=%d",
          n, v["achieved_rps"], v["p50_us"], v["p99_us"], v["p999_us"], v["max_us"],
          v["errors"] + v["timeouts"] + (v["done"] - v["s2xx"]), v["lag_gt1ms"])
      }
      if (has_pid) {
        # CPU per request: not for the flood run, where the gateway also serves the flood.
        if (fline == "") out = out sprintf(" cpu=%.2f", n ? cpu_us / n : 0)
        out = out sprintf(" busy=%.0f wait=%.0f", 100 * cpu_us / us, wait_ns / 10 / us)
      }
      out = out sprintf(" listen_drops=%d", ld)
      if (scen == "cold") out = out sprintf(" miss_pct=%.1f", dm + dh > 0 ? 100 * dm / (dm + dh) : 0)
      if (fline != "") {
        grab(fline, fv)
        out = out sprintf(" f_rps=%.0f f_done=%d f_401=%d f_other=%d f_errors=%d f_p50=%.1f f_p99=%.1f f_unknown_key=%d",
          fv["achieved_rps"], fv["done"], fv["s401"], fv["done"] - fv["s401"], fv["errors"] + fv["timeouts"], fv["p50_us"], fv["p99_us"], dm)
      }
      print out
    }' <<<"$line")
}

taskset -c "$LOAD_CPU" vmstat -n 1 >"$work/vmstat.log" &
track "$!"

# results.tsv: scenario target run key=value...
total=0
for s in "${scenarios[@]}"; do read -ra ts <<<"$(targets_of "$s")"; total=$((total + RUNS * ${#ts[@]})); done
n=0
started=$(date +%s)
for s in "${scenarios[@]}"; do
  read -ra ts <<<"$(targets_of "$s")"
  if [ "$WARMUP" -gt 0 ]; then
    log "$s: warm-up ${WARMUP}s per target (discarded)"
    for t in "${ts[@]}"; do
      [ "$t" = esgate_flood ] && continue  # the quiet warm-up warms the same gateway
      measure "$s" "$t" "$WARMUP"
    done
  fi
  for run in $(seq "$RUNS"); do
    for i in "${!ts[@]}"; do  # order rotated per run: slow drift favours no target
      t=${ts[$(((i + run - 1) % ${#ts[@]}))]}
      n=$((n + 1))
      measure "$s" "$t" "$DURATION"
      log "[$n/$total] $s run $run $t: $result"
      printf '%s\t%s\t%s\t%s\n' "$s" "$t" "$run" "$result" >>"$work/results.tsv"
    done
  done
done
wall=$(($(date +%s) - started))
load_after=$(loadavg)
log "machine load after: $(uptime)"
esgate_threads=$(awk '/^Threads:/ { print $2 }' "/proc/$esgate_pid/status")
esgate_log_bad=$(cat "$work"/esgate*.log | grep -ciE '\b(warn|warning|error|critical)\b' || true)
esgate_log_head=$(cat "$work"/esgate*.log | grep -iE '\b(warn|warning|error|critical)\b' | sed 's/^\[[^]]*\] //' | sort | uniq -c | sort -rn | head -n 5 || true)

# ---------------------------------------------------------------------------------------------
med() { # SCENARIO TARGET KEY
  awk -F'\t' -v s="$1" -v t="$2" -v k="$3" '$1 == s && $2 == t {
    n = split($4, f, " "); for (i = 1; i <= n; i++) { split(f[i], a, "="); if (a[1] == k) print a[2] } }' \
    "$work/results.tsv" | median
}
sum_of() { # KEY: over all measured runs
  awk -F'\t' -v k="$1" '{ n = split($4, f, " "); for (i = 1; i <= n; i++) { split(f[i], a, "="); if (a[1] == k) s += a[2] } }
    END { print s + 0 }' "$work/results.tsv"
}
declare -A m
keys="requests rps p50 p99 p999 max errors lag1ms cpu busy wait mbps miss_pct listen_drops f_rps f_done f_401 f_other f_errors f_p50 f_p99 f_unknown_key"
for s in "${scenarios[@]}"; do
  for t in $(targets_of "$s"); do
    for k in $keys; do m[$s,$t,$k]=$(med "$s" "$t" "$k"); done
  done
done
errors_total=$(sum_of errors)
M() { echo "${m[$1,$2,$3]:--}"; }
diff_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%+.0f", a - b }'; }
le() { awk -v r="$1" -v lim="$2" 'BEGIN { if (r == "-") print "-"; else print (r <= lim) ? "met" : "**not met**" }'; }
ge() { awk -v r="$1" -v lim="$2" 'BEGIN { if (r == "-") print "-"; else print (r >= lim) ? "met" : "**not met**" }'; }
pct() { [ "$1" = - ] && echo - || echo "$(fmt "$1")%"; }
ms() { awk -v x="$1" 'BEGIN { if (x == "-") print "-"; else printf "%.2f", x / 1000 }'; }

# Derived figures (also written to SUMMARY_OUT).
declare -A sum
if has small; then
  for b in nginx haproxy; do
    sum[small_cpu_ratio_$b]=$(ratio "$(M small esgate cpu)" "$(M small $b cpu)")
    sum[small_rps_ratio_$b]=$(ratio "$(M small esgate rps)" "$(M small $b rps)")
  done
fi
if has latency; then
  for t in nginx haproxy esgate; do sum[latency_added_p99_$t]=$(diff_of "$(M latency $t p99)" "$(M latency direct p99)"); done
fi
if has cold; then
  sum[cold_rps_vs_cached]=$(ratio "$(M cold esgate_cold rps)" "$(M cold esgate rps)")
  sum[cold_cpu_vs_cached]=$(ratio "$(M cold esgate_cold cpu)" "$(M cold esgate cpu)")
fi
if has flood; then
  sum[flood_p99_ratio]=$(ratio "$(M flood esgate_flood p99)" "$(M flood esgate_quiet p99)")
  sum[flood_p50_ratio]=$(ratio "$(M flood esgate_flood p50)" "$(M flood esgate_quiet p50)")
fi

report() {
  cat <<EOF
## Plain HTTP: esgate vs nginx vs HAProxy vs direct, issue 12 ($(date -u '+%Y-%m-%d %H:%M UTC'))

- Machine: $(machine_desc); nginx $(nginx -v 2>&1 | sed 's/.*\///'), HAProxy $(haproxy -v | head -1 | awk '{print $3}')
- Commit: $(commit_desc "$ESGATE_SRC"); binary \`$ESGATE_BIN\`, $esgate_threads thread(s) in the process$(scripts_desc "$root" "$ESGATE_SRC")
- Command: \`$cmd\` (measurement ${wall}s)
- Load average before: $load_before ($(vmstat_brief <<<"$vmstat_before") over \`vmstat 1 3\`); after: $load_after
- During the run (\`vmstat 1\`): $(vmstat_summary "$work/vmstat.log")
- Setup: the proxy under test on core $PROXY_CPU, alone: nginx 1 worker (\`proxy_http_version 1.1\`,
  \`proxy_set_header Connection ""\`, upstream \`keepalive 1024\`, \`keepalive_requests 100000000\`, \`access_log off\`;
  for the 1 MB answer \`proxy_buffers 8 64k\`, \`proxy_max_temp_file_size 0\`: no temp file), HAProxy \`nbthread 1\`
  (\`mode http\`, \`http-reuse always\`, no logging), esgate \`threads: 1\` (\`limits.max_connections_per_ip: 4000\`, else
  defaults). Load generators, the stub (nginx \`return 200\` with a ${#small_body}-byte JSON search answer; a
  ${big_bytes}-byte JSON file for \`1mb\`) and Redis on core $LOAD_CPU.
- Every request: \`GET /books/_search\` (\`1mb\`: \`/books-big/_search\`) with \`Authorization: ApiKey …\`, a key created
  through esgate's \`POST /_security/api_key\` with role descriptor \`books-read\` (\`read\` on \`books*\`), so esgate
  authenticates it (cached after the first request) and checks the role on every request; nginx and HAProxy pass
  the header on. ${DURATION}s per run, $RUNS runs per cell (target order rotated), medians; ${WARMUP}s warm-up per
  target and scenario discarded. Errors (socket errors, non-2xx answers, timeouts) over all measured runs: $errors_total.
- CPU µs/req = the proxy process's utime + stime (\`/proc/PID/stat\`, all threads) over the run / requests completed:
  the primary figure. busy / waited = its CPU time and run-queue delay over wall time (busy + waited ≈ 100%: the proxy
  was the bottleneck).
- esgate logs: $esgate_log_bad line(s) at warning level or above.

Checks passed before measuring:

$checks
EOF
  local t b
  if has small; then
    cat <<EOF
### small: saturated keep-alive (\`wrk -t1 -c$CONNS\`)

| target | req/s | proxy CPU µs/req | busy | waited |
| --- | ---: | ---: | ---: | ---: |
EOF
    for t in direct nginx haproxy esgate; do
      printf '| %s | %s | %s | %s | %s |\n' "$t" "$(fmt "$(M small $t rps)")" "$(fmt "$(M small $t cpu)" 2)" \
        "$(pct "$(M small $t busy)")" "$(pct "$(M small $t wait)")"
    done
    printf '\n| ratio | req/s | CPU µs/req |\n| --- | ---: | ---: |\n'
    for b in nginx haproxy; do
      printf '| esgate / %s | %s | %s |\n' "$b" "${sum[small_rps_ratio_$b]}" "${sum[small_cpu_ratio_$b]}"
    done
    echo
  fi
  if has latency; then
    cat <<EOF
### latency: fixed rate, $RATE req/s over $RATE_CONNS keep-alive connections (\`bench/rate_client.c\`)

Open loop: request i is due at i / $RATE s whatever the answers; latency runs from the time it was due, so a
stall counts in full (no coordinated omission). µs. "added p99" = target p99 − direct p99.

| target | achieved req/s | p50 | p99 | p99.9 | added p99 | proxy CPU µs/req | busy | sends > 1 ms late |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
    for t in direct nginx haproxy esgate; do
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(fmt "$(M latency $t rps)")" \
        "$(fmt "$(M latency $t p50)")" "$(fmt "$(M latency $t p99)")" "$(fmt "$(M latency $t p999)")" \
        "${sum[latency_added_p99_$t]:--}" "$(fmt "$(M latency $t cpu)" 2)" "$(pct "$(M latency $t busy)")" \
        "$(fmt "$(M latency $t lag1ms)")"
    done
    printf '\n| ratio | p50 | p99 | p99.9 | added p99 |\n| --- | ---: | ---: | ---: | ---: |\n'
    for b in nginx haproxy; do
      printf '| esgate / %s | %s | %s | %s | %s |\n' "$b" "$(ratio "$(M latency esgate p50)" "$(M latency $b p50)")" \
        "$(ratio "$(M latency esgate p99)" "$(M latency $b p99)")" "$(ratio "$(M latency esgate p999)" "$(M latency $b p999)")" \
        "$(ratio "${sum[latency_added_p99_esgate]}" "${sum[latency_added_p99_$b]}")"
    done
    echo
  fi
  if has 1mb; then
    cat <<EOF
### 1mb: ${big_bytes}-byte answers (\`wrk -t1 -c$MB_CONNS\`)

| target | req/s | MB/s | proxy CPU µs/req | busy | waited |
| --- | ---: | ---: | ---: | ---: | ---: |
EOF
    for t in direct nginx haproxy esgate; do
      printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "$(fmt "$(M 1mb $t rps)")" "$(fmt "$(M 1mb $t mbps)")" \
        "$(fmt "$(M 1mb $t cpu)")" "$(pct "$(M 1mb $t busy)")" "$(pct "$(M 1mb $t wait)")"
    done
    printf '\n| ratio | MB/s | CPU µs/req |\n| --- | ---: | ---: |\n'
    for b in nginx haproxy; do
      printf '| esgate / %s | %s | %s |\n' "$b" "$(ratio "$(M 1mb esgate mbps)" "$(M 1mb $b mbps)")" \
        "$(ratio "$(M 1mb esgate cpu)" "$(M 1mb $b cpu)")"
    done
    echo
  fi
  if has conns1000; then
    cat <<EOF
### conns1000: $BIG_CONNS concurrent keep-alive connections (\`wrk -t1 -c$BIG_CONNS\`)

Closed loop, saturated: p99 is queueing behind $BIG_CONNS connections, not overhead (ms). The connections are opened
at the start of each run (included). Every listener has a backlog of 4096 (nginx's default 511 drops SYNs of the
connection burst, which then wait 1 s for a retransmission); "listen drops" = Δ\`TcpExt ListenDrops\` of the machine
over the run (should be 0).

| target | req/s | proxy CPU µs/req | p50 ms | p99 ms | busy | waited | listen drops |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
    for t in direct nginx haproxy esgate; do
      printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(fmt "$(M conns1000 $t rps)")" "$(fmt "$(M conns1000 $t cpu)" 2)" \
        "$(ms "$(M conns1000 $t p50)")" "$(ms "$(M conns1000 $t p99)")" "$(pct "$(M conns1000 $t busy)")" "$(pct "$(M conns1000 $t wait)")" \
        "$(fmt "$(M conns1000 $t listen_drops)")"
    done
    printf '\n| ratio | req/s | CPU µs/req | p99 |\n| --- | ---: | ---: | ---: |\n'
    for b in nginx haproxy; do
      printf '| esgate / %s | %s | %s | %s |\n' "$b" "$(ratio "$(M conns1000 esgate rps)" "$(M conns1000 $b rps)")" \
        "$(ratio "$(M conns1000 esgate cpu)" "$(M conns1000 $b cpu)")" "$(ratio "$(M conns1000 esgate p99)" "$(M conns1000 $b p99)")"
    done
    echo
  fi
  if has cold; then
    cat <<EOF
### cold: keys in Redis, not in the gateway's cache (esgate only; \`wrk -t1 -c$CONNS\`)

\`esgate_cold\` is a second gateway (same binary, Redis, stub and core) with \`security.api_key.cache_ttl: $COLD_TTL\`;
wrk sends $COLD_KEYS distinct keys (same role descriptor) round robin, so a key comes back only after its cache entry
has expired: every request reads its key from Redis and verifies its secret (\`{SSHA256}\`). \`esgate\` is the main
gateway with its one cached key, under the same wrk script. "cache miss" = Δ\`esgate_key_cache_total{event="miss"}\` /
Δ(miss + hit) over the run, from the gateway's own metrics.

| target | req/s | proxy CPU µs/req | busy | waited | cache miss |
| --- | ---: | ---: | ---: | ---: | ---: |
EOF
    for t in esgate esgate_cold; do
      printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "$(fmt "$(M cold $t rps)")" "$(fmt "$(M cold $t cpu)" 2)" \
        "$(pct "$(M cold $t busy)")" "$(pct "$(M cold $t wait)")" "$(pct "$(M cold $t miss_pct)")"
    done
    printf '\nesgate_cold / esgate (cached): req/s **%s**, CPU µs/req **%s**.\n\n' "${sum[cold_rps_vs_cached]}" "${sum[cold_cpu_vs_cached]}"
  fi
  if has flood; then
    cat <<EOF
### flood: legitimate traffic beside a random-key flood (esgate only)

Legitimate: the cached key at $RATE req/s over $RATE_CONNS connections (\`bench/rate_client.c\`, as in \`latency\`), alone
(\`esgate_quiet\`) and with a flood (\`esgate_flood\`): $FLOOD_RATE req/s over $FLOOD_CONNS keep-alive connections, each
request with a new random well-formed \`ApiKey\` (20-character id, 22-character secret), running from 1 s before to 1 s
after the legitimate traffic. What applies in esgate (README): there is no per-IP request-rate limit, only
\`limits.max_connections_per_ip\` (connections, not reached by $FLOOD_CONNS); unknown ids are remembered for 2 s (a
negative cache), which random ids never hit, so every flood request costs one Redis read and a 401. "unknown_key" =
Δ\`esgate_authentications_total{result="unknown_key"}\` over the run. Latency in µs.

| run | legit p50 | legit p99 | legit p99.9 | legit errors | esgate busy | flood req/s | flood 401 | flood other | flood errors | flood p50 / p99 | unknown_key |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
    for t in esgate_quiet esgate_flood; do
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(fmt "$(M flood $t p50)")" \
        "$(fmt "$(M flood $t p99)")" "$(fmt "$(M flood $t p999)")" "$(fmt "$(M flood $t errors)")" "$(pct "$(M flood $t busy)")" \
        "$(fmt "$(M flood $t f_rps)")" "$(fmt "$(M flood $t f_401)")" "$(fmt "$(M flood $t f_other)")" "$(fmt "$(M flood $t f_errors)")" \
        "$( [ "$t" = esgate_flood ] && echo "$(fmt "$(M flood $t f_p50)") / $(fmt "$(M flood $t f_p99)")" || echo -)" \
        "$(fmt "$(M flood $t f_unknown_key)")"
    done
    printf '\nLegitimate p99 with the flood / without: **%s** (target ≤ 2: %s); p50: %s. Flood answers over all runs: %s × 401, %s other.\n\n' \
      "${sum[flood_p99_ratio]}" "$(le "${sum[flood_p99_ratio]}" 2)" "${sum[flood_p50_ratio]}" "$(sum_of f_401)" "$(sum_of f_other)"
  fi
  cat <<EOF
<details><summary>Every run</summary>

| scenario | target | run | figures |
| --- | --- | ---: | --- |
EOF
  awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$work/results.tsv"
  printf '\n</details>\n'
  if [ "$esgate_log_bad" != 0 ]; then
    # shellcheck disable=SC2016 # the backticks are Markdown
    printf '\nesgate logs, most frequent warning/error lines (count, line):\n\n```\n%s\n```\n' "$esgate_log_head"
  fi
}

report | { if [ -n "$OUT" ]; then tee "$OUT"; else cat; fi; }

if [ -n "$SUMMARY_OUT" ]; then
  {
    echo "errors_total=$errors_total"
    for s in "${scenarios[@]}"; do
      for t in $(targets_of "$s"); do
        for k in $keys; do [ "${m[$s,$t,$k]}" = - ] || echo "$s.$t.$k=${m[$s,$t,$k]}"; done
      done
    done
    for k in "${!sum[@]}"; do echo "$k=${sum[$k]}"; done
  } | sort >"$SUMMARY_OUT"
fi
[ "$errors_total" = 0 ] || log "warning: $errors_total errors during measurement; see the per-run table"
