#!/usr/bin/env python3
"""hijack fault containment: python3 faults.py HARNESS

A guest that kills itself mid-run must end its case with `signal: 9`; an
executive that stops answering must end its case with `timeout`; the suite
goes on (the case after them is ok); and nothing is left behind: no process
still traced, none of the run's processes alive, no extra network namespace.
"""
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def status_field(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def traced_pids():
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit() and status_field(p, "TracerPid") not in (None, "0"):
            out.append(p)
    return set(out)


def net_namespaces():
    seen = set()
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                seen.add(os.readlink(f"/proc/{p}/ns/net"))
            except OSError:
                pass
    return seen


def main():
    harness = sys.argv[1]
    failures = []
    traced_before, netns_before = traced_pids(), net_namespaces()
    with tempfile.TemporaryDirectory(prefix="hijack-faults-") as out:
        p = subprocess.run([harness, "run", os.path.join(HERE, "faults.toml"), "--out", out],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
        sys.stderr.write(p.stderr[-4000:])
        if p.returncode != 1:
            failures.append(f"harness exit {p.returncode}, expected 1 (some cases failed on purpose)")
        with open(os.path.join(out, "summary.csv"), newline="") as f:
            rows = {r["case"]: r["status"] for r in csv.DictReader(f)}
    for name, status in sorted(rows.items()):
        if name.startswith("fault-dies"):
            want = "signal: 9"
        elif name.startswith("fault-hangs"):
            want = "timeout"
        else:
            want = "ok"
        print(f"{name}: {status}")
        if status != want:
            failures.append(f"{name}: status {status!r}, expected {want!r}")
    if len(rows) != 9:
        failures.append(f"{len(rows)} rows in summary.csv, expected 9")
    leftover = traced_pids() - traced_before
    if leftover:
        failures.append(f"processes still traced after the run: {sorted(leftover)}")
    extra = net_namespaces() - netns_before
    if extra:
        failures.append(f"network namespaces left behind: {sorted(extra)}")
    for msg in failures:
        print("FAIL:", msg, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
