#!/usr/bin/env bash
# Benchmarks sottod on loopback (not a test): /healthz throughput with wrk (keep-alive),
# idle RSS from /proc, and start-up to first accepted connection. Prints the median of RUNS
# runs of each. Usage: bench/healthz.sh [path/to/sottod]   (default build/bin/sottod, a
# release build; do not measure a sanitizer build).
set -euo pipefail
cd "$(dirname "$0")/.."
SOTTOD=${1:-build/bin/sottod}
RUNS=${RUNS:-5}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-1}
CONNS=${CONNS:-64}
PORT=${PORT:-18480}
WORK=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -x "$SOTTOD" ] || { echo "no sottod at $SOTTOD (make build)"; exit 1; }
command -v wrk >/dev/null || { echo "wrk missing (scripts/deps.sh)"; exit 1; }
cc -O2 -o "$WORK/startup_timer" bench/startup_timer.c

export PORT DATA_DIR="$WORK/data" LOG_LEVEL=${LOG_LEVEL:-warn} WEB_ROOT="$WORK/none"
export MAX_CONNECTIONS_PER_IP=0 # wrk opens its connections from one address
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "sottod: $SOTTOD ($("$SOTTOD" --version)), $(nproc) cores, wrk -t$THREADS -c$CONNS -d$DURATION"

# Start-up: first run creates DATA_DIR and secrets; measure the steady case after it.
"$WORK/startup_timer" "$SOTTOD" "$PORT" >/dev/null 2>&1
for _ in $(seq "$RUNS"); do "$WORK/startup_timer" "$SOTTOD" "$PORT" 2>>"$WORK/sottod.log"; done | median > "$WORK/startup"

rps=(); rss=(); anon=()
for _ in $(seq "$RUNS"); do
  "$SOTTOD" 2>>"$WORK/sottod.log" & PID=$!
  until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.01; done
  sleep 0.5
  rss+=("$(awk '/^VmRSS/ {print $2}' /proc/$PID/status)")
  anon+=("$(awk '/^RssAnon/ {print $2}' /proc/$PID/status)")
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/healthz")
  rps+=("$(awk '/^Requests\/sec/ {print $2}' <<<"$out")")
  echo "$out" | grep -E "Requests/sec|^ +(50|99)%|Non-2xx|Socket errors" | sed 's/^/  /'
  kill -TERM "$PID"; wait "$PID" || true; PID=
done

printf '%s\n' "${rps[@]}" | median > "$WORK/rps"
printf '%s\n' "${rss[@]}" | median > "$WORK/rss"
printf '%s\n' "${anon[@]}" | median > "$WORK/anon"
echo
echo "median /healthz requests/s (keep-alive): $(cat "$WORK/rps")"
echo "median idle RSS: $(awk '{printf "%.2f MiB (%d KiB)", $1/1024, $1}' "$WORK/rss")," \
     "of which private (RssAnon): $(awk '{printf "%.2f MiB", $1/1024}' "$WORK/anon")"
echo "median start-up to first accepted connection: $(cat "$WORK/startup") ms"
