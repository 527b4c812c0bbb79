#!/usr/bin/env bash
# Builds the web client into web/dist (what sottod serves at /). Needs libsotto's WebAssembly
# build (scripts/build-wasm.sh) in WASM_DIR (default build-wasm). npm packages are installed
# from the lock file, and only again when it changes.
set -euo pipefail
cd "$(dirname "$0")/.."
WASM_DIR=$(realpath -m "${1:-build-wasm}")

npm_ci() { # npm_ci DIR: install DIR's locked packages unless they are already in place
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
}

npm_ci core/wasm
npm_ci web
SOTTO_WASM_DIR="$WASM_DIR" npm run --silent build --prefix web
