# End-to-end create->offer latency against offered load, from bench/load.dat
# (the medians of the `ccroute-load --json` runs of bench/load_sweep.sh,
# listed in bench/RESULTS.md). Run from the repository root:
#   gnuplot bench/plot_load.gp        (writes bench/load.png)
set terminal pngcairo size 900,560 noenhanced font ",11"
set output "bench/load.png"
set title "ccroute-load: 2,000 agent streams, ccrouted and load generator on 2 cores"
set xlabel "offered load (contacts per second, Poisson)"
set ylabel "create -> offer latency"
set y2label "completed lifecycles per second"
set logscale y
set format y "%.0s %cs"
set xrange [0:*]
set yrange [*:*]
set y2range [0:*]
set ytics nomirror
set y2tics
set key top left box opaque
set grid ytics mytics
# The data is in ms; gnuplot's %s %c prefixes want seconds.
ms = 1e-3
set arrow from graph 0, first 5 * ms to graph 1, first 5 * ms nohead dt 2 \
    lc rgb "#888888"
set label "target p99 at 2,500/s: 5 ms" at graph 0.02, first 6.5 * ms \
    tc rgb "#666666"
plot "bench/load.dat" index 0 using 1:($4 * ms) with linespoints lw 2 pt 7 \
       lc rgb "#1f77b4" title "p50", \
     "" index 0 using 1:($5 * ms) with linespoints lw 2 pt 5 dt 2 \
       lc rgb "#1f77b4" title "p99", \
     "" index 0 using 1:3 axes x1y2 with linespoints lw 1 pt 2 \
       lc rgb "#2ca02c" title "completed lifecycles/s (right axis)", \
     "" index 1 using 1:($4 * ms) with points pt 9 ps 1.6 \
       lc rgb "#d62728" title "closed loop p50 (x: its rate)", \
     "" index 1 using 1:($5 * ms) with points pt 11 ps 1.6 \
       lc rgb "#d62728" title "closed loop p99"
