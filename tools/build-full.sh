#!/bin/sh
# Builds a whole nginx, the module built in, with AddressSanitizer and
# UBSan, from the source of the very nginx Debian installed: the module
# alone under ASan (tools/build.sh asan) cannot see nginx's pool memory.
# NGX_DEBUG_PALLOC makes every pool allocation a malloc() of its own, so
# that an overrun of one is caught.  Output: build/asan-full/nginx
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/build/nginx-src"
objs="$top/build/asan-full"

# the source package needs a deb-src line; derive it from the system's
# own deb822 sources, never from a host name of our own
if ! apt-get source --print-uris nginx >/dev/null 2>&1; then
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        grep -q '^Types:.*deb-src' "$f" && continue
        sed 's/^Types:.*/Types: deb-src/' "$f" \
            > "/etc/apt/sources.list.d/webpubsub-src-$(basename "$f")"
    done
    apt-get update -qq
fi

version=$(dpkg-query -W -f='${Version}' nginx | sed 's/-.*//')

if [ ! -f "$src/nginx-$version/configure" ]; then
    rm -rf "$src"
    mkdir -p "$src"
    # only the upstream tarball is needed; Debian's patches may be missing
    # from the mirror for a security update, which is no matter here
    (cd "$src" && { apt-get source --download-only -qq nginx \
                        >/dev/null 2>&1 || true; } \
     && tar xzf nginx_"$version".orig.tar.gz) \
        || { echo "build-full: no nginx $version source" >&2; exit 1; }
fi

stamp="$objs/.configured"
want="$version|$(cksum < "$top/config")"

cd "$src/nginx-$version"

mkdir -p "$objs"

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    ./configure --with-debug --with-pcre --with-http_ssl_module \
        --without-http_gzip_module --add-module="$top" --builddir="$objs" \
        --with-cc-opt="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -DNGX_DEBUG_PALLOC=1" \
        --with-ld-opt="-fsanitize=address,undefined" > "$objs.configure.log" 2>&1 \
        || { cat "$objs.configure.log"; exit 1; }
    echo "$want" > "$stamp"
fi

make -j"$(nproc)" -f "$objs/Makefile" > "$objs.make.log" 2>&1 \
    || { tail -30 "$objs.make.log"; exit 1; }

echo "build-full: $objs/nginx"
