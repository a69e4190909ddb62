#!/usr/bin/env python3
"""lab: the real-kernel fault lab. Boots a second, real kernel under QEMU, runs one command in it.

This file owns everything the host does for a lab run: finding the cached kernel (fetched by
fetch-kernel.sh), building and caching the busybox initramfs, choosing KVM or TCG, the QEMU
command line with its extra devices, the run's shared directory, and tearing the VM down. The
guest side is guest-init.sh (the initramfs's /init) and guest-runner.py (runs the command),
which this file puts into the initramfs and the shared directory.

The guest sees the host's root file system read-only (9p) under a tmpfs overlay, so the host's
python3, tools and build trees run unchanged and nothing the guest writes reaches the host,
except in the shared directory mounted at /run/lab (GUEST_SHARE). See README.md for the whole
story. As a module::

    import lab
    why = lab.unavailable()                  # None, or why the lab cannot run here
    res = lab.run(["python3", "x.py"], timeout=120, env={"K": "V"}, mem="1G", cpus=2,
                  devices=[lab.nvme(serial="SN1", size_mb=64, iops=50)])
    res.returncode, res.stdout, res.stderr, res.console, res.boot_seconds, res.accel

    with lab.VM(["python3", "x.py"], timeout=120) as vm:   # to act while the command runs
        vm.wait_for_file("ready")                # a file the guest writes into /run/lab
        vm.hmp("mce 0 9 0xbd000000000000c0 5 0x1000 0x8c")
        res = vm.wait()

    # reboots=1: the guest may reboot once (a warm reset: RAM kept) and the command runs again
    res = lab.run(["python3", "x.py"], reboots=1, timeout=300)
    res.boots, res.resets                    # 2, [(seconds from QEMU's start, reason), ...]

As a command::

    lab.py check
    lab.py run [--nvme SERIAL[,iops=N][,size=MB]] [--mem 1G] [--cpus 2] [--timeout S] -- CMD ARGS...
    lab.py run --reboots N ... -- CMD ARGS...      (the guest may reboot N times)
    lab.py script FILE [ARGS...]

Python 3 standard library only. Needs root, qemu-system-x86_64, a static busybox and the kernel
in the cache.
"""

import argparse
import atexit
import ctypes
import hashlib
import json
import marshal
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))

GUEST_SHARE = "/run/lab"        # the writable shared directory, in the guest
DEFAULT_TIMEOUT = 120           # seconds, from QEMU's start (boot included)
DEFAULT_MEM = "1G"
DEFAULT_CPUS = 2
DEFAULT_CPU = "max"             # e.g. "max,vendor=GenuineIntel" for mce-inject
DEFAULT_MACHINE = "pc"
DEVICE_WAIT_SECONDS = 30        # how long the guest waits for the devices it was given
KVM_PROBE_SECONDS = 4           # a boot sector under a working KVM exits well within this
QEMU = "qemu-system-x86_64"
REBOOT_POLL_SECONDS = 0.05     # reboots=N: how often the watcher looks for a new boot
WORKDIR_PREFIX = "sentry-lab."  # the run's work dir, in the temporary directory
# The lab's own files in the share (/run/lab): for the init, the runner, and what they leave.
SHARE_FILES = ("config", "cmd.marshal", "runner.py", "started", "stdout", "stderr", "status")

# What the initramfs needs to mount the host over virtio 9p and put an overlay on top: these and
# their dependencies (from modules.dep), unless the kernel has them built in (modules.builtin).
INITRAMFS_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")

# The kernel command line before the caller's additions. `quiet` keeps the console to warnings
# and worse (oopses, panics, OOM kills still show); pass quiet=False, or append "loglevel=7",
# for the whole boot log. panic=-1 with -no-reboot ends the VM at once on a panic (with
# reboots=N, the first N panics or reboots reset the VM instead).
BASE_CMDLINE = ("console=ttyS0", "panic=-1", "8250.nr_uarts=1", "i8042.noaux", "i8042.nokbd")

_live = []                      # VMs started and not yet stopped
_live_lock = threading.RLock()
_handlers_installed = False
_previous_handlers = {}


class LabError(RuntimeError):
    """The lab could not do what was asked (not: the command failed)."""


# ---------------------------------------------------------------------------------------------
# Where things are

def cache_dir():
    """The kernel cache: $SENTRY_LAB_CACHE, else $SENTRY_BUILD_DIR/vm, else <source>/build/vm."""
    if os.environ.get("SENTRY_LAB_CACHE"):
        return os.path.abspath(os.environ["SENTRY_LAB_CACHE"])
    if os.environ.get("SENTRY_BUILD_DIR"):
        return os.path.join(os.path.abspath(os.environ["SENTRY_BUILD_DIR"]), "vm")
    return os.path.join(SOURCE_DIR, "build", "vm")


class Kernel:
    """One kernel tree of the cache, as fetch-kernel.sh left it: CACHE/<release>/{boot,lib,usr}."""

    def __init__(self, tree, release):
        self.tree = tree
        self.release = release
        self.vmlinuz = os.path.join(tree, "boot", "vmlinuz-" + release)
        self.moddir = os.path.join(tree, "lib", "modules", release)
        self.config = os.path.join(tree, "boot", "config-" + release)
        # kbuild for out-of-tree modules: make -C <headers> M=<module dir>
        self.headers = os.path.join(tree, "usr", "src", "linux-headers-" + release)
        self.stamp = _read_fields(os.path.join(tree, ".stamp"))

    @property
    def package_version(self):
        return self.stamp.get("version", "?")


def find_kernel(cache=None):
    """The kernel named by CACHE/current, checked; raises LabError saying what is missing."""
    cache = cache or cache_dir()
    fetch = "run `%s %s` as root" % (os.path.join(HERE, "fetch-kernel.sh"), cache)
    try:
        with open(os.path.join(cache, "current")) as f:
            release = f.read().strip()
    except OSError:
        raise LabError("no lab kernel in %s (%s)" % (cache, fetch)) from None
    tree = os.path.join(cache, release)
    if not release or "/" in release or not os.path.isfile(os.path.join(tree, ".stamp")):
        raise LabError("the lab kernel %r in %s is incomplete (%s)" % (release, cache, fetch))
    kernel = Kernel(tree, release)
    for path in (kernel.vmlinuz, os.path.join(kernel.moddir, "modules.dep")):
        if not os.path.isfile(path):
            raise LabError("the lab kernel has no %s (%s)" % (path, fetch))
    return kernel


