#!/usr/bin/env bash
# Runs libsotto's benchmark natively and in WebAssembly (node) in one go, RUNS times each
# (alternating, so both see the same machine), and prints the medians and the WASM/native
# ratio as a Markdown table for bench/core/RESULTS.md.
#
#   bench/core/run.sh [RUNS] [SCALE]       (defaults 5 and 1)
# Needs a release build in build-bench/ (made here) and scripts/build-wasm.sh's output in
# build-wasm/ (made here if missing).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS=${1:-5} SCALE=${2:-1}
BUILD="$ROOT/build-bench" WASM="$ROOT/build-wasm"
GEN=Ninja; command -v ninja >/dev/null || GEN="Unix Makefiles"

cmake -S "$ROOT" -B "$BUILD" -G "$GEN" -DSOTTO_PARTS=core -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target bench_core >/dev/null
[ -f "$WASM/libsotto.cjs" ] || "$ROOT/scripts/build-wasm.sh" "$WASM" >/dev/null

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for i in $(seq "$RUNS"); do
  "$BUILD/bin/bench_core" "$SCALE" | sed 's/^/native /' >> "$out"
  node "$ROOT/bench/core/bench_wasm.mjs" "$WASM" "$SCALE" | sed 's/^/wasm /' >> "$out"
done

echo "| figure | native (median of $RUNS) | WASM, node (median of $RUNS) | WASM / native |"
echo "| --- | ---: | ---: | ---: |"
awk '
  { v[$1 " " $2] = v[$1 " " $2] " " $3; unit[$2] = $4; if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 } }
  function median(list,   a, k, i, j, t) {
    k = split(list, a, " ")
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  END {
    for (i = 0; i < n; i++) {
      f = order[i]; nat = median(v["native " f])
      if (v["wasm " f] == "") { # native only (the primitive baselines): no WASM column
        printf "| %s | %\047d %s | — | — |\n", f, nat, unit[f]
        continue
      }
      w = median(v["wasm " f])
      printf "| %s | %\047d %s | %\047d %s | %.0f%% |\n", f, nat, unit[f], w, unit[f], 100 * w / nat
    }
  }' "$out"
# Each primitive-bound figure against its ceiling measured in the same native run: a ratio
# per run (both sides see the same machine), then their median.
echo
ratio() { # ceiling figure
  awk -v cn="$1" -v fn="$2" '
    $1 == "native" && $2 == cn { c = $3 }
    $1 == "native" && $2 == fn && c > 0 { r[n++] = 100 * $3 / c; c = 0 }
    END {
      if (n == 0) exit
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
      printf "%s / %s, per native run:", fn, cn
      for (i = 0; i < n; i++) printf " %.0f%%", r[i]
      printf " (median %.0f%%)\n", n % 2 ? r[(n - 1) / 2] : (r[n / 2 - 1] + r[n / 2]) / 2
    }' "$out"
}
ratio x3dh_initiator_ceiling x3dh_initiator_setups
ratio attachment_ceiling attachment_encrypt
echo
echo "raw:"; sed 's/^/    /' "$out"
