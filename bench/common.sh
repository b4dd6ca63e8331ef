# Shared by the bench/*.sh scripts: tools, nginx start/stop, and a table of
# interleaved wrk runs of a baseline against the module, with their ratio.
# Every run is bounded in time and goes to 127.0.0.1 only.

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

# bench_start DIR: start nginx with DIR/nginx.conf; stopped at exit
bench_start() {
    _dirs="${_dirs:-} $1"
    _bench_trap
    /usr/sbin/nginx -p "$1/" -c "$1/nginx.conf" -e "$1/error.log"
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

# bench_stop PID: stop a process of bench_spawn now
bench_stop() {
    kill "$1" 2>/dev/null || true
    _pids=$(for p in ${_pids:-}; do [ "$p" = "$1" ] || echo "$p"; done)
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

# bench_rps [wrk options...] URL: requests per second of one wrk run of
# $secs seconds; fails when any answer was not 2xx or 3xx.  With
# BENCH_WRK_CPU set, wrk runs on that CPU only (the worker on another).
bench_rps() {
    _pin=${BENCH_WRK_CPU:+taskset -c $BENCH_WRK_CPU}
    _out=$(timeout --foreground $((secs + 30)) $_pin wrk -t1 -c32 \
        -d"${secs}s" "$@") || {
        echo "wrk failed or timed out: $*" >&2; exit 1; }
    case $_out in
    *Non-2xx*)
        echo "wrong answers from $*:" >&2
        echo "$_out" | grep Non-2xx >&2
        exit 1 ;;
    esac
    echo "$_out" | grep 'Socket errors' | sed "s|^|warning: $*: |" >&2 || true
    echo "$_out" | awk '/^Requests\/sec/ { print $2 }'
}

# bench_compare BASE_NAME BASE_URL MOD_NAME MOD_URL [wrk options...]
bench_compare() {
    bname=$1; burl=$2; mname=$3; murl=$4
    shift 4
    tb=0; tm=0
    printf '%-6s %14s %14s %7s\n' round "$bname" "$mname" ratio
    r=1
    while [ $r -le "$rounds" ]; do
        b=$(bench_rps "$@" "$burl")
        m=$(bench_rps "$@" "$murl")
        printf '%-6s %14s %14s %7.3f\n' "$r" "$b" "$m" "$(echo "$m / $b" | bc -l)"
        tb=$(echo "$tb + $b" | bc -l); tm=$(echo "$tm + $m" | bc -l)
        r=$((r + 1))
    done
    printf '%-6s %14.0f %14.0f %7.3f\n' all "$(echo "$tb / $rounds" | bc -l)" \
        "$(echo "$tm / $rounds" | bc -l)" "$(echo "$tm / $tb" | bc -l)"
}

# bench_rounds NAME URL [NAME URL...]: wrk runs of every URL in turn, each
# round in the same order, then the means ("all"); the last one is the
# measured server, and each "ratio" line is its mean over another's
bench_rounds() {
    _names=; _urls=
    while [ $# -ge 2 ]; do
        _names="$_names $1"; _urls="$_urls $2"
        shift 2
    done
    printf '%-6s' round
    for _x in $_names; do printf ' %14s' "$_x"; done
    echo
    _sums=
    r=1
    while [ $r -le "$rounds" ]; do
        printf '%-6s' "$r"
        _i=0; _new=
        for _u in $_urls; do
            _i=$((_i + 1))
            v=$(bench_rps "$_u")
            printf ' %14s' "$v"
            s=$(echo $_sums | awk -v i=$_i '{ print $i }')
            _new="$_new $(echo "${s:-0} + $v" | bc -l)"
        done
        _sums=$_new
        echo
        r=$((r + 1))
    done
    printf '%-6s' all
    _means=
    for s in $_sums; do
        m=$(echo "$s / $rounds" | bc -l)
        _means="$_means $m"
        printf ' %14.0f' "$m"
    done
    echo
    _last=$(echo $_means | awk '{ print $NF }')
    _lname=$(echo $_names | awk '{ print $NF }')
    _i=0
    for _x in $_names; do
        _i=$((_i + 1))
        [ "$_x" != "$_lname" ] || break
        m=$(echo $_means | awk -v i=$_i '{ print $i }')
        printf 'ratio  %s/%s %.3f\n' "$_lname" "$_x" "$(echo "$_last / $m" | bc -l)"
    done
}
