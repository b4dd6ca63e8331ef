#!/bin/sh
# The module's version, read from NGX_HTTP_WEBPUBSUB_VERSION in
# ngx_webpubsub_module/ngx_http_webpubsub_module.h, the one place it is set.
# Usage: tools/version.sh          prints it
#        tools/version.sh check    fails unless CHANGES' and
#                                  debian/changelog's newest entries name it
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
h="$top/ngx_webpubsub_module/ngx_http_webpubsub_module.h"

v=$(sed -n 's/^#define[ 	]*NGX_HTTP_WEBPUBSUB_VERSION[ 	]*"\([^"]*\)".*/\1/p' "$h")

case $v in
[0-9]*.[0-9]*.[0-9]*) ;;
*)
    echo "version: no NGX_HTTP_WEBPUBSUB_VERSION \"x.y.z\" in $h" >&2
    exit 1
    ;;
esac

if [ "${1:-}" != check ]; then
    echo "$v"
    exit 0
fi

# the first "Changes with ngx_webpubsub_module X" line of CHANGES
changes=$(sed -n 's/^Changes with ngx_webpubsub_module \([^ ]*\) .*/\1/p' \
          "$top/CHANGES" | head -n 1)

# the first line of debian/changelog: "source (X) distribution; ..."
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top/debian/changelog")

rc=0
if [ "$changes" != "$v" ]; then
    echo "version: CHANGES' newest entry is \"$changes\", the macro \"$v\"" >&2
    rc=1
fi
if [ "$deb" != "$v" ]; then
    echo "version: debian/changelog's newest entry is \"$deb\"," \
         "the macro \"$v\"" >&2
    rc=1
fi
[ $rc = 0 ] && echo "version: $v in the header, CHANGES and debian/changelog"
exit $rc
