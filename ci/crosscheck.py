#!/usr/bin/env python3
"""Cross-check a results folder against independent tools on the same machine.

usage: ci/crosscheck.py DIR

Runs `perf bench syscall basic` and `perf bench sched pipe` now (median of
three runs each) and compares
them with the `syscall-getppid` and `pipe-rpc-free` rows of DIR/summary.csv,
and compares the `timer-nanosleep` row with `timer-cyclictest`. Prints one
line per comparison and exits 1 when one is outside its bound, 0 otherwise
(a comparison whose rows or tool are missing is reported and not counted).
"""
import csv
import os
import re
import shutil
import subprocess
import sys

# (name, ours, theirs, bound): ratio ours/theirs must lie within [1/bound, bound]
BOUNDS = {"syscall": 1.3, "pipe": 2.0, "timer": 2.0}


def perf_usecs_per_op(args, runs=3):
    """The median of `runs` runs of perf bench: one run is as noisy as the machine."""
    perf = shutil.which("perf")
    if not perf:
        return None, "perf not installed (Debian package linux-perf)"
    values = []
    for _ in range(runs):
        p = subprocess.run([perf, "bench"] + args, capture_output=True, text=True)
        m = re.search(r"([0-9.]+) usecs/op", p.stdout)
        if p.returncode != 0 or not m:
            return None, f"perf bench {' '.join(args)} failed: {p.stderr.strip()[:200]}"
        values.append(float(m.group(1)) * 1000.0)
    return sorted(values)[len(values) // 2], None


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip())
        sys.exit(2)
    with open(os.path.join(sys.argv[1], "summary.csv"), newline="") as f:
        rows = {r["case"]: r for r in csv.DictReader(f)}

    def ours(case, col="p50_ns"):
        r = rows.get(case)
        return float(r[col]) if r and r["status"] == "ok" else None

    checks = []
    ns, why = perf_usecs_per_op(["syscall", "basic"])
    checks.append(("syscall getppid p50 vs perf bench syscall basic", ours("syscall-getppid"), ns, why,
                   BOUNDS["syscall"]))
    ns, why = perf_usecs_per_op(["sched", "pipe", "-l", "100000"])
    checks.append(("pipe-rpc process round trip (unpinned) p50 vs perf bench sched pipe",
                   ours("pipe-rpc-free"), ns, why, BOUNDS["pipe"]))
    checks.append(("timer nanosleep p50 vs cyclictest p50", ours("timer-nanosleep"), ours("timer-cyclictest"),
                   None, BOUNDS["timer"]))
    bad = 0
    for name, a, b, why, bound in checks:
        if a is None or b is None:
            print(f"n/a   {name}: {why or 'case missing or not ok in this run'}")
            continue
        ratio = a / b
        ok = 1.0 / bound <= ratio <= bound
        bad += not ok
        print(f"{'ok' if ok else 'FAIL':5} {name}: {a:.0f} ns vs {b:.0f} ns, ratio {ratio:.2f} (bound x{bound})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
