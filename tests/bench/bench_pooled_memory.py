"""The pooled-memory chain's latency, in the real-kernel lab (Debian's kernel under QEMU):

  a kernel notice (debugfs inject, which posts and waits as the reboot, power-off and OOM
  notifiers do) -> sentry_msg_monitor -> sentryd -> a pool manager subscribed over libxalarm ->
  its answer -> sentryd -> sentry_msg_monitor -> SMH_MSG_ACK -> the kernel goes on,

100 rounds of each kind: p50 / p99 / max, and the ratio to the same rounds answered by a reader
of the device itself (no sentryd) in the same boot. The reference's default timeout is 35 s.
Figures are printed, never asserted (tests/vm/test_pooled_memory_lab.py asserts the chain).
Exit 77 when the lab cannot run here."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
import kmod_build  # noqa: E402
import labtest  # noqa: E402
import test_pooled_memory_lab as pooled  # noqa: E402


def real_oom_line(ko):
    """One real OOM (no cgroup limit) answered through sentryd: the kernel's wait, in a boot of
    its own."""
    res, facts = pooled.run_chain_boot(ko, "--guest-oom")
    oom = (facts or {}).get("oom_real")
    if not oom:
        return "real OOM through sentryd: the lab boot failed: %s" % res.summary()
    waited = [m.group(1) for line in oom["kernel"]
              for m in [re.search(r"answered after (\d+) ms", line)] if m]
    return ("real OOM through sentryd: answered after %s ms (the kernel's wait); hog exit %s, "
            "%s OOM kill(s), reserve pages lent %s"
            % (waited[0] if waited else "-", oom["hog"][1], oom["kills"], oom["reserve"][0]))


def main():
    labtest.require_lab()
    ko = kmod_build.build()
    res, facts = pooled.run_chain_boot(ko)
    if facts is None or "error" in facts or facts.get("insmod", [1])[0]:
        print("the lab boot failed: %s\n%s\n%s" % (res.summary(), res.stdout[-3000:],
                                                    res.console_tail(40)), file=sys.stderr)
        return 1
    print(pooled.chain_table(facts))
    print(real_oom_line(ko))
    return 0


if __name__ == "__main__":
    sys.exit(main())
