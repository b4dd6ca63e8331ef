#!/bin/sh
# Builds the module as a dynamic module against Debian's nginx-dev, the way
# Debian builds its own modules: configure with nginx's conf_flags plus
# --add-dynamic-module, into a build directory outside the source tree.
# Usage: tools/build.sh [plain|asan]
set -eu

flavour=${1:-plain}
top=$(cd "$(dirname "$0")/.." && pwd)
src=${NGINX_SRC:-/usr/share/nginx/src}
objs="$top/build/$flavour"

case $flavour in
plain)
    cc_opt="-g -O2 -fPIC"
    ld_opt="-fPIC"
    ;;
asan)
    cc_opt="-g -O1 -fPIC -fno-omit-frame-pointer"
    cc_opt="$cc_opt -fsanitize=address,undefined"
    cc_opt="$cc_opt -fno-sanitize-recover=undefined"
    ld_opt="-fPIC -fsanitize=address,undefined"
    ;;
*)
    echo "usage: $0 [plain|asan]" >&2
    exit 2
    ;;
esac

if [ ! -f "$src/conf_flags" ]; then
    echo "build: $src/conf_flags not found; install nginx-dev" >&2
    exit 1
fi

# reconfigure when the addon script or the compiler flags change
stamp="$objs/.configured"
want="$cc_opt|$ld_opt|$(cksum < "$top/config")"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    mkdir -p "$objs"
    (
        cd "$src"
        # conf_flags defines the NGX_CONF_FLAGS array, so it needs bash
        bash -c '. ./conf_flags && exec ./configure "${NGX_CONF_FLAGS[@]}" "$@"' \
            configure --with-cc-opt="$cc_opt" --with-ld-opt="$ld_opt" \
            --add-dynamic-module="$top" --builddir="$objs"
    ) > "$objs/configure.log" 2>&1 || {
        tail -20 "$objs/configure.log" >&2
        echo "build: configure failed, see $objs/configure.log" >&2
        exit 1
    }
    echo "$want" > "$stamp"
fi

cd "$src"
make -s -f "$objs/Makefile" modules
echo "build: $objs/ngx_http_webpubsub_module.so"
