#!/usr/bin/env python3
"""The progress line of a long case tells the truth: a duration_s case says how long it measures,
never a sample count it will not reach (it said "N of 18446744073709551615 samples").

usage: check_progress.py HARNESS
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plots"))
import gbresults as gb  # noqa: E402

SUITE = '[[case]]\nmechanism = "clock"\nvariant = "read"\nduration_s = 12\ntimeout_s = 40\nwarmup = 10\n'


def main():
    with tempfile.TemporaryDirectory(prefix="gapbench-progress-") as d:
        suite = os.path.join(d, "s.toml")
        with open(suite, "w") as f:
            f.write(SUITE)
        p = gb.run(sys.argv[1], suite, os.path.join(d, "out"))
        lines = [line for line in p.stderr.splitlines() if "samples after" in line]
        bad = []
        if p.returncode != 0:
            bad.append(f"the run exited {p.returncode}")
        if not lines:
            bad.append("no progress line in a 12 s case")
        if any("18446744073709551615" in line or "measuring for 12 s" not in line for line in lines):
            bad.append(f"progress lines: {lines}")
        for b in bad:
            print("FAIL", b)
        print("ok" if not bad else "", "\n".join(lines))
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
