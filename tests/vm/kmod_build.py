#!/usr/bin/env python3
"""kmod_build: builds sentry's kernel module (kmod/: sentry_msg_helper.ko) for the lab's kernel,
into the build tree, for the lab tests.

    import kmod_build
    ko = kmod_build.build()          # the .ko for lab.find_kernel(), built if needed

    kmod_build.py [--build-dir DIR]  the same from a shell: prints the path

The sources (kmod/Kbuild, kmod/*.c, kmod/*.h, kmod/include/) are copied to
BUILD/kmod/<release>/src, because kbuild writes its objects beside the sources and the source tree
stays clean; only changed files are copied, so make rebuilds only what changed. BUILD is
build_dir, else $SENTRY_BUILD_DIR, else <source>/build. The build runs kbuild from the cached
headers the way Debian's split headers want it (kmod/Makefile does the same for a checkout):

    make -C CACHE/<release>/usr/src/linux-headers-<release> \\
         -f CACHE/<release>/usr/src/linux-headers-<version>-common/Makefile M=BUILD/kmod/<release>/src modules

Debian builds its kernel with gcc-12 (the headers' .kernelvariables); without gcc-12 the build
tries `gcc`. Raises lab.LabError with make's output when the build fails. Python 3 standard
library only.
"""

import argparse
import fcntl
import filecmp
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab  # noqa: E402

KMOD_DIR = os.path.join(lab.SOURCE_DIR, "kmod")
MODULE = "sentry_msg_helper.ko"
BUILD_TIMEOUT = 600


def build_dir():
    return os.path.abspath(os.environ.get("SENTRY_BUILD_DIR")
                           or os.path.join(lab.SOURCE_DIR, "build"))


def common_makefile(kernel):
    """Debian's linux-headers-<release>/Makefile is one line, an include of the -common tree's
    Makefile by its absolute /usr/src path: the same tree beside it in the cache."""
    try:
        with open(os.path.join(kernel.headers, "Makefile")) as f:
            text = f.read()
    except OSError as e:
        raise lab.LabError("no kbuild for %s in the cache: %s" % (kernel.release, e)) from None
    m = re.search(r"^include /usr/src/([^/\s]+-common)/Makefile$", text, re.M)
    if not m:
        return None                     # a complete build tree: make -C alone does it
    path = os.path.join(os.path.dirname(kernel.headers), m.group(1), "Makefile")
    if not os.path.isfile(path):
        raise lab.LabError("the lab kernel's headers lack %s (run fetch-kernel.sh again)" % path)
    return path


def _sources():
    """(relative path, absolute path) of every file kbuild needs."""
    out = []
    for name in sorted(os.listdir(KMOD_DIR)):
        if name == "Kbuild" or name.endswith((".c", ".h")):
            out.append((name, os.path.join(KMOD_DIR, name)))
    for root, _, files in os.walk(os.path.join(KMOD_DIR, "include")):
        for name in sorted(files):
            if name.endswith(".h"):
                path = os.path.join(root, name)
                out.append((os.path.relpath(path, KMOD_DIR), path))
    return out


def _sync(src_dir):
    """Copies the sources into src_dir, only those that changed; removes sources gone."""
    wanted = set()
    for rel, path in _sources():
        wanted.add(rel)
        dst = os.path.join(src_dir, rel)
        if os.path.isfile(dst) and filecmp.cmp(path, dst, shallow=False):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(path, dst)
    for root, _, files in os.walk(src_dir):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), src_dir)
            source = rel == "Kbuild" or (rel.endswith((".c", ".h")) and
                                         not rel.endswith(".mod.c"))    # .mod.c: modpost's
            if source and rel not in wanted:
                os.unlink(os.path.join(root, name))


def build(kernel=None, build_dir_=None):
    """Builds the module for kernel (default: the lab's); returns the path of the .ko."""
    kernel = kernel or lab.find_kernel()
    out = os.path.join(build_dir_ or build_dir(), "kmod", kernel.release)
    src = os.path.join(out, "src")
    os.makedirs(src, exist_ok=True)
    argv = ["make", "-C", kernel.headers]
    makefile = common_makefile(kernel)
    if makefile:
        argv += ["-f", makefile]
    argv += ["M=" + src, "modules"]
    if not shutil.which("gcc-12") and shutil.which("gcc"):
        argv.append("CC=gcc")           # not Debian's compiler: may work, says so if not
    with open(os.path.join(out, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _sync(src)
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=BUILD_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise lab.LabError("building kmod/ for %s: %s" % (kernel.release, e)) from None
        with open(os.path.join(out, "build.log"), "w") as f:
            f.write(" ".join(argv) + "\n" + p.stdout)
    ko = os.path.join(src, MODULE)
    if p.returncode != 0 or not os.path.isfile(ko):
        raise lab.LabError("building kmod/ for %s failed (%d):\n%s\n%s"
                           % (kernel.release, p.returncode, " ".join(argv), p.stdout[-6000:]))
    return ko


def main():
    p = argparse.ArgumentParser(description="build kmod/ for the lab's kernel")
    p.add_argument("--build-dir", help="the build tree (default $SENTRY_BUILD_DIR or build/)")
    a = p.parse_args()
    try:
        print(build(build_dir_=a.build_dir))
    except lab.LabError as e:
        print("kmod_build: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
