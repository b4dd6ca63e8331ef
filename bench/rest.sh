#!/bin/sh
# REST location throughput, in one run, against (1) a direct proxy_pass of
# the same request to the same service stand-in and (2) the official SDK
# (Node, @azure/web-pubsub sendToAll) calling that stand-in itself.  One
# front worker; the stand-in is an nginx of its own answering 202, so that
# what is measured is the caller's side.
# Usage: bench/rest.sh [seconds-per-run] [rounds]
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
dir="$top/build/bench/rest"
port=${BENCH_PORT:-18095}
sport=$((port + 1))
key="bench-key-0123456789abcdef"

bench_tools
[ -d "$top/t/node_modules/@azure/web-pubsub" ] || "$top/tools/deps.sh" test
mkdir -p "$dir/front" "$dir/service"

cat > "$dir/service/nginx.conf" <<END
$(bench_user)
worker_processes 1;
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

cat > "$dir/send.lua" <<END
wrk.method = "POST"
wrk.body = "Hello"
wrk.headers["Content-Type"] = "text/plain"
END

# every call to another group: another URL, so no token is reused
cat > "$dir/send-group.lua" <<END
local i = 0
request = function()
    i = i + 1
    return wrk.format("POST", "/rest-group?g=room-" .. i,
                      { ["Content-Type"] = "text/plain" }, "Hello")
end
END

bench_start "$dir/service"
bench_start "$dir/front"
bench_wait -X POST -H 'Content-Type: text/plain' -d Hello \
    "http://127.0.0.1:$port/rest"

echo "rest: send_to_all, $rounds rounds of ${secs}s, 1 front worker, wrk -t1 -c32"
bench_compare proxy_pass "http://127.0.0.1:$port/direct" \
    webpubsub_rest "http://127.0.0.1:$port/rest" -s "$dir/send.lua"

echo
echo "rest: the same call by the SDK (Node, 32 in flight) and by the module"
printf '%-6s %14s %14s %7s\n' round sdk webpubsub_rest ratio
r=1; ts=0; tm=0
while [ $r -le "$rounds" ]; do
    s=$(NODE_PATH="$top/t/node_modules" timeout $((secs + 30)) \
        node "$top/bench/sdk_send.js" "http://127.0.0.1:$sport" "$key" \
        "$secs" 32)
    m=$(bench_rps -s "$dir/send.lua" "http://127.0.0.1:$port/rest")
    printf '%-6s %14s %14s %7.3f\n' "$r" "$s" "$m" "$(echo "$m / $s" | bc -l)"
    ts=$(echo "$ts + $s" | bc -l); tm=$(echo "$tm + $m" | bc -l)
    r=$((r + 1))
done
printf '%-6s %14.0f %14.0f %7.3f\n' all "$(echo "$ts / $rounds" | bc -l)" \
    "$(echo "$tm / $rounds" | bc -l)" "$(echo "$tm / $ts" | bc -l)"

echo
echo "rest: send_to_group to a new group every call (a token signed per call)"
bench_compare proxy_pass "http://127.0.0.1:$port/direct" \
    webpubsub_rest "http://127.0.0.1:$port/rest-group" -s "$dir/send-group.lua"
