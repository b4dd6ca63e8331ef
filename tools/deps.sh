#!/bin/sh
# Installs what building, running the demo and testing need, only where it
# is missing: Debian packages, then the npm packages locked in
# emulator/package-lock.json (the local Web PubSub emulator),
# demo/package-lock.json (the chat app) and t/package-lock.json (the tests).
# Usage: tools/deps.sh [build|run|test|fuzz|bench|deb|compat]
set -eu

need=${1:-test}
top=$(cd "$(dirname "$0")/.." && pwd)

pkgs="nginx nginx-dev libjansson-dev libssl-dev gcc make perl"
if [ "$need" = fuzz ]; then
    pkgs="$pkgs clang libclang-rt-dev"
fi
if [ "$need" = compat ]; then
    # nginx releases built from source (tools/compat.sh): PCRE1 for those
    # before 1.21.5, zlib for gzip, OpenSSL for ssl
    pkgs="$pkgs libpcre3-dev libpcre2-dev zlib1g-dev libssl-dev"
fi
if [ "$need" = bench ]; then
    # load generator, njs for the njs negotiate handler, the chart
    pkgs="$pkgs wrk apache2-utils curl bc valgrind libnginx-mod-http-js gnuplot-nox"
fi
if [ "$need" = deb ]; then
    # the package's build (debhelper, dh_nginx from nginx-dev) and check
    pkgs="$pkgs dpkg-dev debhelper fakeroot binutils curl"
fi
if [ "$need" = run ] || [ "$need" = test ] || [ "$need" = bench ]; then
    pkgs="$pkgs curl"
    command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
    command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
fi
if [ "$need" = test ]; then
    # the browser test drives Debian's Chromium
    pkgs="$pkgs valgrind chromium fonts-dejavu-core"
fi

missing=
for p in $pkgs; do
    case $p in
    nodejs|npm) missing="$missing $p"; continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    if [ "$(id -u)" != 0 ]; then
        echo "deps: run as root (or install:$missing)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

# nginx starts itself on port 80 when installed; the tests need no service
if [ -n "$missing" ] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop nginx >/dev/null 2>&1 || true
fi

# npm ci in a folder, unless its lock file is what is installed there
npm_ci() {
    cd "$top/$1"
    if [ ! -f node_modules/.package-lock.json ] \
       || ! cmp -s package-lock.json node_modules/.lock-installed 2>/dev/null
    then
        npm ci --no-audit --no-fund --loglevel=error
        cp package-lock.json node_modules/.lock-installed
    fi
}

if [ "$need" = run ] || [ "$need" = test ] || [ "$need" = bench ]; then
    npm_ci emulator
fi

if [ "$need" = run ] || [ "$need" = test ]; then
    npm_ci demo
fi

if [ "$need" = test ] || [ "$need" = bench ]; then
    npm_ci t
fi
