#!/bin/sh
# Builds the Debian package libnginx-mod-http-webpubsub with Debian's own
# machinery (debhelper, the nginx_mod build system and dh_nginx from
# nginx-dev; debian/ holds the packaging) from a copy of the tree in
# build/deb/, so that no build product lands in the checkout, and prints
# the .deb's path on its last line.  The package fits the installed
# nginx-dev's nginx only (it depends on that nginx's ABI).
# The source format is "3.0 (native)": debian/ lives in the module's own
# repository and the package's version is the module's, with no Debian
# revision; "3.0 (quilt)" is for packaging kept apart from an upstream
# tarball, with patches, which this project has neither of.
# Usage: tools/deb.sh
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/deb"

"$top/tools/version.sh" check
version=$("$top/tools/version.sh")
pkg=libnginx-mod-http-webpubsub
src="$out/$pkg-$version"

# what the package is built from; the rest (tests, demo, emulator) is not
# part of it
files="config CHANGES LICENSE README.md debian docs examples
       ngx_webpubsub_module"

rm -rf "$out"
mkdir -p "$src"
(cd "$top" && tar -cf - $files) | (cd "$src" && tar -xf -)

log="$out/build.log"
(cd "$src" && dpkg-buildpackage -b -us -uc) > "$log" 2>&1 || {
    tail -30 "$log" >&2
    echo "deb: dpkg-buildpackage failed, see $log" >&2
    exit 1
}

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="$out/${pkg}_${version}_$arch.deb"
if [ ! -f "$deb" ]; then
    echo "deb: $deb was not built, see $log" >&2
    exit 1
fi
echo "$deb"
