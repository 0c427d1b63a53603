#!/usr/bin/env python3
"""harness history and harness plot with hostile inputs: no shell or gnuplot code from user
strings, one line and exit 2 for a malformed results folder, and paths with spaces, quotes and
non-ASCII characters work.

usage: test_tool_inputs.py HARNESS
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


def plot(harness, folder, cwd):
    return subprocess.run([harness, "plot", folder], capture_output=True, text=True, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=120)


def check_plot(harness, d, odd):
    # a folder whose name is gnuplot code, with spaces, quotes and non-ASCII: drawn, and nothing runs
    evil = os.path.join(d, INJECT + " é")
    shutil.copytree(odd, evil)
    p = plot(harness, evil, d)
    check(not os.path.exists(os.path.join(d, "PWNED")), "a folder name ran as gnuplot code (PWNED exists)")
    check(p.returncode == 0 and os.path.exists(os.path.join(evil, "plots", "hist-null.png")),
          f"plot of a folder with quotes and spaces: {p.returncode} {p.stderr.strip()[-300:]}")

    def broken(name, edit):
        folder = os.path.join(d, "plot-" + name)
        shutil.copytree(odd, folder)
        edit(folder)
        return folder

    def binary(folder):
        with open(os.path.join(folder, "summary.csv"), "wb") as f:
            f.write(b"\xff\xfe\x00garbage\x00\n")

    def no_case_column(folder):
        with open(os.path.join(folder, "summary.csv"), "w") as f:
            f.write("name,status\nnull,ok\n")

    def plots_is_a_file(folder):
        shutil.rmtree(os.path.join(folder, "plots"), ignore_errors=True)
        open(os.path.join(folder, "plots"), "w").close()

    for what, edit in (("a binary summary.csv", binary), ("a summary without a case column", no_case_column),
                       ("a plots path that is a file", plots_is_a_file)):
        p = plot(harness, broken(what.replace(" ", "-"), edit), d)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and "Traceback" not in p.stderr,
              f"plot with {what}: exit {p.returncode}, stderr {lines[-3:]}")

    # invalid UTF-8 in a data file: refused by its contract check, never a traceback
    folder = broken("bad-utf8-data", lambda f: None)
    data = os.path.join(folder, "data", "null")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "intervals.csv"), "wb") as f:
        f.write(b"interval,end_s,c\xffount,min_ns,max_ns,p99_ns\n0,1.0,5,1,2,2\n")
    p = plot(harness, folder, d)
    check(p.returncode in (0, 1) and "Traceback" not in p.stderr and "intervals.csv" in p.stderr,
          f"plot with invalid UTF-8 in a data file: exit {p.returncode}, {p.stderr.strip()[-200:]!r}")


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
        check_plot(harness, d, odd)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
