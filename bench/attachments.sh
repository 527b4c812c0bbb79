#!/usr/bin/env bash
# bench/attachments.sh [SOTTOD] [MIB] [RUNS] (CHUNK_MIB=8): a MIB-MiB attachment (default 100) through sottod's
# tus upload and its download, RUNS times (default 3), on loopback with curl as the client:
#   - sottod's RSS while idle and its peak during each upload and each download (sampled from
#     /proc every 10 ms): the server streams, so the peak stays within a few MiB of idle;
#   - upload throughput in 8 MiB PATCH requests (how the clients upload, tus resumable) against
#     the baseline of the same bytes in one plain curl PATCH to the same server;
#   - download throughput of the same attachment.
# Medians of RUNS. Use a release build (RelWithDebInfo or Release, no sanitizers). Results:
# docs/benchmarks.md, "Attachments". Not a test: nothing passes or fails on a number.
set -euo pipefail
SOTTOD=${1:-build/bin/sottod}
MIB=${2:-100}
RUNS=${3:-3}
CHUNK_MIB=${CHUNK_MIB:-8}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
PORT=$port DATA_DIR=$work/data LOG_LEVEL=warn RATE_LIMIT_MAX=1000000 RATE_LIMIT_ATTACHMENTS=1000/60 \
  ATTACHMENT_QUOTA_BYTES=0 "$SOTTOD" & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
token=$(node "$here/account.mjs" "$base")
# No "Expect: 100-continue" (curl's default for a large body; browsers never send it): sottod
# does not answer it with 100, so curl would wait a second before each body.
auth=(-H "Authorization: Bearer $token" -H "Tus-Resumable: 1.0.0" -H "Expect:")
bytes=$((MIB * 1048576))
head -c "$bytes" /dev/urandom >"$work/blob" # stands in for ciphertext: the server never looks
split -b "${CHUNK_MIB}M" -a 3 -d "$work/blob" "$work/piece."

# peak_while CMD...: runs CMD while one sampler reads sottod's VmRSS every 10 ms; prints the
# highest value seen (KiB) to fd 3. One process samples, so the sampling costs little CPU.
peak_while() {
  python3 -c '
import signal, sys, time
peak, path = 0, "/proc/%s/status" % sys.argv[1]
def done(*_):
    print(peak); sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    with open(path) as f:
        for line in f:
            if line.startswith("VmRSS"):
                peak = max(peak, int(line.split()[1]))
    time.sleep(0.01)
' "$pid" >&3 &
  local sampler=$!
  sleep 0.05
  "$@"
  kill "$sampler"
  wait "$sampler" || true
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; } # KiB
create() { # prints the new upload's path
  curl -fsS -X POST "${auth[@]}" -H "Upload-Length: $bytes" -D - -o /dev/null "$base/api/attachments" |
    tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }'
}
patch_whole() {
  curl -fsS -X PATCH "${auth[@]}" -H 'Content-Type: application/offset+octet-stream' \
    -H 'Upload-Offset: 0' -T "$work/blob" -o /dev/null "$base$1"
}
patch_chunks() { # the pieces are cut beforehand, so only the transfer is timed
  local off=0 n=$((CHUNK_MIB * 1048576)) piece
  for piece in "$work"/piece.*; do
    curl -fsS -X PATCH "${auth[@]}" -H 'Content-Type: application/offset+octet-stream' \
      -H "Upload-Offset: $off" -T "$piece" -o /dev/null "$base$1"
    off=$((off + n))
  done
}
download() { curl -fsS -H "Authorization: Bearer $token" -o "$work/got" "$base$1"; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
secs() { local t0=$EPOCHREALTIME; "$@"; calc "$EPOCHREALTIME - $t0"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mibs() { calc "$MIB / $1" 1; echo; }

sleep 1
idle=$(rss)
: >"$work/up" >"$work/base" >"$work/down" >"$work/peak_up" >"$work/peak_down"
for run in $(seq "$RUNS"); do
  loc=$(create)
  { t=$(secs peak_while patch_whole "$loc"); } 3>/dev/null
  mibs "$t" >>"$work/base"
  loc=$(create)
  { t=$(secs peak_while patch_chunks "$loc"); } 3>>"$work/peak_up"
  mibs "$t" >>"$work/up"
  { t=$(secs peak_while download "$loc"); } 3>>"$work/peak_down"
  mibs "$t" >>"$work/down"
  cmp -s "$work/blob" "$work/got" || { echo "attachments: run $run: the download differs" >&2; exit 1; }
  rm -f "$work/got"
  echo "run $run: baseline $(tail -1 "$work/base") MiB/s, tus $(tail -1 "$work/up") MiB/s, download $(tail -1 "$work/down") MiB/s, peak RSS up $(tail -1 "$work/peak_up") KiB / down $(tail -1 "$work/peak_down") KiB"
done
kib() { calc "$1 / 1024" 2; }
up=$(median <"$work/up") base_=$(median <"$work/base") down=$(median <"$work/down")
pu=$(median <"$work/peak_up") pd=$(median <"$work/peak_down")
echo "cpus=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) size=${MIB} MiB runs=$RUNS chunk=${CHUNK_MIB} MiB"
echo "| figure | median |"
echo "| --- | --- |"
echo "| idle RSS | $(kib "$idle") MiB |"
echo "| peak RSS during the upload | $(kib "$pu") MiB (idle + $(kib $((pu - idle))) MiB) |"
echo "| peak RSS during the download | $(kib "$pd") MiB (idle + $(kib $((pd - idle))) MiB) |"
echo "| upload, tus in ${CHUNK_MIB} MiB PATCHes | $up MiB/s ($(calc "$up / $base_" 2)x the baseline) |"
echo "| baseline: one plain curl PATCH of the same bytes | $base_ MiB/s |"
echo "| download | $down MiB/s |"