def _is_static_elf(path):
    """True for an ELF executable without a program interpreter (PT_INTERP), i.e. static."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:      # 64-bit only
                return False
            order = "little" if head[5] == 1 else "big"
            phoff = int.from_bytes(head[32:40], order)
            phentsize = int.from_bytes(head[54:56], order)
            phnum = int.from_bytes(head[56:58], order)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return False
    for i in range(phnum):
        if int.from_bytes(table[i * phentsize:i * phentsize + 4], order) == 3:  # PT_INTERP
            return False
    return True


def find_busybox():
    """The path of a static busybox; raises LabError when there is none."""
    for path in (shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if path and _is_static_elf(os.path.realpath(path)):
            return os.path.realpath(path)
    raise LabError("no static busybox (install the package busybox-static)")


def _find_modprobe():
    """kmod's modprobe, which the guest uses (with the cached modules tree)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return shutil.which("modprobe", path=path)


def find_qemu():
    path = shutil.which(QEMU)
    if not path:
        raise LabError("no %s (install the package qemu-system-x86)" % QEMU)
    return path


def unavailable():
    """Why the lab cannot run on this machine, as one line, or None when it can."""
    if os.geteuid() != 0:
        return "not root"
    if not _find_modprobe():
        return "no modprobe (install the package kmod)"
    try:
        find_qemu()
        find_busybox()
        module_load_order(find_kernel(), INITRAMFS_MODULES)
    except LabError as e:
        return str(e)
    return None


# ---------------------------------------------------------------------------------------------
# The initramfs

def _module_name(relpath):
    base = os.path.basename(relpath)
    for ext in (".ko", ".ko.xz", ".ko.gz", ".ko.zst"):
        if base.endswith(ext):
            base = base[:-len(ext)]
    return base.replace("-", "_")


def _modules_dep(kernel):
    """{name: (path relative to moddir, [dependency paths])} from modules.dep."""
    deps = {}
    with open(os.path.join(kernel.moddir, "modules.dep")) as f:
        for line in f:
            path, _, rest = line.partition(":")
            deps[_module_name(path)] = (path.strip(), rest.split())
    return deps


def _modules_builtin(kernel):
    try:
        with open(os.path.join(kernel.moddir, "modules.builtin")) as f:
            return {_module_name(line.strip()) for line in f if line.strip()}
    except FileNotFoundError:
        return set()


def module_load_order(kernel, names):
    """The module files (relative to the modules dir) to insmod, dependencies first, for the
    given module names; built-in ones are left out. Raises LabError for an unknown module."""
    deps = _modules_dep(kernel)
    builtin = _modules_builtin(kernel)
    by_path = {path: name for name, (path, _) in deps.items()}
    order = []

    def visit(name):
        if name in builtin:
            return
        if name not in deps:
            raise LabError("kernel %s has no module %s" % (kernel.release, name))
        path, needs = deps[name]
        for dep in needs:
            visit(by_path.get(dep, _module_name(dep)))
        if path not in order:
            order.append(path)

    for name in names:
        visit(name.replace("-", "_"))
    return order


def _read_module(path):
    """The bytes of a module, decompressed if needed (busybox insmod takes plain .ko files)."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        import lzma
        return lzma.decompress(data)
    if path.endswith(".gz"):
        import gzip
        return gzip.decompress(data)
    if path.endswith(".zst"):
        raise LabError("cannot unpack %s: zstd is not in the Python standard library" % path)
    return data


# The guest's side (README.md, "What a run does"): the init goes into the initramfs, the runner
# into the share.
GUEST_INIT = os.path.join(HERE, "guest-init.sh")
GUEST_RUNNER = os.path.join(HERE, "guest-runner.py")


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise LabError("cannot read %s: %s" % (path, e.strerror)) from None


def _file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _initramfs_key(kernel, busybox, modules):
    h = hashlib.sha256()
    for part in (kernel.release, kernel.package_version, _file_sha256(GUEST_INIT),
                 _file_sha256(busybox)):
        h.update(part.encode() + b"\0")
    for m in modules:
        h.update(m.encode() + b"\0")
    return h.hexdigest()[:16]


def _pack_cpio(busybox, stage, out_path):
    """Packs the directory stage into a newc cpio archive with `busybox cpio -o -H newc`."""
    names = []
    for root, dirs, files in os.walk(stage):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            names.append(os.path.relpath(os.path.join(root, name), stage))
    with open(out_path, "wb") as out:
        p = subprocess.run([busybox, "cpio", "-o", "-H", "newc"], cwd=stage, stdout=out,
                           stderr=subprocess.PIPE, input="\n".join(names).encode() + b"\n")
    if p.returncode != 0:
        raise LabError("busybox cpio -o -H newc failed (%d): %s"
                       % (p.returncode, p.stderr.decode(errors="replace").strip()))


def build_initramfs(kernel, busybox):
    """The initramfs for this kernel (a cached file, built when its key is new): /init
    (guest-init.sh), /bin/busybox and /modules/ with the modules to load, in order."""
    modules = module_load_order(kernel, INITRAMFS_MODULES)
    outdir = _boot_dir(kernel)
    path = os.path.join(outdir, "%s-%s.cpio" % (kernel.release, _initramfs_key(kernel, busybox,
                                                                               modules)))
    if os.path.isfile(path):
        return path
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="initramfs.", dir=outdir) as tmp:
        stage = os.path.join(tmp, "root")
        os.makedirs(os.path.join(stage, "bin"))
        os.makedirs(os.path.join(stage, "modules"))
        shutil.copy(busybox, os.path.join(stage, "bin", "busybox"))
        with open(os.path.join(stage, "init"), "wb") as f:
            f.write(_read_bytes(GUEST_INIT))
        os.chmod(os.path.join(stage, "init"), 0o755)
        order = []
        for rel in modules:
            name = _module_name(rel) + ".ko"
            with open(os.path.join(stage, "modules", name), "wb") as f:
                f.write(_read_module(os.path.join(kernel.moddir, rel)))
            order.append(name)
        with open(os.path.join(stage, "modules", "order"), "w") as f:
            f.write("\n".join(order) + "\n")
        _pack_cpio(busybox, stage, os.path.join(tmp, "initramfs.cpio"))
        os.replace(os.path.join(tmp, "initramfs.cpio"), path)
    for old in os.listdir(outdir):
        if old.startswith(kernel.release + "-") and os.path.join(outdir, old) != path:
            os.unlink(os.path.join(outdir, old))
    return path


def _boot_dir(kernel):
    """Where the lab keeps what it derives from a cached kernel: CACHE/boot/."""
    return os.path.join(os.path.dirname(kernel.tree), "boot")


def _kernel_config(kernel):
    """CONFIG_X=value pairs of the kernel's boot/config-<release>."""
    return _read_fields(kernel.config)


