#!/bin/sh
# Every benchmark in one run on one machine, each figure beside a baseline
# measured in the same run: a table on stdout and in build/bench/results.txt,
# build/bench/results.tsv, and a chart, build/bench/results.png
# (bench/chart.gp).
#
# Requests per second and the server's CPU time per request, each
# comparison in two setups (bench/common.sh): "pinned", the measured
# worker (or Node server) alone on CPU 0 with wrk and the helpers on CPU 1,
# so that the figure is the server's cost, not the load generator's limit
# (for the rows with a goal, also "side by side": the baseline and the
# module on CPU 0 at the same moments, where the goals are judged); and
# "unpinned", every process where the scheduler puts it:
#   negotiate vs nginx "return 200" of a same-size JSON  bench/negotiate.sh
#   negotiate vs an njs handler, same token, same nginx  bench/negotiate.sh
#   negotiate vs the SDK's getClientAccessToken (Node)   bench/negotiate.sh
#   webhook gateway vs a plain keepalive proxy_pass      bench/gateway.sh
#   REST location vs a direct proxy_pass                 bench/rest.sh
#   the same, a new URL every call (no token reuse)      bench/rest.sh
#   REST location vs the SDK's sendToAll (Node)          bench/rest.sh
# and in one setup each:
#   REST with a cached Entra ID token vs with a key      bench/entra.sh
#   negotiate via :generateToken vs the SDK with a credential  (unpinned)
#   negotiate with webpubsub_status counters vs without  bench/status.sh
#                                                        (pinned)
# Instructions (callgrind), the same on a busy machine:
#   per request above the baseline in the same nginx, run as one process:
#   negotiate and njs over "return 200", the gateway over its keepalive
#   proxy_pass, REST over the direct proxy_pass; each with the share of
#   SHA-256's block function counted apart (see cg_block below)
#   per token in the core, build/token_cost, against the pad-state floor
#   measured by the same program; and its wall time per token (ns)
#
# One nginx worker for every measured server, wrk on 127.0.0.1, every run
# bounded in time. Each server's answer is checked before it is measured,
# and a wrong answer (or any non-2xx during a run) stops everything.
# BENCH_PIN=1 (or 0) runs the pinned (or unpinned) setup only.
# Usage: bench/all.sh [seconds-per-run] [rounds]   (default 5 s, 3 rounds)
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
out="$top/build/bench"
tsv="$out/results.tsv"
png="$out/results.png"
key="bench-key-0123456789abcdef"
# the ports, all on 127.0.0.1, from BENCH_BASE_PORT on (17 of them)
base=${BENCH_BASE_PORT:-18110}
nport=$base                 # negotiate.sh: nginx, +1 the Node server
gport=$((base + 2))         # gateway.sh: front, +1 upstream
rport=$((base + 4))         # rest.sh: front, +1 service stand-in
fport=$((base + 6))         # REST check: nginx, +1 verifying stand-in
cport=$((base + 8))         # nginx under callgrind (the gateway's upstream
                            # and REST's stand-in on their ports again)
eport=$((base + 9))         # entra.sh: front, +1 stand-in, +2 its https
sport=$((base + 12))        # status.sh: without counters, +1 with them
                            # side by side, the second nginx of:
ntwin=$((base + 14))        #   negotiate.sh
gtwin=$((base + 15))        #   gateway.sh
rtwin=$((base + 16))        #   rest.sh
njs=/usr/lib/nginx/modules/ngx_http_js_module.so
export NODE_PATH="$top/t/node_modules"

case "$secs$rounds" in
*[!0-9]*) echo "usage: bench/all.sh [seconds-per-run] [rounds]" >&2; exit 2 ;;
esac
[ "$secs" -ge 1 ] && [ "$rounds" -ge 1 ] \
    || { echo "usage: bench/all.sh [seconds-per-run] [rounds]" >&2; exit 2; }

fail() {
    echo "bench/all.sh: $*" >&2
    exit 1
}

# --- tools, module, token_cost ------------------------------------------

bench_tools
for t in valgrind callgrind_control gnuplot node openssl; do
    command -v $t >/dev/null 2>&1 || { "$top/tools/deps.sh" bench; break; }
done
if [ ! -f "$njs" ] || [ ! -d "$NODE_PATH/@azure/web-pubsub" ]; then
    "$top/tools/deps.sh" bench
