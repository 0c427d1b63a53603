#!/usr/bin/env python3
"""harness history with hostile inputs: no shell or gnuplot code from user strings, one line and
exit 2 for a malformed results folder, and paths with spaces, quotes and non-ASCII characters work.

usage: test_history_inputs.py HARNESS
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gbresults as gb  # noqa: E402

SUITE = '[defaults]\nsamples = 500\nwarmup = 10\n[[case]]\nmechanism = "null"\n'
INJECT = "x'; system('touch PWNED'); y='z"
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def history(harness, db, *args, cwd=None):
    return subprocess.run([harness, "history", "--db", db, *args], capture_output=True, text=True, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=60)


def main():
    harness = os.path.abspath(sys.argv[1])
    if not shutil.which("gnuplot"):
        print("SKIP: gnuplot is not installed")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="gapbench-history-") as d:
        suite = os.path.join(d, "s.toml")
        with open(suite, "w") as f:
            f.write(SUITE)
        odd = os.path.join(d, "run a b'c \"q\" é")
        p = gb.run(harness, suite, odd)
        check(p.returncode == 0, f"run into a folder with spaces and quotes: {p.returncode} {p.stderr[-200:]}")
        db = os.path.join(d, "hist ö.sqlite")
        p = history(harness, db, "record", odd)
        check(p.returncode == 0, f"record from an odd path: {p.returncode} {p.stderr.strip()}")

        # 17: the plot's output path is data, never gnuplot or shell code
        p = history(harness, db, "plot", "null", "--out", INJECT, cwd=d)
        check(not os.path.exists(os.path.join(d, "PWNED")), "the --out string ran as code (PWNED exists)")
        check(p.returncode == 0 and os.path.exists(os.path.join(d, INJECT + ".png")),
              f"plot to a path with quotes: {p.returncode} {p.stderr.strip()}")

        # 16: malformed meta.json: one line, exit 2, no traceback
        def broken(name, edit):
            folder = os.path.join(d, name)
            shutil.copytree(odd, folder)
            path = os.path.join(folder, "meta.json")
            with open(path) as f:
                meta = json.load(f)
            with open(path, "w") as f:
                json.dump(edit(meta), f)
            return folder
        def null_kernel(m):
            m["platform"]["kernel"] = None
            return m
        cases = {
            "a JSON list": broken("list", lambda m: [m]),
            "platform.kernel null": broken("kernel", null_kernel),
        }
        binary = os.path.join(d, "binary")
        shutil.copytree(odd, binary)
        with open(os.path.join(binary, "summary.csv"), "wb") as f:
            f.write(b"\xff\xfe\x00garbage\x00\n")
        cases["a binary summary.csv"] = binary
        for what, folder in cases.items():
            p = history(harness, os.path.join(d, "other.sqlite"), "record", folder)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 2 and len(lines) == 1 and "Traceback" not in p.stderr,
                  f"record with {what}: exit {p.returncode}, stderr {lines[-3:]}")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
