#!/bin/sh
# What the counters of webpubsub_status cost on negotiate: the same binary
# and the same negotiate location in two nginx instances of one run, one
# without a webpubsub_status location (no counters' zone: a count is a
# test of a NULL pointer) and one with it (every token an atomic add in
# shared memory).  One worker each, wrk -t1 -c32 on loopback, interleaved
# rounds.  Each answer is checked first: a token that verifies
# (bench/verify.js), and, with the location, a counter that counts.
# On two cores or more, pinned only (bench/common.sh): both workers on the
# first CPU and wrk on the second, so that the ratio is the server's cost,
# not the load generator's share of a core; with the CPU time per request
# of each worker.
# Usage: bench/status.sh [seconds-per-run] [rounds]
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
dir="$top/build/bench/status"
port=${BENCH_PORT:-18095}
oport=$((port + 1))
endpoint=https://contoso.webpubsub.azure.com
key="bench-key-0123456789abcdef"
hub=chat
role=webpubsub.joinLeaveGroup.lobby
group=lobby
cs="Endpoint=$endpoint;AccessKey=$key;Version=1.0;"
export NODE_PATH="$top/t/node_modules"

case "$secs$rounds" in
*[!0-9]*) echo "usage: bench/status.sh [seconds-per-run] [rounds]" >&2; exit 2 ;;
esac

bench_tools
[ "$(nproc)" -lt 2 ] || setup=pinned
affinity=$(bench_affinity)
command -v node >/dev/null 2>&1 || "$top/tools/deps.sh" bench

# write_conf NAME PORT STATUS: an nginx in $dir/NAME, with the status
# location where STATUS is "on"
write_conf() {
    d="$dir/$1"
    mkdir -p "$d"
    if [ "$3" = on ]; then
        st='location = /status { webpubsub_status; }'
    else
        st=
    fi
    cat > "$d/nginx.conf" <<END
load_module $module;
$(bench_user)
worker_processes 1;
$affinity
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    webpubsub_connection_string "$cs";
    server {
        listen 127.0.0.1:$2;
        webpubsub_hub $hub;
        location = /negotiate {
            webpubsub_token_user_id \$arg_id;
            webpubsub_token_roles $role;
            webpubsub_token_groups $group;
            webpubsub_token;
        }
        $st
    }
}
END
}

# tokens: the counter of tokens signed with a key, by the "on" nginx
tokens() {
    curl -sf -m 5 "http://127.0.0.1:$oport/status" \
        | awk '/^webpubsub_tokens_issued_total\{how="key",protocol="default"\}/ { print $2 }'
}

write_conf off "$port" off
write_conf on "$oport" on
bench_start "$dir/off"
bench_start "$dir/on"
bench_wait "http://127.0.0.1:$port/negotiate?id=alice"
bench_wait "http://127.0.0.1:$oport/negotiate?id=alice"
bench_check_token status "without counters" \
    "http://127.0.0.1:$port/negotiate?id=alice"
bench_check_token status "with counters" \
    "http://127.0.0.1:$oport/negotiate?id=alice"

code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$port/status") || true
[ "$code" = 404 ] || { echo "status: the nginx without counters answered" \
    "$code for /status" >&2; exit 1; }
n0=$(tokens)
curl -sf -m 5 -o /dev/null "http://127.0.0.1:$oport/negotiate?id=alice"
n1=$(tokens)
[ -n "$n0" ] && [ "$n1" = $((n0 + 1)) ] || { echo "status: the counter" \
    "went from '$n0' to '$n1' for one token" >&2; exit 1; }
echo "checked: one nginx has no counters, the other counts every token"
opid=$(bench_worker "$dir/off")
cpid=$(bench_worker "$dir/on")

echo "status: $rounds rounds of ${secs}s, 1 worker each, wrk -t1 -c32," \
    "$(bench_setup_text)"
bench_compare status off "$opid" "http://127.0.0.1:$port/negotiate?id=alice" \
    counters "$cpid" "http://127.0.0.1:$oport/negotiate?id=alice"
echo "tokens counted: $(tokens)"