def _unpack_bzimage(path):
    """The vmlinux ELF inside a bzImage (its payload: xz, lzma or gzip), or None."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 0x250 or data[0x202:0x206] != b"HdrS":
        return None
    setup_sects = data[0x1F1] or 4
    offset = int.from_bytes(data[0x248:0x24C], "little")       # payload_offset
    length = int.from_bytes(data[0x24C:0x250], "little")       # payload_length
    payload = data[(setup_sects + 1) * 512 + offset:][:length]
    import lzma
    import zlib
    if payload.startswith(b"\xfd7zXZ\x00"):
        out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
    elif payload.startswith(b"\x5d\x00\x00"):
        out = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(payload)
    else:
        return None                                             # zstd, lz4...: not in stdlib
    return out if out.startswith(b"\x7fELF") else None


def boot_image(kernel, pvh=True):
    """The file for QEMU's -kernel. With pvh and a kernel built with CONFIG_PVH: the vmlinux ELF
    unpacked from the bzImage (cached in CACHE/boot/), booted through its PVH entry point, which
    spares the guest decompressing itself (about 5 s under TCG; the kernel then runs without
    KASLR). Else, or when the payload cannot be unpacked, the bzImage."""
    if not pvh or _kernel_config(kernel).get("CONFIG_PVH") != "y":
        return kernel.vmlinuz
    path = os.path.join(_boot_dir(kernel), "vmlinux-%s" % kernel.release)
    if os.path.isfile(path):
        return path
    elf = _unpack_bzimage(kernel.vmlinuz)
    if elf is None:
        return kernel.vmlinuz
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(elf)
    os.replace(tmp, path)
    return path


def initramfs_modules(kernel):
    """The module names the initramfs carries, in load order."""
    return [_module_name(m) for m in module_load_order(kernel, INITRAMFS_MODULES)]


# ---------------------------------------------------------------------------------------------
# KVM or TCG

def _probe_boot_sector():
    """512 bytes a BIOS boots: `mov al, 0x2a; out 0xf4, al; hlt`. With isa-debug-exit at 0xf4
    QEMU exits with status (0x2a << 1) | 1 = 85."""
    code = bytes([0xB0, 0x2A, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD])
    return code + bytes(510 - len(code)) + b"\x55\xaa"


def _qemu_version(qemu):
    try:
        p = subprocess.run([qemu, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30)
        return p.stdout.splitlines()[0] if p.stdout else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def probe_kvm(cpu=DEFAULT_CPU, cache=None):
    """(works, why): whether `-accel kvm -cpu CPU` runs a boot sector within KVM_PROBE_SECONDS.
    The answer is cached in CACHE/accel-probe.json per host kernel, QEMU version and CPU model."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "no usable /dev/kvm"
    qemu = find_qemu()
    key = "%s|%s|%s" % (os.uname().release, _qemu_version(qemu), cpu)
    path = os.path.join(cache or cache_dir(), "accel-probe.json")
    known = _load_json(path, {})
    if key in known:
        return known[key]["works"], known[key]["why"]
    works, why = _run_kvm_probe(qemu, cpu)
    known[key] = {"works": works, "why": why}
    try:
        _write_json(path, known)
    except OSError:
        pass                                    # an unwritable cache only costs a re-probe
    return works, why


def _run_kvm_probe(qemu, cpu):
    with tempfile.TemporaryDirectory(prefix="sentry-lab-probe.") as tmp:
        img = os.path.join(tmp, "boot.img")
        with open(img, "wb") as f:
            f.write(_probe_boot_sector())
        argv = [qemu, "-accel", "kvm", "-cpu", cpu, "-m", "16", "-nodefaults", "-display", "none",
                "-no-reboot", "-monitor", "none", "-serial", "none",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-drive", "file=%s,format=raw,if=ide" % _opt(img)]
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=KVM_PROBE_SECONDS)
        except subprocess.TimeoutExpired:
            return False, "a boot sector under KVM did not finish within %ds" % KVM_PROBE_SECONDS
    if p.returncode == 85:
        return True, "KVM ran the probe"
    last = (p.stdout.strip().splitlines() or ["exit status %d" % p.returncode])[0]
    return False, "KVM failed: %s" % last


def choose_accel(cpu=DEFAULT_CPU, accel="auto"):
    """("kvm" or "tcg", why). accel (or $SENTRY_LAB_ACCEL) may force one: auto, kvm, tcg."""
    accel = os.environ.get("SENTRY_LAB_ACCEL", accel) if accel == "auto" else accel
    if accel in ("kvm", "tcg"):
        return accel, "asked for"
    if accel != "auto":
        raise LabError("accel must be auto, kvm or tcg, not %r" % accel)
    works, why = probe_kvm(cpu)
    return ("kvm" if works else "tcg"), why


def _load_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def _write_json(path, obj):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Extra devices

def _opt(value):
    """A value inside a QEMU -option list: commas doubled."""
    return str(value).replace(",", ",,")


class Device:
    """Extra hardware for one VM. qemu_args(vm, index) gives the QEMU arguments (it may create
    files in vm.workdir); modules are modprobed in the guest before the command; waits are
    (directory, name prefix, count): the guest waits (up to DEVICE_WAIT_SECONDS) before the
    command until that many entries of the directory start with the prefix (counts of the same
    (directory, prefix) add up over the devices); cmdline is added to the kernel command line;
    dimm_mb is memory the device plugs in besides -m (the VM adds slots and maxmem for it)."""

    def __init__(self, describe, args_fn, modules=(), waits=(), cmdline=(), dimm_mb=0):
        self.describe = describe
        self.args_fn = args_fn
        self.modules = tuple(modules)
        self.waits = tuple(waits)
        self.cmdline = tuple(cmdline)
        self.dimm_mb = int(dimm_mb)

    def qemu_args(self, vm, index):
        return list(self.args_fn(vm, index))

    def __repr__(self):
        return "<lab device %s>" % self.describe


def nvme(serial, size_mb=64, iops=None, bps=None, throttling=None, image=None):
    """An NVMe disk (a sparse raw image in the VM's work dir, or the given image file) with
    this serial, optionally throttled: iops (throttling.iops-total), bps (throttling.bps-total)
    or any QEMU throttling.* options as a dict, e.g. {"iops-read": 10}. In the guest:
    /dev/nvmeXn1 with the serial in /sys/block/nvmeXn1/device/serial (labtest.nvme_device())."""
    limits = dict(throttling or {})
    if iops:
        limits["iops-total"] = int(iops)
    if bps:
        limits["bps-total"] = int(bps)

    def args(vm, index):
        path = image or os.path.join(vm.workdir, "nvme%d.img" % index)
        if not image:
            with open(path, "wb") as f:
                f.truncate(int(size_mb) << 20)
        drive = "file=%s,if=none,id=nvmed%d,format=raw" % (_opt(path), index)
        drive += "".join(",throttling.%s=%s" % (k, _opt(v)) for k, v in sorted(limits.items()))
        return ["-drive", drive, "-device", "nvme,drive=nvmed%d,serial=%s" % (index, _opt(serial))]

    return Device("nvme serial=%s" % serial, args, modules=["nvme"],
                  waits=[("/sys/block", "nvme", 1)])


