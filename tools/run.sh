#!/bin/sh
# make run: the chat demo, all on 127.0.0.1 and with no Azure resource:
# the local Web PubSub emulator (emulator/service.js), the chat app
# (demo/app.js), and Debian's nginx with the module and
# examples/chat.conf in front of both.  Ctrl-C stops everything.
# AUTH=entra: a resource without access keys (examples/chat-entra.conf),
# with a local stand-in of Microsoft Entra ID (emulator/identity.js).
set -eu

module=$1
port=${RUN_PORT:-8080}
service_port=$((port + 1))
app_port=$((port + 2))
idp_port=$((port + 3))
auth=${AUTH:-key}
case $auth in
    key) conf=chat.conf ;;
    entra) conf=chat-entra.conf ;;
    *) echo "run: AUTH must be key or entra" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
dir="$top/build/run"
key="demo-key-not-a-secret"

mkdir -p "$dir"
sed -e "s|127\.0\.0\.1:8080|127.0.0.1:$port|g" \
    -e "s|127\.0\.0\.1:8081|127.0.0.1:$service_port|g" \
    -e "s|127\.0\.0\.1:8082|127.0.0.1:$app_port|g" \
    -e "s|127\.0\.0\.1:8083|127.0.0.1:$idp_port|g" \
    -e "s|__DEMO__|$top/demo|g" \
    "$top/examples/$conf" > "$dir/chat.conf"

user=
[ "$(id -u)" = 0 ] && user="user root;"

cat > "$dir/nginx.conf" <<END
load_module $module;
$user
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log stderr notice;

events { }

http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;

    include $dir/chat.conf;
}
END

nginx=${NGINX:-/usr/sbin/nginx}
"$nginx" -t -q -p "$dir/" -c "$dir/nginx.conf" -e stderr

pids=
stop() {
    trap - INT TERM EXIT
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

if [ "$auth" = entra ]; then
    IDP_PORT=$idp_port node "$top/emulator/identity.js" &
    pids="$pids $!"
    i=0
    until curl -s -o /dev/null "http://127.0.0.1:$idp_port/__ping"; do
        i=$((i + 1))
        if [ $i -ge 100 ]; then
            echo "run: the identity provider did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
    WPS_PORT=$service_port WPS_ENDPOINT="http://127.0.0.1:$service_port" \
    WPS_AUTH=entra WPS_IDP="http://127.0.0.1:$idp_port" \
    WPS_WEBHOOK_AUDIENCE=api://chat-demo-events \
    WPS_EVENT_HANDLER="http://127.0.0.1:$port/eventhandler/" \
        node "$top/emulator/service.js" &
else
    WPS_PORT=$service_port WPS_ENDPOINT="http://127.0.0.1:$service_port" \
    WPS_KEYS=$key WPS_EVENT_HANDLER="http://127.0.0.1:$port/eventhandler/" \
        node "$top/emulator/service.js" &
fi
pids="$pids $!"

APP_PORT=$app_port APP_ANNOUNCE="http://127.0.0.1:$port/internal/announce" \
    node "$top/demo/app.js" &
pids="$pids $!"

"$nginx" -p "$dir/" -c "$dir/nginx.conf" -e stderr &
pids="$pids $!"

# everything answers before the URL is shown (at most 10 s)
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/" \
      && curl -s -o /dev/null "http://127.0.0.1:$service_port/" \
      && curl -s -o /dev/null "http://127.0.0.1:$app_port/"
do
    i=$((i + 1))
    if [ $i -ge 100 ]; then
        echo "run: the demo did not start" >&2
        exit 1
    fi
    sleep 0.1
done

cat <<END

The chat demo is running: nginx with the Web PubSub module, a local Web
PubSub service and a chat app (config: examples/$conf).

Open http://127.0.0.1:$port/ in two browser windows, pick two names, and chat.
Or:  http://127.0.0.1:$port/?name=alice  and  http://127.0.0.1:$port/?name=bob

A token:   curl -s 'http://127.0.0.1:$port/negotiate?name=alice'
Publish:   curl -X POST -H 'Content-Type: application/json' \\
               -d '{"system":"hello from curl"}' http://127.0.0.1:$port/internal/announce

Press Ctrl-C to stop.

END

wait
