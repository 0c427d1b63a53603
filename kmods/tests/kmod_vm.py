#!/usr/bin/env python3
"""The kmod tests: boot vm/gbvm.py's guest with gapbench's modules and prove them there.

usage: kmod_vm.py --build BUILDDIR --source SRCDIR CASE

  load        insmod and rmmod each module (twice); /dev nodes appear; rmmod of a module
              whose device is open is refused, and succeeds once it is closed
  translator  bad-ioctl table; 10^5 messages each way at once, in order; SIGKILL of a
              process holding a channel leaves registrations 0
  upcall      bad-ioctl table; ioctl upcalls enter the handler with the sandbox stack in
              %rsp and no signal frame; timer upcalls; SIGKILL of a registered process
  upcall-timer  30 timer runs under two busy loops, each with all 15 general registers
              checked across the upcalls that interrupt a loop; registrations with a 10 us
              timer closed over and over; rmmod retried during such churn, ten times
  hijack      bad-ioctl table; getppid emulated with the executive's value; a child killed
              while held and an executive killed while attached leave registrations 0
  smoke       `harness run` of kmods/tests/kmod-smoke.toml in the guest, modules loaded:
              the three kmod variants ok (timings under TCG are emulated, not latencies)
  host-skip   the same suite on this machine, where no module is loaded: each kmod case is
              a skip that names its module; `harness list needs` names each one's module
  no-headers  kmods/build.py for a kernel without headers: a skip line, a `skip` stamp,
              status 0 (never a failed build)

Every guest case also fails when the guest kernel log has a WARN/BUG/Oops (gbvm, exit 4)
or any line from a gapbench module beyond the out-of-tree taint notice. Exit 77 (skip)
when the modules were not built (no kernel headers) or gbvm has no qemu or kernel.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
MODULES = ("gapbench_translator", "gapbench_upcall", "gapbench_hijack")
# The only kernel log lines a module may cause: loading an unsigned out-of-tree module.
ALLOWED = re.compile(r"(loading out-of-tree module taints kernel|module verification failed)")

SH_LIB = r"""
fail() { echo "FAIL: $*"; exit 1; }
reg() { cat /sys/module/$1/parameters/registrations; }
load() { insmod /gbvm-k/$1.ko || fail "insmod $1"; }
killed_leaves_zero() {  # MODULE PROGRAM ARGS...: start it, let it register, SIGKILL it
	m=$1; shift
	"$@" > hold.log 2>&1 &
	p=$!
	i=0
	while [ "$(reg $m)" = 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
	if [ "$(reg $m)" = 0 ]; then
		echo "holder $p: $(cat hold.log)"; ps; grep -E 'State|SigQ' /proc/$p/status
		fail "$m: the holder never registered"
	fi
	kill -9 $p; wait $p 2>/dev/null
	[ "$(reg $m)" = 0 ] || fail "$m: registrations $(reg $m) after SIGKILL of the holder"
	echo "ok   $m: SIGKILL of a registered process leaves registrations 0"
}
"""


def stamp_state(build):
    path = os.path.join(build, "kmods", "kmods.stamp")
    try:
        text = open(path).read().strip()
    except OSError:
        return "skip", f"{path} is missing (build the project first)"
    state, _, rest = text.partition(" ")
    return state, rest


def guest_script(case, bins):
    t, u, h = bins["translator"], bins["upcall"], bins["hijack"]
    if case == "load":
        body = """
for round in 1 2; do
	for m in gapbench_translator gapbench_upcall gapbench_hijack; do load $m; done
	for d in translator gapbench_upcall gapbench_hijack; do
		[ -c /dev/$d ] || fail "/dev/$d missing after insmod"
	done
	for m in gapbench_translator gapbench_upcall gapbench_hijack; do
		[ "$(reg $m)" = 0 ] || fail "$m: registrations $(reg $m) after load"
	done
	for pair in gapbench_translator:translator gapbench_upcall:gapbench_upcall gapbench_hijack:gapbench_hijack; do
		m=${pair%%:*}; d=${pair#*:}
		exec 3<>/dev/$d
		if rmmod $m 2>/dev/null; then fail "rmmod $m succeeded while /dev/$d was open"; fi
		grep -q "^$m " /proc/modules || fail "$m gone while open"
		echo "ok   rmmod $m refused while /dev/$d is open"
		exec 3<&-
		rmmod $m || fail "rmmod $m after close"
		[ ! -e /dev/$d ] || fail "/dev/$d still there after rmmod"
		echo "ok   rmmod $m after close (round $round)"
	done
done
grep -q gapbench /proc/modules && fail "a module is still loaded"
echo "load: all ok"
"""
    elif case == "translator":
        body = f"""
load gapbench_translator
{t} badioctl || fail "translator badioctl"
{t} order 100000 || fail "translator order"
killed_leaves_zero gapbench_translator {t} hold
rmmod gapbench_translator || fail rmmod
echo "translator: all ok"
"""
    elif case == "upcall":
        body = f"""
load gapbench_upcall
{u} badioctl || fail "upcall badioctl"
{u} sync 1000 || fail "upcall sync"
killed_leaves_zero gapbench_upcall {u} hold
rmmod gapbench_upcall || fail rmmod
echo "upcall: all ok"
"""
    elif case == "upcall-timer":
        # Asynchronous (hrtimer + task_work) upcalls with two busy loops on the guest's two CPUs.
        # Each `timer` run checks that 15 general registers holding 64-bit values survive the
        # upcalls that interrupt a loop: the module that handed the interrupted %rax back through
        # sys_ioctl's int result failed every run (and, 1 run in 8 or so, its syscall loop
        # segfaulted at a vDSO address cut to 32 bits). Then the unload race: registrations with
        # a 10 us timer closed over and over (no upcall after a close), and rmmod retried
        # meanwhile until it finds the device closed, ten times: task_works queued just before
        # a close must not run module code once the module can go (gbvm fails on an Oops).
        body = f"""
load gapbench_upcall
(while :; do :; done) & b1=$!
(while :; do :; done) & b2=$!
i=0
while [ $i -lt 30 ]; do
	i=$((i + 1))
	{u} timer > /tmp/timer.log 2>&1 || {{ kill $b1 $b2; cat /tmp/timer.log; fail "upcall timer (run $i of 30)"; }}
done
tail -2 /tmp/timer.log
{u} churn 200 || {{ kill $b1 $b2; fail "upcall churn"; }}
kill $b1 $b2
rmmod gapbench_upcall || fail "rmmod after the churn (a task_work's file reference leaked?)"
echo "upcall-timer: 30 runs ok"
r=0
while [ $r -lt 10 ]; do
	r=$((r + 1))
	load gapbench_upcall
	: > /tmp/churn.log    # truncated here: the last round's "running" must not start the rmmods
	{u} churn-unload > /tmp/churn.log 2>&1 &
	c=$!
	w=0
	until grep -q running /tmp/churn.log; do
		w=$((w + 1)); [ $w -lt 300 ] || {{ cat /tmp/churn.log; fail "churn-unload never started"; }}; sleep 0.1
	done
	n=0
	until rmmod gapbench_upcall 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 20000 ] || {{ kill $c; fail "rmmod never found the device closed (round $r)"; }}
	done
	wait $c || {{ cat /tmp/churn.log; fail "churn-unload (round $r)"; }}
	echo "ok   round $r: rmmod after $n refusals, during: $(tail -1 /tmp/churn.log)"
done
echo "upcall-timer: unload race, 10 rounds ok"
"""
    elif case == "hijack":
        body = f"""
load gapbench_hijack
{h} badioctl || fail "hijack badioctl"
{h} getppid || fail "hijack getppid"
{h} kill-held || fail "hijack kill-held"
killed_leaves_zero gapbench_hijack {h} hold
rmmod gapbench_hijack || fail rmmod
echo "hijack: all ok"
"""
    else:
        raise ValueError(case)
    return SH_LIB + body


def module_log_lines(dmesg):
    return [l for l in dmesg.splitlines() if "gapbench" in l and not ALLOWED.search(l)]


def run_guest(args, case):
    sys.path.insert(0, os.path.join(args.source, "vm"))
    import gbvm  # noqa: E402
    kdir = os.path.join(args.build, "kmods")
    tdir = os.path.join(args.build, "kmods", "tests")
    bins = {n: os.path.join(tdir, f"kmod-{n}-test") for n in ("translator", "upcall", "hijack")}
    files = [f"{kdir}/{m}.ko:/gbvm-k/{m}.ko" for m in MODULES]
    trees, extra_bins = [], list(bins.values())
    if case == "smoke":
        harness = os.path.join(args.build, "harness", "harness")
        suite = os.path.join(args.source, "kmods", "tests", "kmod-smoke.toml")
        extra_bins.append(harness)
        files.append(suite)
        trees += [os.path.join(args.source, "reference-data")]
        script = SH_LIB + f"""
for m in gapbench_translator gapbench_upcall gapbench_hijack; do load $m; done
cd /tmp
{harness} run {suite} --out /out/r > /out/run.log 2>&1
echo "harness status $?"
cat /out/r/summary.csv
"""
    else:
        script = guest_script(case, bins)
    try:
        res = gbvm.run(script, bins=extra_bins, files=files, trees=trees, cpus=2, timeout_s=280,
                       out_dir=args.out)
    except gbvm.VmError as e:
        print(f"kmod-{case}: {'skip: ' if e.code == SKIP else ''}{e}")
        return SKIP if e.code == SKIP else 1
    out = re.search(r"GBVM-SCRIPT-BEGIN\r?\n(.*?)GBVM-SCRIPT-END", res["console"], re.S)
    print((out.group(1) if out else res["console"]).replace("\r\n", "\n"))
    print(f"kmod-{case}: guest {res['accel_label']}, kernel {res['kernel']}, {res['elapsed_s']:.1f} s, "
          f"script status {res['rc']}")
    bad = module_log_lines(res["dmesg"])
    if bad:
        print("FAIL: the guest kernel log has lines from a gapbench module:\n" + "\n".join(bad))
        return 1
    if res["rc"] != 0:
        return 1
    if case == "smoke":
        return check_smoke(os.path.join(args.out, "r"), res["accel_label"])
    return 0


SMOKE_CASES = {"kmod-hijack": "gapbench_hijack", "kmod-uls": "gapbench_upcall",
               "kmod-translator": "gapbench_translator"}


def read_rows(out):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plots"))
    import gbresults as gb  # noqa: E402
    return gb.rows_by_case(out)


def check_smoke(out, label):
    rows = read_rows(out)
    ok = True
    for case in SMOKE_CASES:
        row = rows.get(case)
        status = row["status"] if row else "missing"
        print(f"{case}: {status} ({label})")
        if status != "ok":
            ok = False
    return 0 if ok else 1


def host_skip(args):
    harness = os.path.join(args.build, "harness", "harness")
    suite = os.path.join(args.source, "kmods", "tests", "kmod-smoke.toml")
    loaded = [m for m in MODULES if os.path.isdir(f"/sys/module/{m}")]
    if loaded:
        print(f"kmod-host-skip: skip: {', '.join(loaded)} loaded on this machine")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r")
        p = subprocess.run([harness, "run", suite, "--out", out], capture_output=True, text=True)
        print(p.stdout + p.stderr)
        rows = read_rows(out)
        ok = True
        for case, mod in SMOKE_CASES.items():
            row = rows.get(case)
            status = row["status"] if row else "missing"
            good = status.startswith(f"skip: module {mod} not loaded")
            print(f"{'ok  ' if good else 'FAIL'} {case}: {status}")
            ok = ok and good
    # `harness list needs` names each kmod variant's module
    listing = subprocess.run([harness, "list", "needs"], capture_output=True, text=True).stdout
    for variant, mod in (("hijack/kmod", "gapbench_hijack"), ("uls/upcall-kmod", "gapbench_upcall"),
                         ("hijackcos/translator-kmod", "gapbench_translator")):
        good = re.search(rf"^\s*{re.escape(variant)}\s.*\b{mod}\s*$", listing, re.M) is not None
        print(f"{'ok  ' if good else 'FAIL'} harness list needs: {variant} needs {mod}")
        ok = ok and good
    return 0 if ok else 1


def no_headers(args):
    kver = "0.0.0-gapbench-no-such-kernel"
    with tempfile.TemporaryDirectory() as tmp:
        stamp = os.path.join(tmp, "kmods.stamp")
        p = subprocess.run([sys.executable, os.path.join(args.source, "kmods", "build.py"),
                            os.path.join(args.source, "kmods"), os.path.join(tmp, "out"), kver, stamp],
                           capture_output=True, text=True)
        print(p.stdout + p.stderr)
        text = open(stamp).read() if os.path.exists(stamp) else ""
        ok = (p.returncode == 0 and text.startswith("skip ") and "kmods: skip: no kernel headers for " + kver
              in p.stdout and "linux-headers-cloud-amd64" in p.stdout)
        print(f"{'ok' if ok else 'FAIL'}: status {p.returncode}, stamp {text.strip()!r}")
        return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", help="keep the guest's /out here (default: a temporary folder)")
    ap.add_argument("case", choices=("load", "translator", "upcall", "upcall-timer", "hijack", "smoke", "host-skip", "no-headers"))
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.source = os.path.abspath(args.source)
    if args.case == "host-skip":
        return host_skip(args)
    if args.case == "no-headers":
        return no_headers(args)
    state, why = stamp_state(args.build)
    if state != "ok":
        print(f"kmod-{args.case}: skip: modules not built: {why}")
        return SKIP
    if args.out:
        return run_guest(args, args.case)
    with tempfile.TemporaryDirectory() as tmp:
        args.out = tmp
        return run_guest(args, args.case)


if __name__ == "__main__":
    sys.exit(main())
