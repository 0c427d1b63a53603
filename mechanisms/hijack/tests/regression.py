#!/usr/bin/env python3
"""hijack regression: python3 regression.py HARNESS

Runs regression.toml and asserts orderings that hold on any machine:
  - every transport's interposed round trip (pass and emulate) costs more
    than the native getppid (p50);
  - at 1024 working-set pages, the variants whose executive is another
    process (seccomp-notify, ptrace: an address-space switch per call) cost
    more than sud, whose executive shares the guest's address space (p50).
The nanosleep experiment is not asserted: how long a woken SCHED_OTHER task
waits behind a spinner varies with the scheduler's state from run to run.
"""
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    harness = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory(prefix="hijack-regression-") as out:
        p = subprocess.run([harness, "run", os.path.join(HERE, "regression.toml"), "--out", out],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
        sys.stderr.write(p.stderr[-3000:])
        with open(os.path.join(out, "summary.csv"), newline="") as f:
            rows = {r["case"]: r for r in csv.DictReader(f)}

    def stat(case, key="p50_ns"):
        r = rows.get(case)
        if r is None or r["status"] != "ok":
            failures.append(f"{case}: {'missing' if r is None else r['status']}")
            return None
        return int(r[key])

    def less(a, b, key="p50_ns"):
        va, vb = stat(a, key), stat(b, key)
        if va is None or vb is None:
            return
        print(f"{a} {key} {va} < {b} {key} {vb}")
        if not va < vb:
            failures.append(f"expected {a} ({va} ns) < {b} ({vb} ns) by {key}")

    for v in ("sud", "seccomp-trap", "seccomp-notify", "ptrace"):
        for action in ("pass", "emulate"):
            less("native", f"rt-{v}-action={action}")
    for v in ("seccomp-notify", "ptrace"):
        less("ws1024-sud", f"ws1024-{v}")

    for msg in failures:
        print("FAIL:", msg, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
