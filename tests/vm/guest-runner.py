"""guest-runner.py: runs the lab's command in the guest (lab.py copies it to /run/lab/runner.py).

Started by guest-init.sh with the host's python3 and `-I -S`, and only built-in modules (Python
starts slowly under TCG). Waits for the devices, then runs the command of cmd.marshal (argv, cwd,
env; written by lab.py with marshal for the same python3) with stdin /dev/null and stdout and
stderr into files of the share, and writes into the share, as KEY=VALUE lines: "started"
(started=<guest uptime>) just before, "status" after: status=exited|signaled, code=N, started,
ended. Warnings go to its own stderr: the console.
"""
import _signal
import marshal
import os
import sys
import time

SHARE = "/run/lab"


def uptime():
    with open("/proc/uptime") as f:
        return f.read().split()[0]


def put(name, fields):
    tmp = os.path.join(SHARE, "." + name)
    with open(tmp, "w") as f:
        f.write("".join("%s=%s\n" % kv for kv in fields))
    os.rename(tmp, os.path.join(SHARE, name))


def wait_devices(waits, seconds):
    """waits: (directory, name prefix, count): e.g. ("/sys/block", "nvme", 2)."""
    deadline = time.monotonic() + seconds
    for directory, prefix, count in waits:
        while True:
            try:
                found = [n for n in os.listdir(directory) if n.startswith(prefix)]
            except OSError:
                found = []
            if len(found) >= count:
                break
            if time.monotonic() > deadline:
                print("LAB-WARNING: fewer than %d %s* in %s after %ds"
                      % (count, prefix, directory, seconds), file=sys.stderr)
                break
            time.sleep(0.05)


def child(cmd):
    for sig in (_signal.SIGPIPE, _signal.SIGXFSZ):      # python ignores them; the command must not
        _signal.signal(sig, _signal.SIG_DFL)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
    os.dup2(os.open(os.path.join(SHARE, "stdout"), flags, 0o644), 1)
    os.dup2(os.open(os.path.join(SHARE, "stderr"), flags, 0o644), 2)
    try:
        os.chdir(cmd["cwd"])
    except OSError as e:
        os.write(2, ("lab: no working directory %s in the guest: %s\n"
                     % (cmd["cwd"], e.strerror)).encode())
        os._exit(126)
    try:
        os.execvpe(cmd["argv"][0], cmd["argv"], cmd["env"])
    except OSError as e:
        os.write(2, ("lab: cannot run %s: %s\n" % (cmd["argv"][0], e.strerror)).encode())
        os._exit(127 if isinstance(e, FileNotFoundError) else 126)


def main():
    with open(os.path.join(SHARE, "cmd.marshal"), "rb") as f:
        cmd = marshal.load(f)
    wait_devices(cmd["waits"], cmd["device_wait"])
    started = uptime()
    put("started", [("started", started)])
    pid = os.fork()
    if pid == 0:
        child(cmd)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        result = [("status", "signaled"), ("code", os.WTERMSIG(status))]
    else:
        result = [("status", "exited"), ("code", os.WEXITSTATUS(status))]
    put("status", result + [("started", started), ("ended", uptime())])


if __name__ == "__main__":
    main()
