#!/usr/bin/env python3
"""The karma cases in a nested guest with /dev/kvm: correctness, never timings.

    nested.py HARNESS

Boots vm/gbvm.py --kvm-in-guest (KVM inside qemu's TCG, emulated SVM), runs
tests/nested.toml there and checks what came back:
  - no fail rows: every case ok (a skip only where the guest's KVM lacks a
    feature, and then with a reason);
  - every ok case has samples, and every period the guest waited for was
    recorded (periods >= samples + warm-up; missed ones are counted, not lost);
  - PV variants: events raised == soft + hard triggers + deferred arms (one
    event per arming), and soft + hard == arm hypercalls;
  - vm-pv-soft has soft triggers, vm-pv-hard none;
  - vm-pv-deferred makes fewer arm exits per period than vm-pv-immediate
    (and, where KVM's exit counters are readable, fewer exits per period);
  - vm-tpr with the TPR raised: no device interrupt lands in a release path,
    and some were held back in the IRR; without it none are held back;
  - injected faults end their case with the right row: a guest that stops
    arming its timer times out, a crashed VMM timer thread is `signal: 11`;
  - interrupts the VMM withholds (lose_every, fault injection) are each found
    by the guest's watchdog and counted lost, also under a device load with
    the TPR raised (the case that once hung: the load's wakes kept pushing
    the watchdog out, and a TPR left raised masked it).
Exit 77 when gbvm cannot boot a guest here.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "plots"))
import gbresults as gb  # noqa: E402

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def main():
    harness = os.path.abspath(sys.argv[1])
    suite = os.path.join(HERE, "nested.toml")
    out = tempfile.mkdtemp(prefix="karma-nested-")
    # the run's lines also go to the console: a guest that hangs then names its last case
    script = (f"cd /tmp; {harness} run {suite} --out /out/r 2>&1 | tee /out/run.log")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "vm", "gbvm.py"), "exec", "--kvm-in-guest",
                        "--cpus", "2", "--bin", harness, "--tree", HERE,
                        "--tree", os.path.join(ROOT, "reference-data"),
                        "--script", script, "--out", out, "--timeout", "270"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if p.returncode == 77:
        print("SKIP: gbvm cannot boot a guest here")
        return 77
    log = os.path.join(out, "run.log")
    if os.path.exists(log):
        with open(log) as f:
            sys.stderr.write(f.read()[-6000:])
    if p.returncode != 0 or not os.path.exists(os.path.join(out, "r", "summary.csv")):
        print(f"FAIL: gbvm exited {p.returncode}, results in {out}", file=sys.stderr)
        return 1
    r = os.path.join(out, "r")
    rows = gb.rows_by_case(r)
    meta = gb.read_meta(r)

    def f(case, key, default=None):
        return gb.fact(gb.meta_case(meta, case), key, default)

    faults = {"n-fault-stop-arming": "timeout", "n-fault-crash-timer": "signal: 11"}
    for case, want in faults.items():
        got = rows.get(case, {}).get("status")
        check(got == want, f"{case}: status {got!r}, expected {want!r} (an injected fault)")
    for case, row in rows.items():
        if case in faults:
            continue
        check(row["status"] in ("ok", "skip"), f"{case}: status {row['status']}")
        # the harness ran in a TCG guest without --vm: CPUID tells it, and every row says so
        check("tcg" in row.get("placement", ""), f"{case}: placement {row.get('placement')!r} in a TCG guest")
        if row["status"] != "ok":
            continue
        n = int(row["samples"] or 0)
        check(n > 0, f"{case}: no samples")
        periods = f(case, "periods", 0)
        check(periods >= n, f"{case}: {periods} periods recorded by the guest, {n} samples")
        check(f(case, "missed_periods") is not None, f"{case}: missed periods not counted")
        check("emulated" in str(f(case, "platform", "")), f"{case}: platform not labelled emulated: "
              f"{f(case, 'platform')}")
        if case != "n-lapic":
            ev, soft, hard = f(case, "events", 0), f(case, "soft_triggers", 0), f(case, "hard_triggers", 0)
            arms = f(case, "deferred_arms", 0)
            check(ev == soft + f(case, "host_timer_expiries", 0),
                  f"{case}: {ev} events, {soft} soft + {f(case, 'host_timer_expiries')} expiries")
            check(soft + hard == f(case, "arm_hypercalls", -1),
                  f"{case}: soft {soft} + hard {hard} != {f(case, 'arm_hypercalls')} arm hypercalls")
            check(ev >= periods, f"{case}: {ev} events for {periods} periods")
            check(f(case, "host_timer_expiries", 0) <= hard + arms,
                  f"{case}: more expiries than armings")
            check(f(case, "lost_interrupts") is not None, f"{case}: lost interrupts not counted")
    for case in rows:
        print(f"{case}: {rows[case]['status']} samples={rows[case]['samples']} "
              f"periods={f(case, 'periods')} missed={f(case, 'missed_periods')} "
              f"soft={f(case, 'soft_triggers')} hard={f(case, 'hard_triggers')} "
              f"arm/period={f(case, 'arm_exits_per_period')} exits/period={f(case, 'kvm_exits_per_period')} "
              f"dev={f(case, 'dev_irqs_handled')} in_window={f(case, 'dev_irqs_in_release_path')} "
              f"held_back={f(case, 'release_paths_held_back')} lost={f(case, 'lost_interrupts')}")

    def both_ok(*cases):
        return all(gb.ok(rows, c) for c in cases)

    if both_ok("n-pv-soft", "n-pv-hard"):
        check(f("n-pv-soft", "soft_triggers", 0) > 0, "vm-pv-soft: no soft triggers")
        check(f("n-pv-hard", "soft_triggers", 1) == 0, "vm-pv-hard: soft triggers")
    if both_ok("n-pv-immediate", "n-pv-deferred"):
        imm, dfr = f("n-pv-immediate", "arm_exits_per_period"), f("n-pv-deferred", "arm_exits_per_period")
        check(dfr < imm, f"deferred {dfr} arm exits per period, immediate {imm}")
        ki, kd = f("n-pv-immediate", "kvm_exits_per_period"), f("n-pv-deferred", "kvm_exits_per_period")
        if ki is not None and kd is not None:
            check(kd < ki, f"KVM exits per period: deferred {kd}, immediate {ki}")
        check(f("n-pv-deferred", "deferred_arms", 0) > 0, "deferred: no re-arm at an expiry")
    check(gb.ok(rows, "n-othervm-same"), "the other VM on the real-time VM's own CPU starved it (Figure 8's setup)")
    if gb.ok(rows, "n-tpr-on"):
        check(f("n-tpr-on", "dev_irqs_in_release_path", 1) == 0, "TPR raised: device interrupt in a release path")
        check(f("n-tpr-on", "release_paths_held_back", 0) > 0, "TPR raised: nothing held back")
        check(f("n-tpr-on", "dev_irqs_handled", 0) > 0, "TPR raised: no device interrupt handled at all")
    if gb.ok(rows, "n-tpr-off"):
        check(f("n-tpr-off", "release_paths_held_back", 1) == 0, "TPR not raised: something held back")
        check(f("n-tpr-off", "dev_irqs_handled", 0) > 0, "TPR off: no device interrupt handled")
    for case in ("n-pv-lost", "n-tpr-lost"):
        check(case in rows, f"{case}: not in the results")
        if gb.ok(rows, case):
            withheld = f(case, "interrupts_withheld_by_fault_injection", 0)
            lost = f(case, "lost_interrupts", 0)
            check(withheld > 0, f"{case}: no interrupt withheld")
            # the last withheld one may come after the guest's final flush
            check(withheld - 1 <= lost <= withheld, f"{case}: {withheld} withheld, {lost} found lost by the watchdog")
        if gb.ok(rows, case):
            # a lost event is one late sample, not a lag every later period carries (skip_missed)
            check(f(case, "missed_periods", 99) <= f(case, "periods", 0) // 2,
                  f"{case}: {f(case, 'missed_periods')} of {f(case, 'periods')} periods missed "
                  f"({f(case, 'skipped_releases')} releases skipped)")
    if gb.ok(rows, "n-tpr-lost"):
        check(f("n-tpr-lost", "dev_irqs_in_release_path", 1) == 0,
              "TPR raised, interrupts lost: device interrupt in a release path after a lost event")
    if failures:
        print(f"{len(failures)} failure(s); results in {out}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
