#!/usr/bin/env python3
"""Cross-check gapbench against independent tools, interleaved on this machine.

usage: ci/crosscheck.py HARNESS [ROUNDS]

A shared VM's costs drift over minutes (a getppid here went from 80 to 135 ns
within seconds), so each comparison runs gapbench's case and the other tool
back to back, ROUNDS times (default 3), and compares the medians:
  - syscall getppid p50 with `perf bench syscall basic` (bound x1.3);
  - pipe-rpc round trip between processes p50 with `perf bench sched pipe`
    (bound x2);
  - the timer loop's p50 with rt-tests' cyclictest's p50 (bound x2; both
    are gapbench cases, the second runs cyclictest itself).
Prints one line per comparison; exits 1 when one is outside its bound (a
comparison whose tool is missing is reported and not counted).
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plots"))
import gbresults as gb  # noqa: E402

SUITES = {
    "syscall": '[defaults]\nsamples = 1000000\npriority = 80\n[[case]]\nmechanism = "syscall"\nvariant = "getppid"\n',
    "pipe": '[defaults]\nsamples = 20000\npriority = 80\n[[case]]\nmechanism = "pipe-rpc"\nvariant = "process-rtt"\n',
    "timer": '[defaults]\nsamples = 3000\nwarmup = 0\npriority = 80\n[[case]]\nmechanism = "timer"\n'
             'variant = ["nanosleep", "cyclictest"]\ninterval_us = 1000\n',
}


def run_case(harness, kind, tmp):
    suite, out = os.path.join(tmp, kind + ".toml"), os.path.join(tmp, kind)
    with open(suite, "w") as f:
        f.write(SUITES[kind])
    shutil.rmtree(out, ignore_errors=True)
    gb.run(harness, suite, out)
    rows = gb.rows_by_case(out)
    return {c: gb.stat(rows, c) for c in rows if gb.ok(rows, c)}


def perf_ns(args):
    p = subprocess.run(["perf", "bench"] + args, capture_output=True, text=True)
    m = re.search(r"([0-9.]+) usecs/op", p.stdout)
    return float(m.group(1)) * 1000.0 if p.returncode == 0 and m else None


def verdict(name, ours, theirs, bound):
    if not ours or not theirs:
        print(f"n/a   {name}: no result")
        return 0
    a, b = statistics.median(ours), statistics.median(theirs)
    ratio = a / b
    ok = 1.0 / bound <= ratio <= bound
    print(f"{'ok' if ok else 'FAIL':5} {name}: {a:.0f} ns vs {b:.0f} ns, ratio {ratio:.2f} (bound x{bound}; "
          f"medians of {len(ours)} interleaved rounds)")
    return 0 if ok else 1


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) > 1 else 2)
    harness, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    have_perf = shutil.which("perf") is not None
    if not have_perf:
        print("n/a   perf is not installed (Debian package linux-perf): syscall and pipe not cross-checked")
    res = {k: ([], []) for k in SUITES}
    with tempfile.TemporaryDirectory(prefix="gapbench-crosscheck-") as tmp:
        for _ in range(rounds):
            if have_perf:
                ours, theirs = res["syscall"]
                ours += [v for v in [run_case(harness, "syscall", tmp).get("syscall-getppid")] if v]
                theirs += [v for v in [perf_ns(["syscall", "basic"])] if v]
                ours, theirs = res["pipe"]
                ours += [v for v in [run_case(harness, "pipe", tmp).get("pipe-rpc-process-rtt")] if v]
                theirs += [v for v in [perf_ns(["sched", "pipe", "-l", "100000"])] if v]
            t = run_case(harness, "timer", tmp)
            if "timer-nanosleep" in t and "timer-cyclictest" in t:
                res["timer"][0].append(t["timer-nanosleep"])
                res["timer"][1].append(t["timer-cyclictest"])
    bad = 0
    if have_perf:
        bad += verdict("syscall getppid p50 vs perf bench syscall basic", *res["syscall"], 1.3)
        bad += verdict("pipe-rpc process round trip p50 vs perf bench sched pipe", *res["pipe"], 2.0)
    bad += verdict("timer nanosleep p50 vs cyclictest p50", *res["timer"], 2.0)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
