# shellcheck shell=bash
# free_port NAME: prints a TCP port on 127.0.0.1 that nothing answers on (tried at random in
# 20000-39999), or says NAME found none and fails. Sourced by the test-service scripts.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "$1: no free port found" >&2
  return 1
}
