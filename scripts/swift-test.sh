#!/usr/bin/env bash
# swift-test.sh start|stop|env [STATE_DIR]: a throwaway OpenStack Swift for the tests of the
# S3-compatible blob store (server/src/blobs/s3.c): one node on 127.0.0.1, its proxy with the
# s3api middleware (which checks SigV4 signatures and payload hashes) and tempauth, which
# keeps its state in a memcached of its own on loopback.
#
# STATE_DIR (default $SWIFT_TEST_DIR, else ${TMPDIR:-/tmp}/sotto-swift-test) holds the
# configuration, rings, the one device, logs, pids and the file `env`; it may already exist.
#
# start: write the configuration and rings, start memcached and the account, container,
#        object and proxy servers on free loopback ports, create the bucket "sotto-test"
#        (signed by curl's --aws-sigv4) and print the
#        SOTTO_TEST_S3_* variables as `export` lines (eval-able; also in STATE_DIR/env).
#        Idempotent: when the proxy already answers, it only prints them again.
# stop:  stop the servers and delete the directory. Safe when nothing runs.
# env:   print the variables of the running node.
#
# The credentials are tempauth's test user (access key "test:tester", secret "testing"): they
# exist only as long as one test run, on loopback. s3api's location is the region signed for.
set -euo pipefail

SWIFT_TEST_DIR=${2:-${SWIFT_TEST_DIR:-${TMPDIR:-/tmp}/sotto-swift-test}}
BUCKET=sotto-test
REGION=us-east-1
ACCESS_KEY=test:tester
SECRET_KEY=testing
SERVERS=(memcached account container object proxy)

# shellcheck source-path=SCRIPTDIR source=lib/free-port.sh
source "$(dirname "$0")/lib/free-port.sh"

running() {
  [ -f "$SWIFT_TEST_DIR/env" ] && [ -f "$SWIFT_TEST_DIR/proxy.port" ] &&
    curl -fsS -o /dev/null "http://127.0.0.1:$(cat "$SWIFT_TEST_DIR/proxy.port")/healthcheck"
}

# common_conf PORT: the [DEFAULT] section every server shares.
common_conf() {
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $(id -un)
swift_dir = $SWIFT_TEST_DIR/etc
devices = $SWIFT_TEST_DIR/srv
mount_check = false
log_name = swift-test
log_address = $SWIFT_TEST_DIR/no-syslog
log_level = WARNING
EOF
}

# storage_conf KIND PORT: an account, container or object server.
storage_conf() {
  common_conf "$2"
  cat <<EOF

[pipeline:main]
pipeline = $1-server

[app:$1-server]
use = egg:swift#$1
EOF
}

proxy_conf() {
  common_conf "$1"
  cat <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = $REGION
s3_acl = false

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $SECRET_KEY .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$(cat "$SWIFT_TEST_DIR/memcached.port")

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
}

# rings ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT: one device, one replica each, made in one
# Python process (swift-ring-builder takes seconds per call, nine calls).
rings() {
  /usr/bin/python3 - "$SWIFT_TEST_DIR/etc" "$@" <<'EOF'
import sys
from swift.common.ring import RingBuilder

for kind, port in zip(("account", "container", "object"), sys.argv[2:5]):
    b = RingBuilder(6, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
               "device": "d1", "weight": 1})
    b.rebalance()
    b.get_ring().save("%s/%s.ring.gz" % (sys.argv[1], kind))
EOF
}

wait_port() { # wait_port NAME PORT: until the server accepts connections (or died)
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    kill -0 "$(cat "$SWIFT_TEST_DIR/$1.pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "swift-test: the $1 server did not start" >&2
  cat "$SWIFT_TEST_DIR/$1.log" >&2
  stop_servers
  return 1
}

