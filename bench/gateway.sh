#!/bin/sh
# Webhook gateway throughput against a plain keepalive proxy_pass to the
# same upstream, in one run: one front worker (the one measured, with its
# CPU time per request), an upstream nginx of its own, wrk POSTing a
# signed connected event.  Both setups of bench/common.sh: unpinned, then
# pinned (the front worker on CPU 0, wrk and the upstream on CPU 1).
# Usage: bench/gateway.sh [seconds-per-run] [rounds]
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
dir="$top/build/bench/gateway"
port=${BENCH_PORT:-18091}
uport=$((port + 1))
tport=${BENCH_TWIN_PORT:-$((port + 100))}  # side by side: the front's twin
key="bench-key-0123456789abcdef"

bench_tools
mkdir -p "$dir/front" "$dir/upstream"

# write_confs: the upstream's and the front's nginx.conf for $setup
write_confs() {
    cat > "$dir/upstream/nginx.conf" <<END
$(bench_user)
worker_processes 1;
$(bench_helper_affinity)
pid $dir/upstream/nginx.pid;
error_log $dir/upstream/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$uport;
        keepalive_requests 100000;
        location / { return 200 "ok\n"; }
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
    webpubsub_endpoint https://contoso.webpubsub.azure.com;
    webpubsub_access_key $key;
    webpubsub_access_key bench-secondary-key;
    webpubsub_hub chat;
    upstream app {
        server 127.0.0.1:$uport;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        keepalive_requests 100000;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location /plain/ {
            proxy_pass http://app;
        }
        location /gated/ {
            webpubsub_event_handler on;
            proxy_pass http://app;
        }
    }
}
END
}

# the event as the service sends it, signed with the key
conn="bench-connection-0001"
sig=$(printf '%s' "$conn" | openssl dgst -sha256 -hmac "$key" | sed 's/.*= //')
cat > "$dir/event.lua" <<END
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
wrk.headers["WebHook-Request-Origin"] = "contoso.webpubsub.azure.com"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-awpsversion"] = "1.0"
wrk.headers["ce-type"] = "azure.webpubsub.sys.connected"
wrk.headers["ce-source"] = "/hubs/chat/client/$conn"
wrk.headers["ce-id"] = "1"
wrk.headers["ce-time"] = "2026-11-27T10:00:00Z"
wrk.headers["ce-signature"] = "sha256=$sig,sha256=0000000000000000000000000000000000000000000000000000000000000000"
wrk.headers["ce-userId"] = "alice"
wrk.headers["ce-connectionId"] = "$conn"
wrk.headers["ce-hub"] = "chat"
wrk.headers["ce-eventName"] = "connected"
END

for setup in $(bench_setups); do
    echo
    echo "gateway, $(bench_setup_text)"
    write_confs
    bench_start "$dir/upstream" helper
    bench_start "$dir/front"
    bench_wait "http://127.0.0.1:$port/plain/"
    status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' \
        -H "ce-specversion: 1.0" -H "ce-awpsversion: 1.0" \
        -H "ce-type: azure.webpubsub.sys.connected" -H "ce-hub: chat" \
        -H "ce-connectionId: $conn" -H "ce-signature: sha256=$sig" \
        "http://127.0.0.1:$port/gated/")
    [ "$status" = 200 ] || { echo "the signed event got $status" >&2
                             exit 1; }
    wpid=$(bench_worker "$dir/front")

    echo "gateway: signed POST, $rounds rounds of ${secs}s, 1 front worker," \
        "wrk -t1 -c32, $setup"
    bench_compare gateway proxy_pass "$wpid" "http://127.0.0.1:$port/plain/" \
        gateway "$wpid" "http://127.0.0.1:$port/gated/" -s "$dir/event.lua"

    if [ "$setup" = pinned ]; then
        bench_twin "$dir/front" "$port" "$tport" /plain/
        echo
        echo "gateway: signed POST, side by side (bench/common.sh)"
        bench_side gateway proxy_pass /plain/ gateway /gated/ \
            "$wpid" "$port" "$twin_pid" "$tport" -s "$dir/event.lua"
        bench_quit "$dir/front-twin"
    fi

    bench_quit "$dir/front"
    bench_quit "$dir/upstream"
done
