#!/bin/sh
# REST location throughput, in one run, against (1) a direct proxy_pass of
# the same request to the same service stand-in and (2) the official SDK
# (Node, @azure/web-pubsub sendToAll) calling that stand-in itself, and (3)
# the proxy_pass again with a new URL every call.  One front worker; the
# stand-in is an nginx of its own answering 202, so that what is measured
# is the caller's side, with the CPU time per request of the front worker
# (or of the SDK's Node process).  Both setups of bench/common.sh:
# unpinned, then pinned (the front worker or the SDK's process on CPU 0,
# wrk and the stand-in on CPU 1).
# Usage: bench/rest.sh [seconds-per-run] [rounds]
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
dir="$top/build/bench/rest"
port=${BENCH_PORT:-18095}
sport=$((port + 1))
tport=${BENCH_TWIN_PORT:-$((port + 100))}  # side by side: the front's twin
key="bench-key-0123456789abcdef"

bench_tools
[ -d "$top/t/node_modules/@azure/web-pubsub" ] || "$top/tools/deps.sh" test
mkdir -p "$dir/front" "$dir/service"

# write_confs: the stand-in's and the front's nginx.conf for $setup
write_confs() {
    cat > "$dir/service/nginx.conf" <<END
$(bench_user)
worker_processes 1;
$(bench_helper_affinity)
pid $dir/service/nginx.pid;
error_log $dir/service/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$sport;
        keepalive_requests 1000000;
        location /api/ { return 202; }
    }
}
END

    cat > "$dir/front/nginx.conf" <<END
load_module $module;
$(bench_user)
worker_processes 1;
$(bench_affinity)
pid $dir/front/nginx.pid;
error_log $dir/front/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    webpubsub_endpoint http://127.0.0.1:$sport;
    webpubsub_access_key $key;
    webpubsub_hub chat;
    upstream service {
        server 127.0.0.1:$sport;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        keepalive_requests 1000000;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        webpubsub_rest_pass /_wps/;
        location /_wps/ {
            internal;
            proxy_pass http://service;
        }
        location = /direct {
            proxy_pass http://service/api/hubs/chat/:send?api-version=2024-12-01;
        }
        location = /rest {
            webpubsub_rest send_to_all;
        }
        location = /rest-group {
            webpubsub_rest send_to_group group=\$arg_g;
        }
    }
}
END
}

cat > "$dir/send.lua" <<END
wrk.method = "POST"
wrk.body = "Hello"
wrk.headers["Content-Type"] = "text/plain"
END

# every call to another group: another URL, so no token is reused; the
# path is the one wrk was given (the baseline's, or the module's)
cat > "$dir/send-group.lua" <<END
local i = 0
request = function()
    i = i + 1
    return wrk.format("POST", wrk.path .. "?g=room-" .. i,
                      { ["Content-Type"] = "text/plain" }, "Hello")
end
END

for setup in $(bench_setups); do
    echo
    echo "rest, $(bench_setup_text)"
    write_confs
    bench_start "$dir/service" helper
    bench_start "$dir/front"
    bench_wait -X POST -H 'Content-Type: text/plain' -d Hello \
        "http://127.0.0.1:$port/rest"
    wpid=$(bench_worker "$dir/front")

    echo "rest: send_to_all, $rounds rounds of ${secs}s, 1 front worker," \
        "wrk -t1 -c32, $setup"
    bench_compare rest proxy_pass "$wpid" "http://127.0.0.1:$port/direct" \
        webpubsub_rest "$wpid" "http://127.0.0.1:$port/rest" \
        -s "$dir/send.lua"

    echo
    echo "rest: the same call by the SDK (Node, 32 in flight) and by the" \
        "module, $setup"
    bench_acc_reset
    printf '%-6s %12s %8s %12s %8s %7s   (%s)\n' round sdk us/req \
        webpubsub_rest us/req ratio "$setup"
    r=1
    while [ $r -le "$rounds" ]; do
        # the SDK's process counts its own CPU time (bench/sdk_send.js)
        sdk=$(NODE_PATH="$top/t/node_modules" timeout $((secs + 30)) \
            $(bench_on server) node "$top/bench/sdk_send.js" \
            "http://127.0.0.1:$sport" "$key" "$secs" 32)
        m=$(bench_run "$wpid" -s "$dir/send.lua" \
            "http://127.0.0.1:$port/rest")
        bench_acc b $sdk
        bench_acc m $m
        bench_row "$r" $sdk $m
        r=$((r + 1))
    done
    bench_all rest/sdk

    echo
    echo "rest: send_to_group to a new group every call (a token signed per" \
        "call), $setup"
    bench_compare rest/new proxy_pass "$wpid" \
        "http://127.0.0.1:$port/direct" \
        webpubsub_rest "$wpid" "http://127.0.0.1:$port/rest-group" \
        -s "$dir/send-group.lua"

    if [ "$setup" = pinned ]; then
        echo
        echo "rest: the direct proxy_pass against itself, in turns (how far" \
            "apart two runs of the same are)"
        bench_compare rest/same proxy_pass "$wpid" \
            "http://127.0.0.1:$port/direct" \
            proxy_pass "$wpid" "http://127.0.0.1:$port/direct" \
            -s "$dir/send.lua"

        bench_twin "$dir/front" "$port" "$tport" /rest \
            -X POST -H 'Content-Type: text/plain' -d Hello
        echo
        echo "rest: send_to_all, side by side (bench/common.sh)"
        bench_side rest proxy_pass /direct webpubsub_rest /rest \
            "$wpid" "$port" "$twin_pid" "$tport" -s "$dir/send.lua"
        echo
        echo "rest: send_to_group to a new group every call, side by side"
        bench_side rest/new proxy_pass /direct webpubsub_rest /rest-group \
            "$wpid" "$port" "$twin_pid" "$tport" -s "$dir/send-group.lua"
        echo
        echo "rest: the direct proxy_pass against itself, side by side"
        bench_side rest/same proxy_pass /direct proxy_pass /direct \
            "$wpid" "$port" "$twin_pid" "$tport" -s "$dir/send.lua"
        bench_quit "$dir/front-twin"
    fi

    bench_quit "$dir/front"
    bench_quit "$dir/service"
done
