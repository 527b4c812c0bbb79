#!/usr/bin/env bash
# Builds libsotto for WebAssembly with Debian's emscripten.
#
#   scripts/build-wasm.sh [BUILD_DIR]        (default: build-wasm)
#
# 1. libsodium: Debian's own source package (fetched through a deb-src list derived from
#    /etc/apt/sources.list.d/debian.sources, unpacked with Debian's patches applied by
#    dpkg-source), configured --enable-minimal and built with emconfigure/emmake. Cached in
#    BUILD_DIR/libsodium-wasm: delete that directory to rebuild. Never committed.
# 2. libsotto: core/src/*.c compiled with emcc against it, into
#      BUILD_DIR/libsotto-test.cjs  CommonJS, single file, seeded test RNG (vector test only)
#      BUILD_DIR/libsotto.cjs       CommonJS, single file, release (node benchmark)
#      BUILD_DIR/libsotto.mjs       ES module, release (the web client's Web Worker)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/build-wasm}")"
SODIUM="$OUT/libsodium-wasm"
export NODE_PATH=/usr/share/nodejs          # emcc needs acorn from Debian's node modules
export NODE_OPTIONS=--no-experimental-fetch # else configure cannot run test programs under node 20
mkdir -p "$OUT"

fetch_libsodium_source() {
  local src="$OUT/libsodium-src" list="$OUT/deb-src.sources" sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  rm -rf "$src" && mkdir -p "$src"
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$list"
  $sudo apt-get -q -o Dir::Etc::SourceList="$list" -o Dir::Etc::SourceParts=/dev/null update
  (cd "$src" && apt-get -q -o Dir::Etc::SourceList="$list" -o Dir::Etc::SourceParts=/dev/null \
      source --download-only libsodium)
  # Put the machine's normal package lists back.
  $sudo apt-get -q update >/dev/null || true
  # dpkg-source unpacks the upstream tarball and applies Debian's patches (one is a security fix).
  (cd "$src" && dpkg-source -x --no-check ./libsodium_*.dsc tree)
}

build_libsodium() {
  [ -f "$SODIUM/lib/libsodium.a" ] && { echo "build-wasm: libsodium cached in $SODIUM"; return; }
  local t0=$SECONDS
  fetch_libsodium_source
  cd "$OUT/libsodium-src/tree"
  autoreconf -fi >/dev/null 2>&1   # the Debian tarball ships no ./configure; autogen.sh would download
  emconfigure ./configure --prefix="$SODIUM" --enable-minimal --disable-shared --enable-static \
    --without-pthreads --disable-ssp --disable-asm --disable-pie CFLAGS=-O3 >/dev/null
  emmake make -j"$(nproc)" >/dev/null
  emmake make install >/dev/null
  cd "$ROOT"
  echo "build-wasm: libsodium built in $((SECONDS - t0)) s"
}

# emcc_build OUT TEST_RNG EXTRA_ARGS...: one libsotto flavour. WASM_BIGINT: the uint64_t
# arguments (times, sizes) cross to JavaScript as one BigInt instead of two 32-bit halves.
emcc_build() {
  local out="$1" test_rng="$2" exports; shift 2
  local srcs=("$ROOT"/core/src/*.c) defs=()
  # Every SOTTO_EXPORT declaration, joined up to its '(' (clang-format may put the name on
  # the next line), gives one exported name.
  exports="$(awk '/^SOTTO_EXPORT/ { d = $0; while (d !~ /\(/ && (getline l) > 0) d = d " " l; print d }' \
               "$ROOT/core/include/sotto.h" | grep -v _test_ | grep -o 'sotto_[a-z0-9_]*(' \
             | sed 's/^/_/; s/($//' | sort -u | paste -sd, -),_malloc,_free"
  if [ "$test_rng" = 1 ]; then
    defs=(-DSOTTO_TEST_RNG=1 -I"$ROOT/core/tests" "$ROOT/core/tests/vectors_gen.c")
    exports="$exports,_sotto_test_rng_seed,_sotto_vectors_json"
  fi
  emcc "${srcs[@]}" "${defs[@]}" -O3 -std=c11 -Wall -Wextra -Werror -I"$ROOT/core/include" \
       -I"$ROOT/core/src" -I"$SODIUM/include" "$SODIUM/lib/libsodium.a" \
       -sALLOW_MEMORY_GROWTH=1 -sMODULARIZE=1 -sEXPORT_NAME=createSotto -sFILESYSTEM=0 \
       -sWASM_BIGINT=1 \
       -sEXPORTED_RUNTIME_METHODS=HEAPU8,HEAPU32,UTF8ToString,stringToUTF8 \
       -sEXPORTED_FUNCTIONS="$exports" "$@" -o "$out"
}

build_libsotto() {
  local t0=$SECONDS
  # node: tests (seeded RNG, vectors) and the benchmark (release flavour)
  emcc_build "$OUT/libsotto-test.cjs" 1 -sSINGLE_FILE=1 -sENVIRONMENT=node
  emcc_build "$OUT/libsotto.cjs" 0 -sSINGLE_FILE=1 -sENVIRONMENT=node
  # browser Web Worker: release flavour only, never the seeded RNG
  emcc_build "$OUT/libsotto.mjs" 0 -sEXPORT_ES6=1 -sENVIRONMENT=worker
  echo "build-wasm: libsotto built in $((SECONDS - t0)) s: $OUT/libsotto{-test.cjs,.cjs,.mjs}"
}

build_libsodium
[ "${SOTTO_WASM_SODIUM_ONLY:-0}" = 1 ] || build_libsotto
