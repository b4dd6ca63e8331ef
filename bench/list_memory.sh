#!/bin/sh
# Memory of list_connections calls that follow many pages: one nginx worker
# and the stand-in service (t/fixtures/limits_service.js) serving a group of
# PAGES pages of one connection each; CALLS such calls at once.  Reports the
# worker's VmRSS before and after, and its VmHWM (peak), from
# /proc/PID/status.  Loopback only; every wait is bounded.
# Usage: bench/list_memory.sh [calls] [pages] [module.so]
set -eu

calls=${1:-30}
pages=${2:-1000}
. "$(dirname "$0")/common.sh"
module=${3:-$module}
dir="$top/build/bench/list_memory"
port=${BENCH_PORT:-18097}
sport=$((port + 1))

command -v curl >/dev/null 2>&1 || bench_tools
[ -f "$module" ] || make -C "$top" build
rm -rf "$dir"
mkdir -p "$dir"
printf '%s\n' "list-memory-key-0123456789" > "$dir/key"
chmod 600 "$dir/key"

cat > "$dir/nginx.conf" <<END
load_module $module;
$(bench_user)
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    webpubsub_endpoint http://127.0.0.1:$sport;
    webpubsub_access_key_file $dir/key;
    webpubsub_hub chat;
    server {
        listen 127.0.0.1:$port;
        webpubsub_rest_pass /_wps/;
        location /_wps/ {
            internal;
            proxy_pass http://127.0.0.1:$sport;
            subrequest_output_buffer_size 64k;
        }
        location = /members {
            webpubsub_rest list_connections group=\$arg_g;
        }
    }
}
END

bench_spawn 600 node "$top/t/fixtures/limits_service.js" "$sport" "$dir/key"
bench_start "$dir"

# the service and nginx answer: a 2-page list
bench_wait "http://127.0.0.1:$port/members?g=pages2"

master=$(cat "$dir/nginx.pid")
worker=$(pgrep -P "$master" | head -1)
[ -n "$worker" ] || { echo "no nginx worker" >&2; exit 1; }

kb() {
    awk -v k="$1:" '$1 == k { print $2 }' "/proc/$worker/status"
}

rss0=$(kb VmRSS)

# the calls at once; only their own pids are waited for (the service is
# a background job too)
cpids=
i=1
while [ $i -le "$calls" ]; do
    timeout 300 curl -s -m 280 -o "$dir/out.$i" -w '%{http_code}\n' \
        "http://127.0.0.1:$port/members?g=pages$pages" > "$dir/code.$i" &
    cpids="$cpids $!"
    i=$((i + 1))
done
for p in $cpids; do
    wait "$p" || true
done

ok=0
i=1
while [ $i -le "$calls" ]; do
    if [ "$(cat "$dir/code.$i")" = 200 ] \
        && [ "$(grep -o connectionId "$dir/out.$i" | wc -l)" = "$pages" ]
    then
        ok=$((ok + 1))
    fi
    i=$((i + 1))
done

rss1=$(kb VmRSS)
hwm=$(kb VmHWM)

echo "list_memory: $calls concurrent list_connections of $pages pages each," \
     "1 worker"
printf '%-28s %10s\n' "complete answers" "$ok/$calls"
printf '%-28s %8s kB\n' "worker VmRSS before" "$rss0"
printf '%-28s %8s kB\n' "worker VmHWM (peak)" "$hwm"
printf '%-28s %8s kB\n' "worker VmRSS after" "$rss1"
printf '%-28s %8s kB\n' "peak over before, per call" \
    "$(( (hwm - rss0) / calls ))"

[ "$ok" = "$calls" ] || { echo "some calls failed, see $dir" >&2; exit 1; }
