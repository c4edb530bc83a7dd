#!/usr/bin/env bash
# The Node.js interop test: starts ccrouted on a free loopback port with
# ccrouted.test.yaml, runs interop.test.js (@grpc/grpc-js) against it, and
# stops the server, whatever happens.
#
#   tests/interop/run.sh build/server/ccrouted
#
# Needs node and npm (deploy/setup.sh installs them). The npm packages are
# installed from package-lock.json (npm ci) when node_modules is missing or
# older than the lock file.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PATH/TO/ccrouted" >&2
  exit 2
fi
ccrouted=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "interop: $tool not found (deploy/setup.sh installs it)" >&2
    exit 1
  fi
done

cd "$here"
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  echo "interop: npm ci"
  # No install scripts: the packages are plain JavaScript.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

workdir=$(mktemp -d)
server_pid=
node_pid=
cleanup() {
  if [[ -n $node_pid ]]; then
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # It stops within its shutdown timeout (5 s); do not wait for ever.
    for _ in $(seq 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Under `timeout`, so that the server goes away even if this script is
# killed without a chance to clean up (SIGKILL from a test driver).
timeout 170 "$ccrouted" --listen 127.0.0.1:0 \
  --config "$here/ccrouted.test.yaml" 2>"$workdir/ccrouted.log" &
server_pid=$!

# The first JSON log line of a started server carries the chosen port:
# {"event":"started",...,"grpc_port":N,...}
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*"event":"started".*"grpc_port":\([0-9][0-9]*\).*/\1/p' \
    "$workdir/ccrouted.log" 2>/dev/null | head -n 1)
  [[ -n $port ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z $port ]]; then
  echo "interop: ccrouted did not start; its log:" >&2
  cat "$workdir/ccrouted.log" >&2
  exit 1
fi
echo "interop: ccrouted (pid $server_pid) on 127.0.0.1:$port;" \
  "node $(node --version)"

# In the background, so that a signal to this script runs its traps at once.
CCROUTE_ADDRESS="127.0.0.1:$port" timeout 90 node --test interop.test.js &
node_pid=$!
status=0
wait "$node_pid" || status=$?
node_pid=
if [[ $status -ne 0 ]]; then
  echo "interop: FAILED (exit $status); ccrouted's log:" >&2
  cat "$workdir/ccrouted.log" >&2
fi
exit "$status"
