#!/usr/bin/env bash
# The skill-based routing study of docs/routing-quality.md: runs
# `ccroute-sim chain` for agents with 2 skills and with 3, prints both
# tables, and draws docs/routing-quality.png with gnuplot (Debian package
# gnuplot-nox, which deploy/setup.sh installs).
#
#   bench/routing_study.sh [BUILD_DIR] [ccroute-sim chain flags...]
#
# BUILD_DIR defaults to build; further flags go to both runs (for example
# --contacts 20000 for a quick look; the study used the defaults below).
# Writes the PNG to $CCROUTE_STUDY_PNG (default docs/routing-quality.png).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if (($# > 0)); then shift; fi
sim=$build/bench/ccroute-sim
png=${CCROUTE_STUDY_PNG:-docs/routing-quality.png}
if [[ ! -x $sim ]]; then
  echo "routing_study: $sim not found; build the ccroute_sim target" >&2
  exit 2
fi
command -v gnuplot >/dev/null || {
  echo "routing_study: gnuplot not found (apt-get install gnuplot-nox)" >&2
  exit 2
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every policy with 2 skills; with 3, longest_idle and preserve_coverage.
three_skill_policies=service_level/longest_idle,service_level/preserve_coverage
echo "# $(date -I), $(nproc) cores: $sim chain --contacts 300000 --replications 10 $*"
for skills in 2 3; do
  policies=()
  if ((skills == 3)); then policies=(--policies "$three_skill_policies"); fi
  "$sim" chain --skills "$skills" --contacts 300000 --replications 10 \
    --data "$work/chain$skills.dat" "${policies[@]}" "$@"
  echo
done

# Columns: 1 occupancy, 2 pooled, 3 separate, 4-5 all skills (mean, ci95),
# then mean and ci95 per policy in ccroute-sim's order. 2 skills:
# service_level/{longest_idle 6, most_skilled 8, least_occupied 10,
# preserve_coverage 12}, fifo/{the same, 14 to 20}; 3 skills: longest_idle
# 6, preserve_coverage 8. The fifo and least_occupied curves coincide with
# service_level/longest_idle (see docs/routing-quality.md) and are left out.
mkdir -p "$(dirname "$png")"
gnuplot <<EOF
set terminal pngcairo size 1000,700 font "sans,11" noenhanced
set output "$png"
set title "6 contact types, 90 agents, AHT 300 s: service level (answered within 20 s)"
set xlabel "occupancy (offered load / agents)"
set ylabel "service level"
set key left bottom Left reverse box opaque font "sans,10" spacing 1.1
set grid
set xrange [0.79:0.99]
set yrange [0:1.02]
d2 = "$work/chain2.dat"
d3 = "$work/chain3.dat"
plot d2 using 1:2 with lines lw 3 lc rgb "black" title "pooled bound (Erlang C, 90 agents)", \
     d2 using 1:3 with lines lw 3 dt 2 lc rgb "gray40" title "separate (6 x Erlang C, 15 agents)", \
     d2 using 1:4:5 with yerrorlines lc rgb "dark-green" pt 7 title "all skills, simulated", \
     d3 using (\$1+0.0015):6:7 with yerrorlines lc rgb "orange" pt 9 title "3-skill chain, longest_idle", \
     d3 using (\$1+0.003):8:9 with yerrorlines lc rgb "brown" pt 8 title "3-skill chain, preserve_coverage", \
     d2 using (\$1-0.003):6:7 with yerrorlines lc rgb "blue" pt 5 title "2-skill chain, longest_idle (= least_occupied, = fifo)", \
     d2 using (\$1-0.0015):8:9 with yerrorbars lc rgb "red" pt 13 title "2-skill chain, most_skilled", \
     d2 using (\$1):12:13 with yerrorlines lc rgb "purple" pt 4 title "2-skill chain, preserve_coverage"
EOF
echo "wrote $png"
