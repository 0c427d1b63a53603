#!/usr/bin/env python3
"""A run without root rights: every case is ok or a skip that names what was refused and how
to grant it (never a fail), and with `degrade = true` cases run and meta.json says what they ran
without.

usage: check_nonroot.py HARNESS SUITE     (run as root: the test drops to user nobody)
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plots"))
import gbresults as gb  # noqa: E402

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def as_nobody(harness, suite, out):
    return subprocess.run(["runuser", "-u", "nobody", "--", harness, "run", suite, "--out", out],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)


def main():
    harness, suite = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if os.geteuid() != 0 or not shutil.which("runuser"):
        print("SKIP: needs root (to run the harness as user nobody) and runuser")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="gapbench-nonroot-") as d:
        os.chmod(d, 0o777)
        out = os.path.join(d, "out")
        p = as_nobody(harness, suite, out)
        if p.returncode in (126, 127):   # nobody may not reach the build folder (a clone under /root)
            print(f"SKIP: user nobody cannot run {harness}: {p.stderr.strip()[:200]}")
            sys.exit(77)
        rows = gb.read_summary(out)[1]
        check(p.returncode == 0, f"a non-root run exited {p.returncode}")
        check(len(rows) > 0, "the non-root run wrote no rows")
        for r in rows:
            st = r["status"]
            check(st == "ok" or st.startswith("skip:"), f"{r['case']}: {st[:120]}")
            if st.startswith("skip: refused"):
                check("needs root" in st and "degrade = true" in st,
                      f"{r['case']}: the skip says how to grant what was refused: {st[:160]}")
        # degrade = true: one case that needs FIFO and mlock runs without them, and says so
        deg = os.path.join(d, "degrade.toml")
        with open(deg, "w") as f:
            f.write('[defaults]\nsamples = 2000\npriority = 80\ndegrade = true\n[[case]]\nmechanism = "null"\n')
        os.chmod(deg, 0o644)
        out2 = os.path.join(d, "degraded")
        p = as_nobody(harness, deg, out2)
        rows = gb.rows_by_case(out2)
        check(gb.ok(rows, "null"), f"degrade = true: null ran ({p.stderr.strip()[-200:]})")
        ran_without = gb.meta_case(gb.read_meta(out2), "null").get("ran_without", "")
        check("SCHED_FIFO priority 80" in ran_without, f"meta.json says what it ran without: {ran_without!r}")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
