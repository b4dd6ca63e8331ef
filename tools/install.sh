#!/bin/sh
# Installs the module into the nginx installed on this machine, or removes
# it: the .so goes where that nginx looks for modules (its --modules-path,
# or PREFIX/modules), and a one-line load_module snippet goes where the
# distribution's nginx.conf includes such snippets:
#
#   debian  /usr/share/nginx/modules-available/mod-http-webpubsub.conf and
#           the link /etc/nginx/modules-enabled/50-mod-http-webpubsub.conf,
#           as Debian's libnginx-mod-* packages lay them out
#   fedora  /usr/share/nginx/modules/mod-http-webpubsub.conf (Fedora, RHEL
#           and their rebuilds)
#   alpine  /etc/nginx/modules/http_webpubsub.conf
#   none    no snippet: add the load_module line printed at the end
#
# Usage: tools/install.sh install MODULE.so
#        tools/install.sh uninstall
# Settings, from the environment (make passes its command line's):
#   DESTDIR        staging root, prepended to every path written
#   NGINX          the nginx binary asked for its paths (nginx)
#   MODULES_PATH   where the .so goes (from "$NGINX -V")
#   LAYOUT         debian, fedora, alpine or none (from /etc/os-release)
#   SNIPPET_DIR    where the snippet goes (empty: no snippet)
#   SNIPPET_NAME   its file name
#   ENABLED_DIR    where the link to it goes (empty: no link)
#   ENABLED_NAME   the link's name
set -eu

action=${1:-}
so_name=ngx_http_webpubsub_module.so
DESTDIR=${DESTDIR:-}
NGINX=${NGINX:-nginx}

case $action in
install)
    module=${2:-}
    if [ ! -f "$module" ]; then
        echo "install: no module \"$module\" (make build first)" >&2
        exit 2
    fi
    ;;
uninstall) ;;
*)
    echo "usage: $0 install MODULE.so | uninstall" >&2
    exit 2
    ;;
esac

# the modules path the installed nginx was configured with
if [ -z "${MODULES_PATH:-}" ]; then
    if ! v=$("$NGINX" -V 2>&1); then
        echo "install: \"$NGINX -V\" failed; set NGINX=/path/to/nginx" \
             "or MODULES_PATH=..." >&2
        exit 1
    fi
    MODULES_PATH=$(printf '%s\n' "$v" \
        | sed -n "s/.*--modules-path=[\"']\{0,1\}\([^ \"']*\).*/\1/p")
    if [ -z "$MODULES_PATH" ]; then
        prefix=$(printf '%s\n' "$v" \
            | sed -n "s/.*--prefix=[\"']\{0,1\}\([^ \"']*\).*/\1/p")
        MODULES_PATH=${prefix:-/usr/local/nginx}/modules
    fi
fi

# the distribution, for where its nginx.conf includes module snippets
if [ -z "${LAYOUT:-}" ]; then
    LAYOUT=none
    if [ -r /etc/os-release ]; then
        ids=$(. /etc/os-release && echo "${ID:-} ${ID_LIKE:-}")
        for id in $ids; do
            case $id in
            debian|ubuntu) LAYOUT=debian; break ;;
            fedora|rhel|centos) LAYOUT=fedora; break ;;
            alpine) LAYOUT=alpine; break ;;
            esac
        done
    fi
fi

case $LAYOUT in
debian)
    : "${SNIPPET_DIR=/usr/share/nginx/modules-available}"
    : "${SNIPPET_NAME=mod-http-webpubsub.conf}"
    : "${ENABLED_DIR=/etc/nginx/modules-enabled}"
    : "${ENABLED_NAME=50-mod-http-webpubsub.conf}"
    ;;
fedora)
    : "${SNIPPET_DIR=/usr/share/nginx/modules}"
    : "${SNIPPET_NAME=mod-http-webpubsub.conf}"
    ;;
alpine)
    : "${SNIPPET_DIR=/etc/nginx/modules}"
    : "${SNIPPET_NAME=http_webpubsub.conf}"
    ;;
none) ;;
*)
    echo "install: LAYOUT is debian, fedora, alpine or none" >&2
    exit 2
    ;;
esac

SNIPPET_DIR=${SNIPPET_DIR:-}
SNIPPET_NAME=${SNIPPET_NAME:-mod-http-webpubsub.conf}
ENABLED_DIR=${ENABLED_DIR:-}
ENABLED_NAME=${ENABLED_NAME:-50-$SNIPPET_NAME}

so="$MODULES_PATH/$so_name"
snippet="$SNIPPET_DIR/$SNIPPET_NAME"
link="$ENABLED_DIR/$ENABLED_NAME"

# files of a package are the package manager's: install the package's
# update, or remove the package first
if [ -z "$DESTDIR" ] && command -v dpkg-query >/dev/null 2>&1; then
    for f in "$so" "$snippet"; do
        if owner=$(dpkg-query -S "$f" 2>/dev/null); then
            echo "install: $f belongs to ${owner%%:*};" \
                 "remove that package first" >&2
            exit 1
        fi
    done
fi

if [ "$action" = uninstall ]; then
    if [ -n "$ENABLED_DIR" ] && [ -L "$DESTDIR$link" ]; then
        rm -f "$DESTDIR$link"
        echo "install: removed $DESTDIR$link"
    fi
    # one at a time: DESTDIR may hold spaces
    remove() {
        if [ -f "$1" ]; then
            rm -f "$1"
            echo "install: removed $1"
        fi
    }
    [ -n "$SNIPPET_DIR" ] && remove "$DESTDIR$snippet"
    remove "$DESTDIR$so"
    exit 0
fi

mkdir -p "$DESTDIR$MODULES_PATH"
# a new inode, so that a running nginx keeps the file it mapped
trap 'rm -f "$DESTDIR$so.new"' EXIT
cp "$module" "$DESTDIR$so.new"
chmod 644 "$DESTDIR$so.new"
mv -f "$DESTDIR$so.new" "$DESTDIR$so"
trap - EXIT
echo "install: $DESTDIR$so"

line="load_module $so;"

if [ -z "$SNIPPET_DIR" ]; then
    echo "install: no snippet for this system; add to nginx.conf," \
         "before the events block:"
    echo "    $line"
    exit 0
fi

mkdir -p "$DESTDIR$SNIPPET_DIR"
echo "$line" > "$DESTDIR$snippet"
chmod 644 "$DESTDIR$snippet"
echo "install: $DESTDIR$snippet"

if [ -n "$ENABLED_DIR" ]; then
    mkdir -p "$DESTDIR$ENABLED_DIR"
    ln -sf "$snippet" "$DESTDIR$link"
    echo "install: $DESTDIR$link -> $snippet"
fi

if [ -z "$DESTDIR" ]; then
    echo "install: check and reload: $NGINX -t && $NGINX -s reload"
fi