fi
make -s -C "$top" "$(cd "$top" && pwd -P)/build/token_cost"
mkdir -p "$out"
rm -f "$tsv" "$png" "$out/results.txt"

# every port free before anything starts (curl: 7 = connection refused)
p=$base
while [ $p -le $((base + 16)) ]; do
    st=0; curl -s -m 2 -o /dev/null "http://127.0.0.1:$p/" || st=$?
    [ $st = 7 ] || fail "port $p on 127.0.0.1 is in use; set BENCH_BASE_PORT" \
        "to the first of 17 free ports"
    p=$((p + 1))
done

load=$(cut -d' ' -f1 /proc/loadavg)
{
echo "bench/all.sh $secs $rounds: $rounds rounds of ${secs}s per run, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
echo "software: $(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //'), njs $(dpkg-query -W -f='${Version}' libnginx-mod-http-js 2>/dev/null || echo '?'), node $(node --version), module $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')"
echo "load average before the run: $load"
} > "$out/results.txt"
cat "$out/results.txt"
if [ "$(echo "$load > 0.5" | bc -l)" = 1 ]; then
    echo "warning: the machine is busy (load $load): other processes compete" \
         "for the CPU, so req/s and CPU time figures are distorted;" \
         "instruction counts are not" | tee -a "$out/results.txt" >&2
fi

# run NAME PORT TWIN LIMIT SCRIPT: a bench script on ports from PORT on,
# and TWIN for the second nginx side by side, with its output in
# build/bench/NAME.log
run() {
    name=$1; port=$2; twin=$3; limit=$4; shift 4
    echo
    echo "== $name (at most ${limit}s)"
    status=0
    BENCH_PORT=$port BENCH_NODE_PORT=$((port + 1)) BENCH_TWIN_PORT=$twin \
        timeout "$limit" "$@" "$secs" "$rounds" > "$out/$name.log" 2>&1 \
        || status=$?
    sed 's/^/   /' "$out/$name.log"
    [ $status = 0 ] || fail "$name failed (exit $status, log: $out/$name.log)"
}

# --- check the REST calls before measuring them -------------------------
# rest.sh's stand-in answers 202 to anything, so here a stand-in that
# verifies the bearer token (bench/verify.js service) takes one call from
# the module's REST location and one from the SDK, which must be the same
# call: method, path, query, Content-Type, Accept and body.

check_rest() {
    d="$out/check-rest"
    sport=$((fport + 1))
    mkdir -p "$d"
    cat > "$d/nginx.conf" <<END
load_module $module;
$(bench_user)
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    webpubsub_endpoint http://127.0.0.1:$sport;
    webpubsub_access_key $key;
    webpubsub_hub chat;
    server {
        listen 127.0.0.1:$fport;
        webpubsub_rest_pass /_wps/;
        location /_wps/ {
            internal;
            proxy_pass http://127.0.0.1:$sport;
        }
        location = /rest {
            webpubsub_rest send_to_all;
        }
    }
}
END
    bench_spawn 60 node "$top/bench/verify.js" service "$sport" "$key" 60 \
        > "$d/calls" 2> "$d/service.log"
    vpid=$!
    bench_start "$d"
    bench_wait "http://127.0.0.1:$sport/ready"
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST \
        -H 'Content-Type: text/plain' --data-binary Hello \
        "http://127.0.0.1:$fport/rest") || true
    [ "$code" = 202 ] || fail "REST check: the module's call got $code" \
        "(the stand-in verifies the token; see $d/calls)"
    node "$top/bench/verify.js" sdk "http://127.0.0.1:$sport" "$key" \
        >/dev/null || fail "REST check: the SDK's call failed"
    /usr/sbin/nginx -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" -s quit
    bench_stop "$vpid"
    [ "$(wc -l < "$d/calls")" = 2 ] \
        || fail "REST check: expected 2 calls, see $d/calls"
    if grep -q '"ok":false' "$d/calls"; then
        fail "REST check: a token did not verify: $(cat "$d/service.log")"
    fi
    [ "$(sed 's/,"ok":true}$//' "$d/calls" | sort -u | wc -l)" = 1 ] \
        || fail "REST check: the module and the SDK made different calls:" \
                "$(cat "$d/calls")"
    echo "checked: the REST location and the SDK make the same call," \
         "and its token verifies"
}

