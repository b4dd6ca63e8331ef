#!/bin/sh
# make run: Debian's nginx, in the foreground, with the module and the
# example negotiate configuration, on 127.0.0.1.  Ctrl-C stops it.
set -eu

module=$1
port=${RUN_PORT:-8080}
top=$(cd "$(dirname "$0")/.." && pwd)
dir="$top/build/run"

mkdir -p "$dir"
sed "s/127\.0\.0\.1:8080/127.0.0.1:$port/" "$top/examples/negotiate.conf" \
    > "$dir/negotiate.conf"

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
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;

    include $dir/negotiate.conf;
}
END

nginx=${NGINX:-/usr/sbin/nginx}
"$nginx" -t -q -p "$dir/" -c "$dir/nginx.conf" -e stderr

cat <<END

nginx is serving the Web PubSub negotiate endpoint (config: examples/negotiate.conf).
Try it:

    curl -s 'http://127.0.0.1:$port/negotiate?id=alice'

Socket.IO shape:  curl -s 'http://127.0.0.1:$port/negotiate/socketio?id=alice'
Client URL only:  curl -s 'http://127.0.0.1:$port/connect-url?id=alice'

Press Ctrl-C to stop.

END

# nginx gets Ctrl-C's SIGINT itself and shuts down cleanly
exec "$nginx" -p "$dir/" -c "$dir/nginx.conf" -e stderr
