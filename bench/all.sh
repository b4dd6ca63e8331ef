#!/bin/sh
# Every benchmark in one run on one machine, each figure beside a baseline
# measured in the same run: a table on stdout, build/bench/results.tsv and
# a bar chart of the ratios, build/bench/results.png (bench/chart.gp).
#
#   1  negotiate vs nginx "return 200" of a same-size JSON   bench/negotiate.sh
#   2  negotiate vs an njs handler, same token, same nginx   bench/negotiate.sh
#   3  negotiate vs the SDK's getClientAccessToken (Node)    bench/negotiate.sh
#   4  webhook gateway vs a plain keepalive proxy_pass       bench/gateway.sh
#   5  REST location vs a direct proxy_pass                  bench/rest.sh
#   6  the same, a new URL every call (no token reuse)       bench/rest.sh
#   7  REST location vs the SDK's sendToAll (Node)           bench/rest.sh
#   8  REST with a cached Entra ID token vs REST with a key  bench/entra.sh
#   9  negotiate via :generateToken vs the SDK with a credential  entra.sh
#  10  negotiate with webpubsub_status counters vs without   bench/status.sh
#  11  instructions per token in the core (callgrind)        build/token_cost
#  12  instructions per negotiate request above "return 200", the module
#      and the njs handler (callgrind on one nginx process)
#
# One nginx worker for every measured server, wrk on 127.0.0.1, every run
# bounded in time. Each server's answer is checked before it is measured,
# and a wrong answer (or any non-2xx during a run) stops everything.
# Usage: bench/all.sh [seconds-per-run] [rounds]   (default 5 s, 3 rounds)
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
out="$top/build/bench"
tsv="$out/results.tsv"
png="$out/results.png"
key="bench-key-0123456789abcdef"
# the ports, all on 127.0.0.1, from BENCH_BASE_PORT on (14 of them)
base=${BENCH_BASE_PORT:-18110}
nport=$base                 # negotiate.sh: nginx, +1 the Node server
gport=$((base + 2))         # gateway.sh: front, +1 upstream
rport=$((base + 4))         # rest.sh: front, +1 service stand-in
fport=$((base + 6))         # REST check: nginx, +1 verifying stand-in
cport=$((base + 8))         # nginx under callgrind
eport=$((base + 9))         # entra.sh: front, +1 stand-in, +2 its https
sport=$((base + 12))        # status.sh: without counters, +1 with them
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
while [ $p -le $((base + 13)) ]; do
    st=0; curl -s -m 2 -o /dev/null "http://127.0.0.1:$p/" || st=$?
    [ $st = 7 ] || fail "port $p on 127.0.0.1 is in use; set BENCH_BASE_PORT" \
        "to the first of 14 free ports"
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
         "for the CPU, so req/s figures are distorted; instruction counts" \
         "(rows 11-12) are not" | tee -a "$out/results.txt" >&2
fi

