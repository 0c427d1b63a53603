#!/usr/bin/env python3
"""How often `harness ab` is right: false verdicts on identical builds, detection of a 25% slowdown.

usage: bench_verdict_rates.py HARNESS SOURCE_ROOT [TRIALS] [--effect E]

Builds once a harness whose syscall experiment is 25% slower (the same change
check_ab.py makes), then runs TRIALS pairs of A/B runs of a three-case suite
(null, syscall-getppid, clock-read; 5 rounds each):
  identical: HARNESS against HARNESS: every `faster`/`slower` is a false verdict;
  slowed:    HARNESS against the slowed build: syscall-getppid must be `slower`
             (detection), null and clock-read must not move (more false verdicts).
Prints the rates with their counts, and exits 1 when the false-verdict rate is above
5% or the detection rate below 95% (the targets of the verdict's design).
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_ab  # noqa: E402  (the slowdown and the suite are check_ab's)

MAX_FALSE = 0.05
MIN_DETECT = 0.95


def ab(harness, new, suite, out, effect):
    p = subprocess.run([harness, "ab", "--base-harness", harness, "--new-harness", new, "--rounds", "5",
                        "--out", out, suite, "--", "--effect", str(effect)],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    verdicts = {}
    for line in p.stdout.splitlines()[1:]:
        f = line.split()
        if len(f) >= 2 and f[0] in ("null", "syscall-getppid", "clock-read"):
            verdicts[f[0]] = f[1]
    if len(verdicts) != 3:
        sys.stderr.write(f"harness ab gave no verdicts (exit {p.returncode}):\n{p.stdout}\n{p.stderr}\n")
        sys.exit(1)
    return verdicts


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--effect")]
    effect = 0.1
    for a in sys.argv[1:]:
        if a.startswith("--effect="):
            effect = float(a.split("=", 1)[1])
    if len(args) not in (2, 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    harness, root = os.path.abspath(args[0]), args[1]
    trials = int(args[2]) if len(args) == 3 else 10
    with tempfile.TemporaryDirectory(prefix="gapbench-verdicts-") as d:
        tree = os.path.join(d, "src")
        check_ab.copy_tree(root, tree)
        path = os.path.join(tree, "mechanisms", "syscall", "syscall.c")
        text = open(path).read()
        if check_ab.SLOWDOWN_FROM not in text:
            sys.exit("the syscall mechanism's timed span is not where check_ab.py slows it")
        open(path, "w").write(text.replace(check_ab.SLOWDOWN_FROM, check_ab.SLOWDOWN_TO))
        build = os.path.join(d, "build")
        for cmd in (["meson", "setup", build, tree], ["ninja", "-C", build, "harness/harness"]):
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode:
                sys.exit(f"{' '.join(cmd[:2])} failed: {(p.stdout + p.stderr)[-400:]}")
        slow = os.path.join(build, "harness", "harness")
        suite = os.path.join(d, "s.toml")
        open(suite, "w").write(check_ab.SUITE)
        false_n = comparisons = detected = 0
        t0 = time.monotonic()
        for t in range(trials):
            same = ab(harness, harness, suite, os.path.join(d, f"same{t}"), effect)
            moved = ab(harness, slow, suite, os.path.join(d, f"slow{t}"), effect)
            false_here = [c for c, v in same.items() if v in ("faster", "slower")]
            false_here += [c + "(slowed run)" for c in ("null", "clock-read") if moved[c] in ("faster", "slower")]
            false_n += len(false_here)
            comparisons += 5
            detected += moved["syscall-getppid"] == "slower"
            print(f"trial {t + 1}/{trials} ({time.monotonic() - t0:.0f} s): identical {same}; "
                  f"slowed syscall-getppid {moved['syscall-getppid']}; false: {false_here or 'none'}",
                  flush=True)
    false_rate, detect_rate = false_n / comparisons, detected / trials
    print(f"false verdicts: {false_n} of {comparisons} comparisons ({100 * false_rate:.1f}%, target <= 5%)")
    print(f"25% slowdown found: {detected} of {trials} ({100 * detect_rate:.0f}%, target >= 95%) "
          f"at --effect {effect}")
    sys.exit(0 if false_rate <= MAX_FALSE and detect_rate >= MIN_DETECT else 1)


if __name__ == "__main__":
    main()
