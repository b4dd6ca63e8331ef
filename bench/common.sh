# Shared by the bench/*.sh scripts: tools, nginx start/stop, the two
# setups (pinned, unpinned), and tables of interleaved wrk runs of
# baselines against the module: requests per second, their ratio, and the
# CPU time each server spent per request.  Every run is bounded in time and
# goes to 127.0.0.1 only.
#
# Setups.  "unpinned": every process where the scheduler puts it, as a
# user would run them; on this kind of machine (2 CPUs) wrk often takes a
# whole CPU and is the bottleneck.  "pinned" (2 CPUs or more): CPU 0
# belongs to the server under test alone (the measured nginx worker, by
# worker_cpu_affinity, or the Node process that is itself the baseline),
# and wrk and every helper (an upstream nginx, a service stand-in) run on
# CPU 1, so that requests per second are the server's, not the load
# generator's.  Both setups run in the same script run unless BENCH_PIN
# says otherwise: BENCH_PIN=1 pinned only, BENCH_PIN=0 unpinned only.
# BENCH_WRK_CPU: wrk's CPU when pinned (default 1).  Within the pinned
# setup, the rows with a goal are also measured "side by side"
# (bench_side, below), where the goals are judged.
#
# CPU time per request: utime + stime of the server's process (fields 14
# and 15 of /proc/PID/stat, in clock ticks of getconf CLK_TCK) before and
# after each wrk run, divided by the requests wrk completed: what the
# server spent, whoever was the bottleneck.
#
# Every comparison ends with one line for bench/all.sh:
#   result NAME SETUP BASE_RPS MEASURED_RPS RATIO BASE_US MEASURED_US
# (means over the rounds; "-" where a figure does not exist).

top=$(cd "$(dirname "$0")/.." && pwd)
module="$top/build/plain/ngx_http_webpubsub_module.so"

bench_tools() {
    missing=
    for tool in wrk curl bc; do
        command -v $tool >/dev/null 2>&1 || missing="$missing $tool"
    done
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
    fi
    [ -f "$module" ] || make -C "$top" build
}

# bench_user: "user root;" when root, so workers can read the bench dir
bench_user() {
    [ "$(id -u)" = 0 ] && echo "user root;"
}

# at exit, or when killed: quit every nginx started by bench_start and
# stop every process started by bench_spawn (by their own pids only)
_bench_cleanup() {
    for d in ${_dirs:-}; do
        /usr/sbin/nginx -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" \
            -s quit 2>/dev/null || true
    done
    for p in ${_pids:-}; do
        kill "$p" 2>/dev/null || true
    done
}

_bench_trap() {
    trap _bench_cleanup EXIT
    trap 'exit 1' INT TERM HUP
}

# bench_start DIR [helper]: start nginx with DIR/nginx.conf; stopped at
# exit.  A helper (not the server under test) starts on the helpers' CPU
# when pinned.
bench_start() {
    _dirs="${_dirs:-} $1"
    _bench_trap
    _on=
    [ "${2:-}" != helper ] || _on=$(bench_on helper)
    $_on /usr/sbin/nginx -p "$1/" -c "$1/nginx.conf" -e "$1/error.log"
}

# bench_quit DIR: quit the nginx of DIR now, and wait (at most 10 s)
# until it is gone, so that its port is free for the next setup
bench_quit() {
    /usr/sbin/nginx -p "$1/" -c "$1/nginx.conf" -e "$1/error.log" \
        -s quit 2>/dev/null || true
    _dirs=$(for d in ${_dirs:-}; do [ "$d" = "$1" ] || echo "$d"; done)
    _i=0
    while [ -f "$1/nginx.pid" ]; do
        _i=$((_i + 1))
        [ $_i -lt 100 ] || { echo "nginx of $1 did not quit" >&2; exit 1; }
        sleep 0.1
    done
}

