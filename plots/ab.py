#!/usr/bin/env python3
"""A/B runs: two builds of gapbench on the same suite, alternately, then compare's verdict.

usage: harness ab (--base REV --new REV | --base-harness PATH --new-harness PATH) SUITE
                  [--rounds N] [--out DIR] [-- COMPARE_ARGS...]

On a shared machine runs made minutes apart differ more than a change does,
so the two builds run in alternation, A B A B ... (ROUNDS each, default 5),
and every case's rounds are its repetitions: `harness compare` then decides
on the spread between them (a rank test, `noisy` when they spread wider than
the effect). With --base/--new, each revision is checked out (git worktree)
and built (meson, ninja) under DIR first. DIR (default results/ab-STAMP)
keeps each round's results folder (A-1, B-1, ...) and the two merged ones (A,
B: the first round's summary and histograms, every round in meta.json's
repetitions) that compare reads. Exit status: compare's (0 nothing slower, 1
some case slower or broken), 2 bad input or a build that fails.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gbresults as gb  # noqa: E402

SOURCE_ROOT = os.path.dirname(HERE)


def die(msg):
    print(f"ab: {msg}", file=sys.stderr)
    sys.exit(2)


def build(rev, where):
    """Check out rev into where/src and build it; the harness binary's path."""
    src = os.path.join(where, "src")
    p = subprocess.run(["git", "-C", SOURCE_ROOT, "worktree", "add", "--detach", src, rev],
                       capture_output=True, text=True)
    if p.returncode:
        die(f"cannot check out {rev}: {p.stderr.strip()}")
    for cmd in (["meson", "setup", os.path.join(src, "build"), src], ["ninja", "-C", os.path.join(src, "build")]):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            die(f"building {rev} failed: {' '.join(cmd)}: {(p.stdout + p.stderr).strip()[-400:]}")
    return os.path.join(src, "build", "harness", "harness")


def merge(rounds, dest):
    """One results folder of a side: round 1's files, every round's statistics as repetitions."""
    shutil.copytree(rounds[0], dest)
    meta = gb.read_meta(dest)
    reps = {}
    for folder in rounds:
        for case, row in gb.rows_by_case(folder).items():
            if row["status"] == "ok":
                reps.setdefault(case, []).append({k: int(row[k]) for k in ("p50_ns", "p90_ns", "p99_ns")})
    for c in meta.get("cases", []):
        c["repetitions"] = reps.get(c.get("case"), [])
    with open(os.path.join(dest, "meta.json"), "w") as f:
        json.dump(meta, f)


def main():
    argv = sys.argv[1:]
    compare_args = []
    if "--" in argv:
        i = argv.index("--")
        argv, compare_args = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(prog="harness ab", description=__doc__.split("\n")[0])
    ap.add_argument("suite")
    ap.add_argument("--base")
    ap.add_argument("--new")
    ap.add_argument("--base-harness")
    ap.add_argument("--new-harness")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    if bool(args.base) == bool(args.base_harness) or bool(args.new) == bool(args.new_harness):
        die("give --base REV and --new REV, or --base-harness PATH and --new-harness PATH")
    if not 2 <= args.rounds <= 100:
        die("--rounds wants 2 to 100")
    if not os.path.isfile(args.suite):
        die(f"{args.suite}: not a suite file")
    out = args.out or os.path.join("results", "ab-" + time.strftime("%Y%m%d-%H%M%S"))
    if os.path.exists(out) and os.listdir(out):
        die(f"{out}: already holds something")
    os.makedirs(out, exist_ok=True)
    harness = {"A": args.base_harness, "B": args.new_harness}
    if args.base:
        harness["A"] = build(args.base, os.path.join(out, "build-A"))
    if args.new:
        harness["B"] = build(args.new, os.path.join(out, "build-B"))
    for side, h in harness.items():
        if not (os.path.isfile(h) and os.access(h, os.X_OK)):
            die(f"{h}: not an executable harness")
    done = {"A": [], "B": []}
    for r in range(1, args.rounds + 1):
        for side in ("A", "B"):
            folder = os.path.join(out, f"{side}-{r}")
            print(f"ab: round {r} of {args.rounds}, {side}", file=sys.stderr, flush=True)
            p = gb.run(harness[side], args.suite, folder)
            if p.returncode == 2:
                die(f"{side} refused the suite: {p.stderr.strip()[-300:]}")
            done[side].append(folder)
    for side in ("A", "B"):
        merge(done[side], os.path.join(out, side))
    p = subprocess.run([harness["B"], "compare", *compare_args, os.path.join(out, "A"), os.path.join(out, "B")],
                       text=True)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
