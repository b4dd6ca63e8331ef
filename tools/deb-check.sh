#!/bin/sh
# Checks the Debian package and make install (CI: make deb-check):
#  - the versions in the header, CHANGES and debian/changelog agree;
#  - the package (built by tools/deb.sh, or the .deb given) holds the .so,
#    the snippet, copyright and changelogs where Debian's modules have them;
#  - it depends on the installed nginx's ABI and on the package of every
#    library the .so needs (found with dpkg -S, not read from shlibs);
#  - its maintainer scripts, run against a scratch /etc and /usr, make the
#    modules-enabled link on install, move it away on remove and delete it
#    on purge, and ask for nginx's reload;
#  - the .so is hardened (BIND_NOW, GNU_RELRO, stack protector, FORTIFY);
#  - the unpacked .so, loaded by its own snippet into a private nginx on a
#    loopback port, answers negotiate with a JWT whose HMAC-SHA256 perl
#    computes again from the key;
#  - make install / make uninstall with DESTDIR put the files where each
#    layout expects them and take them away again.
# Usage: tools/deb-check.sh [PACKAGE.deb]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
pkg=libnginx-mod-http-webpubsub
so_name=ngx_http_webpubsub_module.so
nginx=${NGINX:-/usr/sbin/nginx}
passed=0
failed=0