# bench_spawn SECONDS COMMAND...: run COMMAND in the background for at most
# SECONDS; stopped at exit
bench_spawn() {
    _limit=$1
    shift
    timeout "$_limit" "$@" &
    _pids="${_pids:-} $!"
    _bench_trap
}

# bench_stop PID: stop a process of bench_spawn now, and wait for it
bench_stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    _pids=$(for p in ${_pids:-}; do [ "$p" = "$1" ] || echo "$p"; done)
}

# bench_child PID: the only child of PID (a worker of a master, the
# command under a timeout), waiting at most 5 s for it
bench_child() {
    _i=0
    while :; do
        _c=$(pgrep -P "$1" 2>/dev/null || true)
        case $_c in
        *[!0-9]*) echo "$1 has more than one child: $_c" >&2; exit 1 ;;
        [0-9]*) echo "$_c"; return ;;
        esac
        _i=$((_i + 1))
        [ $_i -lt 50 ] || { echo "no child of $1" >&2; exit 1; }
        sleep 0.1
    done
}

# bench_worker DIR: the pid of the one worker of DIR's nginx, checked to
# be on CPU 0 alone when pinned
bench_worker() {
    _w=$(bench_child "$(cat "$1/nginx.pid")")
    bench_check_cpu "$_w" "$1"
    echo "$_w"
}

# bench_check_cpu PID WHAT: when pinned, PID may run on CPU 0 only
bench_check_cpu() {
    [ "$setup" = pinned ] || return 0
    _l=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status")
    [ "$_l" = 0 ] || { echo "$2 ($1) runs on CPUs $_l, not 0" >&2; exit 1; }
}

# --- setups -------------------------------------------------------------

setup=unpinned

# bench_setups: the setups to run, in order (see the top of this file)
bench_setups() {
    case ${BENCH_PIN:-} in
    0) echo unpinned ;;
    1) echo pinned ;;
    *) if [ "$(nproc)" -ge 2 ]; then
           echo unpinned pinned
       else
           echo "one CPU: no pinned setup" >&2
           echo unpinned
       fi ;;
    esac
}

# bench_affinity: the measured nginx's worker_cpu_affinity (CPU 0)
bench_affinity() {
    [ "$setup" = pinned ] && echo "worker_cpu_affinity 01;"
    return 0
}

# bench_helper_affinity: a helper nginx's worker_cpu_affinity (CPU 1)
bench_helper_affinity() {
    [ "$setup" = pinned ] && echo "worker_cpu_affinity 10;"
    return 0
}

# bench_on server|helper: the command prefix that puts a process on its
# CPU when pinned: CPU 0 for a Node server that is itself the baseline
# measured, CPU 1 for helpers (nothing when unpinned)
bench_on() {
    [ "$setup" = pinned ] || return 0
    if [ "$1" = server ]; then
        echo "taskset -c 0"
    else
        echo "taskset -c 1"
    fi
}

# bench_setup_text: one line saying where things run
bench_setup_text() {
    if [ "$setup" = pinned ]; then
        echo "pinned: the server on CPU 0, wrk on CPU ${BENCH_WRK_CPU:-1}," \
             "helpers on CPU 1"
    else
        echo "unpinned"
    fi
}

# bench_wait URL: until it answers 2xx, at most 5 s
bench_wait() {
    i=0
    until curl -sf -m 2 -o /dev/null "$@"; do
        i=$((i + 1))
        [ $i -lt 50 ] || { echo "no answer from $*" >&2; exit 1; }
        sleep 0.1
    done
}

# bench_check_token SCRIPT NAME URL: URL answers 200 with a negotiate JSON
# whose token verifies (bench/verify.js) for user alice and the caller's
# $key, $endpoint, $hub, $role and $group; the JSON lands in $dir
bench_check_token() {
    code=$(curl -s -m 5 -o "$dir/check.json" -w '%{http_code}' "$3") || true
    [ "$code" = 200 ] || { echo "$1: $2 answered $code" >&2; exit 1; }
    node "$top/bench/verify.js" negotiate "$key" "$endpoint" "$hub" alice \
        "$role" "$group" < "$dir/check.json" >/dev/null \
        || { echo "$1: $2 answered a wrong token" >&2; exit 1; }
    echo "checked: $2 answers 200 with a token that verifies"
}