# run NAME PORT LIMIT SCRIPT: a bench script on ports from PORT on, with
# its output in build/bench/NAME.log
run() {
    name=$1; port=$2; limit=$3; shift 3
    echo
    echo "== $name (at most ${limit}s)"
    status=0
    BENCH_PORT=$port BENCH_NODE_PORT=$((port + 1)) \
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

run negotiate $nport $((secs * rounds * 4 + 180)) "$top/bench/negotiate.sh"
run gateway $gport $((secs * rounds * 2 + 120)) "$top/bench/gateway.sh"
run rest $rport $((secs * rounds * 4 + 180)) "$top/bench/rest.sh"
run entra $eport $((secs * rounds * 4 + 180)) "$top/bench/entra.sh"
run status $sport $((secs * rounds * 2 + 120)) "$top/bench/status.sh"

# --- instructions (callgrind) -------------------------------------------

# Ir FILE: total instructions of a callgrind output file
ir() {
    sed -n 's/^summary: *//p' "$1"
}

echo
echo "== instructions per token in the core (callgrind, build/token_cost)"
for n in 1 10001; do
    timeout 300 valgrind --tool=callgrind \
        --callgrind-out-file="$out/callgrind.token_cost.$n" \
        "$top/build/token_cost" $n > "$out/callgrind.token_cost.$n.log" 2>&1 \
        || fail "callgrind of token_cost $n failed ($out/callgrind.token_cost.$n.log)"
done
core_ir=$(echo "($(ir "$out/callgrind.token_cost.10001") - $(ir "$out/callgrind.token_cost.1")) / 10000" | bc)
echo "   $core_ir instructions per token"

# the negotiate nginx of bench/negotiate.sh, as one process under
# callgrind: per URL, counters zeroed, a wrk run on one connection, a dump;
# instructions per request = the dump's total / wrk's requests
echo
echo "== instructions per negotiate request in nginx (callgrind, 1 process)"
cg="$out/callgrind-nginx"
rm -rf "$cg"
mkdir -p "$cg"
sed -e "s|listen 127.0.0.1:[0-9]*;|listen 127.0.0.1:$cport;|" \
    -e "s|^pid .*|pid $cg/nginx.pid;|" \
    -e "s|^error_log .*|error_log $cg/error.log warn;|" \
    -e '/^user /d' \
    "$out/negotiate/nginx.conf" > "$cg/nginx.conf"
timeout 300 valgrind --tool=callgrind --callgrind-out-file="$cg/callgrind.out" \
    /usr/sbin/nginx -p "$cg/" -c "$cg/nginx.conf" -e "$cg/error.log" \
    -g 'daemon off; master_process off;' > "$cg/valgrind.log" 2>&1 &
vg=$!
_pids="${_pids:-} $vg"
i=0
until curl -sf -m 2 -o /dev/null "http://127.0.0.1:$cport/ceiling"; do
    i=$((i + 1)); [ $i -lt 300 ] || fail "nginx under callgrind: no answer"
    sleep 0.1
done
cgpid=$(cat "$cg/nginx.pid")
for u in ceiling "negotiate?id=alice" "njs?id=alice"; do
    for i in 1 2 3 4 5; do curl -sf -m 5 -o /dev/null "http://127.0.0.1:$cport/$u"; done
done
for u in ceiling negotiate njs; do
    q=; [ $u = ceiling ] || q="?id=alice"
    callgrind_control -z "$cgpid" >/dev/null 2>&1
    n=$(timeout 60 wrk -t1 -c1 -d2s "http://127.0.0.1:$cport/$u$q" \
        | awk '/ requests in / { print $1 }')
    callgrind_control -d "$u" "$cgpid" >/dev/null 2>&1
    f=$(grep -l "^desc: Trigger: .*dump $u\$" "$cg"/callgrind.out.* 2>/dev/null | head -1)
    [ -n "$f" ] && [ "${n:-0}" -gt 0 ] || fail "callgrind dump of $u failed"
    eval "per_$u=$(echo "$(ir "$f") / $n" | bc)"
    eval "echo \"   $u: \$per_$u instructions per request ($n requests)\""
done
kill "$cgpid" 2>/dev/null || true
wait "$vg" 2>/dev/null || true
_pids=$(for p in ${_pids:-}; do [ "$p" = "$vg" ] || echo "$p"; done)
mod_ir=$((per_negotiate - per_ceiling))
njs_ir=$((per_njs - per_ceiling))
echo "   above return 200: module $mod_ir, njs $njs_ir"

# --- the table ----------------------------------------------------------

# the "all" and "ratio" lines of the scripts' logs
neg_mean() {
    awk -v n="$1" '$1 == "round" { for (i = 2; i <= NF; i++) c[$i] = i }
                   $1 == "all" { print $(c[n]); exit }' "$out/negotiate.log"
}
neg_ratio() {
    awk -v n="negotiate/$1" '$1 == "ratio" && $2 == n { print $3 }' \
        "$out/negotiate.log"
}
all_line() {    # LOG N: the Nth "all" line's baseline, measured, ratio
    awk -v n="$2" '$1 == "all" && ++k == n { print $2, $3, $4 }' "$out/$1.log"
}

neg=$(neg_mean negotiate)
set -- $(all_line gateway 1) "" "" ""; gw_b=$1; gw_m=$2; gw_r=$3
set -- $(all_line rest 1) "" "" ""; rp_b=$1; rp_m=$2; rp_r=$3
set -- $(all_line rest 2) "" "" ""; rs_b=$1; rs_m=$2; rs_r=$3
set -- $(all_line rest 3) "" "" ""; rn_b=$1; rn_m=$2; rn_r=$3
set -- $(all_line entra 1) "" "" ""; ek_b=$1; ek_m=$2; ek_r=$3
set -- $(all_line entra 2) "" "" ""; en_b=$1; en_m=$2; en_r=$3
set -- $(all_line status 1) "" "" ""; st_b=$1; st_m=$2; st_r=$3

# row NAME SHORT BASELINE_NAME BASELINE MEASURED RATIO GOAL
row() {
    [ -n "$4" ] && [ -n "$5" ] || fail "no figure for $1 in the logs"
    if [ "$7" = - ]; then
        verdict=-
    elif [ "$(echo "$6 >= $7" | bc -l)" = 1 ]; then
        verdict=ok
    else
        verdict=below
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
        "$6" "$7" "$verdict" >> "$tsv"
}

printf 'name\tshort\tbaseline\tbaseline_value\tmeasured_value\tratio\tgoal\tverdict\n' > "$tsv"
row "negotiate vs return 200 of the same-size JSON" "negotiate" \
    "return 200" "$(neg_mean ceiling)" "$neg" "$(neg_ratio ceiling)" 0.85
row "negotiate vs njs handler, same token and nginx" "negotiate / njs" \
    "njs" "$(neg_mean njs)" "$neg" "$(neg_ratio njs)" -
row "negotiate vs Node SDK getClientAccessToken" "negotiate / Node SDK" \
    "Node SDK" "$(neg_mean node)" "$neg" "$(neg_ratio node)" -
row "webhook gateway vs keepalive proxy_pass" "gateway" \
    "proxy_pass" "$gw_b" "$gw_m" "$gw_r" 0.95
row "REST location vs direct proxy_pass" "REST" \
    "proxy_pass" "$rp_b" "$rp_m" "$rp_r" 0.9
row "REST location, a new URL each call, vs proxy_pass" "REST, new URLs" \
    "proxy_pass" "$rn_b" "$rn_m" "$rn_r" 0.9
row "REST location vs Node SDK sendToAll" "REST / Node SDK" \
    "Node SDK" "$rs_b" "$rs_m" "$rs_r" -
row "REST with a cached Entra ID token vs with a key" "REST Entra / key" \
    "access key" "$ek_b" "$ek_m" "$ek_r" 0.95
row "negotiate via :generateToken vs Node SDK with a credential" \
    "negotiate Entra / Node SDK" "Node SDK" "$en_b" "$en_m" "$en_r" -
row "negotiate with webpubsub_status counters vs without" \
    "counters" "no counters" "$st_b" "$st_m" "$st_r" 0.97
row "instructions per token, core (callgrind)" "-" \
    "-" "-" "$core_ir" - -
row "instructions per request over return 200: njs, module" "-" \
    "njs" "$njs_ir" "$mod_ir" - -

{
echo
echo "== results: $rounds rounds of ${secs}s, 1 nginx worker, wrk -t1 -c32 on 127.0.0.1"
echo "   rows 1-10 in requests/s, ratio = measured / baseline, higher is better;"
echo "   rows 11-12 in instructions (callgrind), lower is better"
echo
awk -F '\t' '
NR == 1 {
    printf "%-2s %-54s %-10s %10s %10s %7s %6s %s\n", \
        "#", "comparison", "baseline", "baseline", "measured", "ratio", "goal", ""
    next
}
{
    goal = $7 == "-" ? "" : ">=" $7
    verdict = $8 == "-" ? "" : $8
    printf "%-2d %-54s %-10s %10s %10s %7s %6s %s\n", \
        NR - 1, $1, $3, $4, $5, $6 == "-" ? "" : $6, goal, verdict
}' "$tsv"
} | tee -a "$out/results.txt"
echo
echo "text: $out/results.txt"
echo "table: $tsv"

gnuplot -e "tsv='$tsv'; out='$png'; title='$rounds rounds of ${secs}s, $(date -u +%Y-%m-%d), load $load before the run'" \
    "$top/bench/chart.gp" || fail "gnuplot failed"
echo "chart: $png"
