#!/usr/bin/env python3
"""harness run SUITE --vm: the suite inside a Linux guest (qemu), results in a normal folder.

    harness run SUITE.toml --vm [--vm-cpus N] [--vm-mem MIB] [--vm-accel auto|kvm|tcg]
                [--vm-timeout S] [--vm-beside-host] [--out DIR] [--force] [--filter GLOB]
                [--raw] [--junit FILE] [--seed N] [--no-lock]

The harness execs this file (harness/cmd_vm.c) with --harness PATH, its own
binary. The guest (vm/gbvm.py: Debian's cloud kernel, an initramfs of our
own) holds that binary and its libraries, cyclictest, GNU tar, bzip2 and
gzip, gcc and make when a case compiles (workload/compile, load compile),
the suite with every file it includes, bench/suites and reference-data, all
at their paths on this machine. The guest runs `harness run` itself, each
case in its own child with its timeout as here, with GAPBENCH_PLACEMENT set:
every summary.csv row ends with its placement, `in vm (kvm)` or `in vm (tcg:
emulated, not a latency)`, and a tcg row is never set beside a paper's number.
The guest's progress lines are printed here as they come (`vm| ...`).

DIR gets summary.csv, hist/ (raw/), cases.jsonl and meta.json as the guest
wrote them, meta.json with `placement`, `accel`, `vm` (guest kernel, CPUs,
memory, qemu, boot-to-end seconds), `host_platform` and `host_measure_lock`
added (the guest's platform is meta.json's `platform`, as always), and DIR/vm/ with the guest's
console.log and dmesg.txt. --vm-beside-host first runs the same suite here
into DIR/host/ and then writes DIR/vm-vs-host.txt and DIR/plots/vm-vs-host.svg
(plots/vm_ratio.py: per case the VM/native ratio).

The guest runs while this process holds the host's measuring lock (as a
host run does; --no-lock opts out): a guest, emulated or not, loads the CPUs
a host run measures on.

$GAPBENCH_VM_APPEND adds to the guest kernel's command line (the tests boot
a guest that panics with it); $GAPBENCH_VM_CACHE is where gbvm keeps images.

Exit status: the guest harness's (0 all ok or skipped, 1 some case failed);
1 when the guest panicked, hung past --vm-timeout or logged a kernel WARN/BUG
(the console tail or the lines are printed; no qemu outlives this process,
whatever ends it: qemu has PDEATHSIG); 2 for bad input or a machine that
cannot run the guest (no qemu or kernel image: bash ci/install-deps.sh).
"""
import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "plots"))
import gbvm  # noqa: E402

PROG = "harness run --vm"
# What harness run --force clears: the rest of a folder is not ours.
RESULT_ENTRIES = ("summary.csv", "meta.json", "cases.jsonl", "hist", "raw", "data", "plots", "report.txt",
                  "report.html", "vm", "host", "vm-vs-host.txt", "junit.xml")
BOOT_SLACK_S = 120
TCG_SCALE = 0.1   # under TCG a sample costs 10-100x: fewer, and every row says so
# Guest tools: the loads and mechanisms call these by name (PATH puts /usr/bin before busybox's /bin).
TOOLS = ("tar", "bzip2", "gzip", "cyclictest", "make")


def die(msg, code=2):
    sys.stderr.write(f"{PROG}: {msg}\n")
    sys.exit(code)


