#!/bin/sh
# Microsoft Entra ID, in one run: (1) REST with the cached Entra token
# against REST with an access key, same call, same stand-in; (2) negotiate
# through the service's :generateToken against the official SDK doing the
# same with a credential (Node, @azure/web-pubsub getClientAccessToken).
# The stand-in is an nginx of its own: it answers the REST call with 202,
# :generateToken with a fixed token (over HTTPS, which the SDK insists on
# for Bearer tokens), and the identity endpoint (IMDS) with a token valid
# for hours, so that what is measured is the caller's side, with the CPU
# time per request of the front worker.  Unpinned only (the setup of
# bench/common.sh that every process runs where the scheduler puts it).
# Usage: bench/entra.sh [seconds-per-run] [rounds]
set -eu

secs=${1:-5}
rounds=${2:-3}
. "$(dirname "$0")/common.sh"
dir="$top/build/bench/entra"
port=${BENCH_PORT:-18097}
sport=$((port + 1))         # stand-in, http
tport=$((port + 2))         # stand-in, https
key="bench-key-0123456789abcdef"

bench_tools
[ -d "$top/t/node_modules/@azure/web-pubsub" ] || "$top/tools/deps.sh" test
mkdir -p "$dir/front" "$dir/service"

# a certificate for 127.0.0.1, made for this run
if [ ! -f "$dir/service/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$dir/service/key.pem" -out "$dir/service/cert.pem" \
        2>/dev/null
fi

exp=$(( $(date +%s) + 6 * 3600 ))
jwt="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS1zZXJ2aWNl"

cat > "$dir/service/nginx.conf" <<END
$(bench_user)
worker_processes 1;
pid $dir/service/nginx.pid;
error_log $dir/service/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$sport;
        listen 127.0.0.1:$tport ssl;
        ssl_certificate $dir/service/cert.pem;
        ssl_certificate_key $dir/service/key.pem;
        default_type application/json;
        location /api/hubs/chat/:generateToken {
            return 200 '{"token":"$jwt"}';
        }
        location /api/ { return 202; }
        location /metadata/identity/oauth2/token {
            return 200 '{"access_token":"bench.entra.token","expires_on":"$exp","resource":"https://webpubsub.azure.com","token_type":"Bearer"}';
        }
    }
}
END

front_common() {
    cat <<END
    upstream service { server 127.0.0.1:$sport; keepalive 64; }
    upstream service_tls { server 127.0.0.1:$tport; keepalive 64; }
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_ssl_session_reuse on;
END
}

cat > "$dir/front/nginx.conf" <<END
load_module $module;
$(bench_user)
worker_processes 1;
pid $dir/front/nginx.pid;
error_log $dir/front/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
$(front_common)
    webpubsub_hub chat;
    server {
        listen 127.0.0.1:$port;
        keepalive_requests 1000000;
        location = /rest-key {
            webpubsub_endpoint http://127.0.0.1:$sport;
            webpubsub_access_key $key;
            webpubsub_rest_pass /_wps;
            webpubsub_rest send_to_all;
        }
        location = /rest-entra {
            webpubsub_endpoint http://127.0.0.1:$sport;
            webpubsub_credential managed_identity;
            webpubsub_credential_pass /_identity;
            webpubsub_rest_pass /_wps;
            webpubsub_rest send_to_all;
        }
        location = /negotiate-entra {
            webpubsub_endpoint https://127.0.0.1:$tport;
            webpubsub_credential managed_identity;
            webpubsub_credential_pass /_identity;
            webpubsub_rest_pass /_wps_tls;
            webpubsub_token_user_id \$arg_id;
            webpubsub_token_roles webpubsub.joinLeaveGroup.lobby;
            webpubsub_token_groups lobby;
            webpubsub_token;
        }
        location = /_wps { internal; proxy_pass http://service; }
        location = /_wps_tls { internal; proxy_pass https://service_tls; }
        location = /_identity { internal; proxy_pass http://service; }
    }
}
END

cat > "$dir/send.lua" <<END
wrk.method = "POST"
wrk.body = "Hello"
wrk.headers["Content-Type"] = "text/plain"
END

bench_start "$dir/service" helper
bench_start "$dir/front"
bench_wait -X POST -H 'Content-Type: text/plain' -d Hello \
    "http://127.0.0.1:$port/rest-key"
bench_wait -X POST -H 'Content-Type: text/plain' -d Hello \
    "http://127.0.0.1:$port/rest-entra"
curl -sf "http://127.0.0.1:$port/negotiate-entra?id=alice" \
    | grep -q "\"token\":\"$jwt\",\"baseUrl\":\"wss://127.0.0.1:$tport/client/hubs/chat\"" \
    || { echo "bench/entra.sh: negotiate did not answer the service's token" >&2; exit 1; }
wpid=$(bench_worker "$dir/front")

echo "entra: send_to_all, $rounds rounds of ${secs}s, 1 front worker," \
    "wrk -t1 -c32"
bench_compare entra access_key "$wpid" "http://127.0.0.1:$port/rest-key" \
    entra_token "$wpid" "http://127.0.0.1:$port/rest-entra" \
    -s "$dir/send.lua"

echo
echo "entra: negotiate via :generateToken, the SDK (Node, 32 in flight) and the module"
bench_acc_reset
printf '%-6s %12s %8s %12s %8s %7s   (%s)\n' round sdk us/req \
    webpubsub_token us/req ratio "$setup"
r=1
while [ $r -le "$rounds" ]; do
    # the SDK's calls per second only: no CPU time of its process
    sdk=$(NODE_PATH="$top/t/node_modules" \
        NODE_EXTRA_CA_CERTS="$dir/service/cert.pem" timeout $((secs + 30)) \
        node "$top/bench/sdk_negotiate_entra.js" \
        "https://127.0.0.1:$tport" "$secs" 32)
    m=$(bench_run "$wpid" "http://127.0.0.1:$port/negotiate-entra?id=alice")
    bench_acc b "$sdk" 0 -
    bench_acc m $m
    bench_row "$r" "$sdk" 0 - $m
    r=$((r + 1))
done
bench_all entra/sdk