# --- measuring ----------------------------------------------------------

# bench_ticks PID: utime + stime of PID in clock ticks (the fields after
# the command name, which may hold spaces, counted from its ")")
bench_ticks() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

clk_tck=$(getconf CLK_TCK)

# bench_us TICKS REQUESTS: CPU microseconds per request, 2 decimals
bench_us() {
    if [ "$1" = - ] || [ "${2:-0}" = 0 ]; then
        echo -
    else
        printf '%.2f\n' "$(echo "$1 * 1000000 / $clk_tck / $2" | bc -l)"
    fi
}

# bench_settle: until the CPUs of the servers are idle (90 % of 0.1 s;
# CPU 0 when pinned), at most 5 s, so that a server measured before (Node
# collecting its garbage, a worker closing connections) takes no time from
# the next run; a warning if they never are
bench_settle() {
    _cpu=cpu
    [ "$setup" = unpinned ] || _cpu=cpu0
    _i=0
    while [ $_i -lt 50 ]; do
        _s0=$(bench_cpu_idle $_cpu)
        sleep 0.1
        _s1=$(bench_cpu_idle $_cpu)
        if echo "$_s0 $_s1" \
            | awk '{ exit !($4 > $2 && ($3 - $1) / ($4 - $2) >= 0.9) }'
        then
            return 0
        fi
        _i=$((_i + 1))
    done
    echo "warning: $_cpu still busy before a run" >&2
}

# bench_cpu_idle CPU: "IDLE TOTAL" ticks of a line of /proc/stat
bench_cpu_idle() {
    awk -v c="$1" '$1 == c { t = 0; for (i = 2; i <= 9; i++) t += $i
                             print $5 + $6, t }' /proc/stat
}

# bench_run PID [wrk options...] URL: one wrk run of $secs seconds, wrk on
# CPU 1 when pinned; prints "RPS REQUESTS TICKS": requests per second, the
# requests wrk completed, and the CPU ticks PID spent meanwhile ("-" when
# PID is "-").  Fails when any answer was not 2xx or 3xx.
bench_run() {
    _p=$1
    shift
    _pin=
    [ "$setup" != pinned ] || _pin="taskset -c ${BENCH_WRK_CPU:-1}"
    bench_settle
    _t0=-
    [ "$_p" = - ] || _t0=$(bench_ticks "$_p")
    _out=$(timeout --foreground $((secs + 30)) $_pin wrk -t1 -c32 \
        -d"${secs}s" "$@") || {
        echo "wrk failed or timed out: $*" >&2; exit 1; }
    _t=-
    [ "$_p" = - ] || _t=$(($(bench_ticks "$_p") - _t0))
    bench_wrk_check "$_out" "$*"
    echo "$_out" | awk -v t="$_t" '/ requests in / { n = $1 }
                                   /^Requests\/sec/ { r = $2 }
                                   END { print r, n, t }'
}

# bench_wrk_check OUTPUT WHAT: stop at any answer that was not 2xx or 3xx
# in a wrk run's OUTPUT; warn of socket errors
bench_wrk_check() {
    case $1 in
    *Non-2xx*)
        echo "wrong answers from $2:" >&2
        echo "$1" | grep Non-2xx >&2
        exit 1 ;;
    esac
    echo "$1" | grep 'Socket errors' | sed "s|^|warning: $2: |" >&2 || true
}

# bench_rps [wrk options...] URL: requests per second of one wrk run
bench_rps() {
    bench_run - "$@" | awk '{ print $1 }'
}

