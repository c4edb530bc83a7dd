#!/usr/bin/env bash
# Recovery time against live contacts, at sizes the gRPC API takes too long
# to fill:
#   bench/journal_recovery_scale.sh [N ...]      (default 10000 100000 1000000)
#   RUNS=5 CONFIG=deploy/ccrouted.example.yaml bench/journal_recovery_scale.sh 100000
#   REFILL=0 CCROUTED=other/ccrouted bench/journal_recovery_scale.sh 1000000
#     (another server binary on the journal filled by the previous run)
# For each N, ccroute-journal-fill writes N live contacts into a new journal
# through the server's own write path (the engine creates each contact, the
# journal observer writes it; queues of CONFIG, the built-in configuration
# by default; no agent, so all wait or are scheduled). Then RUNS times
# (default 3), on a fresh copy of that journal: ccrouted starts on it and
# the script reads
#   wall   from the start of the process to its journal_recovered line
#          (the line's own time stamp, so no polling delay);
#   open   the line's open_ms: RocksDB opening the journal (WAL replay);
#   ms     the line's ms: reading the records, restoring them into the
#          engine, and the cleanup batch (the compaction after recovery
#          runs in the background);
#   cpu    the process's user + system CPU time once started (less
#          sensitive than wall to other work on the machine);
#   RSS    VmRSS once started, and VmHWM (the peak);
# and checks that the server holds what the fill left: waiting + scheduled
# over all queues (`ccroute queues --json`) against the fill's count.
# Prints one line per run and the medians. Needs jq. The page cache is warm
# (the fill, then the copy, just wrote the files).
set -u
build=${BUILD:-build}
S=${CCROUTED:-$build/server/ccrouted}
F=$build/bench/ccroute-journal-fill
C=$build/client/ccroute
runs=${RUNS:-3}
out=${OUT:-/tmp/ccroute-journal-bench}
config_flag=()
[[ -n ${CONFIG:-} ]] && config_flag=(--config "$CONFIG")
[[ $# -gt 0 ]] || set -- 10000 100000 1000000

ms_of() {  # an ISO-8601 UTC time stamp with milliseconds -> ms since the epoch
  local ts=$1
  echo $(( $(date -u -d "${ts%.*}Z" +%s) * 1000 + 10#$(sed 's/.*\.\([0-9]*\)Z/\1/' <<<"$ts") ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for n in "$@"; do
  d=$out/scale$n
  if [[ ${REFILL:-1} == 1 || ! -f $d/fill.json ]]; then
    rm -rf "$d"; mkdir -p "$d"
    $F --data-dir "$d/filled" --contacts "$n" "${config_flag[@]}" --json > "$d/fill.json" || exit 1
  fi
  rm -f "$d/runs"
  live=$(jq .live "$d/fill.json")
  echo "N=$n load average $(cut -d' ' -f1-3 /proc/loadavg), nproc $(nproc), $(date -I), $S"
  echo "N=$n fill: $(jq -c '{live, waiting, scheduled, refused, seconds, journal_bytes}' "$d/fill.json")"
  for r in $(seq "$runs"); do
    rm -rf "$d/run" "$d/log$r"; cp -a "$d/filled" "$d/run"; sync
    t0=$(date +%s%3N)
    # --data-dir overrides the configuration's journal directory.
    $S "${config_flag[@]}" --data-dir "$d/run" --listen 127.0.0.1:0 --metrics-listen "" 2> "$d/log$r" &
    pid=$!
    for _ in $(seq 6000); do grep -q '"started"' "$d/log$r" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    line=$(grep -h '"journal_recovered"' "$d/log$r")
    if [[ -z $line ]]; then echo "no journal_recovered line:"; cat "$d/log$r"; kill $pid; exit 1; fi
    cpu=$(awk '{printf "%.2f", ($14 + $15) / 100}' /proc/$pid/stat)
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    port=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' "$d/log$r" | head -1)
    held=$($C --server 127.0.0.1:$port queues --json | jq '[.queues[] | .waiting + .scheduled] | add')
    # A stop waits for the compaction the server started after recovery.
    kill $pid; wait $pid 2>/dev/null
    wall=$(( $(ms_of "$(jq -r .ts <<<"$line")") - t0 ))
    open=$(jq .open_ms <<<"$line"); ms=$(jq .ms <<<"$line")
    check=$([[ $held == "$live" ]] && echo ok || echo "MISMATCH")
    echo "N=$n run $r: wall $wall ms, cpu $cpu s, open $open ms, ms $ms, rss $((rss / 1024)) MB," \
         "peak $((hwm / 1024)) MB, recovered $held of $live $check;" \
         "$(jq -c '{waiting, dropped_records, refused_contacts, wal_bytes_dropped, problems}' <<<"$line")"
    echo "$wall $open $ms $((rss / 1024)) $((hwm / 1024)) $check $cpu" >> "$d/runs"
  done
  echo "N=$n median of $runs: wall $(cut -d' ' -f1 "$d/runs" | median) ms" \
       "(range $(cut -d' ' -f1 "$d/runs" | sort -n | head -1)-$(cut -d' ' -f1 "$d/runs" | sort -n | tail -1))," \
       "cpu $(cut -d' ' -f7 "$d/runs" | median) s," \
       "open $(cut -d' ' -f2 "$d/runs" | median) ms, ms $(cut -d' ' -f3 "$d/runs" | median)," \
       "rss $(cut -d' ' -f4 "$d/runs" | median) MB, peak $(cut -d' ' -f5 "$d/runs" | median) MB," \
       "journal $(du -sh "$d/filled" | cut -f1), checks: $(sort "$d/runs" | cut -d' ' -f6 | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
  rm -rf "$d/run"
done
