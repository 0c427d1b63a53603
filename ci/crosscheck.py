#!/usr/bin/env python3
"""Cross-check gapbench against independent tools, configured alike and interleaved.

usage: ci/crosscheck.py HARNESS [ROUNDS]

Like for like: each peer tool runs under the environment of the gapbench case
it is compared with: pinned to the case's CPU (`taskset`), at its SCHED_FIFO
priority (`chrt -f`), with /dev/cpu_dma_latency held at 0 while it runs, with
the same message size, and the same statistic is compared (the tools' mean
with gapbench's mean). A shared VM's costs drift over minutes, so every
comparison runs both back to back, ROUNDS times (default 3), and compares the
medians of the rounds:
  - syscall getppid-loop mean (back-to-back getppid() through libc, per
    call of a batch, as perf times it) vs `perf bench syscall basic` (bound
    x1.15); the per-call span (variant getppid) is printed beside it, not
    gated: it leaves out what a call costs the code after it (with PTI and
    no PCID, the caller's TLB refills: 15% on one machine);
  - pipe round trip between two processes on one CPU, 4-byte messages, mean
    vs `perf bench sched pipe` pinned to that CPU (bound x1.3);
  - the timer loop's p50 vs rt-tests' cyclictest's p50 (bound x1.2; both are
    gapbench cases at the same CPU, priority and interval).
Each perf comparison also prints, not gated, the ratio under the tool's
defaults (unpinned, SCHED_OTHER, deep idle allowed): the number a reader gets
by running the tool by hand. Exits 1 when a like-for-like ratio is outside its
bound (a comparison whose tool is missing is reported and not counted).
"""
import contextlib
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plots"))
import gbresults as gb  # noqa: E402

PRIORITY = 80
CPU = (os.sched_getaffinity(0) and max(os.sched_getaffinity(0)))   # the harness's default measuring CPU
SUITES = {
    "syscall": f'[defaults]\npriority = {PRIORITY}\ncpu = {CPU}\n'
               '[[case]]\nmechanism = "syscall"\nvariant = "getppid-loop"\nsamples = 10000\n'
               '[[case]]\nmechanism = "syscall"\nvariant = "getppid"\nsamples = 1000000\n',
    "pipe": f'[defaults]\nsamples = 20000\npriority = {PRIORITY}\ncpu = {CPU}\n'
            '[[case]]\nmechanism = "pipe-rpc"\nvariant = "process-rtt"\nplacement = "same"\nmsg_bytes = 4\n',
    "timer": f'[defaults]\nsamples = 3000\nwarmup = 0\npriority = {PRIORITY}\ncpu = {CPU}\n'
             '[[case]]\nmechanism = "timer"\nvariant = ["nanosleep", "cyclictest"]\ninterval_us = 1000\n',
}
LIKE = ["taskset", "-c", str(CPU), "chrt", "-f", str(PRIORITY)]


def run_case(harness, kind, tmp, column):
    suite, out = os.path.join(tmp, kind + ".toml"), os.path.join(tmp, kind)
    with open(suite, "w") as f:
        f.write(SUITES[kind])
    shutil.rmtree(out, ignore_errors=True)
    gb.run(harness, suite, out)
    rows = gb.rows_by_case(out)
    return {c: gb.stat(rows, c, column) for c in rows if gb.ok(rows, c)}


@contextlib.contextmanager
def dma_latency_zero():
    """Hold /dev/cpu_dma_latency at 0 us, as the harness does for a case (nothing where it cannot)."""
    try:
        f = open("/dev/cpu_dma_latency", "wb", buffering=0)
    except OSError:
        yield False
        return
    try:
        f.write(struct.pack("i", 0))
        yield True
    finally:
        f.close()


def perf_ns(args, like):
    cmd = (LIKE if like else []) + ["perf", "bench"] + args
    with dma_latency_zero() if like else contextlib.nullcontext():
        p = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"([0-9.]+) usecs/op", p.stdout)
    return float(m.group(1)) * 1000.0 if p.returncode == 0 and m else None


def verdict(name, ours, theirs, bound, gated=True):
    if not ours or not theirs:
        print(f"n/a   {name}: no result")
        return 0
    a, b = statistics.median(ours), statistics.median(theirs)
    ratio = a / b
    ok = 1.0 / bound <= ratio <= bound
    label = ("ok" if ok else "FAIL") if gated else "info"
    print(f"{label:5} {name}: {a:.0f} ns vs {b:.0f} ns, ratio {ratio:.2f}"
          f"{f' (bound x{bound})' if gated else ''}; medians of {len(ours)} interleaved rounds")
    return 0 if ok or not gated else 1


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) > 1 else 2)
    harness, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    have_perf = shutil.which("perf") is not None
    if not have_perf:
        print("n/a   perf is not installed (Debian package linux-perf): syscall and pipe not cross-checked")
    perf_cases = {"syscall": ("syscall-getppid-loop", ["syscall", "basic"]),
                  "pipe": ("pipe-rpc-process-rtt", ["sched", "pipe", "-l", "100000"])}
    ours = {k: [] for k in SUITES}
    span = []   # syscall-getppid: the per-call span, shown beside the loop
    like = {k: [] for k in perf_cases}
    default = {k: [] for k in perf_cases}
    timer_ct = []
    with tempfile.TemporaryDirectory(prefix="gapbench-crosscheck-") as tmp:
        for _ in range(rounds):
            if have_perf:
                for kind, (case, args) in perf_cases.items():
                    got = run_case(harness, kind, tmp, "mean_ns")
                    if got.get(case):
                        ours[kind].append(got[case])
                    if kind == "syscall" and got.get("syscall-getppid"):
                        span.append(got["syscall-getppid"])
                    for store, alike in ((like, True), (default, False)):
                        t = perf_ns(args, alike)
                        if t:
                            store[kind].append(t)
            t = run_case(harness, "timer", tmp, "p50_ns")
            if "timer-nanosleep" in t and "timer-cyclictest" in t:
                ours["timer"].append(t["timer-nanosleep"])
                timer_ct.append(t["timer-cyclictest"])
    bad = 0
    if have_perf:
        bad += verdict("syscall getppid-loop mean vs perf bench syscall basic, alike", ours["syscall"], like["syscall"],
                       1.15)
        verdict("syscall getppid per-call span mean vs perf bench syscall basic, alike (a shorter span: not gated)",
                span, like["syscall"], 1.15, gated=False)
        verdict("syscall getppid-loop mean vs perf bench syscall basic, its defaults", ours["syscall"],
                default["syscall"], 1.15, gated=False)
        bad += verdict("pipe round trip, processes on one CPU, mean vs perf bench sched pipe, alike", ours["pipe"],
                       like["pipe"], 1.3)
        verdict("pipe round trip mean vs perf bench sched pipe, its defaults", ours["pipe"], default["pipe"], 1.3,
                gated=False)
    bad += verdict("timer nanosleep p50 vs cyclictest p50, same CPU, priority and interval", ours["timer"],
                   timer_ct, 1.2)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
