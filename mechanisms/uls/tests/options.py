#!/usr/bin/env python3
"""uls options and flags per experiment: python3 options.py HARNESS

- A suite that sets an ipc-only option (ipc_placement) on an `upcall` case
  is refused with exit 2, naming the key, the variant it was set on and the
  variants that take it; nothing is run (no summary.csv).
- The same for a service-manager option (tick_us) on a cost variant (sm-signal).
- ipc_placement on ipc-thread and ipc-process is accepted.
- Every uls variant but sm-ctxsw (whose sample ends at the app's own stamp,
  not at tsc_end()) has the probe overhead subtracted.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "plots"))
import gbresults as gb  # noqa: E402

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


SUITE = """[suite]
name = "uls-options"
[defaults]
samples = 10
warmup = 0
[[case]]
mechanism = "uls"
variant = "{variant}"
{key} = {value}
"""


def write_suite(tmp, variant, key, value):
    path = os.path.join(tmp, f"{variant}-{key}.toml")
    with open(path, "w") as f:
        f.write(SUITE.format(variant=variant, key=key, value=value))
    return path


def refused(harness, tmp, variant, key, value, takers):
    suite = write_suite(tmp, variant, key, value)
    out = os.path.join(tmp, f"out-{variant}-{key}")
    p = gb.run(harness, suite, out, timeout=60)
    err = p.stderr
    check(p.returncode == 2, f"{key} on {variant}: harness run exits {p.returncode} (want 2)")
    check(f"'{key}'" in err and f"variant '{variant}'" in err,
          f"{key} on {variant}: the message names the key and the variant: {err.strip()!r}")
    check(all(t in err for t in takers), f"{key} on {variant}: the message names {', '.join(takers)}")
    check(not os.path.exists(os.path.join(out, "summary.csv")), f"{key} on {variant}: nothing was run")
    c = subprocess.run([harness, "check", suite], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    check(c.returncode == 2, f"{key} on {variant}: harness check exits {c.returncode} (want 2)")


def accepted(harness, tmp, variant, key, value):
    suite = write_suite(tmp, variant, key, value)
    c = subprocess.run([harness, "check", suite], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    check(c.returncode == 0, f"{key} on {variant}: harness check exits {c.returncode} (want 0) {c.stderr.strip()}")


def variant_flags(harness):
    """{variant: its line in `harness list mechanisms`} for uls."""
    p = subprocess.run([harness, "list", "mechanisms"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    m = re.search(r"^  uls: .*?(?=^  \S)", p.stdout, re.M | re.S)
    lines = {}
    for line in (m.group(0) if m else "").splitlines():
        v = re.match(r"^      (\S+)\s+\[", line)
        if v:
            lines[v.group(1)] = line
    return lines


def main():
    harness = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="uls-options-") as tmp:
        refused(harness, tmp, "upcall", "ipc_placement", '"split"', ["ipc-thread", "ipc-process"])
        refused(harness, tmp, "sm-signal", "tick_us", "5000", ["sm-user", "sm-extension"])
        accepted(harness, tmp, "ipc-thread", "ipc_placement", '"split"')
        accepted(harness, tmp, "ipc-process", "ipc_placement", '"same"')
    lines = variant_flags(harness)
    check(len(lines) == 14, f"uls lists {len(lines)} variants (want 14, upcall-kmod included)")
    for name, line in sorted(lines.items()):
        sub = "[probe-overhead-subtracted]" in line
        check(sub == (name != "sm-ctxsw"), f"{name}: probe overhead {'subtracted' if sub else 'kept'}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