echo
echo "== REST check"
check_rest

# --- throughput ---------------------------------------------------------

# limits: the runs (secs * rounds seconds of each side of a comparison,
# in 1 s pairs or in rounds; twice that with the wait for idle CPUs and
# wrk's start), 2 setups, plus starting and checking
run negotiate $nport $ntwin $((secs * rounds * 18 + 300)) \
    "$top/bench/negotiate.sh"
run gateway $gport $gtwin $((secs * rounds * 12 + 200)) "$top/bench/gateway.sh"
run rest $rport $rtwin $((secs * rounds * 34 + 300)) "$top/bench/rest.sh"
run entra $eport - $((secs * rounds * 8 + 180)) "$top/bench/entra.sh"
run status $sport - $((secs * rounds * 4 + 120)) "$top/bench/status.sh"

# --- instructions (callgrind) -------------------------------------------

# ir FILE: total instructions of a callgrind output file
ir() {
    sed -n 's/^summary: *//p' "$1"
}

# cg_block FILE: the instructions of SHA-256's block function in a
# callgrind output file, then the names found ("none" if none).
#
# Valgrind runs OpenSSL's SHA-256 without SHA-NI (its CPU does not offer
# it), so the compressions cost much more than on the real CPU and are
# counted apart.  libcrypto.so.3 exports SHA256_Update, SHA256_Final and
# SHA256_Transform but not sha256_block_data_order, so callgrind names the
# block function by its address in the library ("???:0x..."), and the
# function reached by every compression is the unnamed one that those
# three call (their other callees, memcpy, memset or OPENSSL_cleanse, have
# names).  The module reaches it through EVP_MAC/HMAC (which call
# SHA256_Update and SHA256_Final through the digest's provider) or, on
# prepared pad states, through SHA256_Update for whole blocks and
# SHA256_Transform for the blocks it pads itself: either way the block
# function's callers are among those three.  SHA256_Transform may also
# jump to the block function rather than call it (x86_64's libcrypto
# does), and callgrind then counts the compression as SHA256_Transform's
# own cost: that self cost is added (a few instructions where it calls).  Its inclusive cost, from
# callgrind_annotate's caller tree, is what all compressions cost; with a
# libcrypto whose symbols are known (debug symbols), the function is found
# by its name, sha256_block_data_order*, without counting twice a variant
# it jumps to.
cg_block() {
    _tx=$(callgrind_annotate --threshold=100 "$1" 2>/dev/null | awk '
    { sub(/\( *[0-9.]+%\)/, "") }
    $2 ~ /:SHA256_Transform$/ { v = $1; gsub(/,/, "", v); s += v }
    END { print s + 0 }')
    callgrind_annotate --inclusive=yes --tree=caller --threshold=100 "$1" \
        2>/dev/null | awk -v tx="$_tx" '
    function flush() {
        if ((fn ~ /sha256_block_data_order/ && !byblock) ||
            (fn ~ /^\?\?\?:0x[0-9a-fA-F]+$/ && bysha))
        {
            sum += ir; names = names " " fn
        }
        fn = ""; bysha = 0; byblock = 0
    }
    { sub(/\( *[0-9.]+%\)/, "") }
    NF == 0 { flush(); next }
    $2 == "<" && $3 ~ /:SHA256_(Update|Final|Transform)$/ { bysha = 1 }
    $2 == "<" && $3 ~ /sha256_block_data_order/ { byblock = 1 }
    $2 == "*" { ir = $1; gsub(/,/, "", ir); fn = $3 }
    END {
        flush()
        if (tx > 0) { sum += tx; names = names " SHA256_Transform" }
        print sum + 0, (names == "" ? "none" : substr(names, 2))
    }'
}

# div A B: A / B, rounded
div() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f\n", a / b }'
}

echo
echo "== the token core (build/token_cost): ns and instructions per token," \
     "and the pad-state floor"
