#!/usr/bin/env python3
"""Hostile inputs to `harness compare`: each is bad input (exit 2, one line) or an honest
`unknown`, never a verdict, a hang or unbounded memory.

usage: check_inputs.py HARNESS
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plots"))
import gbresults as gb  # noqa: E402

SUITE = '[defaults]\nsamples = 3000\nwarmup = 10\n[[case]]\nmechanism = "null"\n'
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def compare(harness, *args):
    return subprocess.run([harness, "compare", *args], capture_output=True, text=True, timeout=20,
                          stdin=subprocess.DEVNULL)


def main():
    harness = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="gapbench-inputs-") as d:
        suite = os.path.join(d, "s.toml")
        with open(suite, "w") as f:
            f.write(SUITE)
        base = os.path.join(d, "base")
        p = gb.run(harness, suite, base)
        check(p.returncode == 0, f"the base run exited {p.returncode}")

        # 9: non-finite and out-of-range numbers are refused, never a quiet "same"
        for opt in ("--effect", "--alpha", "--min-samples"):
            for v in ("nan", "inf", "-inf", "NaN"):
                p = compare(harness, opt, v, base, base)
                check(p.returncode == 2, f"compare {opt} {v} exited {p.returncode}, expected 2")

        # 10: an empty, header-only or directory summary on either side, a file as a run
        def bad_run(name, make):
            run = os.path.join(d, name)
            os.makedirs(run)
            make(os.path.join(run, "summary.csv"))
            return run
        empty = bad_run("empty", lambda p: open(p, "w").close())
        header = bad_run("header", lambda p: open(p, "w").write("case,status\n"))
        dirsum = bad_run("dirsum", os.makedirs)
        for run, what in ((empty, "empty"), (header, "header-only"), (dirsum, "directory")):
            for args in ((run, base), (base, run)):
                p = compare(harness, *args)
                side = "base" if args[0] == run else "new"
                check(p.returncode == 2, f"compare with a {what} summary as {side} exited {p.returncode}, expected 2")
                check(len(p.stderr.strip().splitlines()) == 1, f"{what} as {side}: one line, got {p.stderr!r}")
        p = compare(harness, dirsum, base)
        check("is a directory" in p.stderr, f"a directory summary says so: {p.stderr.strip()!r}")
        p = compare(harness, suite, base)
        check(p.returncode == 2 and "not a results folder" in p.stderr, f"a file as a run: {p.stderr.strip()!r}")

        # 7: a FIFO summary does not block; /dev/zero as a histogram does not grow without bound
        fifo = os.path.join(d, "fifo")
        os.makedirs(fifo)
        os.mkfifo(os.path.join(fifo, "summary.csv"))
        try:
            p = compare(harness, fifo, base)
            check(p.returncode == 2 and "FIFO" in p.stderr, f"a FIFO summary: {p.returncode} {p.stderr.strip()!r}")
        except subprocess.TimeoutExpired:
            check(False, "a FIFO summary blocked compare")
        zero = os.path.join(d, "zero")
        shutil.copytree(base, zero)
        hist = os.path.join(zero, "hist", "null.csv")
        os.remove(hist)
        os.symlink("/dev/zero", hist)
        try:
            p = compare(harness, base, zero)
            check("unknown" in p.stdout and "malformed" in p.stdout, f"/dev/zero as a histogram: {p.stdout.strip()!r}")
        except subprocess.TimeoutExpired:
            check(False, "/dev/zero as a histogram hung compare")

        # 14: a cumulative column that wraps around 2^64 is malformed, not a distribution
        wrap = os.path.join(d, "wrap")
        shutil.copytree(base, wrap)
        big = 2**64 - 1
        with open(os.path.join(wrap, "hist", "null.csv"), "w") as f:
            f.write(f"lo_ns,hi_ns,count,cumulative\n10,10,{big},{big}\n20,20,5,4\n")
        p = compare(harness, base, wrap)
        check("malformed" in p.stdout and p.returncode == 0, f"a wrapping histogram: {p.stdout.strip()!r}")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
