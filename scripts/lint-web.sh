#!/usr/bin/env bash
# Lints the web client: ESLint (typed rules, and the import rule that keeps libsotto's
# WebAssembly build to web/src/crypto/) and Prettier's check. npm packages are installed from
# the lock file, and only again when it changes (as scripts/build-web.sh does). Needs neither the
# WebAssembly build nor a server.
set -euo pipefail
cd "$(dirname "$0")/.."

npm_ci() { # npm_ci DIR: install DIR's locked packages unless they are already in place
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
}

npm_ci web
npm run --silent lint --prefix web