# wall time: token and floor alternately, on CPU 0 when there are two
tc_on=
[ "$(nproc)" -lt 2 ] || tc_on="taskset -c 0"
tok_ns=0; sec_ns=0; who_ns=0; flo_ns=0
r=1
while [ $r -le "$rounds" ]; do
    for m in token second whole floor; do
        line=$(timeout 120 $tc_on "$top/build/token_cost" 200000 $m) \
            || fail "build/token_cost 200000 $m failed"
        echo "   $line"
        v=$(echo "$line" | sed -n 's/.*, \([0-9]*\) ns per .*/\1/p')
        [ -n "$v" ] || fail "no ns in: $line"
        case $m in
        token) tok_ns=$((tok_ns + v)) ;;
        second) sec_ns=$((sec_ns + v)) ;;
        whole) who_ns=$((who_ns + v)) ;;
        *)     flo_ns=$((flo_ns + v)) ;;
        esac
    done
    r=$((r + 1))
done
tok_ns=$(div "$tok_ns" "$rounds")
sec_ns=$(div "$sec_ns" "$rounds")
who_ns=$(div "$who_ns" "$rounds")
flo_ns=$(div "$flo_ns" "$rounds")
# instructions: callgrind's count 10001 minus count 1, over 10000
for m in token second whole floor; do
    for n in 1 10001; do
        f="$out/callgrind.token_cost.$m.$n"
        timeout 600 valgrind --tool=callgrind --callgrind-out-file="$f" \
            "$top/build/token_cost" $n $m > "$f.log" 2>&1 \
            || fail "callgrind of token_cost $n $m failed ($f.log)"
    done
    f="$out/callgrind.token_cost.$m"
    set -- $(cg_block "$f.10001")
    b1=$1; names=$2
    set -- $(cg_block "$f.1")
    i1=$(( ($(ir "$f.10001") - $(ir "$f.1")) / 10000 ))
    s1=$(( (b1 - $1) / 10000 ))
    echo "   $m: $i1 instructions, $s1 of them in SHA-256's block" \
         "function ($names)"
    case $m in
    token) tok_ir=$i1; tok_sha=$s1 ;;
    second) sec_ir=$i1; sec_sha=$s1 ;;
    whole) who_ir=$i1; who_sha=$s1 ;;
    *)     flo_ir=$i1; flo_sha=$s1 ;;
    esac
done
# shellcheck disable=SC2154
echo "   token / floor: $(echo "scale=2; $tok_ns / $flo_ns" | bc) in ns," \
     "$(echo "scale=2; $tok_ir / $flo_ir" | bc) in instructions;" \
     "claims whole / floor: $(echo "scale=2; $who_ns / $flo_ns" | bc) in ns"

# cg_start NAME CONF URL: the nginx of CONF as one process under callgrind
# on $cport, in $out/callgrind-NAME, until URL answers
cg_start() {
    cg="$out/callgrind-$1"
    rm -rf "$cg"
    mkdir -p "$cg"
    sed -e "s|listen 127.0.0.1:[0-9]*;|listen 127.0.0.1:$cport;|" \
        -e "s|^pid .*|pid $cg/nginx.pid;|" \
        -e "s|^error_log .*|error_log $cg/error.log warn;|" \
        -e '/^user /d' -e '/^worker_cpu_affinity /d' \
        "$2" > "$cg/nginx.conf"
    timeout 900 valgrind --tool=callgrind \
        --callgrind-out-file="$cg/callgrind.out" \
        /usr/sbin/nginx -p "$cg/" -c "$cg/nginx.conf" -e "$cg/error.log" \
        -g 'daemon off; master_process off;' > "$cg/valgrind.log" 2>&1 &
    vg=$!
    _pids="${_pids:-} $vg"
    i=0
    until curl -sf -m 2 -o /dev/null "http://127.0.0.1:$cport$3"; do
        i=$((i + 1)); [ $i -lt 300 ] || fail "nginx under callgrind: no answer"
        sleep 0.1
    done
    cgpid=$(cat "$cg/nginx.pid")
}

# cg_stop: end the nginx of cg_start
cg_stop() {
    kill "$cgpid" 2>/dev/null || true
    wait "$vg" 2>/dev/null || true
    _pids=$(for p in ${_pids:-}; do [ "$p" = "$vg" ] || echo "$p"; done)
}

