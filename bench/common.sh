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

# bench_start DIR: start nginx with DIR/nginx.conf; stopped at exit
bench_start() {
    _dirs="${_dirs:-} $1"
    /usr/sbin/nginx -p "$1/" -c "$1/nginx.conf" -e "$1/error.log"
    trap 'for d in $_dirs; do
              /usr/sbin/nginx -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" \
                  -s quit 2>/dev/null || true
          done' EXIT
}

# bench_wait URL: until it answers 2xx, at most 5 s
bench_wait() {
    i=0
    until curl -sf -o /dev/null "$@"; do
        i=$((i + 1))
        [ $i -lt 50 ] || { echo "no answer from $*" >&2; exit 1; }
        sleep 0.1
    done
}

bench_rps() {
    wrk -t1 -c32 -d"${secs}s" "$@" | awk '/^Requests\/sec/ { print $2 }'
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
