#!/usr/bin/env bash
# make bench: every benchmark in one go, against the release build in build/ (make build).
# Each prints its own table; docs/benchmarks.md says what each figure means and holds the
# figures of the last recorded run. Benchmarks are not tests: nothing here passes or fails
# on a number. Loopback only; every load stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

section() { printf '\n## %s\n\n' "$1"; }

section "sottod: /healthz throughput, idle RSS, start-up (bench/healthz.sh)"
bench/healthz.sh "$BUILD/bin/sottod"

section "libsotto: native and WebAssembly (bench/core/run.sh)"
bench/core/run.sh "${CORE_RUNS:-5}" 1

section "logins at the seed's Argon2id cost, /healthz latency meanwhile (bench/login.sh)"
bench/login.sh "$BUILD" 50 15

section "messaging: idle connections, throughput against a Socket.io relay, latency (bench/messaging.sh)"
npm ci --prefix bench/socketio-relay --no-audit --no-fund --loglevel=error
bench/messaging.sh "$BUILD/bin/sottod" "$BUILD/bin/sotto-loadgen"

section "attachments: 100 MiB through tus and back, RSS and throughput (bench/attachments.sh)"
bench/attachments.sh "$BUILD/bin/sottod" 100 3
