#!/usr/bin/env bash
# bench/login.sh [BUILD_DIR] [CONCURRENCY] [SECONDS]: logins per second at the seed's Argon2id
# parameters (64 MiB, t=3, p=4) and /healthz latency while CONCURRENCY logins run at once.
# Use a release build (cmake -DCMAKE_BUILD_TYPE=Release, no sanitizers). Results: RESULTS-auth.md.
set -euo pipefail
BUILD=${1:-build}
CONC=${2:-50}
SECS=${3:-15}
here=$(cd "$(dirname "$0")" && pwd)
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$port DATA_DIR=$data LOG_LEVEL=warn WORKERS=${WORKERS:-8} \
  ARGON2_MEMORY_COST=65536 ARGON2_TIME_COST=3 ARGON2_PARALLELISM=4 \
  ARGON2_MAX_CONCURRENT=${ARGON2_MAX_CONCURRENT:-4} \
  RATE_LIMIT_MAX=1000000 RATE_LIMIT_WINDOW=60 MAX_CONNECTIONS_PER_IP=0 ARGON2_PER_ADDRESS=100000 \
  "$BUILD/bin/sottod" & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "cpus=$(nproc) workers=${WORKERS:-8} argon2=64MiB/t3/p4 gate=${ARGON2_MAX_CONCURRENT:-4}"
node "$here/login.mjs" "http://127.0.0.1:$port" "$CONC" "$SECS"
