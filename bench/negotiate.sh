#!/bin/sh
# Negotiate throughput against its ceiling, in one run on one machine: the
# module's webpubsub_token vs nginx's own "return 200" of a fixed JSON body
# of the same size, one worker, wrk on loopback, runs interleaved.
# Usage: bench/negotiate.sh [seconds-per-run] [rounds]
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
dir="$top/build/bench/negotiate"
port=${BENCH_PORT:-18090}
cs="Endpoint=https://contoso.webpubsub.azure.com;AccessKey=bench-key-0123456789abcdef;Version=1.0;"

bench_tools
mkdir -p "$dir"

write_conf() {
    cat > "$dir/nginx.conf" <<END
load_module $module;
$(bench_user)
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    webpubsub_connection_string "$cs";
    server {
        listen 127.0.0.1:$port;
        webpubsub_hub chat;
        location = /negotiate {
            webpubsub_token_user_id \$arg_id;
            webpubsub_token_roles webpubsub.joinLeaveGroup.lobby;
            webpubsub_token_groups lobby;
            webpubsub_token;
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
write_conf "$(printf '%s' "$body" | tr -c 'a-zA-Z0-9{}":,./_?=-' 'x')"
/usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" -s reload
i=0
until [ "$(curl -s "http://127.0.0.1:$port/ceiling" | wc -c)" = "$len" ]; do
    i=$((i + 1)); [ $i -lt 50 ] || { echo "reload failed" >&2; exit 1; }
    sleep 0.1
done

echo "negotiate: body $len bytes, $rounds rounds of ${secs}s, 1 worker, wrk -t1 -c32"
bench_compare ceiling "http://127.0.0.1:$port/ceiling" \
    negotiate "http://127.0.0.1:$port/negotiate?id=alice"
