#!/usr/bin/env bash
# The engine's decision latency and memory with stalled clients, against a
# baseline:
#   bench/fault_latency.sh                       (four conditions, 20 s each)
#   CONDITIONS="baseline watchers" bench/fault_latency.sh
#   WINDOW=30 WATCHERS=16 DESKTOPS=50 bench/fault_latency.sh
# Each condition runs on a fresh ccrouted (the example's defaults: keepalive
# 20 s / 10 s, heartbeat 30 s, 1,024 messages per stream) with ccroute-load
# driving AGENTS agent streams on QUEUES queues, RATE contacts per second
# (Poisson), set up over the Admin service:
#   baseline  the load only;
#   readers   plus 2 x WATCHERS `ccroute events` that read everything (into
#             /dev/null): what the same number of healthy watchers costs
#             (each also spends CPU of its own printing every event, on the
#             same cores);
#   watchers  plus WATCHERS `ccroute events` stopped with SIGSTOP (socket
#             open, nothing read) and WATCHERS `ccroute events` writing into
#             a pipe nobody reads (alive, answering keepalive, reading
#             nothing once the pipe is full);
#   desktops  plus DESKTOPS `ccroute agent login` (agents with every load
#             queue's skill, READY) stopped with SIGSTOP: they are offered
#             contacts that wait out the offer timeout.
# The stalled clients start after WARMUP seconds of load; then /metrics is
# scraped, again WINDOW seconds later, and p50 / p99 come from the
# difference of the two scrapes' histogram buckets, linear inside a bucket
# (as Prometheus's histogram_quantile):
#   ccroute_routing_decision_seconds  engine time of each command that
#                                     offered a contact (observers included:
#                                     the fan-out to every stream's queue)
#   ccroute_engine_command_seconds    engine time of every command
# The row also gives the decisions in the window (RATE x WINDOW when the
# engine keeps up), the engine thread's CPU time per command (/proc),
# ccrouted's VmRSS and VmHWM at the end of the window, the events
# dropped for slow subscribers, the streams still open, and ccroute-load's
# completed lifecycles per second (over its own window), and the load
# average when the window started. Needs jq and curl.
set -euo pipefail
build=${BUILD:-build}
S=$build/server/ccrouted
C=$build/client/ccroute
L=$build/bench/ccroute-load
AGENTS=${AGENTS:-1000}
QUEUES=${QUEUES:-10}
RATE=${RATE:-1000}
WARMUP=${WARMUP:-5}
WINDOW=${WINDOW:-20}
WATCHERS=${WATCHERS:-8}
DESKTOPS=${DESKTOPS:-20}
out=${OUT:-/tmp/ccroute-fault-latency}
rm -rf "$out"
mkdir -p "$out"

pids=()
stopped=()
cleanup() {
  for p in "${stopped[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  stopped=()
}
trap cleanup EXIT

# quantiles BEFORE AFTER METRIC: "count p50_us p99_us" over the window.
quantiles() {
  awk -v m="$3" '
    function num(le) { return le == "+Inf" ? 1e300 : le + 0 }
    FNR == 1 { file++ }
    index($0, m "_bucket{") == 1 {
      match($0, /le="[^"]*"/)
      le = substr($0, RSTART + 4, RLENGTH - 5)
      if (file == 1) before[le] = $NF; else after[le] = $NF
    }
    END {
      n = 0
      for (le in after) les[++n] = le
      for (i = 1; i <= n; i++)
        for (j = i + 1; j <= n; j++)
          if (num(les[j]) < num(les[i])) { t = les[i]; les[i] = les[j]; les[j] = t }
      total = after["+Inf"] - before["+Inf"]
      printf "%d", total
      split("0.5 0.99", qs, " ")
      for (k = 1; k <= 2; k++) {
        rank = qs[k] * total; lower = 0; below = 0; value = "-"
        for (i = 1; i <= n && total > 0; i++) {
          cum = after[les[i]] - before[les[i]]
          if (cum >= rank && cum > below) {
            if (les[i] == "+Inf") { value = sprintf(">%.0f", lower * 1e6); break }
            upper = num(les[i])
            value = sprintf("%.1f", (lower + (upper - lower) * (rank - below) / (cum - below)) * 1e6)
            break
          }
          lower = num(les[i]); below = cum
        }
        printf " %s", value
      }
      printf "\n"
    }' "$1" "$2"
}

# engine_ticks PID: CPU clock ticks of the engine thread: the busiest
# thread named ccrouted other than the main one, which waits for signals
# (gRPC's and prometheus-cpp's threads have names of their own).
engine_ticks() {
  for t in /proc/"$1"/task/*; do
    [[ ${t##*/} == "$1" || $(cat "$t/comm") != ccrouted ]] && continue
    awk '{print $14 + $15}' "$t/stat"
  done | sort -n | tail -1
}

series() {  # series FILE NAME: the value of one series, 0 if absent
  awk -v s="$2" 'index($0, s " ") == 1 { v = $NF } END { print v + 0 }' "$1"
}

