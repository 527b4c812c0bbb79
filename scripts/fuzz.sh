#!/usr/bin/env bash
# Fuzzes every libsotto parser for a bounded time (libFuzzer, clang, ASan + UBSan).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20)
#   scripts/fuzz.sh --gen-corpus             rewrites core/fuzz/corpus from valid objects
#
# Builds in build-fuzz/ (CC=clang, -DSOTTO_FUZZ=ON -DSOTTO_SANITIZE=ON -DSOTTO_TEST_RNG=ON),
# starts each target from the committed seed corpus (core/fuzz/corpus/<target>, read only)
# plus a working corpus in build-fuzz/corpus/<target>, and fails if any target finds a
# crash, leak, timeout or out-of-memory. A finding is left in build-fuzz/findings/<target>/:
# fix it, then commit the input as core/fuzz/regressions/<target>/<name> so that ctest
# (core.fuzz_replay_<target>) replays it in every build from then on.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
TARGETS=(envelope prekey payload state bundle attachment)
GEN=Ninja; command -v ninja >/dev/null || GEN="Unix Makefiles"

build() {
  CC=clang cmake -S "$ROOT" -B "$BUILD" -G "$GEN" -DSOTTO_PARTS=core -DCMAKE_BUILD_TYPE=Debug \
    -DSOTTO_FUZZ=ON -DSOTTO_SANITIZE=ON -DSOTTO_TEST_RNG=ON -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$BUILD" -j "$(nproc)" --target fuzz_gen_corpus \
    $(printf 'fuzz_%s ' "${TARGETS[@]}") >/dev/null
}

if [ "${1:-}" = "--gen-corpus" ]; then
  build
  for t in "${TARGETS[@]}"; do rm -rf "$ROOT/core/fuzz/corpus/$t"; mkdir -p "$ROOT/core/fuzz/corpus/$t"; done
  "$BUILD/bin/fuzz_gen_corpus" "$ROOT/core/fuzz/corpus"
  echo "fuzz: seed corpus written to core/fuzz/corpus"
  exit 0
fi

SECONDS_PER_TARGET=${1:-20}
build
failed=()
for t in "${TARGETS[@]}"; do
  work="$BUILD/corpus/$t" findings="$BUILD/findings/$t"
  mkdir -p "$work" "$findings"
  echo "==> fuzz_$t for ${SECONDS_PER_TARGET}s"
  # -max_len: envelopes go up to 64 KiB, but small inputs explore the parsers faster.
  if ! (cd "$findings" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ASAN_OPTIONS=detect_leaks=1 \
        "$BUILD/bin/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
          -timeout=10 -max_len=4096 -print_final_stats=1 -artifact_prefix="$findings/" \
          "$work" "$ROOT/core/fuzz/corpus/$t" > "$BUILD/fuzz_$t.log" 2>&1); then
    failed+=("$t")
    echo "    FINDING: see $BUILD/fuzz_$t.log and $findings/"
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ *DONE' "$BUILD/fuzz_$t.log" \
    | sed 's/^/    /' || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET}s each, no findings"
