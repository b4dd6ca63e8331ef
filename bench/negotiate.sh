#!/bin/sh
# Negotiate throughput against its ceiling, in one run on one machine: the
# module's webpubsub_token vs nginx's own "return 200" of a fixed JSON body
# of the same size, one worker, wrk on loopback, runs interleaved.
# Usage: bench/negotiate.sh [seconds-per-run] [rounds]
set -eu

secs=${1:-5}
rounds=${2:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
module="$top/build/plain/ngx_http_webpubsub_module.so"
dir="$top/build/bench"
port=${BENCH_PORT:-18090}

for tool in wrk curl bc; do
    command -v $tool >/dev/null 2>&1 || missing="${missing:-} $tool"
done
if [ -n "${missing:-}" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
[ -f "$module" ] || make -C "$top" build

mkdir -p "$dir"
cs="Endpoint=https://contoso.webpubsub.azure.com;AccessKey=bench-key-0123456789abcdef;Version=1.0;"

write_conf() {
    user=
    [ "$(id -u)" = 0 ] && user="user root;"
    cat > "$dir/nginx.conf" <<END
load_module $module;
$user
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

nginx="/usr/sbin/nginx -p $dir/ -c $dir/nginx.conf -e $dir/error.log"

# first start: learn the size of a real response, then serve a ceiling of
# exactly that many bytes
write_conf "x"
$nginx
trap '$nginx -s quit 2>/dev/null || true' EXIT
i=0
until body=$(curl -sf "http://127.0.0.1:$port/negotiate?id=alice"); do
    i=$((i + 1)); [ $i -lt 50 ] || { echo "nginx did not start" >&2; exit 1; }
    sleep 0.1
done
len=$(printf '%s' "$body" | wc -c)
fixed=$(printf '%s' "$body" | tr -c 'a-zA-Z0-9{}":,./_?=-' 'x')
write_conf "$fixed"
$nginx -s reload
i=0
until [ "$(curl -s "http://127.0.0.1:$port/ceiling" | wc -c)" = "$len" ]; do
    i=$((i + 1)); [ $i -lt 50 ] || { echo "reload failed" >&2; exit 1; }
    sleep 0.1
done

rps() {
    wrk -t1 -c32 -d"${secs}s" "$1" | awk '/^Requests\/sec/ { print $2 }'
}

total_c=0; total_n=0
echo "body $len bytes, $rounds rounds of ${secs}s each, 1 worker, wrk -t1 -c32"
printf '%-6s %14s %14s %7s\n' round ceiling negotiate ratio
r=1
while [ $r -le "$rounds" ]; do
    c=$(rps "http://127.0.0.1:$port/ceiling")
    n=$(rps "http://127.0.0.1:$port/negotiate?id=alice")
    printf '%-6s %14s %14s %7.3f\n' "$r" "$c" "$n" "$(echo "$n / $c" | bc -l)"
    total_c=$(echo "$total_c + $c" | bc -l); total_n=$(echo "$total_n + $n" | bc -l)
    r=$((r + 1))
done
printf '%-6s %14.0f %14.0f %7.3f\n' all "$(echo "$total_c / $rounds" | bc -l)" \
    "$(echo "$total_n / $rounds" | bc -l)" "$(echo "$total_n / $total_c" | bc -l)"
