#!/usr/bin/env bash
# The end-to-end load sweep of bench/RESULTS.md: `ccroute-load --spawn` with
# 2,000 agent streams at each offered rate (Poisson arrivals), then in a
# closed loop, RUNS times each. Prints a table of the medians (and ranges),
# writes bench/load.dat and draws bench/load.png (bench/plot_load.gp).
#
#   bench/load_sweep.sh [BUILD_DIR] [RUNS] [ccroute-load flags...]
#
# BUILD_DIR defaults to build and RUNS to 3. The server is
# $BUILD_DIR/server/ccrouted unless CCROUTED names another. Needs jq and
# gnuplot (Debian packages jq and gnuplot-nox). The raw JSON of every run
# is kept in $CCROUTE_LOAD_JSON (default bench/load.json).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if (($# > 0)); then shift; fi
runs=${1:-3}
if (($# > 0)); then shift; fi
load=$build/bench/ccroute-load
ccrouted=${CCROUTED:-$build/server/ccrouted}
raw=${CCROUTE_LOAD_JSON:-bench/load.json}
rates=(${CCROUTE_LOAD_RATES:-500 1000 2000 2500 3000 4000 5000})
for tool in "$load" "$ccrouted"; do
  if [[ ! -x $tool ]]; then
    echo "load_sweep: $tool not found; build ccroute_load and ccrouted" >&2
    exit 2
  fi
done
for tool in jq gnuplot; do
  command -v "$tool" >/dev/null || {
    echo "load_sweep: $tool not found (apt-get install jq gnuplot-nox)" >&2
    exit 2
  }
done

common=(--spawn "$ccrouted" --agents 2000 --duration 20 --warmup 5 --json
  --quiet "$@")
echo "# $(date -I), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $load ${common[*]} --rate R | --concurrency 1000; $runs runs each"
: >"$raw"
for ((run = 1; run <= runs; run++)); do
  for rate in "${rates[@]}"; do
    "$load" "${common[@]}" --rate "$rate" >>"$raw"
  done
  "$load" "${common[@]}" --concurrency 1000 >>"$raw"
done
echo "# done, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# One row per offered rate (0: the closed loop), each figure the median of
# the runs, with [min-max] in the table.
summary='
  def med: sort | .[length / 2 | floor];
  def rng(f): map(f) | "\(med) [\(min)-\(max)]";
  group_by(.rate) | map({
    rate: .[0].rate,
    created: map(.created_per_second) | med,
    lifecycles: map(.lifecycles_per_second) | med,
    p50: map(.create_to_offer.p50_us / 1000) | med,
    p99: map(.create_to_offer.p99_us / 1000) | med,
    p999: map(.create_to_offer.p999_us / 1000) | med,
    ack50: map(.offer_to_accept_ack.p50_us / 1000) | med,
    ack99: map(.offer_to_accept_ack.p99_us / 1000) | med,
    server: map(.server.cpu_cores) | med,
    tool: map(.load_tool.cpu_cores) | med,
    busy: map(.machine_busy) | med,
    rss: map(.server.peak_rss_bytes / 1048576) | med,
    errors: map(.error_count) | add,
    range_lifecycles: rng(.lifecycles_per_second | round),
    range_p50: rng(.create_to_offer.p50_us / 1000 | . * 100 | round / 100),
    range_p99: rng(.create_to_offer.p99_us / 1000 | . * 100 | round / 100)
  }) | sort_by(if .rate == 0 then 1e9 else .rate end)'

row='[(if .rate == 0 then .created else .rate end), .created, .lifecycles,
  .p50, .p99, .p999, .ack50, .ack99, .server, .tool, .busy]
  | map(tostring) | join(" ")'
fmt='{ printf "%.0f", $1; for (i = 2; i <= NF; i++) printf " %.4g", $i; print "" }'
{
  echo "# ccroute-load, 2,000 agents: medians of $runs runs (bench/load_sweep.sh)."
  echo "# index 0: Poisson arrivals at the offered rate; index 1: the closed"
  echo "# loop (1,000 contacts live), whose x is the rate it created contacts at."
  echo "# offered created/s lifecycles/s p50_ms p99_ms p999_ms ack_p50_ms ack_p99_ms server_cores tool_cores machine_busy"
  jq -s -r "$summary | .[] | select(.rate > 0) | $row" "$raw" | awk "$fmt"
  printf '\n\n'
  jq -s -r "$summary | .[] | select(.rate == 0) | $row" "$raw" | awk "$fmt"
} >bench/load.dat
# The table for bench/RESULTS.md.
jq -s -r "$summary | .[] | \"| \(if .rate == 0 then \"closed loop\" else .rate end) | \(.created | round) | \(.range_lifecycles) | \(.range_p50) | \(.range_p99) | \(.p999 * 100 | round / 100) | \(.ack50 * 100 | round / 100) / \(.ack99 * 100 | round / 100) | \(.server * 100 | round / 100) | \(.tool * 100 | round / 100) | \(.busy * 100 | round)% | \(.rss | round) MB | \(.errors) |\"" "$raw"
gnuplot bench/plot_load.gp
echo "wrote bench/load.dat and bench/load.png"
