#!/usr/bin/env bash
# `make test`: builds everything (sanitizer build for the tests, release build to prove it
# builds), starts every service the tests need on loopback (a throwaway PostgreSQL cluster, a
# one-node Swift with s3api for the S3 blob store),
# runs every test through ctest, stops the services, and prints how long each stage took.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ASAN_BUILD=${ASAN_BUILD:-build-asan}
BUILD=${BUILD:-build}
GEN=Ninja; command -v ninja >/dev/null || GEN="Unix Makefiles"
JOBS=$(nproc)

declare -a STAGES=()
stage() { # stage NAME CMD...: run a stage and remember how long it took
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name"
  "$@"
  STAGES+=("$(printf '%-28s %4ds' "$name" $((SECONDS - t0)))")
}
# side_by_side NAME1 FN1 NAME2 FN2: two independent stages at once (each mostly uses one
# core: the fuzzer runs one target at a time, the mutation check one build or ctest), their
# output kept apart and printed whole after both, each timed; fails if either failed.
side_by_side() {
  local n1=$1 f1=$2 n2=$3 f2=$4 t0=$SECONDS log1 log2 p1 p2 r1=0 r2=0 t1 t2
  log1=$(mktemp) log2=$(mktemp)
  echo "==> $n1 | $n2 (side by side)"
  ( s=$SECONDS r=0; "$f1" >"$log1" 2>&1 || r=$?; echo "$((SECONDS - s))" >"$log1.t"; exit $r ) &
  p1=$!
  ( s=$SECONDS r=0; "$f2" >"$log2" 2>&1 || r=$?; echo "$((SECONDS - s))" >"$log2.t"; exit $r ) &
  p2=$!
  wait "$p1" || r1=$?
  wait "$p2" || r2=$?
  echo "--- $n1"; cat "$log1"; echo "--- $n2"; cat "$log2"
  t1=$(cat "$log1.t" 2>/dev/null || echo "?") t2=$(cat "$log2.t" 2>/dev/null || echo "?")
  rm -f "$log1" "$log2" "$log1.t" "$log2.t"
  STAGES+=("$(printf '%-28s %4ss' "$n1" "$t1")" "$(printf '%-28s %4ss' "$n2" "$t2")")
  STAGES+=("$(printf '%-28s %4ds' "  (both, side by side)" $((SECONDS - t0)))")
  ((r1 == 0 && r2 == 0))
}
report() {
  echo
  echo "Stage times:"
  local s; for s in "${STAGES[@]}"; do echo "  $s"; done
}

WASM_BUILD=${WASM_BUILD:-build-wasm}

build_wasm() {
  scripts/build-wasm.sh "$WASM_BUILD"
}
configure_asan() {
  cmake -S . -B "$ASAN_BUILD" -G "$GEN" -DCMAKE_BUILD_TYPE=Debug -DSOTTO_SANITIZE=ON \
    -DSOTTO_TEST_RNG=ON -DSOTTO_WASM_DIR="$ROOT/$WASM_BUILD" -DSOTTO_PARTS=all >/dev/null
  cmake --build "$ASAN_BUILD" -j "$JOBS"
}
install_test_deps() {
  npm ci --prefix tests --no-audit --no-fund --loglevel=error
  npm ci --prefix core/wasm --no-audit --no-fund --loglevel=error
  npm ci --prefix tests/web --no-audit --no-fund --loglevel=error
}
build_web() {
  scripts/build-web.sh "$WASM_BUILD"
}
# valgrind and ASan don't mix: the valgrind subset runs in the release tree.
run_valgrind() {
  (cd "$BUILD" && ctest --output-on-failure -R 'valgrind')
}
run_fuzz() {
  scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
}
configure_release() {
  cmake -S . -B "$BUILD" -G "$GEN" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOTTO_PARTS=all >/dev/null
  cmake --build "$BUILD" -j "$JOBS"
}

PG_STATE=$(mktemp -d /tmp/sotto-pg.XXXXXX)
SWIFT_STATE=$(mktemp -d /tmp/sotto-swift.XXXXXX)
cleanup() {
  scripts/pg-test.sh stop "$PG_STATE" >/dev/null 2>&1 || true
  rm -rf "$PG_STATE"
  scripts/swift-test.sh stop "$SWIFT_STATE" >/dev/null 2>&1 || true
  rm -rf "$SWIFT_STATE"
  report
}
trap cleanup EXIT

start_pg() {
  scripts/pg-test.sh start "$PG_STATE"
  SOTTO_TEST_PG_URL=$(cat "$PG_STATE/url")
  export SOTTO_TEST_PG_URL
}
# The S3 blob store's contract (ctest blobs.s3) runs against it: SOTTO_TEST_S3_*.
start_swift() {
  scripts/swift-test.sh start "$SWIFT_STATE" >/dev/null
  # shellcheck disable=SC1091
  source "$SWIFT_STATE/env"
}

# Checks that need no build: C layout and banned functions, the rule that no circle of
# includes spans two folders of server/src, and the web client's ESLint and Prettier (with
# the rule that only web/src/crypto/ may import the core).
check_style() {
  scripts/check-style.sh
  scripts/check-imports.py
}
lint_web() {
  scripts/lint-web.sh
}
# What every dependency is at and could be updated to (a report, never a failure), and npm
# audit of the production packages where the registry answers it (fails on high/critical).
dep_report() {
  scripts/dep-report.sh
}
security_scan() {
  scripts/security-scan.sh
}
# Each mutation of the core's rules must make its tests fail (core/tests/mutate.sh).
run_mutations() {
  MUTATE_JOBS=1 core/tests/mutate.sh
}

run_ctest() {
  (cd "$ASAN_BUILD" && ctest --output-on-failure -j "$JOBS" --timeout 300)
}

stage "style (C)" check_style
stage "npm (test tools)" install_test_deps
stage "lint (web)" lint_web
stage "dependency report" dep_report
stage "security scan" security_scan
stage "build (wasm)" build_wasm
stage "build (web)" build_web
stage "build (asan+ubsan)" configure_asan
stage "build (release)" configure_release
stage "valgrind subset" run_valgrind
side_by_side "fuzz (bounded)" run_fuzz "mutations (core)" run_mutations
stage "start postgresql" start_pg
stage "start swift (s3api)" start_swift
stage "tests" run_ctest
