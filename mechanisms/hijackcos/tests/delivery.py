#!/usr/bin/env python3
"""hijackcos delivery: the I/O response paths move every packet, in order, and leave nothing behind.

usage: delivery.py HARNESS

Runs smoke.toml (beside this script). Every case is ok, or a skip where the
machine lacks root or a second CPU. For each ok case (typed facts of
meta.json): packets sent = received = replies received, no sequence gap,
no reply timed out; with receive steering on, at least one RPS interrupt
per packet reached the measuring CPU. No timing is asserted. Afterwards the
host's network namespace holds no veth or TUN device of the experiments
(they lived in the cases' private namespaces).
"""
import os
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


def host_links():
    p = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else ""


def main():
    harness = sys.argv[1]
    suite = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smoke.toml")
    with tempfile.TemporaryDirectory(prefix="hijackcos-delivery-") as out:
        gb.run(harness, suite, out, echo_stderr=True)
        rows = gb.rows_by_case(out)
        meta = gb.read_meta(out)
        check(len(rows) == 2, f"{len(rows)} cases (want 2)")
        for name, r in rows.items():
            status = r["status"]
            lacking = os.geteuid() != 0 or (os.cpu_count() or 1) < 2
            check(status == "ok" or (status.startswith("skip") and lacking), f"{name}: status {status}")
            if status != "ok":
                continue
            c = gb.meta_case(meta, name)
            sent, got, replies = (gb.fact(c, k) for k in ("packets_sent", "packets_received", "replies_received"))
            check(sent is not None and sent > 0 and sent == got == replies,
                  f"{name}: packets sent {sent} = received {got} = replies {replies}")
            check(gb.fact(c, "seq_gaps") == 0, f"{name}: sequence gaps {gb.fact(c, 'seq_gaps')}")
            check(gb.fact(c, "reply_timeouts") == 0, f"{name}: reply timeouts {gb.fact(c, 'reply_timeouts')}")
            if gb.fact(c, "rps_cpu", -1) >= 0:
                check(gb.fact(c, "rps_ipis", 0) >= got,
                      f"{name}: RPS interrupts on the measuring CPU {gb.fact(c, 'rps_ipis')} >= packets {got}")
    links = host_links()
    check("hjps0" not in links and "hjps1" not in links and "hjcos0" not in links,
          "no hjps0/hjps1 veth or hjcos0 TUN device in the host's namespace")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
