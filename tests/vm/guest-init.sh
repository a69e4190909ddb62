#!/bin/busybox sh
# guest-init.sh: the lab guest's /init, PID 1 (lab.py puts it into the initramfs; see README.md).
#
# Stage 1 (in the initramfs): load the modules listed in /modules/order, mount the host's root
# (9p tag "host", read-only) under an overlay whose upper is a tmpfs, a fresh tmpfs /run with the
# share (9p tag "lab") at /run/lab, then switch_root into the overlay. Stage 2 (PID 1 in the
# overlay, so the kernel's own modprobe calls find the host's kmod): the guest's own /proc, /sys,
# /dev, /dev/pts, /dev/shm, debugfs, tracefs and cgroup2 (/tmp is the overlay's, so host files
# under /tmp are seen); the cached modules tree bound at
# /lib/modules/<release>, the kernel's config at /boot/config-<release>; the devices' modules;
# then the runner (guest-runner.py, with the host's python3) runs the command and writes its
# status; then sync and power off.
#
# Values from the host come from /run/lab/config, written by lab.py with every value
# shell-quoted: LAB_MODDIR, LAB_MODTARGET, LAB_KCONFIG, LAB_KCONFIG_TARGET, LAB_MODULES,
# LAB_MODPROBE, LAB_PYTHON.
# Errors are "LAB-ERROR: ..." lines on the console (ttyS0), then the VM powers off.
# shellcheck shell=sh
BB=/bin/busybox
fail() {
    echo "LAB-ERROR: $*"
    $BB sync
    $BB poweroff -f
    # isa-debug-exit (iobase 0xf4): QEMU exits even if ACPI power-off did not work
    $BB printf '\001' | $BB dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
    $BB sleep 1000
}
must() {
    "$@" || fail "$*"
}
stage1() {
    $BB mkdir -p /bin /dev /host /ovl /newroot
    $BB --install -s /bin
    export PATH=/bin
    must mount -t devtmpfs devtmpfs /dev
    exec </dev/console >/dev/console 2>&1
    while read -r m; do
        [ -n "$m" ] && { insmod "/modules/$m" || fail "insmod $m failed"; }
    done </modules/order
    opts=trans=virtio,version=9p2000.L,msize=262144
    mount -t 9p -o "$opts,ro,cache=loose" host /host || fail "cannot mount the host root (9p host)"
    must mount -t tmpfs -o mode=0755 tmpfs /ovl
    mkdir -p /ovl/upper /ovl/work
    must mount -t overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work overlay /newroot
    must mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run
    mkdir -p /newroot/run/lab /newroot/run/lab-init/bin
    mount -t 9p -o "$opts,cache=none" lab /newroot/run/lab || fail "cannot mount the share (9p lab)"
    must cp /init /bin/busybox /newroot/run/lab-init/
    must mount --move /dev /newroot/dev
    # switch_root must be PID 1. Should it fail, PID 1 ends: the kernel panics, panic=-1 and
    # QEMU's -no-reboot end the VM, and the result says the guest kernel panicked.
    exec switch_root /newroot /run/lab-init/busybox sh /run/lab-init/init stage2
}
stage2() {
    BB=/run/lab-init/busybox
    must $BB mount -t proc proc /proc     # before --install: it finds busybox by /proc/self/exe
    $BB --install -s /run/lab-init/bin
    export PATH=/run/lab-init/bin
    must mount -t sysfs sysfs /sys
    mkdir -p /dev/pts /dev/shm
    must mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
    must mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
    # /tmp stays the overlay's: a checkout or build tree under the host's /tmp is visible (and
    # what the guest writes there stays in the overlay like everything else)
    must mount -t debugfs debugfs /sys/kernel/debug
    must mount -t tracefs tracefs /sys/kernel/tracing
    must mount -t cgroup2 cgroup2 /sys/fs/cgroup
    [ -f /run/lab/config ] || fail "no /run/lab/config"
    # shellcheck source=/dev/null
    . /run/lab/config
    mkdir -p "$LAB_MODTARGET"
    must mount --bind "$LAB_MODDIR" "$LAB_MODTARGET"
    # the kernel has no /proc/config.gz: libbpf and bpftool read /boot/config-<release>
    mkdir -p "${LAB_KCONFIG_TARGET%/*}"
    cp "$LAB_KCONFIG" "$LAB_KCONFIG_TARGET" || echo "LAB-WARNING: no $LAB_KCONFIG_TARGET"
    hostname sentry-lab
    ip link set lo up
    if [ -n "$LAB_MODULES" ]; then
        # shellcheck disable=SC2086
        "$LAB_MODPROBE" -a $LAB_MODULES || echo "LAB-WARNING: modprobe -a $LAB_MODULES failed"
    fi
    "$LAB_PYTHON" -I -S /run/lab/runner.py  # guest-runner.py
    rc=$?
    [ -f /run/lab/status ] || printf 'status=error\nerror=the runner (%s) ended with status %s\n' \
        "$LAB_PYTHON" "$rc" >/run/lab/status
    sync
    poweroff -f
    fail "poweroff -f failed"
}
case "$1" in
stage2) stage2 ;;
*) stage1 ;;
esac
