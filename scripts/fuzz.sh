#!/usr/bin/env bash
# Fuzzes every libsotto parser and every sottod parser for a bounded time (libFuzzer, clang,
# ASan + UBSan).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20)
#   scripts/fuzz.sh --gen-corpus             rewrites core/fuzz/corpus and server/fuzz/corpus
#
# Builds in build-fuzz/ (CC=clang, -DSOTTO_FUZZ=ON -DSOTTO_SANITIZE=ON -DSOTTO_TEST_RNG=ON),
# starts each target from the committed seed corpus (core/fuzz/corpus/<target> or
# server/fuzz/corpus/<target>, read only) plus a working corpus in build-fuzz/corpus/, and
# fails if any target finds a crash, leak, timeout or out-of-memory (or, for the server's
# http_raw, a server that stops answering). A finding is left in build-fuzz/findings/<target>/
# (server-<target>/ for sottod's): fix it, then commit the input as
# <core|server>/fuzz/regressions/<target>/<name> so that ctest
# (core.fuzz_replay_<target>, server.fuzz_replay_<target>) replays it in every build.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
TARGETS=(envelope prekey payload state bundle attachment devicelist)
SERVER_TARGETS=(jwt wsproto router netaddr text http_raw fields avatar)
GEN=Ninja; command -v ninja >/dev/null || GEN="Unix Makefiles"

build() {
  CC=clang cmake -S "$ROOT" -B "$BUILD" -G "$GEN" -DSOTTO_PARTS="core;store;authlib;server" \
    -DCMAKE_BUILD_TYPE=Debug -DSOTTO_FUZZ=ON -DSOTTO_SANITIZE=ON -DSOTTO_TEST_RNG=ON \
    -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$BUILD" -j "$(nproc)" --target fuzz_gen_corpus fuzz_server_gen_corpus \
    $(printf 'fuzz_%s ' "${TARGETS[@]}" "${SERVER_TARGETS[@]}") >/dev/null
}

if [ "${1:-}" = "--gen-corpus" ]; then
  build
  for t in "${TARGETS[@]}"; do rm -rf "$ROOT/core/fuzz/corpus/$t"; mkdir -p "$ROOT/core/fuzz/corpus/$t"; done
  "$BUILD/bin/fuzz_gen_corpus" "$ROOT/core/fuzz/corpus"
  for t in "${SERVER_TARGETS[@]}"; do
    rm -rf "$ROOT/server/fuzz/corpus/$t"; mkdir -p "$ROOT/server/fuzz/corpus/$t"
  done
  "$BUILD/bin/fuzz_server_gen_corpus" "$ROOT/server/fuzz/corpus"
  echo "fuzz: seed corpus written to core/fuzz/corpus and server/fuzz/corpus"
  exit 0
fi

SECONDS_PER_TARGET=${1:-20}
build
failed=()
# run NAME BINARY SEED_DIR [extra libFuzzer flags...]
run() {
  local name=$1 bin=$2 seeds=$3
  shift 3
  local work="$BUILD/corpus/$name" findings="$BUILD/findings/$name"
  mkdir -p "$work" "$findings"
  echo "==> $bin for ${SECONDS_PER_TARGET}s"
  if ! (cd "$findings" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ASAN_OPTIONS=detect_leaks=1 \
        "$BUILD/bin/$bin" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
          -timeout=10 -max_len=4096 -print_final_stats=1 -artifact_prefix="$findings/" "$@" \
          "$work" "$seeds" > "$BUILD/fuzz_$name.log" 2>&1); then
    failed+=("$name")
    echo "    FINDING: see $BUILD/fuzz_$name.log and $findings/"
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ *DONE' "$BUILD/fuzz_$name.log" \
    | sed 's/^/    /' || true
}
# -max_len: envelopes go up to 64 KiB, but small inputs explore the parsers faster.
for t in "${TARGETS[@]}"; do
  run "$t" "fuzz_$t" "$ROOT/core/fuzz/corpus/$t"
done
for t in "${SERVER_TARGETS[@]}"; do
  if [ "$t" = http_raw ]; then
    # A real sottod on loopback, up to ~0.2 s an input. Its threads malloc and free while
    # an input runs, so libFuzzer's per-input leak check cannot tell; ASan still reports
    # leaks at exit. Requests with huge headers need more than 4 KiB.
    run "server-$t" "fuzz_$t" "$ROOT/server/fuzz/corpus/$t" -detect_leaks=0 -max_len=16384 \
      -timeout=30
  else
    run "server-$t" "fuzz_$t" "$ROOT/server/fuzz/corpus/$t"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz: $(( ${#TARGETS[@]} + ${#SERVER_TARGETS[@]} )) targets, ${SECONDS_PER_TARGET}s each, no findings"
