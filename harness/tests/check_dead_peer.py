#!/usr/bin/env python3
"""A peer process killed while its case measures ends the case at once with
`fail: peer process N exited (signal 9)`, instead of a wait for the case's timeout.

usage: check_dead_peer.py HARNESS
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plots"))
import gbresults as gb  # noqa: E402

TIMEOUT_S = 40
SUITE = f"""[defaults]
samples = 100000000
warmup = 10
timeout_s = {TIMEOUT_S}
priority = 50
[[case]]
mechanism = "futex"
variant = "process"
[[case]]
mechanism = "eventfd"
variant = "process"
[[case]]
mechanism = "pipe-rpc"
variant = "process-rtt"
"""
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def main():
    harness = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="gapbench-deadpeer-") as d:
        suite, out = os.path.join(d, "s.toml"), os.path.join(d, "out")
        with open(suite, "w") as f:
            f.write(SUITE)
        proc = subprocess.Popen([harness, "run", suite, "--out", out], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        handled, killed = set(), 0
        deadline = time.monotonic() + 3 * TIMEOUT_S + 30
        while proc.poll() is None and time.monotonic() < deadline:
            for case in children(proc.pid):
                if case in handled:
                    continue
                time.sleep(1.0)   # into measure()
                peers = children(case)
                if peers:
                    handled.add(case)
                    for p in peers:
                        os.kill(p, signal.SIGKILL)
                        killed += 1
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        check(killed >= 3, f"killed {killed} peer processes (one per case)")
        _, rows = gb.read_summary(out)
        for r in rows:
            st = r["status"]
            check("peer process" in st and "signal 9" in st, f"{r['case']}: status {st!r}")
            check(float(r["elapsed_s"]) < TIMEOUT_S / 2, f"{r['case']}: ended {float(r['elapsed_s']):.1f} s after it "
                  f"started (timeout {TIMEOUT_S} s)")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
