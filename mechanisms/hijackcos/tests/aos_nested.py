#!/usr/bin/env python3
"""hijackcos AOS experiments in a nested-KVM guest: correctness only.

usage: aos_nested.py HARNESS [aos|net]

Boots a gbvm guest with --kvm-in-guest (KVM inside qemu TCG's emulated SVM:
the guest has /dev/kvm), runs aos.toml (beside this script) there, and
checks from meta.json's typed facts:
  - every case ok;
  - aos-invoke: every invocation returned B's seed + arg, B counted exactly
    the invocations in its own address space (its private page, which A's
    tables do not map) and none in A's, A read its own seed; the hardware
    share is in (0, 1);
  - aos-invoke-shared: B ran on A's tables (counted in A's private page);
  - the hardware parts: no failed system call or CR3 write;
  - translator both ways, 16 and 2000 bytes: messages sent = received =
    warm-up + samples + those whose receive stamp was not after the send
    stamp (no sample; the vCPUs' TSCs under TCG need not agree), none out
    of order, no damaged byte; from the AOS,
    one doorbell per message.
With `net`, aos_net.toml instead (a guest with veth, tun and the host's `ip`):
  - cosnet-response and translator-response: every packet the case read
    reached the AOS component (received = the AOS's count), no sequence gap
    (none lost before the last one read; sent - received at most the replies
    given up, the packets still in flight at the end), every reply the AOS made went back (replies received +
    given up = sent), the forwarder process had no error; judged where
    tun-response (the same network, sender and prerequisites, no AOS) is ok:
    under TCG on a loaded machine its sender may give up (no reply within
    2 s), and then theirs may too; an AOS path whose sender gave up is
    printed as inconclusive, not judged.
No timing is asserted: under TCG the numbers are emulated, not latencies.
Exit 77 when gbvm cannot boot a guest here (no qemu or kernel).
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "plots"))
import gbresults as gb  # noqa: E402

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def check_net(res):
    if not os.path.exists(os.path.join(res, "meta.json")):
        check(False, "the network run in the guest left results")
        return
    rows = gb.rows_by_case(res)
    meta = gb.read_meta(res)
    tun = rows.get("hijackcos-tun-response", {}).get("status", "")
    aos_cases = ("hijackcos-cosnet-response", "hijackcos-translator-response")
    print("tun-response: " + tun + "".join(f"; {c}: {rows.get(c, {}).get('status')}" for c in aos_cases))
    if tun != "ok":
        # The Linux TUN path, with the same network and sender, did not work either: under TCG on a
        # loaded machine its sender may give up (no reply within 2 s); nothing to judge the AOS paths by.
        for c in aos_cases:
            st = rows.get(c, {}).get("status", "")
            check(st == "ok" or st.startswith("skip") or (tun.startswith("fail") and "status 3" in st),
                  f"{c}: {st} (tun-response {tun})")
        return
    for c in aos_cases:
        st = rows.get(c, {}).get("status", "")
        if st.startswith("fail") and "status 3" in st:
            # The sender gave up (no reply within 2 s): under TCG the nested guest's path is slower than
            # the TUN one; not a wrong packet. Printed, not judged.
            print(f"note {c}: inconclusive here: {st}")
            continue
        check(st == "ok", f"{c}: status {st}")
        m = gb.meta_case(meta, c)
        sent, got, aos = (gb.fact(m, k) for k in ("packets_sent", "packets_received", "aos_packets"))
        replies, gave_up = gb.fact(m, "replies_received"), gb.fact(m, "reply_timeouts")
        # A sender that gave up on a reply sends the next packet at once: those still in flight when the
        # case has its samples are sent but never read (at most one per reply given up).
        check(sent is not None and got is not None and got > 0 and got == aos and 0 <= sent - got <= gave_up,
              f"{c}: packets received {got} = taken by the AOS {aos}; sent {sent}, at most {gave_up} more")
        check(gb.fact(m, "seq_gaps") == 0, f"{c}: sequence gaps {gb.fact(m, 'seq_gaps')}")
        check(replies is not None and replies > 0 and replies + gave_up == sent,
              f"{c}: replies received {replies} + given up {gave_up} = sent {sent}")
        check(gb.fact(m, "aos_wakeups", 0) >= aos, f"{c}: AOS wake-ups {gb.fact(m, 'aos_wakeups')} >= packets")
        if c == "hijackcos-translator-response":
            check(gb.fact(m, "forwarder_errors") == 0 and gb.fact(m, "forwarder_exit") == 0,
                  f"{c}: forwarder errors {gb.fact(m, 'forwarder_errors')}, exit {gb.fact(m, 'forwarder_exit')}")


def main():
    harness = os.path.abspath(sys.argv[1])
    net = len(sys.argv) > 2 and sys.argv[2] == "net"
    suite = os.path.join(HERE, "aos_net.toml" if net else "aos.toml")
    ip = shutil.which("ip") if net else None
    extra = ["--bin", ip] if ip else []
    if net:
        extra += ["--module", "veth", "--module", "tun"]
    path = f"export PATH={os.path.dirname(ip)}:$PATH; " if ip else ""
    with tempfile.TemporaryDirectory(prefix="hijackcos-aos-nested-") as out:
        res_dir = "n" if net else "r"
        script = (f"{path}cd /tmp; {harness} run {suite} --out /out/{res_dir} > /out/run.log 2>&1; "
                  "echo harness rc=$?")
        p = subprocess.run([sys.executable, os.path.join(ROOT, "vm", "gbvm.py"), "exec", "--kvm-in-guest",
                            "--cpus", "2", "--bin", harness, *extra, "--tree", HERE, "--script", script,
                            "--out", out, "--timeout", "280"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        print(p.stdout[-3000:], p.stderr[-3000:])
        if p.returncode == 77:
            print("SKIP: gbvm cannot boot a guest here")
            return 77
        if os.path.exists(os.path.join(out, "run.log")):
            print(open(os.path.join(out, "run.log")).read()[-4000:])
        check(p.returncode == 0, f"gbvm exit status {p.returncode}")
        if net:
            check_net(os.path.join(out, "n"))
            return finish()
        res = os.path.join(out, "r")
        if not os.path.exists(os.path.join(res, "meta.json")):
            check(False, "the run in the guest left results")
            return 1
        rows = gb.rows_by_case(res)
        meta = gb.read_meta(res)
        check(len(rows) == 8, f"{len(rows)} cases (want 8)")
        for name, r in rows.items():
            check(r["status"] == "ok", f"{name}: status {r['status']}")
        warmup = {"hijackcos-aos-invoke": 20, "hijackcos-aos-invoke-shared": 20}

        def f(case, key):
            return gb.fact(gb.meta_case(meta, case), key)

        for case, own in (("hijackcos-aos-invoke", True), ("hijackcos-aos-invoke-shared", False)):
            n = f(case, "invocations")
            check(n is not None and n >= 300 + warmup[case], f"{case}: {n} invocations")
            check(f(case, "wrong_returns") == 0, f"{case}: wrong returns {f(case, 'wrong_returns')}")
            in_b, in_a = f(case, "b_calls_in_b_space"), f(case, "b_calls_in_a_space")
            want = (n, 0) if own else (0, n)
            check((in_b, in_a) == want, f"{case}: B's calls counted in B's space {in_b}, in A's {in_a} (want {want})")
            check(f(case, "a_sees_own_seed") == 1, f"{case}: A reads its own private seed")
        share = f("hijackcos-aos-invoke", "hw_share")
        check(share is not None and 0 < share < 1, f"aos-invoke: hardware share {share} in (0, 1)")
        for case in ("hijackcos-aos-hw-syscalls", "hijackcos-aos-hw-cr3"):
            check(f(case, "failed") == 0 and f(case, "samples_taken") == 320,
                  f"{case}: {f(case, 'samples_taken')} samples, {f(case, 'failed')} failed")
        for case, n in (("hijackcos-translator-to-aos", 220), ("hijackcos-translator-from-aos", 220),
                        ("translator-to-aos-2000B", 120), ("translator-from-aos-2000B", 120)):
            sent, got, skew = f(case, "messages_sent"), f(case, "messages_received"), f(case, "stamp_not_after_send")
            # A message whose receive stamp is not after its send stamp gives no sample (the vCPUs' TSCs
            # under TCG need not agree): more are sent then; each one must still arrive.
            check(sent is not None and sent == got and sent == n + skew,
                  f"{case}: messages sent {sent} = received {got} = {n} samples + {skew} without a sample")
            check(f(case, "seq_errors") == 0, f"{case}: out of order {f(case, 'seq_errors')}")
            check(f(case, "payload_errors") == 0, f"{case}: damaged bytes {f(case, 'payload_errors')}")
            if "from" in case:
                check(f(case, "doorbells") == sent, f"{case}: doorbells {f(case, 'doorbells')} for {sent} messages")
            else:
                check(f(case, "receiver_wakeups") >= sent, f"{case}: receiver wake-ups {f(case, 'receiver_wakeups')}")
        check(f("translator-to-aos-2000B", "msg_bytes") == 2000, "the 2000-byte cases moved 2000-byte messages")
    return finish()


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
