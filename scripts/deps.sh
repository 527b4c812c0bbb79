#!/usr/bin/env bash
# Installs everything Sotto needs on a fresh Debian 12 machine: the C toolchain and
# libraries, the services the tests start (PostgreSQL, an SMTP server), and the tools the
# benchmarks use. Idempotent: when everything is present it only checks and returns.
# Runs as root, or through sudo.
set -euo pipefail

APT_PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format
  # C libraries (server, core, cli)
  libwebsockets-dev libwebsockets-evlib-ev libev-dev libjansson-dev libsodium-dev libargon2-dev libsqlite3-dev libpq-dev
  libssl-dev libcurl4-openssl-dev libxml2-dev libqrencode-dev libhiredis-dev libcmocka-dev libmagic-dev
  # profile pictures: decoded and re-encoded by the server (server/src/accounts/avatar_image.c)
  libgd-dev
  # line editing in `sotto chat` (cli/src/lineedit.c)
  libedit-dev
  # services and tools the tests and benchmarks run
  postgresql sqlite3 python3 python3-aiosmtpd curl openssl wrk valgrind procps iproute2
  # the TURN server the call tests check credentials against (deploy/turnserver.conf)
  coturn
  # the S3-compatible store the blob tests run against (scripts/swift-test.sh): OpenStack
  # Swift with s3api (needs lxml) and tempauth (needs memcached)
  swift swift-proxy swift-account swift-container swift-object python3-swift python3-lxml memcached
  # the terminal the CLI's line-editing test types into (tests/e2e/21_line_editing)
  tmux
  # browser tests of the web client (driven by playwright-core from npm)
  chromium fonts-dejavu-core
  # WebAssembly build of libsotto (libsodium comes from Debian's source package)
  emscripten autoconf automake libtool dpkg-dev xz-utils
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Node.js runs the API tests and builds the web client. The image may bring its own Node.js
# (with npm); otherwise Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
