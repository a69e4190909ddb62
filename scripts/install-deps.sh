#!/bin/sh
# Installs what sentry needs to build, run and test, from the distribution's packages.
# Debian/Ubuntu (apt-get) and openEuler/Fedora (dnf). Run as root. Does nothing when every
# package is already there, so `make run` and `make test` can call it each time.
set -eu

DEB_PKGS="build-essential cmake pkg-config clang llvm clang-format
libsystemd-dev libudev-dev libjson-c-dev liburcu-dev libinih-dev libsqlite3-dev libcmocka-dev
libbpf-dev bpftool libelf-dev zlib1g-dev
python3 util-linux procps
nbdkit libnbd-bin fuse3 fio"

RPM_PKGS="gcc make cmake pkgconf-pkg-config clang llvm clang-tools-extra
systemd-devel json-c-devel userspace-rcu-devel inih-devel sqlite-devel libcmocka-devel
libbpf-devel bpftool elfutils-libelf-devel zlib-devel
python3 util-linux procps-ng
nbdkit nbdkit-basic-plugins nbdkit-basic-filters libnbd nbdfuse fuse3 fio"

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root (sudo make ...) to install packages; trying to build with what is installed" >&2
    exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
    missing=""
    for p in $DEB_PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && exit 0
    echo "install-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
elif command -v dnf >/dev/null 2>&1; then
    missing=""
    for p in $RPM_PKGS; do
        rpm -q "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && exit 0
    echo "install-deps: installing$missing"
    # shellcheck disable=SC2086
    dnf install -y $missing
else
    echo "install-deps: neither apt-get nor dnf found; install the packages listed in $0 by hand" >&2
    exit 1
fi
