#!/usr/bin/env bash
# Memory per idle keep-alive connection, plain and TLS 1.3, with CONNS connections held:
# esgate (1 thread) vs nginx (1 worker) vs HAProxy (nbthread 1), all as proxies in front of the
# same stub, with the same ECDSA P-256 certificate. Each connection made one request first.
# Prints a Markdown section on stdout; progress goes to stderr.
#
# Environment (all optional):
#   ESGATE_BIN  esgate binary (default <repo>/build/bin/esgate, a Release build)
#   CONNS       connections held per target (default 10000)
#   PROXY_CPU / LOAD_CPU  cores for the proxies / for the clients and the stub (default 0 / 1)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ESGATE_BIN=${ESGATE_BIN:-$root/build/bin/esgate}
CONNS=${CONNS:-10000}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
cmd="CONNS=$CONNS bench/idle_bench.sh"

log() { printf '[idle_bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in nginx haproxy redis-server openssl taskset /usr/bin/python3; do
  command -v "$tool" >/dev/null || die "$tool not found (as root: scripts/install-deps bench)"
done
[ -x "$ESGATE_BIN" ] || die "esgate binary not found at $ESGATE_BIN"
ulimit -n "$(ulimit -Hn)"
nofile=$(ulimit -n)
[ "$nofile" -gt $((CONNS + 500)) ] || die "open files limit $nofile too low for CONNS=$CONNS"
# HAProxy reserves two descriptors per connection (client and server side) whether it reuses
# server connections or not: it holds at most (limit - 500) / 2 here.
haproxy_conns=$(( CONNS < (nofile - 500) / 2 ? CONNS : (nofile - 500) / 2 ))

work=$(mktemp -d /tmp/esgate-idle-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
KEEP_WORK=${KEEP_WORK:-}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listens on port $1"
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/both.pem"
chmod 644 "$work"/*.pem; chmod 711 "$work"

declare -A port
for t in stub nginx nginx_tls haproxy haproxy_tls esgate esgate_tls redis; do port[$t]=$(free_port); done
mkdir -p "$work/tmp"

cat >"$work/nginx.conf" <<EOF
daemon off; worker_processes 1; worker_rlimit_nofile $nofile; pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 32768; }
http {
  access_log off; keepalive_requests 100000000; keepalive_timeout 300s;
  client_body_temp_path $work/tmp/b; proxy_temp_path $work/tmp/p; fastcgi_temp_path $work/tmp/f;
  uwsgi_temp_path $work/tmp/u; scgi_temp_path $work/tmp/s;
  upstream stub { server 127.0.0.1:${port[stub]}; keepalive 64; }
  server { listen 127.0.0.1:${port[stub]}; location / { return 200 '{"ok":true}'; } }
}
EOF
cat >"$work/proxy.conf" <<EOF
daemon off; worker_processes 1; worker_rlimit_nofile $nofile; pid $work/proxy.pid;
error_log $work/proxy.err warn;
events { worker_connections 32768; }
http {
  access_log off; keepalive_requests 100000000; keepalive_timeout 300s;
  client_body_temp_path $work/tmp/b2; proxy_temp_path $work/tmp/p2; fastcgi_temp_path $work/tmp/f2;
  uwsgi_temp_path $work/tmp/u2; scgi_temp_path $work/tmp/s2;
  upstream stub { server 127.0.0.1:${port[stub]}; keepalive 64; }
  server {
    listen 127.0.0.1:${port[nginx]};
    listen 127.0.0.1:${port[nginx_tls]} ssl;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; ssl_protocols TLSv1.3;
    location / { proxy_pass http://stub; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
cat >"$work/haproxy.cfg" <<EOF
global
  nbthread 1
  fd-hard-limit $nofile
  maxconn $haproxy_conns
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend plain
  bind 127.0.0.1:${port[haproxy]}
  bind 127.0.0.1:${port[haproxy_tls]} ssl crt $work/both.pem ssl-min-ver TLSv1.3
  default_backend stub
backend stub
  http-reuse always
  server s1 127.0.0.1:${port[stub]}
EOF
printf 'users: {}\n' >"$work/users.yml"; printf '{}\n' >"$work/roles.yml"
for t in esgate esgate_tls; do
  tls=""
  [ $t = esgate_tls ] && tls="  tls: {certificate: $work/cert.pem, key: $work/key.pem, min_version: \"1.3\"}"
  cat >"$work/$t.yaml" <<EOF
threads: 1
listen:
  address: 127.0.0.1
  port: ${port[$t]}
$tls
upstream: {nodes: ["http://127.0.0.1:${port[stub]}"]}
redis: {url: "redis://127.0.0.1:${port[redis]}"}
security: {roles_file: $work/roles.yml, users_file: $work/users.yml}
limits: {max_connections: 40000, max_connections_per_ip: 40000, idle_timeout: 300s}
EOF
done

taskset -c "$LOAD_CPU" redis-server --port "${port[redis]}" --save "" --appendonly no >/dev/null & pids+=($!)
taskset -c "$LOAD_CPU" nginx -p "$work/" -e "$work/nginx.early" -c "$work/nginx.conf" & pids+=($!)
taskset -c "$PROXY_CPU" nginx -p "$work/" -e "$work/proxy.early" -c "$work/proxy.conf" & pids+=($!)
taskset -c "$PROXY_CPU" haproxy -f "$work/haproxy.cfg" 2>"$work/haproxy.err" & pids+=($!)
haproxy_pid=$!
for t in esgate esgate_tls; do
  taskset -c "$PROXY_CPU" "$ESGATE_BIN" --config "$work/$t.yaml" 2>"$work/$t.log" & pids+=($!)
  eval "${t}_pid=$!"
done
for t in stub nginx nginx_tls haproxy haproxy_tls esgate esgate_tls; do wait_port "${port[$t]}"; done
proxy_master=$(cat "$work/proxy.pid" 2>/dev/null || pgrep -f "$work/proxy.conf" | head -1)
nginx_worker=$(pgrep -P "$proxy_master" | head -1)

declare -A pid_of=([nginx]=$nginx_worker [nginx_tls]=$nginx_worker [haproxy]=$haproxy_pid
  [haproxy_tls]=$haproxy_pid [esgate]=$esgate_pid [esgate_tls]=$esgate_tls_pid)
declare -A path_of=([nginx]=/ [nginx_tls]=/ [haproxy]=/ [haproxy_tls]=/ [esgate]=/_esgate/health
  [esgate_tls]=/_esgate/health)
rows=""
for t in nginx esgate haproxy nginx_tls esgate_tls haproxy_tls; do
  mode=plain; [[ $t == *_tls ]] && mode=tls
  conns=$CONNS; [[ $t == haproxy* ]] && conns=$haproxy_conns
  log "$t: holding $conns idle $mode connections"
  read -r n before after per <<<"$(taskset -c "$LOAD_CPU" /usr/bin/python3 "$root/bench/idle_conns.py" \
    "$conns" 127.0.0.1 "${port[$t]}" "${path_of[$t]}" "$mode" "${pid_of[$t]}")"
  rows+="| $t | $mode | $n | $((before / 1024)) | $((after / 1024)) | **$per** |"$'\n'
  sleep 1
done

cat <<EOF
## Run: memory per idle keep-alive connection ($(date -u '+%Y-%m-%d %H:%M UTC'))

- Commit: \`$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)\`; command: \`$cmd\`
- nginx $(nginx -v 2>&1 | sed 's/.*\///') (1 worker), HAProxy $(haproxy -v | head -1 | awk '{print $3}') (\`nbthread 1\`),
  esgate (\`threads: 1\`); one ECDSA P-256 certificate, TLS 1.3. Each connection sent one request (nginx and
  HAProxy: \`GET /\` proxied to the stub; esgate: \`GET /_esgate/health\`, answered by the gateway) and
  then stayed open and idle. HAProxy holds at most (open-files limit − 500) / 2 connections (it
  reserves a server-side descriptor per connection); the limit here is $nofile. Bytes per connection = (VmRSS of the proxy process with all connections
  held − VmRSS before) / connections; nginx's is its worker's.

| target | | connections | VmRSS before MiB | VmRSS held MiB | bytes per idle connection |
| --- | --- | ---: | ---: | ---: | ---: |
$rows
EOF
