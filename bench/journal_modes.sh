#!/usr/bin/env bash
# Create throughput and create-call latency per journal durability mode:
#   bench/journal_modes.sh                    (closed loop, 500 live)
#   LOADARGS="--rate 1000" bench/journal_modes.sh
# For memory only, none, interval and sync: a ccrouted with that journal,
# ccroute-load with 1,000 agents over the Admin service for 15 s (3 s of
# warm-up left out); prints created/s and the create call's latency in us.
# Needs jq.
set -u
build=${BUILD:-build}
S=$build/server/ccrouted
L=$build/bench/ccroute-load
for mode in memory none interval sync; do
  d=${OUT:-/tmp/ccroute-journal-bench}/$mode; rm -rf $d; mkdir -p $d
  {
    echo "security: {plaintext: true, auth: none}"
    if [[ $mode == memory ]]; then echo "journal: {store: none}"
    else echo "journal: {data_dir: $d/data, durability: $mode}"; fi
  } > $d/c.yaml
  $S --config $d/c.yaml --listen 127.0.0.1:0 --metrics-listen "" 2> $d/log &
  pid=$!
  for _ in $(seq 100); do grep -q '"started"' $d/log && break; sleep 0.1; done
  port=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' $d/log | head -1)
  $L --server 127.0.0.1:$port --server-pid $pid --setup admin --agents 1000 \
     ${LOADARGS:---concurrency 500} --duration 15 --warmup 3 --json --quiet > $d/out.json
  kill $pid; wait $pid
  echo "$mode $(jq -c '{created_per_second, lifecycles_per_second, create_call, errors}' $d/out.json)"
done