start() {
  if running; then
    cat "$SWIFT_TEST_DIR/env"
    return 0
  fi
  stop_servers
  mkdir -p "$SWIFT_TEST_DIR"
  rm -rf "${SWIFT_TEST_DIR:?}/etc" "${SWIFT_TEST_DIR:?}/srv" "${SWIFT_TEST_DIR:?}/env"
  mkdir -p "$SWIFT_TEST_DIR/etc" "$SWIFT_TEST_DIR/srv/d1"
  cat >"$SWIFT_TEST_DIR/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')

[storage-policy:0]
name = gold
default = yes
EOF
  local s port
  for s in "${SERVERS[@]}"; do
    port=$(free_port swift-test)
    echo "$port" >"$SWIFT_TEST_DIR/$s.port"
  done
  for s in account container object; do
    port=$(cat "$SWIFT_TEST_DIR/$s.port")
    storage_conf "$s" "$port" >"$SWIFT_TEST_DIR/etc/$s-server.conf"
  done
  rings "$(cat "$SWIFT_TEST_DIR/account.port")" "$(cat "$SWIFT_TEST_DIR/container.port")" \
    "$(cat "$SWIFT_TEST_DIR/object.port")"
  proxy_conf "$(cat "$SWIFT_TEST_DIR/proxy.port")" >"$SWIFT_TEST_DIR/etc/proxy-server.conf"
  memcached -l 127.0.0.1 -p "$(cat "$SWIFT_TEST_DIR/memcached.port")" -U 0 -m 16 -u "$(id -un)" \
    >"$SWIFT_TEST_DIR/memcached.log" 2>&1 &
  echo $! >"$SWIFT_TEST_DIR/memcached.pid"
  for s in account container object proxy; do
    "swift-$s-server" "$SWIFT_TEST_DIR/etc/$s-server.conf" -v >"$SWIFT_TEST_DIR/$s.log" 2>&1 &
    echo $! >"$SWIFT_TEST_DIR/$s.pid"
  done
  for s in "${SERVERS[@]}"; do
    wait_port "$s" "$(cat "$SWIFT_TEST_DIR/$s.port")"
  done
  local url
  url="http://127.0.0.1:$(cat "$SWIFT_TEST_DIR/proxy.port")"
  # Signed by curl; the access key holds a colon, which --user would take for the end of the
  # name, hence a netrc file. The SHA-256 of the empty body: S3 wants it, curl does not add it.
  (umask 077 && echo "machine 127.0.0.1 login $ACCESS_KEY password $SECRET_KEY" >"$SWIFT_TEST_DIR/netrc")
  curl -fsS -o /dev/null -X PUT --aws-sigv4 "aws:amz:$REGION:s3" --netrc-file "$SWIFT_TEST_DIR/netrc" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "$url/$BUCKET" || { stop_servers; exit 1; }
  cat >"$SWIFT_TEST_DIR/env" <<EOF
export SOTTO_TEST_S3_ENDPOINT=$url
export SOTTO_TEST_S3_BUCKET=$BUCKET
export SOTTO_TEST_S3_REGION=$REGION
export SOTTO_TEST_S3_ACCESS_KEY_ID=$ACCESS_KEY
export SOTTO_TEST_S3_SECRET_ACCESS_KEY=$SECRET_KEY
EOF
  cat "$SWIFT_TEST_DIR/env"
}

# Stops only the servers this directory's pid files name.
stop_servers() {
  local s pid
  for s in "${SERVERS[@]}"; do
    [ -f "$SWIFT_TEST_DIR/$s.pid" ] || continue
    pid=$(cat "$SWIFT_TEST_DIR/$s.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$SWIFT_TEST_DIR/$s.pid"
  done
}

stop() {
  [ -d "$SWIFT_TEST_DIR" ] || return 0
  stop_servers
  rm -rf "$SWIFT_TEST_DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) running && cat "$SWIFT_TEST_DIR/env" ;;
  *) echo "usage: $0 start|stop|env [STATE_DIR]" >&2; exit 2 ;;
esac
