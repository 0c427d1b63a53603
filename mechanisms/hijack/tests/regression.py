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
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "plots"))
import gbresults as gb  # noqa: E402


def main():
    harness = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory(prefix="hijack-regression-") as out:
        p = gb.run(harness, os.path.join(HERE, "regression.toml"), out, timeout=300)
        sys.stderr.write(p.stderr[-3000:])
        rows = gb.rows_by_case(out)

    def stat(case, column):
        v = gb.stat(rows, case, column)
        if v is None:
            failures.append(f"{case}: {rows[case]['status'] if case in rows else 'missing'}")
        return v

    def less(a, b, column="p50_ns"):
        va, vb = stat(a, column), stat(b, column)
        if va is None or vb is None:
            return
        print(f"{a} {column} {va:.0f} < {b} {column} {vb:.0f}")
        if not va < vb:
            failures.append(f"expected {a} ({va:.0f}) < {b} ({vb:.0f}) by {column}")

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
