#!/bin/sh
# Negotiate throughput of the module's webpubsub_token, in one run on one
# machine, against three baselines that answer the same request:
#   ceiling  nginx's own "return 200" of a fixed JSON body of the same size
#   njs      the same token and JSON from an njs handler in the same nginx
#            (bench/njs/negotiate.js, crypto.createHmac)
#   node     the official SDK's getClientAccessToken() in one Node process
#            (bench/node_negotiate.js)
# One nginx worker, wrk -t1 -c32 on loopback.  The ceiling and the module
# in pairs of short runs (bench_compare in bench/common.sh), then rounds
# of njs, Node and the module, each round in the same order; every run
# with the CPU time per request of the worker (or of the Node process).  Both setups of bench/common.sh in one run: unpinned,
# then pinned (the worker or the Node server on CPU 0, wrk on CPU 1).
# Each answer is checked in each setup before anything is measured:
# status 200, and a token that verifies (bench/verify.js).
# Usage: bench/negotiate.sh [seconds-per-run] [rounds]
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
dir="$top/build/bench/negotiate"
port=${BENCH_PORT:-18090}
nport=${BENCH_NODE_PORT:-18093}
tport=${BENCH_TWIN_PORT:-$((port + 100))}  # side by side: the twin
endpoint=https://contoso.webpubsub.azure.com
key="bench-key-0123456789abcdef"
hub=chat
role=webpubsub.joinLeaveGroup.lobby
group=lobby
cs="Endpoint=$endpoint;AccessKey=$key;Version=1.0;"
njs=/usr/lib/nginx/modules/ngx_http_js_module.so
export NODE_PATH="$top/t/node_modules"

bench_tools
if [ ! -f "$njs" ] || [ ! -d "$NODE_PATH/@azure/web-pubsub" ]; then
    "$top/tools/deps.sh" bench
fi
mkdir -p "$dir"

# write_conf CEILING: nginx.conf, with the ceiling's body
write_conf() {
    cat > "$dir/nginx.conf" <<END
load_module $module;
load_module $njs;
$(bench_user)
worker_processes 1;
$(bench_affinity)
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    webpubsub_connection_string "$cs";
    js_import negotiate from $top/bench/njs/negotiate.js;
    server {
        listen 127.0.0.1:$port;
        webpubsub_hub $hub;
        location = /negotiate {
            webpubsub_token_user_id \$arg_id;
            webpubsub_token_roles $role;
            webpubsub_token_groups $group;
            webpubsub_token;
        }
        location = /njs {
            set \$wps_endpoint $endpoint;
            set \$wps_key $key;
            set \$wps_hub $hub;
            set \$wps_roles $role;
            set \$wps_groups $group;
            js_content negotiate.token;
        }
        location = /ceiling {
            default_type application/json;
            add_header Cache-Control no-store;
            return 200 '$1';
        }
    }
}
END
}

# first a real response, to serve a ceiling of exactly its size
write_conf "x"
bench_start "$dir"
bench_wait "http://127.0.0.1:$port/negotiate?id=alice"
body=$(curl -sf "http://127.0.0.1:$port/negotiate?id=alice")
len=$(printf '%s' "$body" | wc -c)
ceiling=$(printf '%s' "$body" | tr -c 'a-zA-Z0-9{}":,./_?=-' 'x')
bench_quit "$dir"

for setup in $(bench_setups); do
    echo
    echo "negotiate, $(bench_setup_text)"
    write_conf "$ceiling"
    bench_start "$dir"
    bench_spawn $((secs * rounds * 4 + 120)) $(bench_on server) \
        node "$top/bench/node_negotiate.js" \
        "$nport" "$endpoint" "$key" "$hub" "$role" "$group"
    tpid=$!
    bench_wait "http://127.0.0.1:$port/ceiling"
    [ "$(curl -s "http://127.0.0.1:$port/ceiling" | wc -c)" = "$len" ] \
        || { echo "negotiate: the ceiling is not $len bytes" >&2; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$port/ceiling")
    [ "$code" = 200 ] || { echo "negotiate: ceiling answered $code" >&2
                           exit 1; }
    echo "checked: ceiling answers 200 with $len bytes"
    bench_wait "http://127.0.0.1:$nport/negotiate?id=alice"
    bench_check_token negotiate negotiate \
        "http://127.0.0.1:$port/negotiate?id=alice"
    bench_check_token negotiate njs "http://127.0.0.1:$port/njs?id=alice"
    bench_check_token negotiate node \
        "http://127.0.0.1:$nport/negotiate?id=alice"
    wpid=$(bench_worker "$dir")
    npid=$(bench_child "$tpid")
    bench_check_cpu "$npid" "the Node server"

    echo "negotiate: body $len bytes, 1 worker, wrk -t1 -c32, $setup"
    echo "negotiate against its goal's baseline, return 200:"
    bench_compare negotiate/ceiling ceiling "$wpid" \
        "http://127.0.0.1:$port/ceiling" \
        negotiate "$wpid" "http://127.0.0.1:$port/negotiate?id=alice"

    if [ "$setup" = pinned ]; then
        bench_twin "$dir" "$port" "$tport" /ceiling
        echo
        echo "negotiate against return 200, side by side (bench/common.sh)"
        bench_side negotiate/ceiling ceiling /ceiling negotiate \
            "/negotiate?id=alice" "$wpid" "$port" "$twin_pid" "$tport"
        bench_quit "$dir-twin"
    fi

    echo
    echo "negotiate against njs and Node, $rounds rounds of ${secs}s:"
    # Node first: what it leaves behind on its CPU (seen pinned: the run
    # after it lost up to 15 %) falls on njs, not on the module
    bench_rounds negotiate \
        node "$npid" "http://127.0.0.1:$nport/negotiate?id=alice" \
        njs "$wpid" "http://127.0.0.1:$port/njs?id=alice" \
        negotiate "$wpid" "http://127.0.0.1:$port/negotiate?id=alice"

    bench_quit "$dir"
    bench_stop "$tpid"
done