def ipmi_bmc_sim(sdr_file=None):
    """A BMC simulated inside QEMU (ipmi-bmc-sim) behind a KCS interface: /dev/ipmi0 in the
    guest (ipmi_si and ipmi_devintf are loaded)."""

    def args(vm, index):
        bmc = "ipmi-bmc-sim,id=bmc%d" % index
        if sdr_file:
            bmc += ",sdrfile=%s" % _opt(sdr_file)
        return ["-device", bmc, "-device", "isa-ipmi-kcs,bmc=bmc%d" % index]

    return Device("ipmi-bmc-sim", args, modules=["ipmi_si", "ipmi_devintf"],
                  waits=[("/dev", "ipmi", 1)])


def ipmi_bmc_extern(port, host="127.0.0.1", reconnect=10):
    """A BMC outside QEMU (e.g. OpenIPMI's ipmi_sim, `serial 15 HOST PORT codec VM` in its
    lan.conf), reached over a socket chardev: /dev/ipmi0 in the guest."""

    def args(vm, index):
        return ["-chardev", "socket,id=ipmic%d,host=%s,port=%d,reconnect=%d"
                % (index, _opt(host), int(port), int(reconnect)),
                "-device", "ipmi-bmc-extern,id=bmc%d,chardev=ipmic%d" % (index, index),
                "-device", "isa-ipmi-kcs,bmc=bmc%d" % index]

    return Device("ipmi-bmc-extern %s:%d" % (host, port), args,
                  modules=["ipmi_si", "ipmi_devintf"], waits=[("/dev", "ipmi", 1)])


def dimm(size_mb):
    """A memory DIMM (pc-dimm) present at boot besides the base memory, onlined by the guest: a
    memory block of its own (e.g. for offlining). The VM gets slots and maxmem for it."""

    def args(vm, index):
        return ["-object", "memory-backend-ram,id=dimmmem%d,size=%dM" % (index, int(size_mb)),
                "-device", "pc-dimm,id=dimm%d,memdev=dimmmem%d" % (index, index)]

    return Device("dimm %dM" % size_mb, args, cmdline=["memhp_default_state=online"],
                  dimm_mb=size_mb)


def numa(nodes=2):
    """The base memory and the CPUs split over NUMA nodes: memory evenly, CPUs round robin (a
    node without a CPU when there are more nodes than CPUs, like a memory-only node)."""

    def args(vm, index):
        out = []
        per_node = vm.mem_mb // nodes
        for n in range(nodes):
            size = per_node if n < nodes - 1 else vm.mem_mb - per_node * (nodes - 1)
            out += ["-object", "memory-backend-ram,id=numamem%d,size=%dM" % (n, size)]
            node = "node,nodeid=%d,memdev=numamem%d" % (n, n)
            cpus = [c for c in range(vm.cpus) if c % nodes == n]
            node += "".join(",cpus=%d" % c for c in cpus)
            out += ["-numa", node]
        return out

    return Device("numa nodes=%d" % nodes, args)


def qemu_args(*args, modules=(), waits=(), cmdline=()):
    """Raw QEMU arguments, with the guest modules they need if any."""
    return Device("args %s" % " ".join(args), lambda vm, index: list(args), modules=modules,
                  waits=waits, cmdline=cmdline)


# QEMU's user-mode network (slirp), as the guest sees it
USER_NET_GUEST_IP = "10.0.2.15"         # the address to give the guest's eth0 (/24)
USER_NET_HOST_IP = "10.0.2.2"           # the host: UDP/TCP to 10.0.2.2:PORT reach 127.0.0.1:PORT
USER_NET_HOST_MAC = "52:55:0a:00:02:02"  # slirp's MAC for 10.0.2.2 (netpoll does not ARP)


def user_net(mac="52:54:00:12:34:56", model="virtio-net-pci"):
    """A NIC on QEMU's user-mode network, IPv6 off: the guest's eth0. No DHCP client runs in the
    guest; it sets the address itself (`ip addr add 10.0.2.15/24 dev eth0; ip link set eth0
    up`), and then 10.0.2.2 is the host's loopback. Without a default route in the guest
    nothing it sends leaves this machine."""

    def args(vm, index):
        return ["-netdev", "user,id=labnet%d,ipv6=off" % index,
                "-device", "%s,netdev=labnet%d,mac=%s" % (model, index, _opt(mac))]

    return Device("user-net %s" % mac, args,
                  modules=["virtio_net"] if model.startswith("virtio") else [],
                  waits=[("/sys/class/net", "eth", 1)])


def serial_line(name="ttyS1", iobase=0x2f8, irq=3):
    """One more 16550 UART (ttyS1's port and IRQ by default) whose other end is a Unix socket on
    the host, VM.serial_path(name), where QEMU listens: connect to it to send bytes to the
    guest's UART and read what the guest sends. QEMU lists the UART in ACPI before COM1, so the
    guest gets 8250.nr_uarts=4: each legacy port keeps its own ttyS slot (with the lab's
    nr_uarts=1 this one would take ttyS0's, and the console with it). The serial driver
    registers it (ttyS1) and leaves it alone unless ttyS1 is opened: the guest may also read it
    with inb (a kernel module's management line, say)."""

    def args(vm, index):
        return ["-chardev", "socket,id=labser%d,path=%s,server=on,wait=off"
                % (index, _opt(vm.serial_path(name))),
                "-device", "isa-serial,chardev=labser%d,iobase=0x%x,irq=%d"
                % (index, iobase, irq)]

    return Device("serial %s at 0x%x" % (name, iobase), args, cmdline=["8250.nr_uarts=4"])


# ---------------------------------------------------------------------------------------------
# A run

class Result:
    """What a lab run gave.

    returncode   the command's exit status; -N when a signal N killed it (like subprocess);
                 None when it did not end (timeout, guest crash, lab error)
    signal       N when a signal killed the command, else None
    timed_out    True when the timeout killed the VM
    error        why there is no status, when there is none (lab or guest trouble)
    stdout, stderr, console (the guest's ttyS0), qemu_log (QEMU's own messages): text
    boot_seconds from QEMU's start to the command's start (None if it never started)
    guest_boot_seconds  the guest kernel's uptime when the command started
    run_seconds  the command's own time (None if it did not end)
    accel        "kvm" or "tcg"; kernel: the guest's release
    boots        how many boots started the command (the runner wrote "started"): 1, or with
                 reboots=N up to N+1; 0 when it never started
    resets       with reboots=N: QEMU's RESET events, as (seconds from QEMU's start, reason)
                 pairs; a reboot gives two or more (the guest's, then SeaBIOS's own: QEMU
                 leaves the BIOS area as it was, so SeaBIOS takes its resume path, copies its
                 image back and resets again before any guest code runs); [] otherwise
    """

    def __init__(self, **fields):
        self.returncode = None
        self.signal = None
        self.timed_out = False
        self.error = None
        self.stdout = self.stderr = self.console = self.qemu_log = ""
        self.boot_seconds = self.guest_boot_seconds = self.run_seconds = None
        self.total_seconds = 0.0
        self.accel = self.kernel = None
        self.boots = 0
        self.resets = []
        self.__dict__.update(fields)

    @property
    def warnings(self):
        """The lab's LAB-WARNING lines from the console (e.g. a device that did not show)."""
        return [l.split("LAB-WARNING:", 1)[1].strip() for l in self.console.splitlines()
                if "LAB-WARNING:" in l]

    def console_tail(self, lines=30):
        return "\n".join(self.console.rstrip().splitlines()[-lines:])

    def summary(self):
        if self.timed_out:
            state = "timed out after %.1fs" % self.total_seconds
        elif self.error:
            state = "no status: %s" % self.error
        elif self.signal:
            state = "killed by signal %d" % self.signal
        else:
            state = "exit status %d" % self.returncode
        boot = "%.1fs" % self.boot_seconds if self.boot_seconds is not None else "-"
        return "lab %s (%s, kernel %s, boot %s)" % (state, self.accel, self.kernel, boot)

    def check(self):
        """Raises LabError with the details unless the command exited 0."""
        if self.returncode != 0:
            raise LabError("%s\n--- stdout\n%s\n--- stderr\n%s\n--- console (tail)\n%s"
                           % (self.summary(), self.stdout, self.stderr, self.console_tail()))
        return self

    def __repr__(self):
        return "<%s>" % self.summary()


