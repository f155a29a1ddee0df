#!/usr/bin/env bash
# Instructions per request, counted by callgrind: deterministic where wall-clock and CPU-time figures
# are noise on a shared 2-core machine, so a change to the request path can be checked against the
# committed baseline (bench/instructions.baseline) in about a minute, to within ±1%.
#
# The real esgate binary (a Release build) runs under `valgrind --tool=callgrind` with 1 I/O thread,
# in front of a stub (nginx `return 200`) and a real redis-server. For each scenario, a client
# (bench/replay_client.py) first warms it up, then the counters are zeroed (`callgrind_control -z`),
# N keep-alive requests are sent one after another and checked (status, count), and the counters are
# dumped (`callgrind_control -d`). Instructions per request = the process's instructions in that
# window / N: everything esgate does for a request (parse, authenticate, authorize, forward, relay
# the answer), in user space; system calls count as their user-space side only.
#
# Scenarios:
#   get_api_key   GET /books/_search, API key (cached) whose role must be checked (read on books)
#   get_basic     the same with HTTP Basic (cached password digest), superuser
#   bulk_100      POST /_bulk, 100 create items (~12 KB), API key with create_doc + create_index on logs-*:
#                 per-item authorization
#   unknown_key   GET /books/_search with a new random API key id each time: 401 after a Redis
#                 lookup (the random-key flood's cost per request)
#
# Usage: bench/instructions.sh [--update]   (--update rewrites the baseline)
# Environment: ESGATE_BIN (default <repo>/build/bin/esgate), N (requests per scenario, default 2000;
#   bulk_100 and unknown_key run N/5), TOP (functions listed per scenario, default 15), OUT (also
#   write the Markdown report there), DUMPS (a folder to keep the callgrind dumps in, one per
#   scenario, for `callgrind_annotate --tree=caller` or kcachegrind), EXTRA_YAML (appended to the
#   gateway's esgate.yaml, `@WORK@` replaced by the run's folder; e.g. the audit log on, see
#   bench/README.md).
# Exit status: 0, or 3 when a scenario costs more than 1% over its baseline.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ESGATE_BIN=${ESGATE_BIN:-$root/build/bin/esgate}
N=${N:-2000}
TOP=${TOP:-15}
OUT=${OUT:-}
DUMPS=${DUMPS:-}
baseline_file=$root/bench/instructions.baseline
update=0
[ "${1:-}" = --update ] && update=1