run() {
  local condition=$1 dir=$out/$1
  mkdir -p "$dir"
  {
    echo "security: {plaintext: true, auth: none}"
    echo "journal: {store: none}"
    echo "agents:"
    for i in $(seq -f %03g "$DESKTOPS"); do
      printf '  - {id: stall-%s, skills: [' "$i"
      for q in $(seq -f %02g 0 $((QUEUES - 1))); do
        printf '{name: load-q-%s, level: 5}, ' "$q"
      done
      echo '], capacity: {voice: 1}}'
    done
  } > "$dir/ccrouted.yaml"
  $S --config "$dir/ccrouted.yaml" --listen 127.0.0.1:0 \
     --metrics-listen 127.0.0.1:0 2> "$dir/ccrouted.log" &
  local server=$!
  pids+=("$server")
  for _ in $(seq 100); do grep -qs '"started"' "$dir/ccrouted.log" && break; sleep 0.1; done
  local port metrics
  port=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' "$dir/ccrouted.log" | head -1)
  metrics=$(sed -n 's/.*"metrics_port":\([0-9]*\).*/\1/p' "$dir/ccrouted.log" | head -1)
  local target=127.0.0.1:$port

  $L --server "$target" --server-pid "$server" --setup admin --agents "$AGENTS" \
     --queues "$QUEUES" --rate "$RATE" --warmup "$WARMUP" \
     --duration $((WARMUP + WINDOW + 10)) --drain-timeout 20 --json \
     > "$dir/load.json" 2> "$dir/load.log" &
  local load=$!
  for _ in $(seq 600); do grep -qs 'agents logged in' "$dir/load.log" && break; sleep 0.1; done
  sleep "$WARMUP"

  local mkfifo_dir=$dir/fifos
  mkdir -p "$mkfifo_dir"
  if [[ $condition == readers ]]; then
    for i in $(seq $((2 * WATCHERS))); do
      $C --server "$target" events > /dev/null 2>&1 &
      pids+=("$!")
    done
    sleep 1
  elif [[ $condition == watchers ]]; then
    for i in $(seq "$WATCHERS"); do
      $C --server "$target" events > "$dir/events-$i.out" 2>&1 &
      pids+=("$!")
      stopped+=("$!")
      # A reader that never reads: the pipe fills, then ccroute blocks.
      mkfifo "$mkfifo_dir/w$i"
      sleep 100000 < "$mkfifo_dir/w$i" &
      pids+=("$!")
      $C --server "$target" events > "$mkfifo_dir/w$i" 2> /dev/null &
      pids+=("$!")
    done
    sleep 1
    for p in "${stopped[@]}"; do kill -STOP "$p"; done
  elif [[ $condition == desktops ]]; then
    # One writer that never writes keeps every desktop's input open.
    mkfifo "$mkfifo_dir/in"
    sleep 100000 > "$mkfifo_dir/in" &
    pids+=("$!")
    for i in $(seq -f %03g "$DESKTOPS"); do
      $C --server "$target" agent login "stall-$i" < "$mkfifo_dir/in" \
        > "$dir/desktop-$i.out" 2>&1 &
      pids+=("$!")
      stopped+=("$!")
    done
    for i in $(seq -f %03g "$DESKTOPS"); do
      for _ in $(seq 100); do grep -qs 'connected as' "$dir/desktop-$i.out" && break; sleep 0.1; done
    done
    for p in "${stopped[@]}"; do kill -STOP "$p"; done
  fi

  local loadavg ticks_before ticks_after
  loadavg=$(cut -d' ' -f1 /proc/loadavg)
  ticks_before=$(engine_ticks "$server")
  curl -s "http://127.0.0.1:$metrics/metrics" > "$dir/before.prom"
  sleep "$WINDOW"
  curl -s "http://127.0.0.1:$metrics/metrics" > "$dir/after.prom"
  ticks_after=$(engine_ticks "$server")
  local rss hwm
  rss=$(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$server/status")
  hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$server/status")
  wait "$load" || true
  local decision command
  decision=$(quantiles "$dir/before.prom" "$dir/after.prom" ccroute_routing_decision_seconds)
  command=$(quantiles "$dir/before.prom" "$dir/after.prom" ccroute_engine_command_seconds)
  # The engine thread's CPU per command, in microseconds (100 ticks a
  # second): its work, whatever preempted it.
  local commands cpu
  commands=$(echo "$command" | cut -d' ' -f1)
  cpu=$(awk -v t=$((ticks_after - ticks_before)) -v c="$commands" \
        'BEGIN { printf "%.1f", (c > 0 ? t * 1e4 / c : 0) }')
  printf '%-9s %6s  %s  %s %6s  %5s %5s  %7s  %s/%s/%s  %8s  %s\n' "$condition" \
    "$(echo "$decision" | cut -d' ' -f1)" \
    "$(echo "$decision" | cut -d' ' -f2-3 | tr ' ' /)" \
    "$(echo "$command" | cut -d' ' -f2-3 | tr ' ' /)" "$cpu" "$rss" "$hwm" \
    "$(series "$dir/after.prom" ccroute_events_dropped_total)" \
    "$(series "$dir/after.prom" 'ccroute_streams_open{kind="agent"}')" \
    "$(series "$dir/after.prom" 'ccroute_streams_open{kind="events"}')" \
    "$(series "$dir/after.prom" 'ccroute_streams_open{kind="watch"}')" \
    "$(jq -r '.lifecycles_per_second' "$dir/load.json" 2>/dev/null || echo -)" \
    "$loadavg"
  cleanup
}

echo "agents=$AGENTS queues=$QUEUES rate=$RATE/s warmup=${WARMUP}s window=${WINDOW}s" \
     "watchers=$WATCHERS(+$WATCHERS not reading) desktops=$DESKTOPS cores=$(nproc)"
echo "condition decisions  decision_p50/p99_us  command_p50/p99_us cpu_us  rss_MiB hwm_MiB  dropped  streams_agent/events/watch  lifecycles/s  loadavg"
for condition in ${CONDITIONS:-baseline readers watchers desktops}; do
  run "$condition"
done
