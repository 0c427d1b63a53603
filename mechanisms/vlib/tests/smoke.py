#!/usr/bin/env python3
"""vlib end to end: python3 smoke.py HARNESS  (exit 77 = skip without /dev/kvm)

1. tests/smoke.toml: every case ok; the 1000-call case checked every payload
   byte (payload_mismatches 0), so did 20 calls each with 4 KiB and 1 MiB
   payloads (the guest touches every byte), FIFO order held, host/guest stamps ordered.
2. tests/faults.toml: a guest that faults on purpose fails its case with a
   status naming the fault (#UD, #PF, #DE, triple fault, unresponsive), and
   the suite goes on; no case process is left behind.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECT = {
    "fault-fault=ud": "#UD invalid opcode",
    "fault-fault=pf": "#PF page fault",
    "fault-fault=de": "#DE divide error",
    "fault-fault=triple": "guest triple fault",
    "fault-fault=hang": "guest unresponsive",
}


def run(harness, suite, out):
    return subprocess.run([harness, "run", suite, "--out", out], capture_output=True, text=True, timeout=500)


def rows(out):
    with open(os.path.join(out, "summary.csv")) as f:
        return {r["case"]: r for r in csv.DictReader(f)}


def main():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: needs /dev/kvm")
        return 77
    harness = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "smoke")
        p = run(harness, os.path.join(HERE, "smoke.toml"), out)
        for name, r in rows(out).items():
            if r["status"] != "ok":
                failures.append(f"{name}: {r['status']}")
        meta = {c["case"]: c.get("report", {}) for c in json.load(open(os.path.join(out, "meta.json")))["cases"]}
        rep = meta.get("smoke-vlib-call-transform", {})
        if rep.get("payload_mismatches") != "0" or int(rep.get("payload_checked_bytes", "0")) < 1000 * 64:
            failures.append(f"payload not checked: {rep}")
        for size in (4096, 1048576):
            rep = meta.get(f"smoke-vlib-transform-sizes-channel_bytes={size}", {})
            if rep.get("payload_mismatches") != "0" or int(rep.get("payload_checked_bytes", "0")) < 20 * size:
                failures.append(f"{size}-byte payload not transformed and checked: {rep}")
        if meta.get("smoke-vlib-fifo", {}).get("fifo_out_of_order") != "0":
            failures.append("FIFO order not shown")
        out = os.path.join(tmp, "faults")
        p = run(harness, os.path.join(HERE, "faults.toml"), out)
        if p.returncode != 1:
            failures.append(f"faults suite exit {p.returncode}, expected 1")
        got = rows(out)
        for name, text in EXPECT.items():
            st = got.get(name, {}).get("status", "missing")
            if not st.startswith("fail:") or text not in st:
                failures.append(f"{name}: status '{st}' does not name '{text}'")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
