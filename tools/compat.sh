#!/usr/bin/env bash
# The compatibility matrix: builds nginx releases (and nginx forks) from
# their source tarballs, each with the module as a dynamic module, and runs
# the whole suite against each (docs/compatibility.md).
#
# Usage: tools/compat.sh [--download VERSION]... [SRC_DIR [NAME...]]
#
#   SRC_DIR             a folder of source tarballs NAME.tar.gz; its
#                       SHA256SUMS, when there is one, must list and match
#                       every tarball used
#   NAME                only these releases (default: every tarball there)
#   --download VERSION  also nginx-VERSION.tar.gz from nginx.org (needs the
#                       network; kept in build/compat/download/)
#
# Environment:
#   COMPAT_BUILTIN  the release also built with the module built in
#                   (--add-module) and tested with TEST_NGINX_MODULE=builtin,
#                   as "NAME+builtin"; default the newest nginx-*; "none"
#   COMPAT_TRIM     test files (e.g. "e2e_browser.t e2e_browser_entra.t")
#                   left out everywhere but on COMPAT_FULL; each left out
#                   file is named and counted as trimmed in the summary
#   COMPAT_FULL     the release that runs every file (default: the newest
#                   nginx-*)
#   COMPAT_JOBS     make -j while no suite runs (default: nproc)
#
# Per release, in build/compat/NAME/: src/ (the unpacked tree), objs/ (its
# build: nginx, or angie, and the module), configure.log, make.log,
# prove.log.  The next release builds while the suite of the previous one
# runs.  One line per release: PASS or FAIL, files, tests, build and suite
# seconds; the exit status is non-zero if any failed.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/compat"
jobs=${COMPAT_JOBS:-$(nproc)}

usage() {
    echo "usage: $0 [--download VERSION]... [SRC_DIR [NAME...]]" >&2
    exit 2
}

downloads=
while [ $# -gt 0 ]; do
    case $1 in
    --download)
        [ $# -ge 2 ] || usage
        case $2 in
        *[!0-9.]*|'') echo "compat: bad version \"$2\"" >&2; exit 2 ;;
        esac
        downloads="$downloads $2"
        shift 2
        ;;
    -*) usage ;;
    *) break ;;
    esac
done

