#!/usr/bin/env bash
# Benchmarks sottod's real-time side on loopback (not a test), with bench/loadgen (C, lws client):
#   1. idle authenticated WebSocket connections held, and server RSS per connection;
#   2. 1-1 messages sent / committed / delivered / acknowledged per second, flat out, against
#      sottod and against a minimal Socket.io relay that stores nothing (bench/socketio-relay),
#      with the same generator in the same run, and the ratio;
#   3. delivery latency p50/p99 at half the sustained sottod rate (the relay at the same rate);
#   4. start-up to first accepted connection and idle RSS (bench/healthz.sh's method).
# Medians of RUNS runs. Accounts are provisioned once per invocation by a separate sottod with
# low Argon2 cost and raised rate limits (bench/loadgen/provision.mjs); every measured sottod
# runs with its embedded defaults (SQLite in DATA_DIR) plus PORT, DATA_DIR, LOG_LEVEL=warn.
#
# Usage: bench/messaging.sh [path/to/sottod] [path/to/sotto-loadgen]
#   (defaults build/bin/...; a release build, never a sanitizer build)
# Knobs: RUNS=3 IDLE_RUNS=$RUNS MSG_RUNS=$RUNS IDLE=19000 IDLE_HOLD=6 IDLE_PROCS=4 IDLE_CONC=32 ADDRS=4 PAIRS=1000 MSG_PROCS=1 DURATION=10 WARMUP=2
#        PORT=18700 RELAY_PORT=18701
set -euo pipefail
cd "$(dirname "$0")/.."
SOTTOD=${1:-build/bin/sottod}
LOADGEN=${2:-build/bin/sotto-loadgen}
RUNS=${RUNS:-3}
IDLE_RUNS=${IDLE_RUNS:-$RUNS}   # each idle run ramps up to IDLE connections (up to 240 s)
MSG_RUNS=${MSG_RUNS:-$RUNS}     # 0 skips the message runs (and the relay)
IDLE=${IDLE:-19000}
IDLE_HOLD=${IDLE_HOLD:-6}    # seconds the idle connections are held once ramped up (> 30: keep-alive pings)
IDLE_PROCS=${IDLE_PROCS:-4}
IDLE_CONC=${IDLE_CONC:-32}   # connects in progress per generator process while ramping up
ADDRS=${ADDRS:-4}
PAIRS=${PAIRS:-1000}
MSG_PROCS=${MSG_PROCS:-1}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
PORT=${PORT:-18700}
RELAY_PORT=${RELAY_PORT:-18701}
# BENCH_DIR=dir keeps the data and accounts there and reuses them on the next invocation
# (provisioning 19,000 accounts takes a minute or two); otherwise a temporary directory.
WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
PID= RPID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  [ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$SOTTOD" ] || { echo "no sottod at $SOTTOD (cmake --build build)"; exit 1; }
[ -x "$LOADGEN" ] || { echo "no sotto-loadgen at $LOADGEN (cmake --build build --target sotto-loadgen)"; exit 1; }
command -v node >/dev/null || { echo "node missing"; exit 1; }
[ -d bench/socketio-relay/node_modules/socket.io ] || (cd bench/socketio-relay && npm ci --no-audit --no-fund >/dev/null)
cc -O2 -o "$WORK/startup_timer" bench/startup_timer.c

ACCOUNTS=$(( IDLE > 2 * PAIRS ? IDLE : 2 * PAIRS ))
export PORT DATA_DIR="$WORK/data" WEB_ROOT="$WORK/none" LOG_LEVEL=warn
# The load generator holds thousands of connections from a few loopback addresses.
export MAX_CONNECTIONS_PER_IP=0
median() { sort -n | awk '{a[NR]=$1} END {if (!NR) print "n/a"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }
rss_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

start_sottod() { # extra env as arguments
  env PORT="$PORT" "$@" "$SOTTOD" 2>>"$WORK/sottod.log" & PID=$!
  for _ in $(seq 500); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0; sleep 0.02; done
  echo "sottod did not start"; tail -5 "$WORK/sottod.log"; exit 1
}
stop_sottod() { kill -TERM "$PID"; wait "$PID" || true; PID=; }

echo "sottod: $SOTTOD ($("$SOTTOD" --version)), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- provisioning (not measured) ------------------------------------------------------------
if [ ! -f "$WORK/accounts.txt" ] || [ "$(wc -l <"$WORK/accounts.txt")" -lt "$ACCOUNTS" ] ||
   [ "$(awk '$5 != "-"' "$WORK/accounts.txt" | wc -l)" -lt $(( 2 * PAIRS )) ] ||
   [ -n "$(find "$WORK/accounts.txt" -mmin +1200)" ]; then # tokens live 24 h
  rm -rf "$WORK/data" "$WORK/accounts.txt"
  start_sottod ARGON2_MEMORY_COST=1024 ARGON2_TIME_COST=1 ARGON2_PARALLELISM=1 \
    RATE_LIMIT_MAX=1000000 RATE_LIMIT_WINDOW=60 ACCESS_TOKEN_TTL=86400 ARGON2_PER_ADDRESS=100000
  node bench/loadgen/provision.mjs "http://127.0.0.1:$PORT" "$ACCOUNTS" "$PAIRS" "$WORK/accounts.txt" 48
  stop_sottod
fi

# --- start-up and idle RSS (bench/healthz.sh's method) -----------------------------------------
# On a fresh DATA_DIR like healthz.sh (the first start creates the secrets and is not counted).
rm -rf "$WORK/fresh"
DATA_DIR="$WORK/fresh" "$WORK/startup_timer" "$SOTTOD" "$PORT" >/dev/null 2>&1
for _ in $(seq "$RUNS"); do DATA_DIR="$WORK/fresh" "$WORK/startup_timer" "$SOTTOD" "$PORT" 2>>"$WORK/sottod.log"; done | median > "$WORK/startup"
idle_rss=()
for _ in $(seq "$RUNS"); do
  start_sottod DATA_DIR="$WORK/fresh"; sleep 0.5; idle_rss+=("$(rss_kib "$PID" VmRSS)"); stop_sottod
done

# --- idle authenticated connections -----------------------------------------------------------
held=(); perconn=(); perconn_anon=(); rss_after=()
for r in $(seq "$IDLE_RUNS"); do
  start_sottod; sleep 0.5
  before=$(rss_kib "$PID" VmRSS); before_anon=$(rss_kib "$PID" RssAnon)
  rm -f "$WORK/idle.status"
  "$LOADGEN" --mode idle --accounts "$WORK/accounts.txt" --count "$IDLE" --procs "$IDLE_PROCS" \
    --addrs "$ADDRS" --conc "$IDLE_CONC" --port "$PORT" --hold "$IDLE_HOLD" --ramp-timeout 240 --status "$WORK/idle.status" \
    >"$WORK/idle.out" 2>>"$WORK/loadgen.log" & LG=$!
  for _ in $(seq 500); do [ -s "$WORK/idle.status" ] && break; sleep 0.5; done
  sleep 2
  after=$(rss_kib "$PID" VmRSS); after_anon=$(rss_kib "$PID" RssAnon)
  wait "$LG" || true
  end=$(rss_kib "$PID" VmRSS)
  h=$(awk '/^idle:/ {for (i=1;i<=NF;i++) if ($i ~ /^held=/) {sub("held=","",$i); print $i}}' "$WORK/idle.out")
  h=${h:-0}
  echo "  idle run $r: $(grep '^ramp:' "$WORK/idle.out"); held $h; RSS $before -> $after KiB (anon $before_anon -> $after_anon), $end KiB after the ${IDLE_HOLD} s hold"
  held+=("$h"); rss_after+=("$after")
  if [ "$h" -gt 0 ]; then
    perconn+=("$(awk -v a="$after" -v b="$before" -v n="$h" 'BEGIN {printf "%.2f", (a-b)/n}')")
    perconn_anon+=("$(awk -v a="$after_anon" -v b="$before_anon" -v n="$h" 'BEGIN {printf "%.2f", (a-b)/n}')")
  fi
  stop_sottod
done

# --- messages: sottod and the Socket.io relay, flat out, then latency at half rate -----------
declare -A M
med() { tr ' ' '\n' <<<"${M[$1]:-}" | { grep . || true; } | median; }
half=n/a
if [ "$MSG_RUNS" -gt 0 ]; then
(cd bench/socketio-relay && PORT=$RELAY_PORT exec node relay.js) >"$WORK/relay.log" 2>&1 & RPID=$!
for _ in $(seq 250); do grep -q listening "$WORK/relay.log" && break; sleep 0.02; done
start_sottod
MSG_N=$(( 2 * PAIRS ))
run_msg() { # target port [rate]
  "$LOADGEN" --mode msg --target "$1" --accounts "$WORK/accounts.txt" --count "$MSG_N" \
    --procs "$MSG_PROCS" --addrs "$ADDRS" --port "$2" --rate "${3:-0}" \
    --duration "$DURATION" --warmup "$WARMUP" 2>>"$WORK/loadgen.log" | grep '^msg:'
}
for r in $(seq "$MSG_RUNS"); do
  for t in sotto socketio; do
    p=$PORT; [ "$t" = socketio ] && p=$RELAY_PORT
    out=$(run_msg "$t" "$p")
    echo "  flat out, run $r: $out"
    for k in sent_per_s committed_per_s delivered_per_s acked_per_s p50_ms p99_ms errors; do
      M[$t.$k]+="$(field "$k" "$out") "
    done
  done
done
half=$(awk -v x="$(med sotto.committed_per_s)" 'BEGIN {printf "%d", x/2}')
for r in $(seq "$MSG_RUNS"); do
  for t in sotto socketio; do
    p=$PORT; [ "$t" = socketio ] && p=$RELAY_PORT
    out=$(run_msg "$t" "$p" "$half")
    echo "  at $half/s, run $r: $out"
    for k in delivered_per_s p50_ms p99_ms; do M[$t.half.$k]+="$(field "$k" "$out") "; done
  done
done
stop_sottod
kill "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=
fi

# --- the table -----------------------------------------------------------------------------
S_DEL=$(med sotto.delivered_per_s); R_DEL=$(med socketio.delivered_per_s)
ratio=$(awk -v a="$S_DEL" -v b="$R_DEL" 'BEGIN {if (b + 0 > 0) printf "%.2f", a/b; else print "n/a"}')
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); medians of $RUNS runs ($IDLE_RUNS for idle connections, $MSG_RUNS for messages)"
echo
echo "| measure | sottod | Socket.io relay | target |"
echo "| --- | --- | --- | --- |"
echo "| idle authenticated connections held | $(printf '%s\n' "${held[@]}" | median) of $IDLE | | 19,000 |"
echo "| server RSS per idle connection (VmRSS; RssAnon) | $(printf '%s\n' "${perconn[@]}" | median) KiB; $(printf '%s\n' "${perconn_anon[@]}" | median) KiB | | ≤ 4 KiB |"
echo "| server RSS holding them | $(printf '%s\n' "${rss_after[@]}" | median | awk '{printf "%.1f MiB", $1/1024}') | | |"
echo "| messages sent/s ($PAIRS pairs, flat out) | $(med sotto.sent_per_s) | $(med socketio.sent_per_s) | |"
echo "| committed/s (ack of message:send / relay ack) | $(med sotto.committed_per_s) | $(med socketio.committed_per_s) | |"
echo "| delivered/s (message:new / relayed message) | $S_DEL | $R_DEL | |"
echo "| acknowledged/s (queue:ack answered) | $(med sotto.acked_per_s) | $(med socketio.acked_per_s) | |"
echo "| **ratio sottod / relay (delivered/s)** | **$ratio×** | 1.00× | ≥ 1.0× |"
echo "| latency p50 / p99 flat out | $(med sotto.p50_ms) / $(med sotto.p99_ms) ms | $(med socketio.p50_ms) / $(med socketio.p99_ms) ms | |"
echo "| latency p50 / p99 at $half msg/s (half of sottod's rate) | $(med sotto.half.p50_ms) / $(med sotto.half.p99_ms) ms | $(med socketio.half.p50_ms) / $(med socketio.half.p99_ms) ms | p99 ≤ 15 ms |"
echo "| start-up to first accepted connection | $(cat "$WORK/startup") ms | | ≤ 20 ms |"
echo "| idle RSS | $(printf '%s\n' "${idle_rss[@]}" | median | awk '{printf "%.2f MiB", $1/1024}') | | ≤ 8 MiB |"
echo
echo "errors (sottod/relay, per run): ${M[sotto.errors]:-}/ ${M[socketio.errors]:-}"
[ -s "$WORK/loadgen.log" ] && { echo "loadgen stderr (last lines):"; tail -5 "$WORK/loadgen.log"; }
exit 0
