# The ratios of build/bench/results.tsv (written by bench/all.sh) as bars,
# one per comparison, measured / baseline in requests per second:
#   left   against plain nginx doing the same job without the module
#          (return 200, proxy_pass), linear, with each row's goal
#   right  against the other ways to do it (njs, the SDK in Node),
#          logarithmic, from 1 (as fast as the baseline)
# Usage: gnuplot -e "tsv='results.tsv'; out='results.png'; title='...'" chart.gp

if (!exists("tsv")) tsv = "build/bench/results.tsv"
if (!exists("out")) out = "build/bench/results.png"
if (!exists("title")) title = ""

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1200,540 font "DejaVu Sans,10" noenhanced
} else {
    set terminal png size 1200,540 noenhanced
}
set output out

set datafile separator "\t"
set style fill solid 0.85 border -1
set key off
set grid ytics lc rgb "#dddddd"
set xtics scale 0 nomirror
set ytics nomirror
set border 3

# rows with a ratio (column 6) and a goal (7): against plain nginx; rows
# with a ratio and no goal: the others; rows with no ratio are not drawn
hasgoal(c) = strcol(6) ne "-" && strcol(c) ne "-"
w = 0.6

set multiplot layout 1,2 title "ngx_webpubsub_module: measured / baseline req/s, same run, same machine\n".title
set bmargin 4
unset xtics

# --- left: against plain nginx, with goals ------------------------------
set title "against plain nginx (red: the goal)"
set ylabel "ratio"
set yrange [0:1.2]
set xrange [-0.6:3.6]
set format y "%.1f"

a = -1; b = -1; c = -1; d = -1
plot tsv skip 1 using (hasgoal(7) ? (a = a + 1, a) : NaN):6:(w) \
         with boxes lc rgb "#4878a8" notitle, \
     1 with lines dt 2 lc rgb "#888888" notitle, \
     tsv skip 1 using (hasgoal(7) ? (b = b + 1, b - w / 2 - 0.06) : NaN):7:(w + 0.12):(0) \
         with vectors nohead lw 3 lc rgb "#c03030" notitle, \
     tsv skip 1 using (hasgoal(7) ? (c = c + 1, c) : NaN):6:(sprintf("%.3f", $6)) \
         with labels offset 0,-1 tc rgb "white" notitle, \
     tsv skip 1 using (hasgoal(7) ? (d = d + 1, d) : NaN):(0):(strcol(2)."\ngoal >= ".strcol(7).", ".strcol(8)) \
         with labels offset 0,-1.6 notitle

# --- right: against njs and the SDK, log scale from 1 -------------------
set title "against njs and the official SDK (Node)"
set ylabel "ratio (log scale)"
set logscale y
set yrange [0.5:*]
set format y "%g"
set xrange [-0.6:2.6]

other(r, c) = strcol(r) ne "-" && strcol(c) eq "-"
a = -1; c = -1; d = -1
plot tsv skip 1 using (other(6, 7) ? (a = a + 1, a) : NaN):(1):(a - w / 2):(a + w / 2):($6 < 1 ? $6 : 1):($6 > 1 ? $6 : 1) \
         with boxxyerror lc rgb "#58a060" notitle, \
     1 with lines dt 2 lc rgb "#888888" notitle, \
     tsv skip 1 using (other(6, 7) ? (c = c + 1, c) : NaN):6:(sprintf("%.2f", $6)) \
         with labels offset 0,0.8 notitle, \
     tsv skip 1 using (other(6, 7) ? (d = d + 1, d) : NaN):(0.5):2 \
         with labels offset 0,-1 notitle

unset multiplot
