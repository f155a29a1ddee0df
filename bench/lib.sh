# shellcheck shell=bash
# Shared boilerplate of the bench scripts. Source it, then call bench_init NAME:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_init perf_bench          # log prefix, $work (a fresh /tmp/esgate-perf_bench.XXXXXX), traps
#   track "$pid"                   # stopped by the EXIT trap (TERM, then KILL after 3 s)
#   load_pids=("$!")               # load generators in flight: stopped too; reset to () once waited
#                                  # for, so a recycled pid is never signalled
#
# What it provides: log / die, bench_init (work dir + cleanup trap), track, free_port, wait_http,
# start_redis, nginx_worker, cpu_ticks, run_delay_ns, status_kb, median / ratio / fmt, the machine,
# commit, load-average and vmstat summaries for the report, and random_password / make_superuser
# (a users.yml with one bcrypt superuser, hashed by `esgate hash-password`).
# Nothing here starts a process by itself except start_redis.

bench_name=bench
log() { printf '[%s] %s\n' "$bench_name" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Every process the script starts is recorded in $pids and stopped on exit, whatever the exit path
# (normal end, a failed check, Ctrl-C, SIGTERM). $load_pids are the load generators in flight.
pids=()
load_pids=()
work=""
bench_cleanup() {
  local pid alive
  pids+=("${load_pids[@]}")
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 30); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$work" ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$work"
  [ -n "$work" ] && [ -n "${KEEP_WORK:-}" ] && log "work dir kept: $work"
  return 0
}
bench_init() { # NAME
  bench_name=$1
  work=$(mktemp -d "/tmp/esgate-$1.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
track() { pids+=("$@"); }

# Free loopback ports, chosen from a random start so concurrent runs rarely collide, and below
# the ephemeral range (32768+), where an outgoing connection may hold a port a moment later.
ports_taken=" "
free_port() {
  local p=$((20000 + RANDOM % 12000))
  while [[ $ports_taken == *" $p "* ]] || [ -n "$(ss -Htln "( sport = :$p )")" ]; do p=$((p + 1)); done
  ports_taken+="$p "
  echo "$p"
}

# wait_http URL NAME [PID]: until something answers HTTP on URL (any status; -k for https). With a
# PID, fail at once when that process has exited (a config error), showing LOG_OF_PID's tail.
wait_http() {
  local url=$1 name=$2 pid=${3:-}
  for _ in $(seq 100); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      [ -n "${LOG_OF_PID:-}" ] && tail -n 20 "$LOG_OF_PID" >&2
      die "$name exited at start"
    fi
    [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)" != 000 ] && return 0
    sleep 0.1
  done
  die "$name did not come up on $url"
}

# start_redis PORT CPU: a throw-away redis-server (no persistence) pinned to CPU, in $work; waits
# for PONG. Sets $redis_pid.
redis_pid=""
start_redis() {
  local port=$1 cpu=$2
  taskset -c "$cpu" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$work" --logfile "$work/redis.log" &
  redis_pid=$!
  track "$redis_pid"
  for _ in $(seq 50); do
    [ "$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'PING\r\n' >&3 && head -c 5 <&3) 2>/dev/null)" = "+PONG" ] && return 0
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  die "redis-server did not answer PING on :$port (log: $(tail -n 3 "$work/redis.log" 2>/dev/null))"
}

# The nginx worker of a master (1 worker each here): that is where requests are handled.
nginx_worker() {
  local master=$1 w=""
  for _ in $(seq 50); do
    w=$(pgrep -P "$master" | head -n 1 || true)
    [ -n "$w" ] && break
    sleep 0.1
  done
  [ -n "$w" ] || die "no nginx worker under pid $master"
  echo "$w"
}

# shellcheck disable=SC2034 # used by the scripts that source this file
clk_tck=$(getconf CLK_TCK)
# utime+stime of a process (all its threads), in clock ticks. The comm field is skipped first.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# Nanoseconds the process's threads spent runnable but waiting for a CPU (taken by other tenants).
run_delay_ns() { cat "/proc/$1"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%.0f", s }'; }
# A /proc/PID/status field in kB (VmRSS, VmHWM).
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# median: of the numbers on stdin, one a line ("-" and empty lines ignored); "-" when none.
median() {
  awk '$1 != "-" && $1 != "" { print $1 }' | sort -g |
    awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
                              else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
fmt() { awk -v x="$1" -v p="${2:-0}" 'BEGIN { if (x == "-" || x == "") print "-"; else printf "%.*f", p, x }'; }

# For the report header.
machine_desc() { echo "$(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"; }
loadavg() { awk '{print $1", "$2", "$3}' /proc/loadavg; }
# commit_desc SRC: short commit of the tree, flagged when tracked files have uncommitted changes
# (ESGATE_COMMIT wins, for a tree exported without .git).
commit_desc() {
  local c
  if [ -n "${ESGATE_COMMIT:-}" ]; then echo "\`$ESGATE_COMMIT\`"; return; fi
  if c=$(git -C "$1" rev-parse --short HEAD 2>/dev/null); then
    if [ -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
      echo "\`$c\` (working tree has uncommitted changes)"
    else
      echo "\`$c\`"
    fi
  else
    echo unknown
  fi
}
# scripts_desc ROOT SRC: "; bench scripts at `<commit>`" when the scripts' tree is not the binary's.
scripts_desc() {
  [ "$(cd "$1" && pwd -P)" = "$(cd "$2" 2>/dev/null && pwd -P)" ] && return 0
  echo "; bench scripts at $(ESGATE_COMMIT="" commit_desc "$1")"
}
# vmstat_brief: the output of `vmstat 1 3` on stdin -> "run queue R, idle I%, steal S%".
vmstat_brief() {
  awk 'NR > 3 && $1 ~ /^[0-9]+$/ { n++; r += $1; id += $15; st += $17 }
    END { if (n) printf "run queue %.1f, idle %.0f%%, steal %.0f%%", r / n, id / n, st / n }'
}
# vmstat_summary FILE: a `vmstat -n 1` log of the whole run -> one line.
vmstat_summary() {
  awk 'NR > 2 && $1 ~ /^[0-9]+$/ { n++; r += $1; if ($1 > rmax) rmax = $1; us += $13; sy += $14; id += $15; st += $17 }
    END { if (n) printf "%d samples: mean run queue %.1f (max %d), CPU us %.0f%% sy %.0f%% id %.0f%% st %.0f%%",
                        n, r / n, rmax, us / n, sy / n, id / n, st / n }' "$1"
}

random_password() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }
# make_superuser ESGATE_BIN USER PASSWORD DIR: DIR/users.yml with one superuser, DIR/roles.yml empty.
make_superuser() {
  local hash
  hash=$(printf '%s' "$3" | "$1" hash-password | tr -d '\r\n') || die "esgate hash-password failed"
  [[ $hash == \$2* ]] || die "esgate hash-password printed no bcrypt hash"
  cat >"$4/users.yml" <<EOF
users:
  $2:
    password_hash: "$hash"
    roles: ["superuser"]
EOF
  chmod 600 "$4/users.yml"
  [ -e "$4/roles.yml" ] || echo '{}' >"$4/roles.yml"
}

# The machine's count of connections dropped at a full listen queue (TcpExt ListenDrops).
listen_drops() {
  awk '/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) if ($i == "ListenDrops") c = i; h = 1 } else { print $c + 0; exit } }' /proc/net/netstat
}