def parse(argv):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--harness", required=True, help=argparse.SUPPRESS)
    ap.add_argument("suite", help="the suite file (harness check validates it here first)")
    ap.add_argument("-o", "--out", metavar="DIR", help="results folder (default results/SUITE-vm-STAMP); "
                    "refused when not empty, unless --force")
    ap.add_argument("--force", action="store_true", help="first clear DIR of what a results folder holds")
    ap.add_argument("--resume", action="store_true", help="refused: a guest run starts afresh")
    ap.add_argument("-f", "--filter", metavar="GLOB", help="only the cases matching GLOB (in the guest "
                    "and in the host run)")
    ap.add_argument("-r", "--raw", action="store_true", help="also DIR/raw/CASE.csv")
    ap.add_argument("-j", "--junit", metavar="FILE", help="the guest run's JUnit XML, written here")
    ap.add_argument("--seed", metavar="N", help="the order seed of cases with repeat > 1")
    ap.add_argument("--no-lock", action="store_true",
                    help="boot the guest (and run --vm-beside-host's host run) without the machine's measuring lock")
    ap.add_argument("--vm", action="store_true", help="run the suite in a guest (required)")
    ap.add_argument("--vm-cpus", type=int, default=2, metavar="N", help="guest CPUs (default 2)")
    ap.add_argument("--vm-mem", type=int, default=2048, metavar="MIB", help="guest memory (default 2048)")
    ap.add_argument("--vm-accel", choices=("auto", "kvm", "tcg"), default="auto",
                    help="kvm needs /dev/kvm and vmx/svm; auto (default) picks it where it works, else tcg")
    ap.add_argument("--vm-timeout", type=int, metavar="S",
                    help=f"the guest's limit (default {BOOT_SLACK_S} + the cases' timeouts)")
    ap.add_argument("--vm-sample-scale", type=float, metavar="F",
                    help="every case's samples, warm-up and duration_s times F, in (0, 1] (default: 1 "
                    f"under kvm, {TCG_SCALE} under tcg; at least 200 samples and 1 s; rows say so)")
    ap.add_argument("--vm-beside-host", action="store_true",
                    help="also run the suite here into DIR/host and write the VM/native ratios")
    a = ap.parse_args(argv)
    if not a.vm:
        die("--vm-* options go with --vm")
    if a.resume:
        die("--resume is not supported with --vm: run the suite afresh (--force)")
    if a.force and a.resume:
        die("--force and --resume exclude each other")
    if a.vm_sample_scale is not None and not 0 < a.vm_sample_scale <= 1:
        die("--vm-sample-scale wants a number in (0, 1]")
    if a.vm_cpus < 1 or a.vm_mem < 256:
        die("--vm-cpus wants at least 1, --vm-mem at least 256 (MiB)")
    if a.out is not None and os.path.abspath(a.out) in ("/", "") or a.out == "":
        die(f"--out {a.out!r}: not a results folder name")
    return a


