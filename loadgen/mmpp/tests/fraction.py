#!/usr/bin/env python3
"""mmpp fraction: python3 fraction.py HARNESS

The service manager's disturbance must be what the suite says it is:
  - the shipped suite (bench/suites/uls.toml) runs the paper's MMPP, 10 s
    between bursts and 3 s bursts, unscaled (scale_pct = 100);
  - a scaled run (fraction.toml, x0.2) states the scaling in its report
    (fact scale_pct, the means actually run, "SCALED" in the schedule);
  - it reaches its configured level: the time in bursts and the CPU the jobs
    took are at least FLOOR of what the configuration gives in the long run
    (burst_fraction_expected, busy_share_expected), the run followed its
    seeded schedule (achieved vs planned burst fraction within SLACK), the
    jobs took their CPU inside bursts, and the manager saw the CPU taken
    (at least one 1 s window with taken_share >= 0.10).
"""
import os
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "plots"))
import gbresults as gb  # noqa: E402

FLOOR = 0.6
SLACK = 0.06
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def load_fact(case, key):
    v = case.get("load_achieved", {}).get(key)
    return v["value"] if isinstance(v, dict) and "value" in v else v


def shipped():
    with open(os.path.join(ROOT, "bench", "suites", "uls.toml"), "rb") as f:
        suite = tomllib.load(f)
    managers = [c for c in suite["case"] if c.get("load") == "mmpp"]
    check(len(managers) == 2, f"uls.toml: two manager cases under mmpp ({len(managers)})")
    for c in managers:
        o = c.get("load_opts", {})
        check((o.get("quiet_ms"), o.get("burst_ms"), o.get("scale_pct", 100)) == (10000, 3000, 100),
              f"uls.toml {c.get('name')}: the paper's 10 s / 3 s, unscaled ({o})")


def main():
    harness = sys.argv[1]
    shipped()
    with tempfile.TemporaryDirectory(prefix="mmpp-fraction-") as out:
        p = gb.run(harness, os.path.join(HERE, "fraction.toml"), out, timeout=240)
        sys.stderr.write(p.stderr[-2000:])
        rows = gb.rows_by_case(out)
        case = gb.meta_case(gb.read_meta(out), "scaled")
    check(gb.ok(rows, "scaled"), f"scaled: status {rows.get('scaled', {}).get('status', 'missing')}")
    if not case:
        return 1
    check(load_fact(case, "scale_pct") == 20, f"the report states the scaling: scale_pct {load_fact(case, 'scale_pct')}")
    check(load_fact(case, "quiet_mean_s") == 2 and abs(load_fact(case, "burst_mean_s") - 0.6) < 1e-9,
          f"the means run: {load_fact(case, 'quiet_mean_s')} s / {load_fact(case, 'burst_mean_s')} s")
    check("SCALED" in str(load_fact(case, "schedule")), f"schedule: {load_fact(case, 'schedule')}")
    expected, achieved = load_fact(case, "burst_fraction_expected"), load_fact(case, "burst_fraction_of_run")
    planned = load_fact(case, "burst_fraction_planned")
    print(f"bursts: {load_fact(case, 'bursts_ms')}")
    check(achieved >= FLOOR * expected, f"time in bursts {achieved:.3f} >= {FLOOR} x expected {expected:.3f}")
    check(abs(achieved - planned) <= SLACK, f"the seeded schedule was run: achieved {achieved:.3f}, planned {planned:.3f}")
    busy, busy_expected = load_fact(case, "busy_share_of_run"), load_fact(case, "busy_share_expected")
    check(busy >= FLOOR * busy_expected, f"CPU the jobs took {busy:.3f} >= {FLOOR} x expected {busy_expected:.3f}")
    in_bursts = load_fact(case, "busy_share_in_bursts")
    check(in_bursts >= 0.7 * 0.30, f"inside bursts the jobs took {in_bursts:.3f} of the CPU (configured 0.30)")
    disturbed = gb.fact(case, "disturbed_windows")
    check(isinstance(disturbed, int) and disturbed >= 1,
          f"the manager saw the CPU taken: {disturbed} disturbed window(s), taken_share "
          f"{gb.fact(case, 'taken_share_disturbed')}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