src_dir=${1:-}
[ $# -gt 0 ] && shift
[ -n "$src_dir" ] || [ -n "$downloads" ] || usage

if [ -n "$src_dir" ] && [ ! -d "$src_dir" ]; then
    echo "compat: no such folder: $src_dir" >&2
    exit 1
fi

mkdir -p "$out"

# tarball paths by release name
declare -A tarball

for v in $downloads; do
    mkdir -p "$out/download"
    f="$out/download/nginx-$v.tar.gz"
    if [ ! -s "$f" ]; then
        echo "compat: downloading nginx-$v.tar.gz from nginx.org"
        curl -fsSL --max-time 300 -o "$f.part" \
            "https://nginx.org/download/nginx-$v.tar.gz" \
            && mv "$f.part" "$f" \
            || { rm -f "$f.part"; echo "compat: download of $v failed" >&2;
                 exit 1; }
    fi
    tarball[nginx-$v]=$f
done

if [ -n "$src_dir" ]; then
    src_dir=$(cd "$src_dir" && pwd)
    if [ $# -gt 0 ]; then
        for name in "$@"; do
            name=${name%.tar.gz}
            [ -f "$src_dir/$name.tar.gz" ] || {
                echo "compat: no $name.tar.gz in $src_dir" >&2; exit 1; }
            tarball[$name]=$src_dir/$name.tar.gz
        done
    else
        for f in "$src_dir"/*.tar.gz; do
            [ -f "$f" ] || continue
            name=$(basename "$f" .tar.gz)
            tarball[$name]=$f
        done
    fi
fi

if [ ${#tarball[@]} -eq 0 ]; then
    echo "compat: no tarballs in $src_dir" >&2
    exit 1
fi

# nginx itself first, oldest first, then the forks
names=$( { printf '%s\n' "${!tarball[@]}" | grep '^nginx-' | sort -V
           printf '%s\n' "${!tarball[@]}" | grep -v '^nginx-' | sort -V; } )
newest=$(printf '%s\n' $names | grep '^nginx-' | tail -1)

builtin=${COMPAT_BUILTIN:-$newest}
full=${COMPAT_FULL:-$newest}
trim=${COMPAT_TRIM:-}

for f in $trim; do
    [ -f "$top/t/$f" ] || { echo "compat: COMPAT_TRIM: no t/$f" >&2; exit 2; }
done

# the runs: every release with the module loaded, one with it built in
runs=
for name in $names; do
    runs="$runs $name"
    [ "$name" = "$builtin" ] && runs="$runs $name+builtin"
done

if [ "$builtin" != none ] && [ -z "${tarball[$builtin]:-}" ]; then
    echo "compat: COMPAT_BUILTIN=$builtin is not among the releases" >&2
    exit 2
fi


verify() {
    local name=$1 f=${tarball[$1]} sums want have

    sums=$(dirname "$f")/SHA256SUMS
    [ -f "$sums" ] || return 0

    want=$(awk -v n="$name.tar.gz" '$2 == n || $2 == "*" n { print $1 }' \
           "$sums")
    have=$(sha256sum "$f" | cut -d' ' -f1)

    if [ -z "$want" ]; then
        echo "$name.tar.gz is not in $sums"
        return 1
    fi
    if [ "$want" != "$have" ]; then
        echo "$name.tar.gz does not match $sums"
        return 1
    fi
}

# build RUN: unpack, configure and make; writes RUN's objs and logs
build() {
    local run=$1 name=${1%+builtin} j=$2 dir objs log start rc

    dir="$out/$name"
    if [ "$run" = "$name" ]; then
        objs="$dir/objs"; log=
    else
        objs="$dir/objs-builtin"; log=-builtin
    fi

    mkdir -p "$dir"
    start=$(date +%s)
    build_steps "$run" "$j" "$dir" "$objs" "$log"
    rc=$?
    mkdir -p "$objs"
    echo $(( $(date +%s) - start )) > "$objs/.build-seconds"
    echo $rc > "$objs/.build-status"
    return $rc
}

build_steps() {
    local run=$1 name=${1%+builtin} j=$2 dir=$3 objs=$4 log=$5 cfg cc_opt
    local add

    add="--add-module=$top"

    if [ "$run" = "$name" ]; then
        add="--add-dynamic-module=$top"
        verify "$name" > "$dir/verify.log" 2>&1 || return 1
        rm -rf "$dir/src"
        mkdir -p "$dir/src"
        tar xzf "${tarball[$name]}" -C "$dir/src" --strip-components=1 \
            || return 1
    fi

    rm -rf "$objs"

    # nginx.org's tarballs have ./configure, its repository auto/configure
    if [ -x "$dir/src/configure" ]; then
        cfg=./configure
    else
        cfg=auto/configure
    fi

    # nginx without OPENSSL_SUPPRESS_DEPRECATED (1.18.0, 1.21.0) warns,
    # with -Werror, about OpenSSL 3's deprecated calls
    cc_opt="-g -O2"
    grep -q OPENSSL_SUPPRESS_DEPRECATED \
        "$dir/src/src/event/ngx_event_openssl.h" 2>/dev/null \
        || cc_opt="$cc_opt -Wno-error=deprecated-declarations"

    # a relative error log path: what nginx logs before it has read its
    # configuration goes under the -p prefix (the harness has no -e
    # before nginx 1.19.5)
    (
        cd "$dir/src" &&
        $cfg --builddir="$objs" --with-compat --with-http_ssl_module \
            --error-log-path=logs/error.log --with-cc-opt="$cc_opt" "$add"
    ) > "$dir/configure$log.log" 2>&1 || return 1

    (cd "$dir/src" && make -j"$j" -f "$objs/Makefile") \
        > "$dir/make$log.log" 2>&1
}

# the binary of a build: nginx, or the fork's own name
binary() {
    local b
    for b in nginx angie openresty; do
        [ -x "$1/$b" ] && { echo "$1/$b"; return 0; }
    done
    return 1
}

# suite RUN: prove over the suite against RUN's build; prints the line
suite() {
    local run=$1 name=${1%+builtin} dir objs bin mod log files start secs
    local bsecs summary n_files n_tests trimmed=0 t rc

    dir="$out/$name"
    if [ "$run" = "$name" ]; then
        objs="$dir/objs"; log="prove.log"
    else
        objs="$dir/objs-builtin"; log="prove-builtin.log"
    fi

    bsecs=$(cat "$objs/.build-seconds" 2>/dev/null || echo '?')

    # a binary may be there while the module failed to build
    if [ "$(cat "$objs/.build-status" 2>/dev/null)" != 0 ] \
       || ! bin=$(binary "$objs")
    then
        printf '%-4s %-28s build failed after %ss, see %s\n' FAIL "$run" \
            "$bsecs" "${dir#$top/}/"
        return 1
    fi

    if [ "$run" = "$name" ]; then
        mod="$objs/ngx_http_webpubsub_module.so"
    else
        mod=builtin
    fi

    files=
    if [ -n "$trim" ] && [ "$name" != "$full" ]; then
        for t in "$top"/t/*.t; do
            case " $trim " in
            *" $(basename "$t") "*)
                echo "compat: $run: $(basename "$t") trimmed (COMPAT_TRIM)," \
                    "run on $full only" >&2
                trimmed=$((trimmed + 1))
                ;;
            *) files="$files t/$(basename "$t")" ;;
            esac
        done
    fi

    start=$(date +%s)
    (
        cd "$top" &&
        TEST_NGINX_BINARY="$bin" TEST_NGINX_MODULE="$mod" \
            prove -j2 -r ${files:-t/}
    ) > "$dir/$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))

    summary=$(grep '^Files=' "$dir/$log" | tail -1)
    n_files=$(echo "$summary" | sed -n 's/^Files=\([0-9]*\),.*/\1/p')
    n_tests=$(echo "$summary" | sed -n 's/.* Tests=\([0-9]*\),.*/\1/p')

    printf '%-4s %-28s files %3s tests %5s trimmed %s build %4ss suite %4ss\n' \
        "$([ $rc -eq 0 ] && echo PASS || echo FAIL)" "$run" \
        "${n_files:-?}" "${n_tests:-?}" "$trimmed" "$bsecs" "$secs"

    [ $rc -eq 0 ] || { grep -E '^t/.*(Wstat|Failed)' "$dir/$log" | head -5 \
                           | sed 's/^/     /'; return 1; }
}


started=$(date +%s)
failed=0
set -- $runs

# the first build alone on every core; then build N+1 on one core while
# the suite of N runs on two
build "$1" "$jobs"
while [ $# -gt 0 ]; do
    run=$1
    shift
    pid=
    if [ $# -gt 0 ]; then
        build "$1" 1 &
        pid=$!
    fi
    suite "$run" || failed=$((failed + 1))
    [ -n "$pid" ] && wait "$pid"
done

echo "compat: $(echo $runs | wc -w) runs, $failed failed," \
     "$(( $(date +%s) - started ))s in all; logs in ${out#$top/}/"

[ $failed -eq 0 ]
