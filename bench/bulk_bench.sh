#!/usr/bin/env bash
# _bulk throughput side by side in one run: direct to an nginx stub, nginx as a plain proxy
# (1 worker), esgate (1 thread) with an API key that may only create_doc on logs-*, so every item
# of the body is authorized on its own and one item per 1,000 (on `secret`) is denied and spliced
# back. Proxy on core 0; wrk, the stub and Redis on core 1. 10 MB NDJSON bodies, wrk -c4.
# Also: esgate's peak RSS growth while one 100 MB bulk streams through it.
# Env: ESGATE_BIN (default build/bin/esgate, Release), RUNS (3), DURATION (10), CONNS (4).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ESGATE_BIN=${ESGATE_BIN:-$root/build/bin/esgate}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-4}
log() { printf '[bulk_bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
for t in nginx wrk redis-server curl taskset; do command -v "$t" >/dev/null || die "$t missing (scripts/install-deps bench)"; done
[ -x "$ESGATE_BIN" ] || die "no esgate binary at $ESGATE_BIN"

work=$(mktemp -d /tmp/esgate-bulk-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { echo $((20000 + RANDOM % 12000)); }
stub_port=$(port); nginx_port=$(port); esgate_port=$(port); redis_port=$(port)
mkdir -p "$work/tmp"

common="daemon off; worker_processes 1; error_log $work/ERR warn; events { worker_connections 1024; }"
httpc="access_log off; client_max_body_size 200m; client_body_buffer_size 16m; keepalive_requests 100000000;
  client_body_temp_path $work/tmp/b; proxy_temp_path $work/tmp/p; fastcgi_temp_path $work/tmp/f;
  uwsgi_temp_path $work/tmp/u; scgi_temp_path $work/tmp/s;"
cat >"$work/stub.conf" <<EOC
${common//ERR/stub.err} pid $work/stub.pid;
http { $httpc
  server { listen 127.0.0.1:$stub_port;
    location / { default_type application/json; return 200 '{"errors":false,"took":1,"items":[]}'; } } }
EOC
cat >"$work/proxy.conf" <<EOC
${common//ERR/proxy.err} pid $work/proxy.pid;
http { $httpc
  upstream stub { server 127.0.0.1:$stub_port; keepalive 16; }
  server { listen 127.0.0.1:$nginx_port;
    location / { proxy_pass http://stub; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
EOC
taskset -c 1 nginx -p "$work/" -e "$work/e1" -c "$work/stub.conf" & pids+=("$!")
taskset -c 0 nginx -p "$work/" -e "$work/e2" -c "$work/proxy.conf" & proxy_master=$!; pids+=("$proxy_master")
taskset -c 1 redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$work" \
  --logfile "$work/redis.log" & pids+=("$!")

password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
hash=$(printf '%s' "$password" | "$ESGATE_BIN" hash-password | tr -d '\r\n')
printf 'users:\n  bench:\n    password_hash: "%s"\n    roles: ["superuser"]\n' "$hash" >"$work/users.yml"
echo '{}' >"$work/roles.yml"
cat >"$work/esgate.yaml" <<EOC
threads: 1
listen: {address: 127.0.0.1, port: $esgate_port}
upstream: {nodes: ["http://127.0.0.1:$stub_port"]}
redis: {url: "redis://127.0.0.1:$redis_port/0"}
security: {users_file: users.yml, roles_file: roles.yml}
limits: {max_body_bytes: 200mb}
EOC
sleep 0.5
taskset -c 0 "$ESGATE_BIN" --config "$work/esgate.yaml" 2>"$work/esgate.log" & esgate_pid=$!; pids+=("$esgate_pid")
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$esgate_port/_esgate/health" || true)" != 000 ] && break
  sleep 0.1
done
proxy_worker=$(pgrep -P "$proxy_master" | head -n1)
key=$(curl -s -u "bench:$password" -H 'Content-Type: application/json' -X POST \
  "http://127.0.0.1:$esgate_port/_security/api_key" \
  -d '{"name":"bench-writer","role_descriptors":{"w":{"indices":[{"names":["logs-*"],"privileges":["create_doc","create_index"]}]}}}' |
  sed -n 's/.*"encoded":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || die "no API key"

# The body: ~300-byte log documents, one item per 1,000 on `secret` (denied for the key).
/usr/bin/python3 - "$work" <<'EOP'
import sys
doc = ('{"@timestamp":"2024-03-15T22:45:30.123Z","host":{"name":"web-01"},"message":"GET /index.html '
       'HTTP/1.1 200 1234 - Mozilla/5.0 (X11; Linux x86_64)","event":{"dataset":"nginx.access",'
       '"duration":1234567},"tags":["prod","eu-west-1"],"pad":"' + "x" * 60 + '"}\n')
def body(size):
    out, i = [], 0
    total = 0
    while total < size:
        idx = "secret" if i % 1000 == 999 else "logs-a"
        line = '{"create":{"_index":"%s"}}\n' % idx + doc
        out.append(line); total += len(line); i += 1
    return "".join(out).encode()
open(sys.argv[1] + "/bulk10.ndjson", "wb").write(body(10 << 20))
open(sys.argv[1] + "/bulk100.ndjson", "wb").write(body(100 << 20))
EOP
mb=$(awk -v b="$(stat -c %s "$work/bulk10.ndjson")" 'BEGIN{printf "%.3f", b/1048576}')
cat >"$work/post.lua" <<EOL
local f = io.open("$work/bulk10.ndjson", "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/x-ndjson"
EOL
code=$(curl -s -o "$work/check.json" -w '%{http_code}' -H "Authorization: ApiKey $key" \
  -H 'Content-Type: application/x-ndjson' --data-binary @"$work/bulk10.ndjson" "http://127.0.0.1:$esgate_port/_bulk")
[ "$code" = 200 ] || die "esgate answered $code: $(head -c 300 "$work/check.json")"

ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
declare -A url=([direct]="http://127.0.0.1:$stub_port/_bulk" [nginx]="http://127.0.0.1:$nginx_port/_bulk"
                [esgate]="http://127.0.0.1:$esgate_port/_bulk")
declare -A cpu=([nginx]=$proxy_worker [esgate]=$esgate_pid)
declare -A rps_runs cpu_runs p99_runs
for run in $(seq "$RUNS"); do
  for t in direct nginx esgate; do
    before=0; [ -n "${cpu[$t]:-}" ] && before=$(ticks "${cpu[$t]}")
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: ApiKey $key" \
      -s "$work/post.lua" "${url[$t]}")
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    us="-"
    if [ -n "${cpu[$t]:-}" ]; then
      after=$(ticks "${cpu[$t]}")
      us=$(awk -v d=$((after - before)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.0f", d / hz * 1e6 / n}')
    fi
    rps_runs[$t]+="$rps "; cpu_runs[$t]+="$us "; p99_runs[$t]+="$p99 "
    log "run $run $t: $rps req/s, ${us} us CPU/req, p99 $p99"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

if [ -n "${PERF_OUT:-}" ]; then perf record -g -o "$PERF_OUT" -p "$esgate_pid" -- sleep 6 >/dev/null 2>&1 & perf_pid=$!; taskset -c 1 wrk -t1 -c2 -d5s -H "Authorization: ApiKey $key" -s "$work/post.lua" "${url[esgate]}" >/dev/null; wait $perf_pid; fi
rss() { awk '/^VmRSS/ {print $2}' "/proc/$esgate_pid/status"; }
rss_before=$(rss); peak=$rss_before
curl -s -o "$work/big.json" -w '%{http_code}' -H "Authorization: ApiKey $key" \
  -H 'Content-Type: application/x-ndjson' -H 'Transfer-Encoding: chunked' \
  --data-binary @"$work/bulk100.ndjson" "http://127.0.0.1:$esgate_port/_bulk" >"$work/big.code" &
cpid=$!
while kill -0 "$cpid" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.02; done
big_code=$(cat "$work/big.code")
growth=$(awk -v a="$rss_before" -v b="$peak" 'BEGIN{printf "%.1f", (b-a)/1024}')

echo "### _bulk, 10 MB bodies ($mb MiB, one denied item per 1,000), wrk -c$CONNS, ${DURATION}s x $RUNS runs (medians)"
echo
echo "| target | req/s | MB/s | proxy CPU per request | p99 |"
echo "| --- | --- | --- | --- | --- |"
for t in direct nginx esgate; do
  r=$(median <<<"${rps_runs[$t]}")
  c=$(median <<<"${cpu_runs[$t]}" 2>/dev/null || echo -)
  p=$(tr ' ' '\n' <<<"${p99_runs[$t]}" | grep -v '^$' | sort | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  echo "| $t | $r | $(awk -v r="$r" -v m="$mb" 'BEGIN{printf "%.0f", r*m}') | ${c} us | $p |"
done
rn=$(median <<<"${rps_runs[nginx]}"); re=$(median <<<"${rps_runs[esgate]}")
echo
echo "esgate / nginx MB/s: $(awk -v a="$re" -v b="$rn" 'BEGIN{printf "%.2f", a/b}')"
echo
echo "Peak RSS growth of esgate while one 100 MB chunked bulk streamed through it: ${growth} MB (VmRSS sampled every 20 ms; the request answered HTTP $big_code: $(head -c 120 "$work/big.json"))."
echo
echo "Command: \`RUNS=$RUNS DURATION=$DURATION CONNS=$CONNS bench/bulk_bench.sh\`"
