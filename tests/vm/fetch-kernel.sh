#!/bin/sh
# fetch-kernel.sh CACHE_DIR: puts the real-kernel lab's second kernel into CACHE_DIR.
#
# Owns the lab's kernel cache. With `apt-get download` only (no other download, no other source)
# it fetches the kernel image package that Debian's `linux-image-amd64` depends on (resolved with
# apt-cache), plus the matching linux-headers-<abi>-amd64, linux-headers-<abi>-common and
# linux-kbuild-* packages (for building out-of-tree modules against that kernel), extracts them
# all with `dpkg-deb -x` into one tree CACHE_DIR/<release>/ (release = the guest's `uname -r`,
# e.g. 6.1.0-57-amd64), runs `depmod -b` on it, writes CACHE_DIR/<release>/.stamp and points
# CACHE_DIR/current at the release. Idempotent: when the stamped tree is there it only says so.
#
# Run as root (`scripts/install-deps.sh --test` does), from any directory; CACHE_DIR may be
# relative to the caller's directory. Exit status 0 when the tree is ready, nonzero otherwise.
set -eu

PROG=fetch-kernel
META=linux-image-amd64

die() {
    echo "$PROG: $*" >&2
    exit 1
}

note() {
    echo "$PROG: $*"
}

need_tool() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"
}

# The value of one field of the candidate version of a package, from apt-cache.
apt_field() {
    apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n 1
}

# The first package in a Depends line whose name starts with a prefix, without its version.
dep_with_prefix() {
    printf '%s\n' "$1" | tr '|' ',' | tr ',' '\n' | sed -n "s/^ *\($2[^ ]*\).*/\1/p" | head -n 1
}

# The Depends line of linux-image-amd64, after `apt-get update` if the package lists do not know
# it yet. One apt-cache call (about a second without apt's binary cache) answers what the
# already-there case needs.
meta_depends() {
    deps=$(apt_field "$META" Depends)
    if [ -z "$deps" ]; then
        note "apt does not know $META yet: running apt-get update" >&2
        apt-get update -qq >&2 || die "apt-get update failed"
        deps=$(apt_field "$META" Depends)
    fi
    [ -n "$deps" ] || die "apt-cache knows no package $META (no Debian mirror in apt's sources?)"
    printf '%s\n' "$deps"
}

# The version a Depends line pins a package to: "pkg (= 6.1.192-3)" gives 6.1.192-3.
pinned_version() {
    printf '%s\n' "$1" | tr '|' ',' | tr ',' '\n' |
        sed -n "s/^ *$2 *(= *\([^) ]*\)).*/\1/p" | head -n 1
}

# Newest stamped tree already in the cache, if any (used when apt cannot answer).
cached_release() {
    [ -f "$CACHE/current" ] || return 1
    rel=$(cat "$CACHE/current")
    [ -f "$CACHE/$rel/.stamp" ] || return 1
    printf '%s\n' "$rel"
}

# apt-get download PKG=VERSION... into a directory (apt-get writes to its working directory).
download() {
    dir=$1
    shift
    note "downloading $*"
    (cd "$dir" && apt-get download -q "$@") || die "apt-get download $* failed"
}

[ $# -eq 1 ] || {
    echo "usage: $0 CACHE_DIR" >&2
    exit 2
}
[ "$(id -u)" -eq 0 ] || die "run as root (apt-get download and depmod on the cache)"
need_tool apt-get "the lab kernel comes from Debian's packages (a Debian/Ubuntu host with apt)"
need_tool apt-cache "it comes with apt"
need_tool dpkg-deb "it comes with dpkg"
need_tool depmod "install the package kmod"

mkdir -p "$1" || die "cannot create $1"
CACHE=$(cd "$1" && pwd -P)

if ! DEPS=$(meta_depends); then
    if rel=$(cached_release); then
        note "cannot ask apt (see above); keeping the cached kernel $rel"
        exit 0
    fi
    exit 1
fi
IMAGE_PKG=$(dep_with_prefix "$DEPS" linux-image-) # linux-image-6.1.0-57-amd64
[ -n "$IMAGE_PKG" ] || die "$META depends on no linux-image-* package (Depends: $DEPS)"
RELEASE=${IMAGE_PKG#linux-image-} # 6.1.0-57-amd64
ABI=${RELEASE%-*}                 # 6.1.0-57
FLAVOUR=${RELEASE##*-}            # amd64
PKGVER=$(pinned_version "$DEPS" "$IMAGE_PKG")
[ -n "$PKGVER" ] || PKGVER=$(apt_field "$IMAGE_PKG" Version)
[ -n "$PKGVER" ] || die "apt-cache knows no version of $IMAGE_PKG"
TREE=$CACHE/$RELEASE
STAMP=$TREE/.stamp

if [ -f "$STAMP" ]; then
    printf '%s\n' "$RELEASE" >"$CACHE/current"
    note "kernel $RELEASE ($PKGVER) already in $TREE"
    exit 0
fi

HEADERS_PKG=linux-headers-$ABI-$FLAVOUR
COMMON_PKG=linux-headers-$ABI-common
KBUILD_PKG=$(dep_with_prefix "$(apt_field "$HEADERS_PKG" Depends)" linux-kbuild-)
[ -n "$KBUILD_PKG" ] || die "cannot find the linux-kbuild-* package $HEADERS_PKG depends on"

WORK=$(mktemp -d "$CACHE/.fetch.XXXXXX") || die "cannot create a temporary directory in $CACHE"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' HUP INT TERM
# apt-get drops to the user _apt to download: let it write here.
chmod 0755 "$WORK"
mkdir "$WORK/debs" "$WORK/tree"
chmod 0777 "$WORK/debs"

download "$WORK/debs" "$IMAGE_PKG=$PKGVER" "$HEADERS_PKG=$PKGVER" "$COMMON_PKG=$PKGVER" \
    "$KBUILD_PKG=$PKGVER"

for deb in "$WORK"/debs/*.deb; do
    [ -f "$deb" ] || die "apt-get download left no .deb in $WORK/debs"
    note "extracting $(basename "$deb")"
    dpkg-deb -x "$deb" "$WORK/tree" || die "dpkg-deb -x $deb failed"
done

[ -f "$WORK/tree/boot/vmlinuz-$RELEASE" ] || die "$IMAGE_PKG has no boot/vmlinuz-$RELEASE"
[ -d "$WORK/tree/lib/modules/$RELEASE/kernel" ] || die "$IMAGE_PKG has no lib/modules/$RELEASE"
depmod -b "$WORK/tree" "$RELEASE" || die "depmod -b $WORK/tree $RELEASE failed"

{
    echo "release=$RELEASE"
    echo "version=$PKGVER"
    echo "packages=$IMAGE_PKG $HEADERS_PKG $COMMON_PKG $KBUILD_PKG"
    echo "fetched=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$WORK/tree/.stamp"

rm -rf "$TREE" # an unstamped tree is a leftover of an interrupted run
mv "$WORK/tree" "$TREE" || die "cannot move the tree to $TREE"
printf '%s\n' "$RELEASE" >"$CACHE/current"
note "kernel $RELEASE ($PKGVER) ready in $TREE"
