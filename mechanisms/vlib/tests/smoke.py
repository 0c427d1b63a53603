#!/usr/bin/env python3
"""vlib end to end: python3 smoke.py HARNESS  (exit 77 = skip without /dev/kvm)

1. tests/smoke.toml: every case ok; the 1000-call case checked every payload
   byte (payload_mismatches 0), so did 20 calls each with 4 KiB and 1 MiB
   payloads (the guest touches every byte), FIFO order held, host/guest stamps ordered.
2. tests/faults.toml: a guest that faults on purpose fails its case with a
   status naming the fault (#UD, #PF, #DE, triple fault, unresponsive), and
   the suite goes on; no case process is left behind.
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "plots"))
import gbresults as gb  # noqa: E402
EXPECT = {
    "fault-fault=ud": "#UD invalid opcode",
    "fault-fault=pf": "#PF page fault",
    "fault-fault=de": "#DE divide error",
    "fault-fault=triple": "guest triple fault",
    "fault-fault=hang": "guest unresponsive",
}


def payload_checked(case_meta, calls, size):
    """The case checked every byte of `calls` payloads of `size` bytes and found none wrong."""
    return (gb.fact(case_meta, "payload_mismatches") == 0
            and (gb.fact(case_meta, "payload_checked_bytes") or 0) >= calls * size)


def main():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: needs /dev/kvm")
        return 77
    harness = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "smoke")
        gb.run(harness, os.path.join(HERE, "smoke.toml"), out, timeout=500)
        for name, r in gb.rows_by_case(out).items():
            if r["status"] != "ok":
                failures.append(f"{name}: {r['status']}")
        meta = gb.read_meta(out)
        c = gb.meta_case(meta, "smoke-vlib-call-transform")
        if not payload_checked(c, 1000, 64):
            failures.append(f"payload not checked: {c.get('report')}")
        for size in (4096, 1048576):
            c = gb.meta_case(meta, f"smoke-vlib-transform-sizes-channel_bytes={size}")
            if not payload_checked(c, 20, size):
                failures.append(f"{size}-byte payload not transformed and checked: {c.get('report')}")
        c = gb.meta_case(meta, "smoke-vlib-fifo")
        if gb.fact(c, "fifo_out_of_order") != 0 or not gb.fact(c, "fifo_calls_checked"):
            failures.append(f"FIFO order not shown: {c.get('report')}")
        out = os.path.join(tmp, "faults")
        p = gb.run(harness, os.path.join(HERE, "faults.toml"), out, timeout=500)
        if p.returncode != 1:
            failures.append(f"faults suite exit {p.returncode}, expected 1")
        got = gb.rows_by_case(out)
        for name, text in EXPECT.items():
            st = got.get(name, {}).get("status", "missing")
            if not st.startswith("fail:") or text not in st:
                failures.append(f"{name}: status '{st}' does not name '{text}'")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
