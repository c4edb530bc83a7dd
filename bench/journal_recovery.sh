#!/usr/bin/env bash
# Recovery time against live contacts:
#   bench/journal_recovery.sh N     (SLEEP=S: seconds of creating, default 25)
# ccroute-load keeps N contacts live (closed loop, 2 agents that hold theirs
# for 100 s, so nearly all wait); the running centre is exported, ccrouted
# is killed with SIGKILL and started again on the journal with that
# configuration; prints its journal_recovered line (waiting, assigned, ms)
# and the journal's size. Needs jq. Filling through the API takes over 10
# minutes for 1M contacts: bench/journal_recovery_scale.sh fills directly.
set -u
build=${BUILD:-build}
S=$build/server/ccrouted
L=$build/bench/ccroute-load
n=$1
d=${OUT:-/tmp/ccroute-journal-bench}/rec$n; rm -rf $d; mkdir -p $d
printf 'security: {plaintext: true, auth: none}\njournal: {data_dir: %s/data, durability: sync}\nlimits: {max_live_contacts: 2000000}\n' $d > $d/c.yaml
$S --config $d/c.yaml --listen 127.0.0.1:0 --metrics-listen "" 2> $d/log1 &
pid=$!
for _ in $(seq 100); do grep -q '"started"' $d/log1 && break; sleep 0.1; done
port=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' $d/log1 | head -1)
timeout 400 $L --server 127.0.0.1:$port --server-pid $pid --setup admin --agents 2 --queues 2 \
   --handle-ms 100000 --concurrency $n --duration ${SLEEP:-25} --drain-timeout 0 --json --quiet > $d/out.json 2>$d/load.err &
lp=$!
sleep ${SLEEP:-25}
$build/client/ccroute --server 127.0.0.1:$port queues | head -3
$build/client/ccroute --server 127.0.0.1:$port admin export | jq --arg d $d/data '. + {security:{plaintext:true,auth:"none"}, journal:{data_dir:$d, durability:"sync"}, limits:{max_live_contacts:2000000}}' > $d/c2.json
kill -9 $pid; wait $pid 2>/dev/null
wait $lp
$S --config $d/c2.json --listen 127.0.0.1:0 --metrics-listen "" 2> $d/log2 &
sleep 1
for _ in $(seq 600); do grep -q '"started"' $d/log2 && break; sleep 0.2; done
grep -h journal_recovered $d/log2
du -sh $d/data
pkill -f "config $d/c2.json"
