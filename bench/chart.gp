# build/bench/results.tsv (written by bench/all.sh) as four bar charts, the
# two on the left wider:
#   top left      measured / baseline req/s against plain nginx doing the
#                 same job without the module (return 200, proxy_pass),
#                 each setup (pinned in turns, side by side, unpinned) a
#                 bar, with its goal where it has one
#   top right     the same against the other ways to do it (njs, the SDK
#                 in Node), logarithmic, from 1 (as fast as the baseline)
#   bottom left   the server's CPU time per request of the top left rows,
#                 baseline (grey) beside measured (blue)
#   bottom right  instructions per request (per token for the core) above
#                 the baseline (callgrind): blue outside SHA-256's block
#                 function, orange in it, with the goal where there is one
#                 (not the njs handler's: far above, in the table)
# Usage: gnuplot -e "tsv='results.tsv'; out='results.png'; title='...'" chart.gp

if (!exists("tsv")) tsv = "build/bench/results.tsv"
if (!exists("out")) out = "build/bench/results.png"
if (!exists("title")) title = ""

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 2600,1150 font "DejaVu Sans,9" noenhanced
} else {
    set terminal png size 2600,1150 noenhanced
}
set output out

set datafile separator "\t"
set style fill solid 0.85 border -1
set key off
set grid ytics lc rgb "#dddddd"
set xtics scale 0 nomirror
set ytics nomirror
set border 3

# the columns of results.tsv
KIND = 1; SHORT = 3; SETUP = 4; BNAME = 5; BASE = 6; MEAS = 7; RATIO = 8
BUS = 9; MUS = 10; BSHA = 11; MSHA = 12; ABOVE = 13; OUTSIDE = 14
GOAL = 15; VERDICT = 16

# rows of requests per second with a ratio: against plain nginx, or
# against the other ways to do it (njs, the SDK)
alt(x) = strcol(BNAME) eq "njs" || strcol(BNAME) eq "Node SDK"
plain(x) = strcol(KIND) eq "rps" && strcol(RATIO) ne "-" && !alt(0)
other(x) = strcol(KIND) eq "rps" && strcol(RATIO) ne "-" && alt(0)
goal(x) = strcol(GOAL) eq "-" ? "" : "\n>= ".strcol(GOAL)." ".strcol(VERDICT)
cpu(x) = plain(0) && strcol(BUS) ne "-" && strcol(MUS) ne "-"
instr(x) = strcol(KIND) eq "instr" && strcol(SHORT) ne "njs"
label(x) = strcol(SHORT)."\n".strcol(SETUP)

stats tsv skip 1 using (plain(0) ? 1 : NaN) nooutput
np = STATS_records
stats tsv skip 1 using (other(0) ? 1 : NaN) nooutput
no = STATS_records
stats tsv skip 1 using (cpu(0) ? 1 : NaN) nooutput
nc = STATS_records
stats tsv skip 1 using (instr(0) ? 1 : NaN) nooutput
ni = STATS_records

w = 0.6

# the left panels hold a bar for each setup of each comparison: the wider
set multiplot title "ngx_webpubsub_module: each figure beside a baseline of the same run, same machine\n".title
LW = 0.66; TOP = 0.47; H = 0.47
set bmargin 5
unset xtics

# --- against plain nginx, with goals ------------------------------------
set origin 0, TOP; set size LW, H
set title "measured / baseline req/s against plain nginx (red: the goal)"
set ylabel "ratio"
set yrange [0:1.2]
set xrange [-0.6:np - 0.4]
set format y "%.1f"

a = -1; b = -1; c = -1; d = -1
plot tsv skip 1 using (plain(0) ? (a = a + 1, a) : NaN):RATIO:(w) \
         with boxes lc rgb "#4878a8" notitle, \
     1 with lines dt 2 lc rgb "#888888" notitle, \
     tsv skip 1 using (plain(0) ? (b = b + 1, strcol(GOAL) ne "-" ? b - w / 2 - 0.06 : NaN) : NaN):(strcol(GOAL) ne "-" ? column(GOAL) : NaN):(w + 0.12):(0) \
         with vectors nohead lw 3 lc rgb "#c03030" notitle, \
     tsv skip 1 using (plain(0) ? (c = c + 1, c) : NaN):RATIO:(sprintf("%.3f", column(RATIO))) \
         with labels offset 0,-1 tc rgb "white" notitle, \
     tsv skip 1 using (plain(0) ? (d = d + 1, d) : NaN):(0):(label(0).goal(0)) \
         with labels offset 0,-2.2 notitle