ok()   { echo "ok - $*"; passed=$((passed + 1)); }
fail() { echo "not ok - $*"; failed=$((failed + 1)); }
die()  { echo "deb-check: $*" >&2; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
pidfile="$tmp/prefix/nginx.pid"
cleanup() {
    if [ -f "$pidfile" ]; then
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$top/tools/version.sh" check || fail "version agrees in header, CHANGES, debian/changelog"
version=$("$top/tools/version.sh")

if [ $# -gt 0 ]; then
    deb=$1
else
    deb=$("$top/tools/deb.sh" | tail -n 1)
fi
[ -f "$deb" ] || die "no package $deb"
echo "# $deb"


# contents

dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' > "$tmp/list"
doc=/usr/share/doc/$pkg
for f in /usr/lib/nginx/modules/$so_name \
         /usr/share/nginx/modules-available/mod-http-webpubsub.conf \
         $doc/copyright $doc/changelog.gz $doc/changelog.Debian.gz
do
    if grep -qxF "$f" "$tmp/list"; then ok "contains $f"; else fail "contains $f"; fi
done


# dependencies

depends=$(dpkg-deb -f "$deb" Depends)
echo "# Depends: $depends"
has_dep() {
    printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//; s/ .*//' \
        | grep -qx "$1"
}

abi=$(dpkg-query -W -f='${Provides}\n' nginx 2>/dev/null | tr ',' '\n' \
      | sed -n 's/^ *\(nginx-abi-[^ ]*\).*/\1/p' | head -n 1)
if [ -z "$abi" ]; then
    fail "the installed nginx provides an nginx-abi"
elif has_dep "$abi"; then
    ok "depends on the installed nginx's $abi"
else
    fail "depends on the installed nginx's $abi"
fi

mkdir -p "$tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
so="$tmp/root/usr/lib/nginx/modules/$so_name"

# each library the .so needs, and the package that ships it here
for lib in $(readelf -dW "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
    owner=$(dpkg-query -S "$path" 2>/dev/null | head -n 1 | sed 's/:.*//')
    if [ -z "$owner" ]; then
        owner=$(dpkg-query -S "$(readlink -f "$path")" 2>/dev/null \
                | head -n 1 | sed 's/:.*//')
    fi
    if [ -n "$owner" ] && has_dep "$owner"; then
        ok "needs $lib, depends on $owner"
    else
        fail "needs $lib ($path), depends on its package \"$owner\""
    fi
done


# maintainer scripts, with /etc/nginx and /usr/share/nginx moved into a
# scratch root and a dpkg-trigger that records its call

mkdir -p "$tmp/ctl" "$tmp/sys/etc/nginx/modules-enabled" "$tmp/bin"
dpkg-deb -e "$deb" "$tmp/ctl"
for s in postinst prerm postrm; do
    if [ -f "$tmp/ctl/$s" ]; then
        sed -e "s|/etc/nginx/|$tmp/sys/etc/nginx/|g" \
            -e "s|/usr/share/nginx/|$tmp/sys/usr/share/nginx/|g" \
            "$tmp/ctl/$s" > "$tmp/$s"
    else
        fail "the package has a $s"
        : > "$tmp/$s"
    fi
done
cat > "$tmp/bin/dpkg-trigger" <<EOF
#!/bin/sh
echo "\$*" >> "$tmp/triggers"
EOF
chmod +x "$tmp/bin/dpkg-trigger"

link="$tmp/sys/etc/nginx/modules-enabled/50-mod-http-webpubsub.conf"
target="$tmp/sys/usr/share/nginx/modules-available/mod-http-webpubsub.conf"
run() { PATH="$tmp/bin:$PATH" sh -e "$tmp/$1" "$2" ${3:+"$3"}; }

if run postinst configure && [ "$(readlink "$link")" = "$target" ]; then
    ok "postinst configure links modules-enabled/50-mod-http-webpubsub.conf"
else
    fail "postinst configure links modules-enabled/50-mod-http-webpubsub.conf"
fi
if grep -qx -- '--no-await nginx-reload' "$tmp/triggers" 2>/dev/null; then
    ok "postinst triggers nginx-reload"
else
    fail "postinst triggers nginx-reload"
fi
if run prerm remove && [ ! -e "$link" ] && [ ! -L "$link" ]; then
    ok "prerm remove takes the link away"
else
    fail "prerm remove takes the link away"
fi
run postrm remove || fail "postrm remove"
# an upgrade (postinst with the old version) does not put back a link
# the administrator removed
rm -f "$link" "$link.removed"
if run postinst configure 0.0.1 && [ ! -L "$link" ]; then
    ok "postinst of an upgrade keeps the administrator's choice"
else
    fail "postinst of an upgrade keeps the administrator's choice"
fi
run postinst configure || fail "postinst configure"
run prerm remove || fail "prerm remove"
if run postrm purge && [ -z "$(ls -A "$tmp/sys/etc/nginx/modules-enabled")" ]
then
    ok "postrm purge leaves modules-enabled empty"
else
    fail "postrm purge leaves modules-enabled empty"
fi


# hardening (Debian's hardening=+all)

if readelf -dW "$so" | grep -q 'BIND_NOW\|Flags:.* NOW'; then
    ok "BIND_NOW"; else fail "BIND_NOW"; fi
if readelf -lW "$so" | grep -q GNU_RELRO; then
    ok "GNU_RELRO"; else fail "GNU_RELRO"; fi
if readelf --dyn-syms -W "$so" | grep -q '__stack_chk_fail'; then
    ok "stack protector"; else fail "stack protector"; fi
if readelf --dyn-syms -W "$so" | grep -v __stack_chk | grep -q '__[a-z]*_chk'
then
    ok "FORTIFY_SOURCE (_chk functions)"; else fail "FORTIFY_SOURCE"; fi


# smoke test: the unpacked .so in a private nginx, loaded by the
# package's own snippet ("modules/..." resolves against the prefix)

p="$tmp/prefix"
mkdir -p "$p/conf" "$p/logs"
ln -s "$tmp/root/usr/lib/nginx/modules" "$p/modules"
key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
port=0
started=no
attempt=0
while [ $attempt -lt 10 ]; do
    attempt=$((attempt + 1))
    port=$(( ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ) + 20000 ))
    {
        cat "$tmp/root/usr/share/nginx/modules-available/mod-http-webpubsub.conf"
        cat <<EOF
pid $pidfile;
error_log $p/logs/error.log notice;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $p/body;
    proxy_temp_path $p/proxy;
    fastcgi_temp_path $p/fastcgi;
    uwsgi_temp_path $p/uwsgi;
    scgi_temp_path $p/scgi;
    webpubsub_connection_string
        "Endpoint=http://127.0.0.1;AccessKey=$key;Version=1.0;";
    server {
        listen 127.0.0.1:$port;
        location = /negotiate {
            webpubsub_hub           chat;
            webpubsub_token_user_id alice;
            webpubsub_token;
        }
    }
}
EOF
    } > "$p/conf/nginx.conf"
    if [ $attempt = 1 ]; then
        if "$nginx" -p "$p/" -c "$p/conf/nginx.conf" -t > "$tmp/t.log" 2>&1
        then
            ok "nginx -t with the package's snippet and .so"
        else
            cat "$tmp/t.log"
            fail "nginx -t with the package's snippet and .so"
            break
        fi
    fi
    # a daemon's nginx returns once its sockets are bound and listening
    if "$nginx" -p "$p/" -c "$p/conf/nginx.conf" 2> "$tmp/start.log"; then
        started=yes
        break
    fi
    grep -q 'Address already in use' "$tmp/start.log" || break
done

if [ $started = yes ]; then
    ok "nginx started on 127.0.0.1:$port"
    if curl -sS --max-time 10 -o "$tmp/negotiate.json" \
            "http://127.0.0.1:$port/negotiate"
    then
        # the JWT checked independently: HMAC-SHA256 over header.payload
        # with the key's UTF-8 bytes, then the claims
        if KEY=$key PORT=$port perl -MJSON::PP -MDigest::SHA=hmac_sha256 \
            -MMIME::Base64=encode_base64url,decode_base64url -e '
            local $/; my $j = decode_json(<STDIN>);
            my ($h, $p, $s) = split /\./, $j->{token};
            my $want = encode_base64url(hmac_sha256("$h.$p", $ENV{KEY}));
            $want eq $s or die "signature differs\n";
            my $c = decode_json(decode_base64url($p));
            decode_json(decode_base64url($h))->{alg} eq "HS256"
                or die "alg\n";
            $c->{aud} eq "http://127.0.0.1/client/hubs/chat"
                or die "aud $c->{aud}\n";
            $c->{sub} eq "alice" or die "sub\n";
            $c->{exp} > $c->{iat} && abs($c->{iat} - time) < 300
                or die "iat/exp\n";
            index($j->{url}, "access_token=$j->{token}") > 0
                or die "url\n";
            ' < "$tmp/negotiate.json"
        then
            ok "negotiate's JWT verifies (HMAC-SHA256, aud, sub, exp)"
        else
            fail "negotiate's JWT verifies"
        fi
    else
        fail "GET /negotiate"
    fi
    if grep -q "ngx_http_webpubsub_module/$version" "$p/logs/error.log"
    then
        ok "the loaded module logs version $version"
    else
        fail "the loaded module logs version $version"
    fi
    kill -QUIT "$(cat "$pidfile")" || fail "signal nginx to stop"
    n=0
    while [ -f "$pidfile" ] && [ $n -lt 100 ]; do
        n=$((n + 1))
        sleep 0.1
    done
    if [ -f "$pidfile" ]; then fail "nginx stopped"; else ok "nginx stopped"; fi
else
    cat "$tmp/start.log" >&2
    fail "nginx started"
fi


# make install / uninstall into DESTDIRs, one per layout

check_install() {
    layout=$1 mpath=$2 snippet=$3 link=$4
    d="$tmp/destdir-$layout"
    # Debian's paths are found, the others given
    set --
    if [ "$layout" != debian ]; then
        set -- LAYOUT="$layout" MODULES_PATH="$mpath"
    fi
    make -s -C "$top" install DESTDIR="$d" "$@" > "$tmp/install.log" 2>&1 \
        || { cat "$tmp/install.log"; fail "make install ($layout)"; return; }
    if cmp -s "$top/build/plain/$so_name" "$d$mpath/$so_name"; then
        ok "make install ($layout): $mpath/$so_name"
    else
        fail "make install ($layout): $mpath/$so_name"
    fi
    if [ "$(cat "$d$snippet" 2>/dev/null)" = "load_module $mpath/$so_name;" ]
    then
        ok "make install ($layout): $snippet"
    else
        fail "make install ($layout): $snippet"
    fi
    if [ -n "$link" ]; then
        if [ "$(readlink "$d$link")" = "$snippet" ]; then
            ok "make install ($layout): $link -> $snippet"
        else
            fail "make install ($layout): $link -> $snippet"
        fi
    fi
    make -s -C "$top" uninstall DESTDIR="$d" "$@" > "$tmp/install.log" 2>&1 \
        || fail "make uninstall ($layout)"
    if [ -z "$(find "$d" ! -type d)" ]; then
        ok "make uninstall ($layout) leaves no file"
    else
        fail "make uninstall ($layout) leaves no file"
    fi
}

# the modules path as the installed nginx reports it
mp=$("$nginx" -V 2>&1 | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p')
check_install debian "$mp" \
    /usr/share/nginx/modules-available/mod-http-webpubsub.conf \
    /etc/nginx/modules-enabled/50-mod-http-webpubsub.conf
check_install fedora /usr/lib64/nginx/modules \
    /usr/share/nginx/modules/mod-http-webpubsub.conf ""
check_install alpine /usr/lib/nginx/modules \
    /etc/nginx/modules/http_webpubsub.conf ""


# lintian, where installed: errors fail the check

if command -v lintian > /dev/null 2>&1; then
    if lintian --fail-on error "$deb" > "$tmp/lintian.log" 2>&1; then
        ok "lintian: no error"
    else
        fail "lintian: no error"
    fi
    sed 's/^/# /' "$tmp/lintian.log"
fi

echo "deb-check: $deb"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