# cg_url NAME PATH [wrk options]: instructions per request of PATH, and
# of SHA-256's block function in them, as "$NAME_ir" and "$NAME_sha": a
# warm-up, counters zeroed, wrk on one connection for 2 s, a dump
cg_url() {
    _n=$1; _u=$2
    shift 2
    timeout 60 wrk -t1 -c1 -d1s "$@" "http://127.0.0.1:$cport$_u" \
        > "$cg/$_n.warm" || fail "callgrind: warm-up of $_u failed"
    callgrind_control -z "$cgpid" >/dev/null 2>&1
    timeout 60 wrk -t1 -c1 -d2s "$@" "http://127.0.0.1:$cport$_u" \
        > "$cg/$_n.wrk" || fail "callgrind: wrk of $_u failed"
    callgrind_control -d "$_n" "$cgpid" >/dev/null 2>&1
    ! grep -q Non-2xx "$cg/$_n.warm" "$cg/$_n.wrk" \
        || fail "callgrind: wrong answers from $_u ($cg/$_n.wrk)"
    _r=$(awk '/ requests in / { print $1 }' "$cg/$_n.wrk")
    i=0; _f=
    while [ -z "$_f" ]; do
        _f=$(grep -l "^desc: Trigger: .*dump $_n\$" "$cg"/callgrind.out.* \
            2>/dev/null | head -1) || true
        [ -n "$_f" ] && break
        i=$((i + 1)); [ $i -lt 100 ] || break
        sleep 0.1
    done
    [ -n "$_f" ] && [ "${_r:-0}" -gt 0 ] \
        || fail "callgrind dump of $_u failed"
    set -- $(cg_block "$_f")
    eval "${_n}_ir=$(div "$(ir "$_f")" "$_r")"
    eval "${_n}_sha=$(div "$1" "$_r")"
    eval "echo \"   $_u: \$${_n}_ir instructions per request," \
         "\$${_n}_sha in SHA-256's block function ($_r requests)\""
}

echo
echo "== instructions per request in nginx (callgrind, 1 process)"
echo "   negotiate (the nginx of bench/negotiate.sh)"
cg_start negotiate "$out/negotiate/nginx.conf" /ceiling
for u in /ceiling "/negotiate?id=alice" "/njs?id=alice"; do
    for i in 1 2 3 4 5; do
        curl -sf -m 5 -o /dev/null "http://127.0.0.1:$cport$u" \
            || fail "callgrind: $u did not answer"
    done
done
cg_url ceiling /ceiling
cg_url negotiate "/negotiate?id=alice"
cg_url njs "/njs?id=alice"
cg_stop

echo "   gateway (the front of bench/gateway.sh, its upstream a normal nginx)"
bench_start "$out/gateway/upstream" helper
cg_start gateway "$out/gateway/front/nginx.conf" /plain/
cg_url plain /plain/ -s "$out/gateway/event.lua"
cg_url gated /gated/ -s "$out/gateway/event.lua"
cg_stop
bench_quit "$out/gateway/upstream"

echo "   REST (the front of bench/rest.sh, its stand-in a normal nginx)"
bench_start "$out/rest/service" helper
cg_start rest "$out/rest/front/nginx.conf" /direct
cg_url direct /direct -s "$out/rest/send.lua"
cg_url rest /rest -s "$out/rest/send.lua"
cg_stop
bench_quit "$out/rest/service"

# --- the table ----------------------------------------------------------

# result NAME SETUP: the "result" line of a comparison in the logs, as
# BASE_RPS MEASURED_RPS RATIO BASE_US MEASURED_US (empty if not run)
result() {
    cat "$out"/negotiate.log "$out"/gateway.log "$out"/rest.log \
        "$out"/entra.log "$out"/status.log \
        | awk -v n="$1" -v s="$2" '$1 == "result" && $2 == n && $3 == s {
              print $4, $5, $6, $7, $8; exit }'
}

# tsv FIELDS...: one row of results.tsv
tsv() {
    _l=
    for _x in "$@"; do _l="$_l	$_x"; done
    printf '%s\n' "${_l#	}" >> "$tsv"
}

