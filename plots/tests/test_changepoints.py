#!/usr/bin/env python3
"""Change points on synthetic series: a step is found where it is, noise gives none, and a
steady drift is reported as a drift, not as steps."""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import changepoints as cp  # noqa: E402

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def noise(rng, n, mean=1000.0, sd=20.0):
    return [rng.gauss(mean, sd) for _ in range(n)]


def main():
    # a 10% step at run 20 of 40, noise 2%
    found = 0
    for seed in range(10):
        rng = random.Random(seed)
        x = noise(rng, 20) + noise(rng, 20, mean=1100.0)
        r = cp.analyse(x)
        if any(abs(s - 20) <= 1 for s in r["steps"]) and len(r["steps"]) == 1:
            found += 1
    check(found >= 9, f"a 10% step is found at its run in {found}/10 series")

    # identical distribution: no step
    alarms = 0
    for seed in range(20):
        r = cp.analyse(noise(random.Random(100 + seed), 40))
        alarms += len(r["steps"]) > 0
    check(alarms <= 1, f"pure noise: steps reported in {alarms}/20 series (at most 1)")

    # a slow drift: +0.5% per run over 40 runs, noise 1%
    drift_seen, step_free = 0, 0
    for seed in range(10):
        rng = random.Random(200 + seed)
        x = [1000.0 * (1 + 0.005 * i) + rng.gauss(0, 10) for i in range(40)]
        r = cp.analyse(x)
        step_free += not r["steps"]
        seg = r["segments"]
        drift_seen += any(p < r["trend_alpha"] and slope > 0 for _, _, slope, p in seg)
    check(step_free >= 8, f"a steady drift reported without steps in {step_free}/10 series")
    check(drift_seen >= 9, f"a steady drift reported as a rising trend in {drift_seen}/10 series")

    # Theil-Sen and Mann-Kendall on exact data
    slope, icept = cp.theil_sen([3.0 + 2.0 * i for i in range(10)])
    check(abs(slope - 2.0) < 1e-12 and abs(icept - 3.0) < 1e-12, f"Theil-Sen line: {slope}, {icept}")
    s, p = cp.mann_kendall(list(range(10)))
    check(s == 45 and p < 0.001, f"Mann-Kendall of a rising sequence: S={s} p={p:.2g}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
