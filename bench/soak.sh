#!/bin/sh
# Soak: 1,000,000 negotiate requests, 200,000 signed webhooks and 100,000
# REST calls through ONE nginx worker, on 127.0.0.1.  Passes when no
# request fails and the worker's RSS, measured after a warm-up, grows by
# less than 1 MiB over the whole run.
# Usage: bench/soak.sh [scale]   (scale 0.01 for a quick check; default 1)
set -eu

scale=${1:-1}
. "$(dirname "$0")/common.sh"
dir="$top/build/bench/soak"
port=${BENCH_PORT:-18101}
uport=$((port + 1))
key="soak-key-0123456789abcdef"

bench_tools
mkdir -p "$dir/front" "$dir/upstream"

count() {
    printf '%.0f' "$(echo "$1 * $scale" | bc -l)"
}

cat > "$dir/upstream/nginx.conf" <<END
$(bench_user)
worker_processes 1;
pid $dir/upstream/nginx.pid;
error_log $dir/upstream/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$uport;
        keepalive_requests 10000000;
        location /api/ { return 202; }
        location / { return 200 "ok\n"; }
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
    webpubsub_endpoint http://127.0.0.1:$uport;
    webpubsub_access_key $key;
    webpubsub_hub chat;
    upstream up {
        server 127.0.0.1:$uport;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        keepalive_requests 10000000;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location = /negotiate {
            webpubsub_token_user_id \$arg_id;
            webpubsub_token_roles webpubsub.joinLeaveGroup.lobby;
            webpubsub_token_groups lobby;
            webpubsub_token;
        }
        location /events/ {
            webpubsub_allowed_origins soak.example;
            webpubsub_event_handler on;
            proxy_pass http://up;
        }
        webpubsub_rest_pass /_wps;
        location = /_wps {
            internal;
            proxy_pass http://up;
        }
        location = /send {
            webpubsub_rest send_to_group group=\$arg_g;
        }
    }
}
END

conn="soak-connection-0001"
sig=$(printf '%s' "$conn" | openssl dgst -sha256 -hmac "$key" | sed 's/.*= //')
printf '{}' > "$dir/event.json"
printf 'hello' > "$dir/message.txt"

# only this run's lines count
: > "$dir/front/error.log"
: > "$dir/upstream/error.log"

bench_start "$dir/upstream"
bench_start "$dir/front"
bench_wait "http://127.0.0.1:$port/negotiate?id=a"

worker=$(pgrep -P "$(cat "$dir/front/nginx.pid")")
rss() {
    awk '/^VmRSS/ { print $2 }' "/proc/$worker/status"
}

failed=0

# ab: N requests, 32 at a time, keep-alive, bounded by a 30 s timeout per
# request; each phase goes in 10 batches with other user ids, groups and
# event ids, so that not every request is the same
ab_run() {
    n=$1
    shift
    c=32
    [ "$n" -ge 32 ] || c=$n
    out=$(ab -q -k -c "$c" -n "$n" -s 30 "$@" 2>&1) || { echo "$out"; failed=1; }
    complete=$(echo "$out" | awk '/^Complete requests/ { print $3 }')
    bad=$(echo "$out" | awk '/^Failed requests/ { print $3 }')
    non2xx=$(echo "$out" | awk '/^Non-2xx responses/ { print $3 }')
    total=$((total + ${complete:-0}))
    errors=$((errors + ${bad:-0} + ${non2xx:-0}))
}

# phase NAME N: N requests of that kind, counted and checked
phase() {
    name=$1; n=$(count "$2"); per=$((n / 10)); total=0; errors=0
    b=0
    while [ $b -lt 10 ]; do
        case $name in
        negotiate)
            ab_run $per "http://127.0.0.1:$port/negotiate?id=user-$b" ;;
        webhook)
            ab_run $per -p "$dir/event.json" -T application/json \
                -H "WebHook-Request-Origin: soak.example" \
                -H "ce-specversion: 1.0" -H "ce-awpsversion: 1.0" \
                -H "ce-type: azure.webpubsub.sys.connected" -H "ce-id: $b" \
                -H "ce-signature: sha256=$sig" -H "ce-userId: alice" \
                -H "ce-connectionId: $conn" -H "ce-hub: chat" \
                -H "ce-eventName: connected" \
                "http://127.0.0.1:$port/events/" ;;
        rest)
            ab_run $per -p "$dir/message.txt" -T text/plain \
                "http://127.0.0.1:$port/send?g=room-$b" ;;
        esac
        b=$((b + 1))
    done
    printf '%-10s %10s requests, %s failed or not 2xx\n' "$name" "$total" \
        "$errors"
    if [ "$errors" != 0 ] || [ "$total" -lt $((per * 10)) ]; then
        failed=1
    fi
}

echo "soak: one nginx worker (pid $worker), scale $scale"
echo "warm-up:"
phase negotiate 50000
phase webhook 20000
phase rest 10000
before=$(rss)

echo "soak:"
phase negotiate 1000000
phase webhook 200000
phase rest 100000
after=$(rss)

grow=$((after - before))
echo "worker RSS after warm-up: $before KiB, after the soak: $after KiB," \
     "growth: $grow KiB (limit 1024)"

if grep -E '\[(alert|crit|emerg)\]' "$dir/front/error.log"; then
    failed=1
fi

if [ "$failed" != 0 ] || [ "$grow" -ge 1024 ]; then
    echo "soak: FAILED"
    exit 1
fi

echo "soak: passed"