log() { printf '[instructions] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in valgrind callgrind_control callgrind_annotate nginx redis-server curl; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps bench)"
done
[ -x "$ESGATE_BIN" ] || die "esgate binary not found at $ESGATE_BIN (build: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DESGATE_BUILD_TESTS=OFF && ninja -C build esgate)"
py=/usr/bin/python3

work=$(mktemp -d /tmp/esgate-instructions.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

taken=" "
free_port() {
  local p=$((20000 + RANDOM % 12000))
  while [[ $taken == *" $p "* ]] || [ -n "$(ss -Htln "( sport = :$p )")" ]; do p=$((p + 1)); done
  taken+="$p "
  echo "$p"
}
stub_port=$(free_port)
esgate_port=$(free_port)
redis_port=$(free_port)
mkdir -p "$work/tmp"

cat >"$work/stub.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/stub.pid;
error_log $work/stub.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  server {
    listen 127.0.0.1:$stub_port;
    location / { return 200 '{"took":1,"errors":false,"items":[]}'; }
  }
}
EOF
nginx -p "$work/" -e "$work/stub.early.err" -c "$work/stub.conf" &
pids+=("$!")
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$work" \
  --logfile "$work/redis.log" &
pids+=("$!")

password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
hash=$(printf '%s' "$password" | "$ESGATE_BIN" hash-password | tr -d '\r\n')
cat >"$work/users.yml" <<EOF
users:
  bench:
    password_hash: "$hash"
    roles: ["superuser"]
EOF
echo '{}' >"$work/roles.yml"
cat >"$work/esgate.yaml" <<EOF
threads: 1
listen: {address: 127.0.0.1, port: $esgate_port}
upstream: {nodes: ["http://127.0.0.1:$stub_port"]}
redis: {url: "redis://127.0.0.1:$redis_port/0"}
security: {users_file: users.yml, roles_file: roles.yml}
EOF
if [ -n "${EXTRA_YAML:-}" ]; then printf '%s\n' "${EXTRA_YAML//@WORK@/$work}" >>"$work/esgate.yaml"; fi

log "starting esgate under callgrind on :$esgate_port"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --dump-instr=no \
  "$ESGATE_BIN" --config "$work/esgate.yaml" 2>"$work/esgate.log" &
esgate_pid=$!
pids+=("$esgate_pid")
for _ in $(seq 600); do
  kill -0 "$esgate_pid" 2>/dev/null || { tail -n 20 "$work/esgate.log" >&2; die "esgate exited at start"; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$esgate_port/_esgate/health" || true)" != 000 ] && break
  sleep 0.2
done

basic="Basic $(printf 'bench:%s' "$password" | base64 -w0)"
create_key() {
  local body=$1 json encoded
  json=$(curl -s --max-time 30 -H "Authorization: $basic" -X POST -H 'Content-Type: application/json' \
    -d "$body" "http://127.0.0.1:$esgate_port/_security/api_key")
  encoded=$(printf '%s' "$json" | sed -n 's/.*"encoded":"\([^"]*\)".*/\1/p')
  [ -n "$encoded" ] || die "no API key in: $json"
  echo "ApiKey $encoded"
}
read_key=$(create_key '{"name":"books-read","role_descriptors":{"r":{"indices":[{"names":["books"],"privileges":["read"]}]}}}')
bulk_key=$(create_key '{"name":"logs-write","role_descriptors":{"w":{"indices":[{"names":["logs-*"],"privileges":["create_doc","create_index"]}]}}}')

# scenario name, requests, client arguments
scenarios=(get_api_key get_basic bulk_100 unknown_key)
declare -A count=([get_api_key]=$N [get_basic]=$N [bulk_100]=$((N / 5)) [unknown_key]=$((N / 5)))
declare -A args=(
  [get_api_key]="--auth-env READ_KEY --path /books/_search --expect 200"
  [get_basic]="--auth-env BASIC --path /books/_search --expect 200"
  [bulk_100]="--auth-env BULK_KEY --path /_bulk --bulk-items 100 --expect 200"
  [unknown_key]="--random-key --path /books/_search --expect 401"
)
export READ_KEY="$read_key" BULK_KEY="$bulk_key" BASIC="$basic"

declare -A ir per_request
report="$work/report.md"
{
  echo "## Run: instructions per request (callgrind), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Commit: \`$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)\`$(git -C "$root" diff --quiet 2>/dev/null || echo ' (uncommitted changes)'); binary \`$ESGATE_BIN\`; command: \`${EXTRA_YAML:+EXTRA_YAML='$EXTRA_YAML' }N=$N bench/instructions.sh\`"
  echo "- $(valgrind --version), esgate \`threads: 1\`, stub nginx \`return 200\`, real redis-server; one keep-alive connection, requests one after another."
  echo
} >"$report"

dump_no=0
for s in "${scenarios[@]}"; do
  n=${count[$s]}
  # shellcheck disable=SC2086
  "$py" "$root/bench/replay_client.py" --port "$esgate_port" --requests 50 ${args[$s]} >/dev/null ||
    die "warm-up of $s failed"
  callgrind_control -z "$esgate_pid" >/dev/null
  # shellcheck disable=SC2086
  "$py" "$root/bench/replay_client.py" --port "$esgate_port" --requests "$n" ${args[$s]} ||
    die "scenario $s failed"
  callgrind_control -d "$s" "$esgate_pid" >/dev/null
  dump_no=$((dump_no + 1))
  file="$work/callgrind.out.$dump_no"
  for _ in $(seq 50); do [ -s "$file" ] && break; sleep 0.1; done
  [ -s "$file" ] || die "no callgrind dump for $s"
  total=$(callgrind_annotate --inclusive=no "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
  [ -n "$total" ] || die "no totals in the dump for $s"
  [ -n "$DUMPS" ] && mkdir -p "$DUMPS" && cp "$file" "$DUMPS/callgrind.$s.out"
  ir[$s]=$total
  per_request[$s]=$((total / n))
  log "$s: ${per_request[$s]} instructions per request ($n requests)"
  {
    echo "### $s: $(printf "%'d" "${per_request[$s]}") instructions per request ($n requests)"
    echo
    echo '```'
    callgrind_annotate --inclusive=no --threshold=100 "$file" 2>/dev/null |
      awk -v top="$TOP" -v n="$n" '
        /^-+$/ { dashes++; next }
        /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
        dashes >= 3 && NF >= 2 && shown < top {
          gsub(",", "", $1); if ($1 !~ /^[0-9]+$/) next
          # The threads entry points (clone, io_context::run) come out with the cost of their callees
          # cost after a zero taken while they were running: not self costs, skipped.
          if ($1 + 0 > 0.9 * total) next
          fn = $0; sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, "", fn)
          printf "%10.0f  %s\n", $1 / n, substr(fn, 1, 110); shown++ }'
    echo '```'
    echo
  } >>"$report"
done

# Against the baseline: scenario instructions_per_request
status=0
{
  echo "| scenario | instructions per request | baseline | change |"
  echo "| --- | ---: | ---: | ---: |"
  for s in "${scenarios[@]}"; do
    base=$(awk -v s="$s" '$1 == s { print $2 }' "$baseline_file" 2>/dev/null || true)
    if [ -n "$base" ]; then
      change=$(awk -v a="${per_request[$s]}" -v b="$base" 'BEGIN { printf "%+.2f%%", 100 * (a - b) / b }')
      over=$(awk -v a="${per_request[$s]}" -v b="$base" 'BEGIN { print (a > b * 1.01) ? 1 : 0 }')
      [ "$over" = 1 ] && status=3
    else
      base="-"; change="-"
    fi
    echo "| $s | ${per_request[$s]} | $base | $change |"
  done
} >"$work/table.md"
cat "$work/table.md"
{ echo; cat "$work/table.md"; echo; } >>"$report"
if [ $update = 1 ]; then
  {
    echo "# scenario instructions_per_request — written by bench/instructions.sh --update"
    echo "# commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $(valgrind --version)"
    for s in "${scenarios[@]}"; do echo "$s ${per_request[$s]}"; done
  } >"$baseline_file"
  log "baseline written to $baseline_file"
  status=0
fi
[ -n "$OUT" ] && cp "$report" "$OUT"
cat "$report" >&2
exit $status
