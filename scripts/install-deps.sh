#!/bin/sh
# Installs what sentry needs from the distribution's packages: Debian/Ubuntu (apt-get) and
# openEuler/Fedora (dnf). Run as root. Installs nothing that is already there, so `make run` and
# `make test` can call it each time.
#
#   install-deps.sh            what building and running sentryd needs (`make run`)
#   install-deps.sh --test     that, plus what the tests need (`make test`): the test tools, QEMU
#                              and busybox for the real-kernel lab, and the lab's kernel package
#                              (tests/vm/fetch-kernel.sh) cached in the build tree
#
# clang and bpftool are build tools of sentryd itself: they compile the eBPF io collector.
set -eu

TEST=no
LAB_CACHE=build/vm
while [ $# -gt 0 ]; do
    case "$1" in
    --test) TEST=yes ;;
    --lab-cache) LAB_CACHE="$2"; shift ;;
    -h | --help)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "install-deps: unknown argument '$1' (try --help)" >&2
        exit 2
        ;;
    esac
    shift
done

DEB_RUN="build-essential cmake pkg-config clang llvm
libsystemd-dev libudev-dev libjson-c-dev liburcu-dev libinih-dev libsqlite3-dev
libtracefs-dev libtraceevent-dev
libbpf-dev bpftool libelf-dev zlib1g-dev"
DEB_TEST="clang-format libcmocka-dev python3 util-linux procps
nbdkit libnbd-bin fuse3 fio
qemu-system-x86 busybox-static kmod rasdaemon"

RPM_RUN="gcc make cmake pkgconf-pkg-config clang llvm
systemd-devel json-c-devel userspace-rcu-devel inih-devel sqlite-devel
libtracefs-devel libtraceevent-devel
libbpf-devel bpftool elfutils-libelf-devel zlib-devel"
RPM_TEST="clang-tools-extra libcmocka-devel python3 util-linux procps-ng
nbdkit nbdkit-basic-plugins nbdkit-basic-filters libnbd nbdfuse fuse3 fio
qemu-system-x86 busybox kmod rasdaemon"

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root (sudo make ...) to install packages; trying to build with what is installed" >&2
    exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
    pkgs=$DEB_RUN
    [ "$TEST" = yes ] && pkgs="$pkgs $DEB_TEST"
    missing=""
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "install-deps: installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing
    fi
elif command -v dnf >/dev/null 2>&1; then
    pkgs=$RPM_RUN
    [ "$TEST" = yes ] && pkgs="$pkgs $RPM_TEST"
    missing=""
    for p in $pkgs; do
        rpm -q "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "install-deps: installing$missing"
        # shellcheck disable=SC2086
        dnf install -y $missing
    fi
else
    echo "install-deps: neither apt-get nor dnf found; install the packages listed in $0 by hand" >&2
    exit 1
fi

if [ "$TEST" = yes ]; then
    # The lab's second kernel: never fatal here, the lab tests report SKIPPED with the reason.
    "$(dirname "$0")/../tests/vm/fetch-kernel.sh" "$LAB_CACHE" ||
        echo "install-deps: the lab kernel could not be fetched; the lab tests will say why" >&2
fi