# rps NAME SHORT BASELINE RESULT SETUP GOAL: a row of requests per second
rps() {
    set -- "$@" $(result "$4" "$5")
    if [ $# -lt 11 ]; then
        tsv rps "$1" "$2" "$5" "$3" - - - - - - - - - "$6" "not run"
        return
    fi
    if [ "$6" = - ]; then
        v=-
    elif [ "$(echo "$9 >= $6" | bc -l)" = 1 ]; then
        v=ok
    else
        v=below
    fi
    tsv rps "$1" "$2" "$5" "$3" "$7" "$8" "$9" "${10}" "${11}" - - - - \
        "$6" "$v"
}

# ins NAME SHORT BASELINE B_IR M_IR B_SHA M_SHA GOAL: a row of
# instructions per request; GOAL bounds "outside" (above the baseline,
# SHA-256's block function left out of both)
ins() {
    above=$(($5 - $4))
    outside=$(( ($5 - $7) - ($4 - $6) ))
    if [ "$8" = - ]; then
        v=-
    elif [ "$outside" -le "$8" ]; then
        v=ok
    else
        v=over
    fi
    tsv instr "$1" "$2" callgrind "$3" "$4" "$5" - - - "$6" "$7" "$above" \
        "$outside" "$8" "$v"
}

: > "$tsv"
tsv kind name short setup baseline baseline_value measured_value ratio \
    baseline_cpu_us measured_cpu_us baseline_sha256 measured_sha256 \
    above outside goal verdict
# rps2 NAME SHORT BASELINE RESULT PINNED_GOAL UNPINNED_GOAL: both setups
rps2() {
    rps "$1" "$2" "$3" "$4" pinned "$5"
    rps "$1" "$2" "$3" "$4" unpinned "$6"
}

# rps3 NAME SHORT BASELINE RESULT SIDE_GOAL UNPINNED_GOAL: pinned in
# turns, pinned side by side, and unpinned; the pinned goal is judged side
# by side, where the same code gives the same ratio from run to run (see
# the rows of the proxy_pass against itself)
rps3() {
    rps "$1" "$2" "$3" "$4" pinned -
    rps "$1" "$2" "$3" "$4" side "$5"
    rps "$1" "$2" "$3" "$4" unpinned "$6"
}

rps3 "negotiate vs return 200 of the same-size JSON" negotiate \
    "return 200" negotiate/ceiling 0.90 0.85
rps3 "webhook gateway vs keepalive proxy_pass" gateway \
    proxy_pass gateway 0.95 0.95
rps3 "REST location vs direct proxy_pass" REST proxy_pass rest 0.92 0.9
rps3 "REST location, a new URL each call, vs proxy_pass" "REST new URL" \
    proxy_pass rest/new 0.92 0.9
rps "direct proxy_pass against itself (noise of the method)" \
    "proxy_pass itself" proxy_pass rest/same pinned -
rps "direct proxy_pass against itself (noise of the method)" \
    "proxy_pass itself" proxy_pass rest/same side -
rps "REST with a cached Entra ID token vs with a key" "Entra / key" \
    "access key" entra unpinned 0.95
rps "negotiate with webpubsub_status counters vs without" counters \
    "no counters" status pinned 0.97
rps2 "negotiate vs njs handler, same token and nginx" "negotiate / njs" \
    njs negotiate/njs - -
rps2 "negotiate vs Node SDK getClientAccessToken" "negotiate / SDK" \
    "Node SDK" negotiate/node - -
rps2 "REST location vs Node SDK sendToAll" "REST / SDK" \
    "Node SDK" rest/sdk - -
rps "negotiate via :generateToken vs Node SDK with a credential" \
    "Entra negotiate / SDK" "Node SDK" entra/sdk unpinned -
# shellcheck disable=SC2154
{
ins "negotiate over return 200" negotiate "return 200" \
    "$ceiling_ir" "$negotiate_ir" "$ceiling_sha" "$negotiate_sha" 6000
ins "njs handler over return 200" njs "return 200" \
    "$ceiling_ir" "$njs_ir" "$ceiling_sha" "$njs_sha" -
ins "webhook gateway over keepalive proxy_pass" gateway proxy_pass \
    "$plain_ir" "$gated_ir" "$plain_sha" "$gated_sha" -
ins "REST location over direct proxy_pass" REST proxy_pass \
    "$direct_ir" "$rest_ir" "$direct_sha" "$rest_sha" -
ins "token core over the pad-state floor, per token" "token core" \
    "pad-state floor" "$flo_ir" "$tok_ir" "$flo_sha" "$tok_sha" -
ins "token core, a new second every token, over the floor" \
    "new second" "pad-state floor" "$flo_ir" "$sec_ir" "$flo_sha" \
    "$sec_sha" -
ins "token core, claims written whole, over the floor" "whole claims" \
    "pad-state floor" "$flo_ir" "$who_ir" "$flo_sha" "$who_sha" -
tsv ns "token core, ns per token, over the pad-state floor" "token ns" \
    "$([ -n "$tc_on" ] && echo pinned || echo unpinned)" "pad-state floor" \
    "$flo_ns" "$tok_ns" "$(echo "scale=3; $tok_ns / $flo_ns" | bc)" \
    - - - - "$((tok_ns - flo_ns))" - - -
tsv ns "token core, a new second every token, ns, over the floor" \
    "new second ns" \
    "$([ -n "$tc_on" ] && echo pinned || echo unpinned)" "pad-state floor" \
    "$flo_ns" "$sec_ns" "$(echo "scale=3; $sec_ns / $flo_ns" | bc)" \
    - - - - "$((sec_ns - flo_ns))" - - -
tsv ns "token core, claims written whole, ns, over the floor" "whole ns" \
    "$([ -n "$tc_on" ] && echo pinned || echo unpinned)" "pad-state floor" \
    "$flo_ns" "$who_ns" "$(echo "scale=3; $who_ns / $flo_ns" | bc)" \
    - - - - "$((who_ns - flo_ns))" - - -
}

{
echo
echo "== results: $rounds rounds of ${secs}s, 1 nginx worker," \
     "wrk -t1 -c32 on 127.0.0.1"
echo "   requests/s (ratio = measured / baseline, higher is better) and the"
echo "   server's CPU time per request in us (utime+stime / requests, lower"
echo "   is better); pinned: the server alone on CPU 0, wrk and helpers on"
echo "   CPU 1, the baseline and the module in turns; side: pinned, the two"
echo "   side by side at the same moments on CPU 0, r/s per second of CPU;"
echo "   unpinned: where the scheduler puts them"
echo
awk -F '\t' '
$1 == "rps" {
    if (!h++)
        printf "%-2s %-58s %-8s %-11s %9s %9s %6s %8s %8s %6s %s\n", "#", \
            "comparison", "setup", "baseline", "base r/s", "r/s", \
            "ratio", "base us", "us", "goal", ""
    printf "%-2d %-58s %-8s %-11s %9s %9s %6s %8s %8s %6s %s\n", ++k, $2, \
        $4, $5, $6, $7, $8, $9, $10, $15 == "-" ? "" : ">=" $15, \
        $16 == "-" ? "" : $16
}' "$tsv"
echo
echo "   instructions per request (callgrind, one nginx process, 2 s on one"
echo "   connection per URL), lower is better; sha256 = in SHA-256's block"
echo "   function (libcrypto, no SHA-NI under valgrind); outside = above the"
echo "   baseline with the block function left out of both"
echo
awk -F '\t' '
$1 == "instr" {
    if (!h++)
        printf "%-2s %-50s %-15s %8s %8s %7s %7s %7s %6s %s\n", "#", \
            "comparison", "baseline", "baseline", "measured", "above", \
            "sha256", "outside", "goal", ""
    printf "%-2d %-50s %-15s %8s %8s %7s %7s %7s %6s %s\n", ++k, $2, $5, \
        $6, $7, $13, $12 - $11, $14, $15 == "-" ? "" : "<=" $15, \
        $16 == "-" ? "" : $16
}
$1 == "ns" {
    printf "%-2d %-50s %-15s %8s %8s %7s %7s %7s\n", ++k, $2, $5, $6, $7, \
        $13, "", ""
}' "$tsv"
echo "   token core / floor: $(echo "scale=2; $tok_ir / $flo_ir" | bc)" \
     "in instructions, $(echo "scale=2; $tok_ns / $flo_ns" | bc) in ns;" \
     "SHA-256's block function: $tok_sha instructions per token" \
     "(template), $sec_sha (template, new second), $who_sha (claims" \
     "whole), $flo_sha per floor MAC"
} | tee -a "$out/results.txt"
echo
echo "text: $out/results.txt"
echo "table: $tsv"

gnuplot -e "tsv='$tsv'; out='$png'; title='$rounds rounds of ${secs}s, $(date -u +%Y-%m-%d), load $load before the run'" \
    "$top/bench/chart.gp" || fail "gnuplot failed"
echo "chart: $png"
