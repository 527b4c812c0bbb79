#!/usr/bin/env bash
# pg-test.sh start|stop|url [STATE_DIR]: a throwaway PostgreSQL 15 cluster for the tests.
#
# STATE_DIR (default $PG_TEST_DIR, else ${TMPDIR:-/tmp}/sotto-pg-test) holds the cluster,
# its logs and the file `url`; it may already exist (e.g. made by mktemp -d).
#
# start: initdb in STATE_DIR/data, listen on 127.0.0.1 and a free port (no Unix
#        socket outside that directory), create the database "sotto_test", write the URL to
#        $PG_TEST_DIR/url and print `export SOTTO_TEST_PG_URL=...` (eval-able). Idempotent:
#        when the cluster already runs, it only prints the URL again.
# stop:  stop the cluster and delete its directory. Safe when nothing runs.
# url:   print the URL of the running cluster.
#
# PostgreSQL refuses to run as root; as root every server command runs as the `postgres`
# user (Debian's package creates it) through runuser. Trust authentication on loopback is
# fine for a cluster that lives only as long as one test run, with fsync off for speed.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_TEST_DIR=${2:-${PG_TEST_DIR:-${TMPDIR:-/tmp}/sotto-pg-test}}
DB_NAME=sotto_test

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# shellcheck source-path=SCRIPTDIR source=lib/free-port.sh
source "$(dirname "$0")/lib/free-port.sh"

running() {
  [ -f "$PG_TEST_DIR/url" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" status >/dev/null 2>&1
}

start() {
  if running; then
    echo "export SOTTO_TEST_PG_URL=$(cat "$PG_TEST_DIR/url")"
    return 0
  fi
  mkdir -p "$PG_TEST_DIR"
  rm -rf "$PG_TEST_DIR/data" "$PG_TEST_DIR/url" # a stopped leftover: start afresh
  [ "$(id -u)" -ne 0 ] || chown postgres: "$PG_TEST_DIR"
  local port
  port=$(free_port pg-test)
  as_pg "$PG_BIN/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 --no-locale \
    >"$PG_TEST_DIR/initdb.log" 2>&1 || { cat "$PG_TEST_DIR/initdb.log" >&2; exit 1; }
  as_pg "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 30 \
    -o "-h 127.0.0.1 -p $port -k $PG_TEST_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
    start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; exit 1; }
  as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME"
  local url="postgresql://postgres@127.0.0.1:$port/$DB_NAME"
  echo "$url" >"$PG_TEST_DIR/url"
  echo "export SOTTO_TEST_PG_URL=$url"
}

stop() {
  if [ -d "$PG_TEST_DIR/data" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_TEST_DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running && cat "$PG_TEST_DIR/url" ;;
  *) echo "usage: $0 start|stop|url [STATE_DIR]" >&2; exit 2 ;;
esac