# --- against njs and the SDK, log scale from 1 --------------------------
set origin LW, TOP; set size 1 - LW, H
set title "measured / baseline req/s against njs and the official SDK (Node)"
set ylabel "ratio (log scale)"
set logscale y
set yrange [0.5:*]
set format y "%g"
set xrange [-0.6:no - 0.4]

a = -1; c = -1; d = -1
plot tsv skip 1 using (other(0) ? (a = a + 1, a) : NaN):(1):(a - w / 2):(a + w / 2):(column(RATIO) < 1 ? column(RATIO) : 1):(column(RATIO) > 1 ? column(RATIO) : 1) \
         with boxxyerror lc rgb "#58a060" notitle, \
     1 with lines dt 2 lc rgb "#888888" notitle, \
     tsv skip 1 using (other(0) ? (c = c + 1, c) : NaN):RATIO:(sprintf("%.2f", column(RATIO))) \
         with labels offset 0,0.8 notitle, \
     tsv skip 1 using (other(0) ? (d = d + 1, d) : NaN):(0.5):(label(0)) \
         with labels offset 0,-1.5 notitle
unset logscale y

# --- CPU time per request -----------------------------------------------
set origin 0, 0; set size LW, H
set title "the server's CPU time per request, µs (grey: baseline, blue: measured)"
set ylabel "µs per request"
set yrange [0:*]
set format y "%g"
set xrange [-0.6:nc - 0.4]
h = 0.35

a = -1; b = -1; c = -1; d = -1; e = -1
plot tsv skip 1 using (cpu(0) ? (a = a + 1, a - h / 2) : NaN):BUS:(h) \
         with boxes lc rgb "#a0a0a0" notitle, \
     tsv skip 1 using (cpu(0) ? (b = b + 1, b + h / 2) : NaN):MUS:(h) \
         with boxes lc rgb "#4878a8" notitle, \
     tsv skip 1 using (cpu(0) ? (c = c + 1, c - h / 2) : NaN):BUS:(strcol(BUS)) \
         with labels offset 0,0.6 notitle, \
     tsv skip 1 using (cpu(0) ? (d = d + 1, d + h / 2) : NaN):MUS:(strcol(MUS)) \
         with labels offset 0,0.6 notitle, \
     tsv skip 1 using (cpu(0) ? (e = e + 1, e) : NaN):(0):(label(0)) \
         with labels offset 0,-1.5 notitle

# --- instructions above the baseline ------------------------------------
set origin LW, 0; set size 1 - LW, H
set title "instructions above the baseline (callgrind; blue: outside SHA-256's block function,\norange: in it; red: the goal)"
set ylabel "instructions per request (token)"
set yrange [0:*]
set xrange [-0.6:ni - 0.4]

a = -1; b = -1; c = -1; d = -1; e = -1
plot tsv skip 1 using (instr(0) ? (a = a + 1, a) : NaN):ABOVE:(w) \
         with boxes lc rgb "#e09040" notitle, \
     tsv skip 1 using (instr(0) ? (b = b + 1, b) : NaN):OUTSIDE:(w) \
         with boxes lc rgb "#4878a8" notitle, \
     tsv skip 1 using (instr(0) ? (c = c + 1, strcol(GOAL) ne "-" ? c - w / 2 - 0.06 : NaN) : NaN):(strcol(GOAL) ne "-" ? column(GOAL) : NaN):(w + 0.12):(0) \
         with vectors nohead lw 3 lc rgb "#c03030" notitle, \
     tsv skip 1 using (instr(0) ? (d = d + 1, d) : NaN):ABOVE:(sprintf("%s (%s outside)", strcol(ABOVE), strcol(OUTSIDE))) \
         with labels offset 0,0.6 notitle, \
     tsv skip 1 using (instr(0) ? (e = e + 1, e) : NaN):(0):(strcol(SHORT)."\nover ".strcol(BNAME)) \
         with labels offset 0,-1.5 notitle

unset multiplot
