#!/usr/bin/env bash
# Installs what is missing, builds ccroute and runs ccrouted in the
# foreground on its built-in demo configuration (gRPC on 127.0.0.1:7400).
# Extra arguments go to ccrouted (e.g. --config deploy/ccrouted.example.yaml).
#
# deploy/run.sh --demo [ccrouted args]: the same server with a living
# contact center: `ccroute demo` plays gateways and agents against it and
# `ccroute top` shows the wallboard (q quits and stops everything). Without
# a terminal, the demo's own report is shown instead of the wallboard.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=0
if [[ ${1:-} == --demo ]]; then
  demo=1
  shift
fi
deploy/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target ccrouted ccroute ccroute_demo
if ((demo == 0)); then
  exec build/server/ccrouted "$@"
fi

log=build/ccrouted-demo.log
build/server/ccrouted "$@" >"$log" 2>&1 &
server=$!
demo_pid=
cleanup() {
  [[ -n $demo_pid ]] && kill -INT "$demo_pid" 2>/dev/null && wait "$demo_pid"
  kill -TERM "$server" 2>/dev/null && wait "$server"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The gRPC address from the server's start line (the listen address may
# come from --listen or a config file, and its port may be 0).
address=
for _ in $(seq 100); do
  line=$(grep '"event":"started"' "$log" || true)
  if [[ -n $line ]]; then
    listen=$(sed -n 's/.*"listen":"\([^"]*\)".*/\1/p' <<<"$line")
    port=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' <<<"$line")
    address="${listen%:*}:$port"
  fi
  [[ -n $address ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
[[ -n $address ]] || { echo "run: ccrouted did not start; see $log"; exit 1; }
echo "run: ccrouted on $address (log: $log); metrics as configured"
if [[ -t 1 ]]; then
  build/client/ccroute --server "$address" demo >build/ccroute-demo.log 2>&1 &
  demo_pid=$!
  build/client/ccroute --server "$address" top
else
  build/client/ccroute --server "$address" demo &
  demo_pid=$!
  wait "$demo_pid"
fi