def parse_mem_mb(mem):
    """"1G", "512M", "512" (MiB) or an int (MiB) -> MiB."""
    if isinstance(mem, int):
        return mem
    text = str(mem).strip().upper().rstrip("B")
    scale = {"G": 1024, "M": 1, "K": 1 / 1024}.get(text[-1:], None)
    try:
        value = float(text[:-1]) * scale if scale else float(text)
    except ValueError:
        raise LabError("memory size %r: use e.g. 1G or 512M" % mem) from None
    return int(value)


class VM:
    """One lab run: a VM booted for one command, always torn down (stop(), the with block, at
    exit, on SIGTERM/SIGHUP). start() boots, wait() gives the Result. Options as for run().

    reboots=N (default 0: QEMU's -no-reboot, a reboot or panic of the guest ends the VM) lets
    the guest reboot N times: each reboot (or panic: the lab's panic=-1 reboots at once) is a
    warm reset of the same VM, RAM kept, the same kernel, initramfs and share; the init and the
    runner start again and run the command again (it tells the boots apart by files it leaves
    in the share). A watcher thread counts the boots by the runner's "started" file in the
    share (a new file each boot) and, on a QMP socket of its own, QEMU's RESET events (not the
    boots: SeaBIOS adds resets of its own). Once boot N+1 has started the command, it sets
    QEMU's reboot action to shutdown, so the next reboot or panic ends the VM (should QEMU
    refuse, the watcher kills QEMU at the next reset): a guest that keeps crashing cannot loop.
    A guest that crashes before its command starts is ended by the timeout."""

    def __init__(self, argv, timeout=DEFAULT_TIMEOUT, devices=(), env=None, cwd=None,
                 mem=DEFAULT_MEM, cpus=DEFAULT_CPUS, cpu=DEFAULT_CPU, machine=DEFAULT_MACHINE,
                 append=(), quiet=True, modules=(), accel="auto", share=None, files=None,
                 keep=False, pvh=True, reboots=0):
        if not argv or not all(isinstance(a, str) for a in argv):
            raise LabError("argv must be a non-empty list of strings, not %r" % (argv,))
        self.argv = list(argv)
        self.timeout = timeout
        self.devices = list(devices)
        self.env = dict(env or {})
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self.mem_mb = parse_mem_mb(mem)
        self.cpus = int(cpus)
        self.cpu = cpu
        self.machine = machine
        self.append = [append] if isinstance(append, str) else list(append)
        self.quiet = quiet
        self.modules = list(modules)
        self.accel_request = accel
        self.pvh = pvh
        if int(reboots) < 0:
            raise LabError("reboots must be 0 or more, not %r" % (reboots,))
        self.reboots = int(reboots)
        self.resets = []                # (seconds from QEMU's start, reason), by the watcher
        self.boots = 0                  # boots that started the command, by the watcher
        self._boot_watcher = None
        self.keep = keep or os.environ.get("SENTRY_LAB_KEEP") == "1"
        self.workdir = None
        self.share = share
        self._own_share = share is None
        self.files = dict(files or {})
        self.proc = None
        self.accel = self.accel_why = None
        self.kernel = None
        self.t0 = None
        self.result = None

    # -- set-up
    def start(self):
        why = unavailable()
        if why:
            raise LabError("the lab is unavailable: " + why)
        self.kernel = find_kernel()
        busybox = find_busybox()
        initramfs = build_initramfs(self.kernel, busybox)
        image = boot_image(self.kernel, self.pvh)
        self.accel, self.accel_why = choose_accel(self.cpu, self.accel_request)
        _cleanup_stale()
        self.workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX)
        with open(os.path.join(self.workdir, "owner.pid"), "w") as f:
            f.write("%d\n" % os.getpid())
        _register(self)
        if self._own_share:
            self.share = os.path.join(self.workdir, "share")
            os.mkdir(self.share)
        self._write_share()
        argv = self._qemu_argv(image, initramfs)
        with open(os.path.join(self.workdir, "qemu-argv.json"), "w") as f:
            json.dump(argv, f, indent=1)
        qemu_log = open(os.path.join(self.workdir, "qemu.log"), "wb")
        self.t0 = time.time()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=qemu_log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        except OSError as e:
            raise LabError("cannot start %s: %s" % (argv[0], e)) from None
        finally:
            qemu_log.close()
        if self.reboots:
            self._watch_boots()
        return self

    def _modules(self):
        names = list(self.modules)
        for d in self.devices:
            names += [m for m in d.modules if m not in names]
        for name in names:
            if not name.replace("-", "_").replace("_", "").isalnum():
                raise LabError("bad module name %r" % name)
        return names

    def _write_share(self):
        """config (for the init, shell-quoted), cmd.marshal and runner.py (for the runner)."""
        for stale in SHARE_FILES:
            try:
                os.unlink(os.path.join(self.share, stale))
            except FileNotFoundError:
                pass
        # targets in the guest: real paths on the host, whose root it sees (/lib may be a link)
        release = self.kernel.release
        config = {
            "LAB_MODDIR": os.path.realpath(self.kernel.moddir),
            "LAB_MODTARGET": os.path.join(os.path.realpath("/lib/modules"), release),
            "LAB_KCONFIG": os.path.realpath(self.kernel.config),
            "LAB_KCONFIG_TARGET": os.path.join(os.path.realpath("/boot"), "config-" + release),
            "LAB_MODULES": " ".join(self._modules()),
            "LAB_MODPROBE": _find_modprobe(),
            "LAB_PYTHON": sys.executable or "python3",
        }
        with open(os.path.join(self.share, "config"), "w") as f:
            for key, value in config.items():
                f.write("%s=%s\n" % (key, shlex.quote(value)))
        waits = {}
        for d in self.devices:
            for directory, prefix, count in d.waits:
                waits[(directory, prefix)] = waits.get((directory, prefix), 0) + count
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "HOME": "/root",
               "LANG": "C.UTF-8", "SENTRY_IN_LAB": "1", "SENTRY_LAB_SHARE": GUEST_SHARE}
        env.update({str(k): str(v) for k, v in self.env.items()})
        cmd = {"argv": self.argv, "cwd": self.cwd, "env": env, "device_wait": DEVICE_WAIT_SECONDS,
               "waits": [(d, p, n) for (d, p), n in sorted(waits.items())]}
        with open(os.path.join(self.share, "cmd.marshal"), "wb") as f:
            marshal.dump(cmd, f, 4)      # read by the same python3 in the guest
        with open(os.path.join(self.share, "runner.py"), "wb") as f:
            f.write(_read_bytes(GUEST_RUNNER))
        for name, content in self.files.items():
            if os.path.basename(name) != name or name.startswith(".") or name in SHARE_FILES:
                raise LabError("files: %r is not a plain file name of the caller's" % name)
            with open(os.path.join(self.share, name), "wb") as f:
                f.write(content.encode() if isinstance(content, str) else content)

    def cmdline(self):
        parts = list(BASE_CMDLINE) + (["quiet"] if self.quiet else [])
        for d in self.devices:
            parts += [c for c in d.cmdline if c not in parts]
        return " ".join(parts + self.append)

    def _qemu_argv(self, image, initramfs):
        mem = "%dM" % self.mem_mb
        dimm_mb = sum(d.dimm_mb for d in self.devices)
        ndimm = sum(1 for d in self.devices if d.dimm_mb)
        if ndimm:
            mem += ",slots=%d,maxmem=%dM" % (ndimm, self.mem_mb + dimm_mb)
        # TCG emulates the guest's CPUs on one host thread, in turn: with one thread per vCPU
        # (MTTCG), the kernel's live patching of its own code (text_poke_bp, as the static keys
        # of tracepoints flip when BPF programs attach and detach) was seen to leave a vCPU
        # spinning at the patched site for good.
        accel = "tcg,thread=single" if self.accel == "tcg" else self.accel
        argv = [find_qemu(), "-accel", accel, "-cpu", self.cpu, "-machine", self.machine,
                "-m", mem, "-smp", str(self.cpus), "-nodefaults", "-nographic"]
        if not self.reboots:
            argv += ["-no-reboot"]
        argv += ["-kernel", image, "-initrd", initramfs, "-append", self.cmdline(),
                "-serial", "file:" + os.path.join(self.workdir, "console.log"),
                "-monitor", "none",
                "-qmp", "unix:%s,server=on,wait=off" % _opt(self._qmp_path()),
                "-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on,"
                           "multidevs=remap",
                "-virtfs", "local,path=%s,mount_tag=lab,security_model=none,multidevs=remap"
                           % _opt(self.share),
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if self.reboots:
            argv += ["-qmp", "unix:%s,server=on,wait=off" % _opt(self._events_path())]
        for index, d in enumerate(self.devices):
            argv += d.qemu_args(self, index)
        return argv

    def _qmp_path(self):
        return os.path.join(self.workdir, "qmp.sock")

    def _events_path(self):
        """The boot watcher's own QMP socket (reboots=N): vm.qmp() keeps qmp.sock."""
        return os.path.join(self.workdir, "events.sock")

    # -- reboots
    def _watch_boots(self):
        """Connects to the events socket before the guest can reboot (its first boot takes
        seconds; the monitor is there as QEMU starts) and leaves a thread watching the boots."""
        s = self._qmp_connect(self._events_path())
        try:
            buf = b""
            for cmd in (None, {"execute": "qmp_capabilities"}):
                if cmd:
                    s.sendall(json.dumps(cmd).encode() + b"\n")
                while b"\n" not in buf:                         # the greeting, then the answer
                    chunk = s.recv(4096)
                    if not chunk:
                        raise OSError("QEMU closed it")
                    buf += chunk
                line, buf = buf.split(b"\n", 1)
                json.loads(line)
        except (OSError, ValueError) as e:
            s.close()
            raise LabError("QEMU's event monitor: %s" % e) from None
        s.settimeout(REBOOT_POLL_SECONDS)
        self._boot_watcher = threading.Thread(target=self._boot_loop, args=(s, buf),
                                              name="lab-boots", daemon=True)
        self._boot_watcher.start()

    def _count_boot(self, seen):
        """Counts the runner's "started" file when it is a new one (a rename: a new inode)."""
        try:
            st = os.stat(os.path.join(self.share, "started"))
        except FileNotFoundError:
            return seen
        key = (st.st_ino, st.st_mtime_ns)
        if key != seen:
            self.boots += 1
        return key

    def _boot_loop(self, s, buf):
        """Until QEMU ends: boots, RESET events; the reboot action once the last boot runs."""
        seen, capped = None, False
        try:
            while True:
                seen = self._count_boot(seen)
                if self.boots > self.reboots and not capped:
                    s.sendall(json.dumps({"execute": "set-action",
                                          "arguments": {"reboot": "shutdown"}}).encode() + b"\n")
                    capped = True
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    continue
                if not chunk:
                    break                                       # QEMU ended
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self._boot_event(line, capped)
        except OSError:
            pass
        finally:
            s.close()
            self._count_boot(seen)                              # a boot not seen yet

    def _boot_event(self, line, capped):
        try:
            msg = json.loads(line)
        except ValueError:
            return
        if "error" in msg:
            print("lab: QEMU refused reboot=shutdown (%s); the next reset kills it"
                  % msg["error"].get("desc", msg), file=sys.stderr)
        if msg.get("event") != "RESET":
            return
        self.resets.append((time.time() - self.t0, msg.get("data", {}).get("reason", "reset")))
        if capped and self.proc is not None and self.proc.poll() is None:
            self.proc.kill()                                    # the reboot action did not take

    def serial_path(self, name="ttyS1"):
        """The host end (a Unix socket) of the serial_line() device of this name."""
        return os.path.join(self.workdir, name + ".sock")

    # -- while it runs
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_for_file(self, name, timeout=None):
        """Waits until the guest has written /run/lab/NAME (and the VM still runs); returns the
        host path. Raises LabError on timeout or when the VM ended first."""
        path = os.path.join(self.share, name)
        deadline = time.monotonic() + (timeout if timeout is not None else self._left())
        while not os.path.exists(path):
            if not self.running():
                raise LabError("the VM ended before writing %s" % name)
            if time.monotonic() > deadline:
                raise LabError("no %s from the guest within the time given" % name)
            time.sleep(0.05)
        return path

    def _qmp_connect(self, path=None):
        deadline = time.monotonic() + 10          # QEMU creates the socket as it starts
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            try:
                s.connect(path or self._qmp_path())
                return s
            except OSError as e:
                s.close()
                if not self.running() or time.monotonic() > deadline:
                    raise LabError("cannot reach QEMU's monitor: %s" % e) from None
                time.sleep(0.05)

    def qmp(self, command, arguments=None):
        """One QMP command (e.g. "human-monitor-command"); returns its "return" value."""
        with self._qmp_connect() as s:
            f = s.makefile("rw")
            json.loads(f.readline())                            # the greeting
            for cmd in ({"execute": "qmp_capabilities"},
                        {"execute": command, "arguments": arguments or {}}):
                f.write(json.dumps(cmd) + "\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break                                   # events are skipped
            if "error" in reply:
                raise LabError("QMP %s: %s" % (command, reply["error"].get("desc", reply)))
            return reply["return"]

    def hmp(self, command_line):
        """A human monitor command (e.g. "mce 0 9 ..."); returns its output text."""
        return self.qmp("human-monitor-command", {"command-line": command_line})

    def _left(self):
        return max(0.0, self.timeout - (time.time() - self.t0)) if self.timeout else 1e9

    # -- the end
    def wait(self, timeout=None):
        """Waits for the VM to end (or kills it at the timeout), tears it down, gives the Result."""
        if self.result is not None:
            return self.result
        if self.proc is None:
            raise LabError("the VM was not started")
        timed_out = False
        try:
            self.proc.wait(timeout=timeout if timeout is not None else self._left())
        except subprocess.TimeoutExpired:
            timed_out = True
        end = time.time()
        self._kill()
        self.result = self._collect(timed_out, end)
        self.stop()
        return self.result

    def _kill(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _collect(self, timed_out, end):
        share, work = self.share, self.workdir
        res = Result(accel=self.accel, kernel=self.kernel.release, timed_out=timed_out,
                     stdout=_read_text(os.path.join(share, "stdout")),
                     stderr=_read_text(os.path.join(share, "stderr")),
                     console=_read_text(os.path.join(work, "console.log")),
                     qemu_log=_read_text(os.path.join(work, "qemu.log")),
                     total_seconds=end - self.t0)
        if self._boot_watcher is not None:
            self._boot_watcher.join(5)                          # QEMU ended: its socket closed
            res.boots, res.resets = self.boots, list(self.resets)
        started = os.path.join(share, "started")
        if os.path.exists(started):
            # the file's mtime comes from the host's clock, like t0
            res.boot_seconds = os.stat(started).st_mtime - self.t0
            res.boots = res.boots or 1
            res.guest_boot_seconds = float(_read_fields(started).get("started", "nan"))
        status = _read_fields(os.path.join(self.share, "status"))
        kind = status.get("status")
        if timed_out:
            res.error = "timed out after %.1fs; console tail:\n%s" % (res.total_seconds,
                                                                      res.console_tail())
        elif kind in ("exited", "signaled"):
            code = int(status["code"])
            res.signal = code if kind == "signaled" else None
            res.returncode = -code if kind == "signaled" else code
            res.run_seconds = float(status["ended"]) - float(status["started"])
        elif kind == "error":
            res.error = status.get("error", "?")
        else:
            res.error = self._no_status_reason(res)
        return res

    def _no_status_reason(self, res):
        errors = [l for l in res.console.splitlines() if "LAB-ERROR:" in l]
        if errors:
            return errors[-1].split("LAB-ERROR:", 1)[1].strip()
        if "Kernel panic" in res.console:
            return "the guest kernel panicked"
        if self.proc.returncode not in (0, None):
            said = res.qemu_log.strip()[-2000:] or "console tail:\n" + res.console_tail()
            return "QEMU exited with status %d: %s" % (self.proc.returncode, said)
        return "the guest ended without a status; console tail:\n" + res.console_tail()

    def stop(self):
        """Kills QEMU if it still runs and removes the work dir (unless keep)."""
        self._kill()
        _unregister(self)
        if not self.workdir or not os.path.isdir(self.workdir):
            return
        if self.keep:
            # no owner any more: later runs' clean-up of stale dirs leaves it alone
            try:
                os.unlink(os.path.join(self.workdir, "owner.pid"))
            except FileNotFoundError:
                pass
            print("lab: kept %s" % self.workdir, file=sys.stderr)
            return
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        if exc[0] is not None or self.result is None:
            self.stop()


def _read_fields(path):
    """KEY=VALUE lines of a file as a dict ({} when there is no file)."""
    try:
        with open(path, errors="replace") as f:
            return dict(line.rstrip("\n").partition("=")[::2] for line in f if "=" in line)
    except FileNotFoundError:
        return {}


def _read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _cleanup_stale():
    """Removes the work dirs of runs whose process is gone (killed by SIGKILL: QEMU died with it,
    see _die_with_parent, but nothing removed the directory)."""
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        path = os.path.join(tmp, name)
        if not name.startswith(WORKDIR_PREFIX):
            continue
        try:
            with open(os.path.join(path, "owner.pid")) as f:
                owner = int(f.read())
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not os.path.exists("/proc/%d" % owner):
            shutil.rmtree(path, ignore_errors=True)


def _die_with_parent():
    """In QEMU's child process: SIGKILL when the test process dies, even by SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop_all():
    with _live_lock:
        vms = list(_live)
    for vm in vms:
        vm.stop()


def _on_signal(signum, frame):
    _stop_all()
    previous = _previous_handlers.get(signum, signal.SIG_DFL)
    signal.signal(signum, previous)
    if callable(previous):
        previous(signum, frame)
    else:
        os.kill(os.getpid(), signum)


def _register(vm):
    global _handlers_installed
    with _live_lock:
        _live.append(vm)
        if _handlers_installed:
            return
        _handlers_installed = True
        atexit.register(_stop_all)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                _previous_handlers[sig] = signal.signal(sig, _on_signal)
            except ValueError:          # not the main thread: atexit and the with block remain
                pass


def _unregister(vm):
    with _live_lock:
        if vm in _live:
            _live.remove(vm)


def run(argv, **options):
    """Boots the lab, runs argv in it and gives the Result (see VM for the options)::

        timeout=120   seconds from QEMU's start, boot included; then the VM is killed
        devices=[]    nvme(), ipmi_bmc_sim(), ipmi_bmc_extern(), dimm(), numa(), user_net(),
                      serial_line(), qemu_args()
        env={}        added to PATH (the caller's), HOME, LANG, SENTRY_IN_LAB=1, SENTRY_LAB_SHARE
        cwd=None      the guest's working directory (default: the caller's)
        mem="1G", cpus=2, cpu="max", machine="pc", accel="auto"|"kvm"|"tcg"
        append=[]     more kernel command line; quiet=True (False: the whole boot log)
        modules=[]    modprobed before the command (devices add theirs)
        share=None    a host directory to use as /run/lab (kept); default: a temporary one
        files={}      {name: str or bytes} written into /run/lab before the boot
        keep=False    keep the work dir (console.log, qemu.log, share) and say where
        reboots=0     how many times the guest may reboot (a warm reset, RAM kept; the command
                      runs again in each boot); 0: a reboot or panic ends the VM (see VM)
    """
    with VM(argv, **options) as vm:
        return vm.wait()


def run_script(script, args=(), **options):
    """Runs a shell script (text, put into /run/lab/script.sh) in the lab with /bin/sh -e,
    with args as $1...; options as for run()."""
    files = dict(options.pop("files", None) or {}, **{"script.sh": script})
    return run(["/bin/sh", "-e", GUEST_SHARE + "/script.sh"] + list(args), files=files, **options)


# ---------------------------------------------------------------------------------------------
# The command line

def _parse_nvme(spec):
    """SERIAL[,iops=N][,bps=N][,size=MB] -> nvme()."""
    serial, *opts = spec.split(",")
    kw = {}
    for opt in opts:
        key, _, value = opt.partition("=")
        if key not in ("iops", "bps", "size") or not value.isdigit():
            raise argparse.ArgumentTypeError("--nvme %s: want SERIAL[,iops=N][,bps=N][,size=MB]"
                                             % spec)
        kw["size_mb" if key == "size" else key] = int(value)
    if not serial:
        raise argparse.ArgumentTypeError("--nvme needs a serial")
    return nvme(serial, **kw)


def _parse_env(spec):
    key, sep, value = spec.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("--env wants KEY=VALUE, not %r" % spec)
    return key, value


def _add_run_options(p):
    p.add_argument("--nvme", action="append", type=_parse_nvme, default=[],
                   metavar="SERIAL[,iops=N][,bps=N][,size=MB]", help="an NVMe disk (repeatable)")
    p.add_argument("--ipmi-sim", action="store_true", help="a BMC simulated in QEMU")
    p.add_argument("--ipmi-extern", type=int, metavar="PORT",
                   help="a BMC outside QEMU on 127.0.0.1:PORT (e.g. ipmi_sim)")
    p.add_argument("--mem", default=DEFAULT_MEM, help="guest memory (default %(default)s)")
    p.add_argument("--cpus", type=int, default=DEFAULT_CPUS, help="default %(default)s")
    p.add_argument("--cpu", default=DEFAULT_CPU, help="QEMU CPU model (default %(default)s)")
    p.add_argument("--accel", default="auto", choices=("auto", "kvm", "tcg"))
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds, boot included")
    p.add_argument("--env", action="append", type=_parse_env, default=[], metavar="KEY=VALUE")
    p.add_argument("--cwd", help="the guest's working directory (default: this one)")
    p.add_argument("--append", action="append", default=[], help="kernel command line")
    p.add_argument("--verbose-boot", action="store_true", help="no `quiet` on the command line")
    p.add_argument("--modules", action="append", default=[], help="modprobe before the command")
    p.add_argument("--qemu-arg", action="append", default=[], help="a raw QEMU argument")
    p.add_argument("--share", help="a host directory to use as %s (kept)" % GUEST_SHARE)
    p.add_argument("--keep", action="store_true", help="keep the work dir and say where")
    p.add_argument("--console", action="store_true", help="print the guest console afterwards")
    p.add_argument("--reboots", type=int, default=0, metavar="N",
                   help="the guest may reboot N times (warm resets; the command runs again)")


def _options_from_args(a):
    devices = list(a.nvme)
    if a.ipmi_sim:
        devices.append(ipmi_bmc_sim())
    if a.ipmi_extern:
        devices.append(ipmi_bmc_extern(a.ipmi_extern))
    if a.qemu_arg:
        devices.append(qemu_args(*a.qemu_arg))
    return dict(devices=devices, mem=a.mem, cpus=a.cpus, cpu=a.cpu, accel=a.accel,
                timeout=a.timeout, env=dict(a.env), cwd=a.cwd, append=a.append,
                quiet=not a.verbose_boot, modules=a.modules, share=a.share, keep=a.keep,
                reboots=a.reboots)


def _report(res, show_console):
    """Prints the command's output; returns the exit status for it (see README)."""
    sys.stdout.write(res.stdout)
    sys.stdout.flush()
    sys.stderr.write(res.stderr)
    if show_console:
        sys.stderr.write("--- guest console\n%s\n" % res.console)
    print(res.summary(), file=sys.stderr)
    if res.timed_out:
        print(res.error, file=sys.stderr)
        return 124
    if res.returncode is None:
        print("lab: %s" % res.error, file=sys.stderr)
        return 125
    return 128 + res.signal if res.signal else res.returncode


def cmd_check(_args):
    why = unavailable()
    print("cache:      %s" % cache_dir())
    if why:
        print("lab:        unavailable: %s" % why)
        return 77
    kernel = find_kernel()
    print("kernel:     %s (package %s)" % (kernel.release, kernel.package_version))
    print("qemu:       %s (%s)" % (find_qemu(), _qemu_version(find_qemu())))
    print("busybox:    %s" % find_busybox())
    print("boot image: %s" % boot_image(kernel))
    print("initramfs:  %s" % build_initramfs(kernel, find_busybox()))
    print("modules:    %s" % " ".join(initramfs_modules(kernel)))
    accel, why = choose_accel()
    print("accel:      %s (%s)" % (accel, why))
    return 0


def cmd_run(a):
    if not a.command:
        print("lab run: no command (lab.py run [OPTIONS] -- CMD ARGS...)", file=sys.stderr)
        return 2
    try:
        res = run(a.command, **_options_from_args(a))
    except LabError as e:
        print("lab: %s" % e, file=sys.stderr)
        return 77 if unavailable() else 125
    return _report(res, a.console)


def cmd_script(a):
    try:
        with open(a.file, "rb") as f:
            script = f.read()
    except OSError as e:
        print("lab script: %s" % e, file=sys.stderr)
        return 2
    try:
        res = run_script(script, a.args, **_options_from_args(a))
    except LabError as e:
        print("lab: %s" % e, file=sys.stderr)
        return 77 if unavailable() else 125
    return _report(res, a.console)


def main(argv=None):
    p = argparse.ArgumentParser(prog="lab.py", description="sentry's real-kernel fault lab")
    sub = p.add_subparsers(dest="what", required=True)
    sub.add_parser("check", help="say whether the lab can run here, and with what")
    r = sub.add_parser("run", help="run a command in the lab; exits with its status")
    _add_run_options(r)
    r.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    s = sub.add_parser("script", help="run a shell script file in the lab (sh -e)")
    _add_run_options(s)
    s.add_argument("file")
    s.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if a.what == "run" and a.command[:1] == ["--"]:
        a.command = a.command[1:]
    return {"check": cmd_check, "run": cmd_run, "script": cmd_script}[a.what](a)


if __name__ == "__main__":
    sys.exit(main())