# bench_compare NAME BASE_NAME BASE_PID BASE_URL MOD_NAME MOD_PID MOD_URL
#     [wrk options...]: the baseline and the module in pairs of short runs
# back to back, each run with the CPU per request of its server process.
#
# Why pairs: on a shared machine the CPU's speed changes from one second
# to the next (seen on a 2-CPU VM: one 1 s run of the same "return 200"
# took 9 us of kernel time per request, the next 15 us, with the same
# packets and syscalls per request), and a run of a few seconds catches
# more or less of it by chance.  Runs of BENCH_PAIR_SECS (1 s) each, the
# two of a pair one after the other and in turns (AB, BA, AB...), so
# that both sides meet the same conditions and neither always comes
# second; $secs * $rounds / BENCH_PAIR_SECS pairs, the time the rounds
# took before.  The ratio is the median of the pairs' ratios, which a
# burst that hits one run of a pair does not move; the ratio of the mean
# requests per second is printed beside it.
bench_compare() {
    _cn=$1; _bn=$2; _bp=$3; _bu=$4; _mn=$5; _mp=$6; _mu=$7
    shift 7
    _ps=${BENCH_PAIR_SECS:-1}
    _np=$((secs * rounds / _ps))
    [ "$_np" -ge 1 ] || _np=1
    bench_acc_reset
    _ratios=
    echo "$_np pairs of ${_ps}s runs, in turns"
    printf '%-6s %12s %8s %12s %8s %7s   (%s)\n' pair "$_bn" "us/req" \
        "$_mn" "us/req" ratio "$setup"
    _saved=$secs
    secs=$_ps
    r=1
    while [ $r -le "$_np" ]; do
        if [ $((r % 2)) = 1 ]; then
            _b=$(bench_run "$_bp" "$@" "$_bu")
            _m=$(bench_run "$_mp" "$@" "$_mu")
        else
            _m=$(bench_run "$_mp" "$@" "$_mu")
            _b=$(bench_run "$_bp" "$@" "$_bu")
        fi
        bench_pair "$r" $_b $_m
        r=$((r + 1))
    done
    secs=$_saved
    bench_median pairs
    _saved=$rounds
    rounds=$_np
    bench_all "$_cn" "$_median"
    rounds=$_saved
}

# bench_pair ROUND B_RPS B_N B_TICKS M_RPS M_N M_TICKS: a pair's (or a run's)
# figures into the means, its line, and its ratio into $_ratios
bench_pair() {
    bench_acc b "$2" "$3" "$4"
    bench_acc m "$5" "$6" "$7"
    bench_row "$@"
    _ratios="$_ratios $(echo "$5 $2" | awk '{ printf "%.5f", $1 / $2 }')"
}