def check_suite(harness, suite):
    """`harness check SUITE`: the suite's name and its cases (name, mech/variant, settings)."""
    p = subprocess.run([harness, "check", suite], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit(2)
    m = re.search(r"suite '([^']*)'", p.stdout)
    cases = []
    for line in p.stdout.splitlines()[1:]:
        f = line.split()
        if len(f) >= 2:
            cases.append({"name": f[0], "what": f[1], "settings": dict(x.split("=", 1) for x in f[2:] if "=" in x)})
    return (m.group(1) if m else "suite"), cases


def suite_files(path, seen=None):
    """The suite file and every file its [suite] include names, recursively."""
    seen = set() if seen is None else seen
    path = os.path.abspath(path)
    if path in seen:
        return seen
    seen.add(path)
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return seen
    for inc in doc.get("suite", {}).get("include", []) or []:
        name = inc.get("file") if isinstance(inc, dict) else inc
        if isinstance(name, str):
            suite_files(os.path.join(os.path.dirname(path), name), seen)
    return seen


def needs_compiler(cases):
    return any(c["what"].endswith("/compile") or c["settings"].get("load") == "compile" for c in cases)


def add_toolchain(img):
    """gcc (driver, cc1, collect2), binutils, the C runtime, the C library's headers and gcc's:
    what `make CC=gcc` of loadgen/compile's project needs (make is one of TOOLS)."""
    gcc = shutil.which("gcc")
    if not gcc:
        return "gcc is not installed here: compile cases will skip in the guest"
    img.add_bin(gcc, "/usr/bin/gcc")
    for prog in ("cc1", "collect2", "lto-wrapper", "as", "ld"):
        p = subprocess.run([gcc, f"-print-prog-name={prog}"], capture_output=True, text=True).stdout.strip()
        p = p if os.path.isabs(p) else shutil.which(p)
        if p and os.path.exists(p):
            img.add_bin(p, os.path.normpath(p))
    for name in ("crt1.o", "crti.o", "crtn.o", "Scrt1.o", "crtbegin.o", "crtend.o", "crtbeginS.o",
                 "crtendS.o", "libgcc.a", "libgcc_eh.a", "libgcc_s.so", "libc.so", "libc_nonshared.a",
                 "liblto_plugin.so", "libgcc_s.so.1"):
        p = subprocess.run([gcc, f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
        if os.path.isabs(p) and os.path.exists(p):
            img.add_file(p, os.path.normpath(p))
    for lib in ("/lib/x86_64-linux-gnu/libgcc_s.so.1", "/usr/lib/x86_64-linux-gnu/libc_nonshared.a"):
        if os.path.exists(lib):
            img.add_file(lib, lib)
    # the C library's headers (the optimizer includes more of bits/ than -M without -O shows) and gcc's own
    for d in ("/usr/include/x86_64-linux-gnu", "/usr/include/linux", "/usr/include/asm-generic",
              subprocess.run([gcc, "-print-file-name=include"], capture_output=True, text=True).stdout.strip()):
        if os.path.isdir(d):
            img.add_tree(d, os.path.normpath(d))
    for name in os.listdir("/usr/include"):
        p = os.path.join("/usr/include", name)
        if name.endswith(".h") and os.path.isfile(p):
            img.add_file(p, p)
    return None


def host_platform(harness):
    """This machine, beside the guest's platform in meta.json."""
    cpu = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k in ("model name", "flags") and k not in cpu:
                    cpu[k] = v.strip()
    except OSError:
        pass
    flags = cpu.get("flags", "").split()
    qemu = shutil.which("qemu-system-x86_64")
    qver = ""
    if qemu:
        qver = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
        qver = qver[0] if qver else ""
    return {"cpu_model": cpu.get("model name", "?"), "cpus_online": os.cpu_count(),
            "kernel_release": platform.release(), "hostname": platform.node(),
            "hypervisor": "hypervisor" in flags,
            "hardware_virtualization": "vmx" if "vmx" in flags else "svm" if "svm" in flags else "none",
            "dev_kvm": os.path.exists("/dev/kvm"), "qemu": qver, "harness": harness}


def prepare_out(out, force):
    """DIR empty, created, or (--force) cleared of what a results folder holds."""
    if os.path.exists(out) and not os.path.isdir(out):
        die(f"{out} is not a folder")
    entries = sorted(os.listdir(out)) if os.path.isdir(out) else []
    if entries and not force:
        die(f"{out} is not empty ({', '.join(entries[:6])}): --force replaces it, or name another folder")
    if entries:
        if not any(e in ("summary.csv", "meta.json", "cases.jsonl") for e in entries):
            die(f"--force: {out} does not look like a results folder (no summary.csv, meta.json or "
                f"cases.jsonl): not clearing it")
        for e in entries:
            p = os.path.join(out, e)
            if e in RESULT_ENTRIES or e.startswith("report."):
                shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    os.makedirs(out, exist_ok=True)


def guest_script(a, harness, suite, label, scale):
    args = [harness, "run", suite, "--out", "/out/r"]
    if a.filter:
        args += ["--filter", a.filter]
    if a.raw:
        args.append("--raw")
    if a.seed:
        args += ["--seed", a.seed]
    if a.junit:
        args += ["--junit", "/out/junit.xml"]
    return "\n".join([
        "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root",
        f"export GAPBENCH_PLACEMENT={shlex.quote(label)}",
        f"export GAPBENCH_VM_SAMPLE_SCALE={scale:g}" if scale != 1 else "unset GAPBENCH_VM_SAMPLE_SCALE",
        "cd /tmp",
        # through a pipe: a harness that writes straight to the emulated serial console stalls in
        # its writes while the guest's real-time cases hold the CPUs
        "{ " + " ".join(shlex.quote(x) for x in args) + " 2>&1; echo $? > /tmp/harness.rc; } | cat",
        "rc=$(cat /tmp/harness.rc)",
        "echo \"gbvm: guest harness exit status $rc\"",
        "exit $rc",
    ])


def take_measure_lock(take, out):
    """The host's measuring lock (harness/measure_lock.h: an exclusive record lock on byte 0 of
    /run/gapbench.lock, or /tmp/gapbench-measure.lock, or $GAPBENCH_MEASURE_LOCK; a shared one on
    byte 1 + pid so that others see this run) for as long as the guest runs: a guest, emulated or
    not, loads the CPUs a host run measures on. Returns (file or None, meta record); the lock goes
    with the file or the process."""
    import fcntl
    paths = [os.environ["GAPBENCH_MEASURE_LOCK"]] if os.environ.get("GAPBENCH_MEASURE_LOCK") else \
        ["/run/gapbench.lock", "/tmp/gapbench-measure.lock"]
    info = {"requested": take, "taken": False}
    f = None
    for path in paths:
        try:
            f = open(path, "a+b")
            info["path"] = path
            break
        except OSError as e:
            info["why"] = f"{path}: {e.strerror}"
    if f is None:
        sys.stderr.write(f"{PROG}: warning: cannot open the measuring lock ({info['why']}); running without it\n")
        return None, info
    try:
        fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 1 + os.getpid())
    except OSError:
        pass   # only so that other runs see this one
    if not take:
        return f, info
    t0 = time.monotonic()
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
    except OSError:
        f.seek(0)
        holder = f.read(1024).decode(errors="replace").strip()
        sys.stderr.write(f"{PROG}: waiting for the measuring lock {info['path']}: another gapbench run is "
                         f"measuring ({holder or 'holder unknown'}); --no-lock runs beside it\n")
        fcntl.lockf(f, fcntl.LOCK_EX, 1, 0)
    info["taken"] = True
    info["waited_s"] = round(time.monotonic() - t0, 3)
    f.truncate(0)
    f.write(f"pid={os.getpid()} started={time.strftime('%Y-%m-%dT%H:%M:%S%z')} out={out} (harness run --vm)\n"
            .encode())
    f.flush()
    return f, info


def merge_meta(out, res, a, host, started_s, scaled_note, label):
    path = os.path.join(out, "meta.json")
    with open(path) as f:
        meta = json.load(f)
    meta["placement"] = label
    meta["accel"] = res["accel"]
    meta["vm"] = {"accel": res["accel"], "accel_label": res["accel_label"], "guest_kernel": res["kernel"],
                  "cpus": a.vm_cpus, "mem_mib": a.vm_mem, "elapsed_s": round(res["elapsed_s"], 3),
                  "boot_to_results_s": round(time.monotonic() - started_s, 3),
                  "guest_out": "/out/r", "samples": scaled_note,
                  "note": ("times measured in this guest are emulated by qemu's TCG: not latencies"
                           if res["accel"] != "kvm" else "hardware virtualization (KVM)")}
    meta["host_platform"] = host
    meta["host_measure_lock"] = a.lock_info
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(argv):
    a = parse(argv)
    harness = os.path.realpath(a.harness)
    suite = os.path.abspath(a.suite)
    name, cases = check_suite(harness, suite)
    out = a.out or os.path.join("results", re.sub(r"[^A-Za-z0-9_-]", "_", name) + "-vm-"
                                + time.strftime("%Y%m%d-%H%M%S"))
    out = os.path.abspath(out)
    try:
        gbvm.find_qemu()
        gbvm.find_kernel()
        accel = gbvm.pick_accel(a.vm_accel)
    except gbvm.VmError as e:
        die(f"cannot boot a guest here: {e}")
    prepare_out(out, a.force)
    host = host_platform(harness)
    host_rc = None
    if a.vm_beside_host:
        cmd = [harness, "run", suite, "--out", os.path.join(out, "host")]
        cmd += ["--filter", a.filter] if a.filter else []
        cmd += ["--seed", a.seed] if a.seed else []
        cmd += ["--raw"] if a.raw else []
        cmd += ["--no-lock"] if a.no_lock else []
        sys.stderr.write(f"{PROG}: first natively, into {out}/host\n")
        host_rc = subprocess.run(cmd, stdin=subprocess.DEVNULL).returncode
        if host_rc not in (0, 1):
            die(f"the host run of {suite} failed (exit {host_rc})", host_rc)

    scale = a.vm_sample_scale if a.vm_sample_scale is not None else 1.0 if accel == "kvm" else TCG_SCALE
    scaled_note = f"samples, warm-up and duration_s x{scale:g}" if scale != 1 else "as the suite says (not scaled)"
    label = f"in vm ({gbvm.accel_label(accel)}" + (f"; samples and durations x{scale:g})" if scale != 1 else ")")
    notes = []

    def hook(img):
        for t in TOOLS:
            p = shutil.which(t, path="/usr/bin:/bin:/usr/sbin:/sbin")
            if p:
                img.add_bin(p, "/usr/bin/" + t)
        if needs_compiler(cases):
            why = add_toolchain(img)
            if why:
                notes.append(why)

    trees = [os.path.join(ROOT, "bench", "suites"), os.environ.get("GAPBENCH_REFERENCE_DIR")
             or os.path.join(ROOT, "reference-data")]
    files = [f for f in sorted(suite_files(suite)) if os.path.exists(f)]
    timeout = a.vm_timeout or BOOT_SLACK_S + sum(int(c["settings"].get("timeout_s", "60"))
                                                 * max(1, int(c["settings"].get("repeat", "1")))
                                                 for c in cases)
    which = f"the cases matching {a.filter} among {len(cases)}" if a.filter else f"{len(cases)} case(s)"
    sys.stderr.write(f"{PROG}: {which} of {name} in a guest ({label}; {a.vm_cpus} CPU(s), "
                     f"{a.vm_mem} MiB, limit {timeout} s) into {out}\n")
    lock, a.lock_info = take_measure_lock(not a.no_lock, out)
    started = time.monotonic()
    vmdir = os.path.join(out, "vm")
    os.makedirs(vmdir, exist_ok=True)
    try:
        res = gbvm.run(guest_script(a, harness, suite, label, scale), bins=[harness], files=files, trees=trees,
                       out_dir=vmdir, accel=accel, cpus=a.vm_cpus, mem_mib=a.vm_mem, timeout_s=timeout,
                       append=os.environ.get("GAPBENCH_VM_APPEND", ""),
                       image_hook=hook, on_line=lambda l: sys.stderr.write(f"vm| {l}\n"))
    except gbvm.VmError as e:
        if e.console:
            with open(os.path.join(vmdir, "console.log"), "w") as f:
                f.write(e.console)
        die(f"the guest failed ({label}): {e}\n(whole console: {vmdir}/console.log)", 1)
    got = os.path.join(vmdir, "r")
    if not os.path.isfile(os.path.join(got, "summary.csv")):
        die(f"the guest harness wrote no summary.csv (exit {res['rc']}); console: {vmdir}/console.log", 1)
    for e in os.listdir(got):
        shutil.move(os.path.join(got, e), os.path.join(out, e))
    os.rmdir(got)
    if a.junit and os.path.exists(os.path.join(vmdir, "junit.xml")):
        shutil.move(os.path.join(vmdir, "junit.xml"), a.junit)
    merge_meta(out, res, a, host, started, scaled_note, label)
    for n in notes:
        sys.stderr.write(f"{PROG}: note: {n}\n")
    sys.stderr.write(f"{PROG}: guest ({label}, kernel {res['kernel']}) finished in {res['elapsed_s']:.1f} s; "
                     f"results in {out} (console and dmesg in {vmdir})\n")
    if a.vm_beside_host:
        import vm_ratio
        text = vm_ratio.write(os.path.join(out, "host"), out, os.path.join(out, "vm-vs-host.txt"),
                              os.path.join(out, "plots", "vm-vs-host.svg"))
        sys.stderr.write(text)
    rc = res["rc"]
    if host_rc:
        rc = max(rc, host_rc)
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:   # gbvm.run killed its qemu on the way out
        sys.stderr.write(f"{PROG}: interrupted; the guest was stopped\n")
        sys.exit(130)
