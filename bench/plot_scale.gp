# Decision latency against scale, ccroute and the naive baseline, from
# bench/scale.dat (the medians of the `ccroute-bench scenario --json` runs
# listed in bench/RESULTS.md). Run from the repository root:
#   gnuplot bench/plot_scale.gp        (writes bench/scale.png)
set terminal pngcairo size 900,560 noenhanced font ",11"
set output "bench/scale.png"
set title "ccroute-bench scenario: per-decision latency, mixed stream"
set logscale x
set logscale y
set xrange [60:16000]
set yrange [1e-7:3e-2]
set format y "%.0s %cs"
set xtics ("S\n100 agents\n1,000 waiting" 100, \
           "M\n1,000 agents\n10,000 waiting" 1000, \
           "L\n10,000 agents\n100,000 waiting" 10000)
set bmargin 5
set ylabel "latency per decision"
set key top left
set grid ytics mytics
# The data is in ns; gnuplot's %s %c prefixes want seconds.
ns = 1e-9
set arrow from 60, 5000 * ns to 16000, 5000 * ns nohead dt 2 lc rgb "#888888"
set label "target p99 at L: 5 us" at 2000, 6500 * ns tc rgb "#666666"
plot "bench/scale.dat" using 2:($3 * ns) with linespoints lw 2 pt 7 \
       lc rgb "#1f77b4" title "ccroute p50", \
     "" using 2:($4 * ns) with linespoints lw 2 pt 5 dt 2 \
       lc rgb "#1f77b4" title "ccroute p99", \
     "" using 2:($6 * ns) with linespoints lw 2 pt 7 \
       lc rgb "#d62728" title "baseline p50", \
     "" using 2:($7 * ns) with linespoints lw 2 pt 5 dt 2 \
       lc rgb "#d62728" title "baseline p99", \
     "" using 2:($5 * ns) with linespoints lw 1 pt 2 \
       lc rgb "#1f77b4" title "ccroute mean", \
     "" using 2:($8 * ns) with linespoints lw 1 pt 2 \
       lc rgb "#d62728" title "baseline mean"