# bench_median WHAT: the median of $_ratios into $_median, printed with
# the middle half of the ratios: how far one pair (or run) is from the
# next on this machine
bench_median() {
    set -- "$1" $(for _x in $_ratios; do echo "$_x"; done | sort -n | awk '
        { v[NR] = $1 }
        END { if (NR % 2) m = v[(NR + 1) / 2]
              else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
              q1 = v[int(NR / 4) + 1]; q3 = v[NR - int(NR / 4)]
              printf "%.3f %.3f %.3f\n", m, q1, q3 }')
    _median=$2
    echo "the $1' ratios: median $2, middle half $3 to $4"
}

# --- side by side -------------------------------------------------------
#
# Pairs in turns leave a pair's two runs a second apart, and on a shared
# virtual machine the CPU's speed moves within that second: one pair's
# ratio can be 0.6 and the next 1.2 with the same code.  Side by side, the
# baseline and the module are measured at the same moments instead: two
# nginx of the same configuration, both workers on CPU 0, each loaded by
# its own wrk on CPU 1 at once, so that whatever slows CPU 0 slows both.
# Each is measured by the CPU time its worker spent (the kernel's
# nanosecond count, /proc/PID/schedstat) for the requests it answered:
# "r/s" there is requests per second of CPU, what the worker would serve
# with CPU 0 to itself, and the ratio is that of the module over that of
# the baseline.  The two nginx swap roles every run, so that neither the
# order they were started in nor which wrk came first favours one side.

# bench_twin DIR PORT TWIN_PORT PATH [curl options...]: a second nginx of
# DIR/nginx.conf, in DIR-twin, the same but for its port, its pid file
# and its error log, once PATH answers there; its worker's pid in
# $twin_pid; stopped at exit
bench_twin() {
    _tw="$1-twin"
    mkdir -p "$_tw"
    sed -e "s|listen 127.0.0.1:$2;|listen 127.0.0.1:$3;|" \
        -e "s|^pid .*|pid $_tw/nginx.pid;|" \
        -e "s|^error_log .*|error_log $_tw/error.log warn;|" \
        "$1/nginx.conf" > "$_tw/nginx.conf"
    [ "$(grep -c "listen 127.0.0.1:$3;" "$_tw/nginx.conf")" = 1 ] \
        || { echo "bench_twin: $1/nginx.conf does not listen on $2" >&2
             exit 1; }
    bench_start "$_tw"
    _tp=$3; _tu=$4
    shift 4
    bench_wait "$@" "http://127.0.0.1:$_tp$_tu"
    twin_pid=$(bench_worker "$_tw")
}

# bench_ns PID: the CPU time PID has run, in ns (/proc/PID/schedstat)
bench_ns() {
    cut -d' ' -f1 "/proc/$1/schedstat"
}

# _side_wrk PORT PATH SIDE [wrk options...]: a wrk of bench_side in the
# background, its output in $_f.SIDE
_side_wrk() {
    _wp=$1; _wu=$2; _wf=$3
    shift 3
    timeout --foreground $((_ss + 30)) \
        taskset -c "${BENCH_WRK_CPU:-1}" wrk -t1 -c32 -d"${_ss}s" "$@" \
        "http://127.0.0.1:$_wp$_wu" > "$_f.$_wf" 2>&1 &
}

# bench_side NAME BASE_NAME BASE_PATH MOD_NAME MOD_PATH PID1 PORT1 PID2
#     PORT2 [wrk options...]: the baseline's PATH and the module's side by
# side on the nginx of PID1 (a worker) at PORT1 and that of PID2 at PORT2,
# in as many runs of BENCH_SIDE_SECS (2 s) as bench_compare has pairs;
# the ratio is the median of the runs' ratios.  Pinned setup only.
bench_side() {
    _cn=$1; _bn=$2; _bpath=$3; _mn=$4; _mpath=$5
    _sp1=$6; _so1=$7; _sp2=$8; _so2=$9
    shift 9
    _ss=${BENCH_SIDE_SECS:-2}
    _np=$((secs * rounds / ${BENCH_PAIR_SECS:-1}))
    [ "$_np" -ge 1 ] || _np=1
    bench_check_cpu "$_sp1" "$_cn: the first nginx"
    bench_check_cpu "$_sp2" "$_cn: the second nginx"
    _f="${TMPDIR:-/tmp}/bench_side.$$"
    _saved_setup=$setup
    setup=side
    bench_acc_reset
    _ratios=
    echo "$_np runs of ${_ss}s, side by side, the two nginx swapping roles"
    printf '%-6s %12s %8s %12s %8s %7s   (%s)\n' run "$_bn" "us/req" \
        "$_mn" "us/req" ratio "r/s: per second of CPU"
    r=1
    while [ $r -le "$_np" ]; do
        if [ $((r % 2)) = 1 ]; then
            _bp=$_sp1; _bo=$_so1; _mp=$_sp2; _mo=$_so2
        else
            _bp=$_sp2; _bo=$_so2; _mp=$_sp1; _mo=$_so1
        fi
        bench_settle
        _bt0=$(bench_ns "$_bp"); _mt0=$(bench_ns "$_mp")
        # the first nginx's wrk first: the baseline's in one run, the
        # module's in the next
        if [ $((r % 2)) = 1 ]; then
            _side_wrk "$_bo" "$_bpath" b "$@"; _bw=$!
            _side_wrk "$_mo" "$_mpath" m "$@"; _mw=$!
        else
            _side_wrk "$_mo" "$_mpath" m "$@"; _mw=$!
            _side_wrk "$_bo" "$_bpath" b "$@"; _bw=$!
        fi
        _pids="${_pids:-} $_bw $_mw"
        _st=0
        wait "$_bw" || _st=1
        wait "$_mw" || _st=1
        _pids=$(for p in ${_pids:-}; do
                    [ "$p" = "$_bw" ] || [ "$p" = "$_mw" ] || echo "$p"
                done)
        _bt=$(($(bench_ns "$_bp") - _bt0)); _mt=$(($(bench_ns "$_mp") - _mt0))
        _bo_out=$(cat "$_f.b"); _mo_out=$(cat "$_f.m")
        rm -f "$_f.b" "$_f.m"
        [ $_st = 0 ] || { echo "wrk failed or timed out, side by side:" \
                          "$_bpath, $_mpath" >&2; exit 1; }
        bench_wrk_check "$_bo_out" "$_bpath, side by side"
        bench_wrk_check "$_mo_out" "$_mpath, side by side"
        _bn_r=$(echo "$_bo_out" | awk '/ requests in / { print $1 }')
        _mn_r=$(echo "$_mo_out" | awk '/ requests in / { print $1 }')
        [ "${_bn_r:-0}" -gt 0 ] && [ "${_mn_r:-0}" -gt 0 ] \
            && [ "$_bt" -gt 0 ] && [ "$_mt" -gt 0 ] \
            || { echo "side by side: no requests or no CPU time" >&2; exit 1; }
        # as bench_acc's: requests per second of CPU, requests, and the
        # CPU time in clock ticks (for the means)
        _b=$(echo "$_bn_r $_bt" | awk -v t="$clk_tck" \
            '{ printf "%.1f %d %.6f", $1 * 1e9 / $2, $1, $2 * t / 1e9 }')
        _m=$(echo "$_mn_r $_mt" | awk -v t="$clk_tck" \
            '{ printf "%.1f %d %.6f", $1 * 1e9 / $2, $1, $2 * t / 1e9 }')
        bench_pair "$r" $_b $_m
        r=$((r + 1))
    done
    bench_median runs
    _saved=$rounds
    rounds=$_np
    bench_all "$_cn" "$_median"
    rounds=$_saved
    setup=$_saved_setup
}

# accumulators of the rounds, per side (b: baseline, m: measured)
bench_acc_reset() {
    _b_rps=0; _b_n=0; _b_t=0; _m_rps=0; _m_n=0; _m_t=0
}

# bench_acc SIDE RPS REQUESTS TICKS
bench_acc() {
    eval "_$1_rps=\$(echo \"\$_$1_rps + $2\" | bc -l)"
    eval "_$1_n=\$((_$1_n + $3))"
    if [ "$4" = - ]; then
        eval "_$1_t=-"
    else
        # ticks may be fractions (bench_side's come from nanoseconds)
        eval "[ \"\$_$1_t\" = - ] || _$1_t=\$(echo \"\$_$1_t + $4\" | bc -l)"
    fi
}

# bench_row ROUND B_RPS B_N B_TICKS M_RPS M_N M_TICKS: one round's line
bench_row() {
    printf '%-6s %12.0f %8s %12.0f %8s %7.3f\n' "$1" "$2" \
        "$(bench_us "$4" "$3")" "$5" "$(bench_us "$7" "$6")" \
        "$(echo "$5 / $2" | bc -l)"
}

# bench_all NAME [MEDIAN]: the means of the rounds, and the result line;
# with the median of paired ratios (bench_compare), that is the ratio the
# result line gives, and the ratio of the means is printed beside it
bench_all() {
    _br=$(echo "$_b_rps / $rounds" | bc -l)
    _mr=$(echo "$_m_rps / $rounds" | bc -l)
    _ratio=$(printf '%.3f' "$(echo "$_mr / $_br" | bc -l)")
    _bus=$(bench_us "$_b_t" "$_b_n")
    _mus=$(bench_us "$_m_t" "$_m_n")
    printf '%-6s %12.0f %8s %12.0f %8s %7s\n' mean "$_br" "$_bus" "$_mr" \
        "$_mus" "$_ratio"
    if [ -n "${2:-}" ]; then
        printf '%-6s %12s %8s %12s %8s %7s   (the ratio used)\n' median \
            "" "" "" "" "$2"
        _ratio=$2
    fi
    printf 'result %s %s %.0f %.0f %s %s %s\n' "$1" "$setup" "$_br" "$_mr" \
        "$_ratio" "$_bus" "$_mus"
}

# bench_rounds NAME BNAME PID URL [BNAME PID URL...]: wrk runs of every URL
# in turn, each round in the same order, then the means; the last one is
# the measured server, and a result line "NAME/BNAME" compares it with
# each of the others
bench_rounds() {
    _rn=$1
    shift
    _names=; _ps=; _urls=; _k=0
    while [ $# -ge 3 ]; do
        _k=$((_k + 1))
        _names="$_names $1"; _ps="$_ps $2"; _urls="$_urls $3"
        eval "_r_rps_$_k=0; _r_n_$_k=0; _r_t_$_k=0"
        shift 3
    done
    printf '%-6s' round
    for _x in $_names; do printf ' %12s %8s' "$_x" us/req; done
    echo "   ($setup)"
    r=1
    while [ $r -le "$rounds" ]; do
        printf '%-6s' "$r"
        _i=0
        for _u in $_urls; do
            _i=$((_i + 1))
            _p=$(echo $_ps | awk -v i=$_i '{ print $i }')
            _o=$(bench_run "$_p" "$_u")
            set -- $_o
            eval "_r_rps_$_i=\$(echo \"\$_r_rps_$_i + $1\" | bc -l)"
            eval "_r_n_$_i=\$((_r_n_$_i + $2))"
            if [ "$3" = - ]; then
                eval "_r_t_$_i=-"
            else
                eval "[ \"\$_r_t_$_i\" = - ] || _r_t_$_i=\$((_r_t_$_i + $3))"
            fi
            printf ' %12.0f %8s' "$1" "$(bench_us "$3" "$2")"
        done
        echo
        r=$((r + 1))
    done
    printf '%-6s' all
    _i=0
    for _x in $_names; do
        _i=$((_i + 1))
        eval "_r_m_$_i=\$(echo \"\$_r_rps_$_i / $rounds\" | bc -l)"
        eval "_r_us_$_i=\$(bench_us \"\$_r_t_$_i\" \"\$_r_n_$_i\")"
        eval "printf ' %12.0f %8s' \"\$_r_m_$_i\" \"\$_r_us_$_i\""
    done
    echo
    _lname=$(echo $_names | awk '{ print $NF }')
    eval "_lm=\$_r_m_$_k; _lus=\$_r_us_$_k"
    _i=0
    for _x in $_names; do
        _i=$((_i + 1))
        [ $_i -lt $_k ] || break
        eval "_xm=\$_r_m_$_i; _xus=\$_r_us_$_i"
        printf 'result %s/%s %s %.0f %.0f %.3f %s %s\n' "$_rn" "$_x" \
            "$setup" "$_xm" "$_lm" "$(echo "$_lm / $_xm" | bc -l)" \
            "$_xus" "$_lus"
    done
}
