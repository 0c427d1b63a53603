#!/usr/bin/env python3
"""hijackcos translator: a message larger than a ring slot is refused by `harness check`.

usage: aos_check.py HARNESS

A suite with msg_bytes one above the slot's payload (aos_ring.h
AOS_RING_SLOT_DATA) must fail `harness check` with exit 2 naming the file,
the line and the key; the largest allowed size must pass.
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def slot_data():
    text = open(os.path.join(HERE, "..", "aos_ring.h")).read()
    slot = int(re.search(r"#define AOS_RING_SLOT_BYTES (\d+)u", text).group(1))
    header = int(re.search(r"#define AOS_RING_SLOT_HEADER (\d+)u", text).group(1))
    return slot - header


def check(harness, msg_bytes):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write('[suite]\nname = "t"\n\n[[case]]\nmechanism = "hijackcos"\n'
                f'variant = "translator-to-aos"\nmsg_bytes = {msg_bytes}\n')
        path = f.name
    try:
        p = subprocess.run([harness, "check", path], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout + p.stderr, path
    finally:
        os.unlink(path)


def main():
    harness = sys.argv[1]
    biggest = slot_data()
    failures = 0
    rc, out, path = check(harness, biggest + 1)
    ok = rc == 2 and f"{path}:7" in out and "msg_bytes" in out
    print(("ok   " if ok else "FAIL ") + f"msg_bytes {biggest + 1}: exit {rc}: {out.strip()}")
    failures += not ok
    rc, out, _ = check(harness, biggest)
    print(("ok   " if rc == 0 else "FAIL ") + f"msg_bytes {biggest}: exit {rc}")
    failures += rc != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
