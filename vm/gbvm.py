#!/usr/bin/env python3
"""gbvm: boot Debian's cloud kernel under qemu with an initramfs of our own,
run a shell script inside, and bring back what the script wrote under /out.

One rig for everything that needs a real Linux kernel this machine cannot
give: kernel modules (kmods/), suites in a VM (`harness run --vm`) and KVM
code tested in a nested guest (KVM inside qemu's TCG, which emulates AMD SVM).

    gbvm.py exec --script 'harness run ...' [--bin PATH]... [--module NAME]...
                 [--file SRC[:DST]]... [--tree SRC[:DST]]... [--out DIR]
                 [--accel auto|kvm|tcg] [--cpus N] [--mem MIB] [--timeout S]
                 [--kvm-in-guest] [--append ARGS]
    gbvm.py info          # kernel, qemu and accelerator this machine would use

Exit status: the script's own status; 77 when qemu or the kernel is missing
(a skip: `bash ci/install-deps.sh` installs both); 3 when the guest did not
finish (panic, hang, timeout: the console tail is printed); 4 when the guest
kernel log has a WARN, BUG, Oops or KASAN report (the lines are printed).

Under TCG every instruction is emulated: times measured in such a guest are
not latencies, and whoever reports them must say so (`accel` in the result).
"""
import argparse
import base64
import ctypes
import glob
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

SKIP = 77
CACHE_KEEP = 8   # initramfs images kept in the cache (with a compiler in them, ~90 MB each)
GUEST_UNFINISHED = 3
GUEST_KERNEL_FAULT = 4
BEGIN = "GBVM-OUT-BEGIN"
END = "GBVM-OUT-END"
RC_MARK = "GBVM-RC="
# Lines of a guest kernel log that make a run fail whatever the script said.
KERNEL_FAULT = re.compile(r"(WARNING: CPU|\bBUG[: ]|Oops|KASAN|general protection fault|"
                          r"Kernel panic|Call Trace:|kernel BUG|UBSAN:)")


class VmError(Exception):
    """code: SKIP, GUEST_UNFINISHED or GUEST_KERNEL_FAULT; console: the guest's whole console ("" if none)."""

    def __init__(self, code, msg, console=""):
        super().__init__(msg)
        self.code = code
        self.console = console


def cache_dir():
    base = os.environ.get("GAPBENCH_VM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gapbench", "vm")
    os.makedirs(base, exist_ok=True)
    return base


def find_kernel():
    """Debian's cloud kernel: newest /boot/vmlinuz-*-cloud-amd64 with its modules."""
    forced = os.environ.get("GAPBENCH_VM_KERNEL")
    cands = [forced] if forced else sorted(glob.glob("/boot/vmlinuz-*-cloud-amd64"))
    for path in reversed(cands):
        if not path or not os.access(path, os.R_OK):
            continue
        ver = os.path.basename(path)[len("vmlinuz-"):]
        moddir = os.path.join("/lib/modules", ver)
        if os.path.isdir(moddir):
            return path, ver, moddir
    raise VmError(SKIP, "no readable /boot/vmlinuz-*-cloud-amd64 with its /lib/modules "
                  "(install linux-image-cloud-amd64: bash ci/install-deps.sh)")


def find_qemu():
    q = shutil.which("qemu-system-x86_64")
    if not q:
        raise VmError(SKIP, "qemu-system-x86_64 not found (install qemu-system-x86: "
                      "bash ci/install-deps.sh)")
    return q


def host_has_hw_virt():
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((l for l in f if l.startswith("flags")), "")
    except OSError:
        return False
    return bool(re.search(r"\b(vmx|svm)\b", flags))


def pick_accel(want):
    """kvm only with hardware virtualization: a software KVM (PVM) cannot boot Linux."""
    kvm_ok = os.access("/dev/kvm", os.R_OK | os.W_OK) and host_has_hw_virt()
    if want == "kvm" and not kvm_ok:
        raise VmError(SKIP, "--vm-accel kvm: /dev/kvm with hardware virtualization (vmx/svm "
                      "in /proc/cpuinfo) is needed; this host has "
                      + ("a /dev/kvm without vmx/svm" if os.path.exists("/dev/kvm") else "no /dev/kvm"))
    if want == "auto":
        return "kvm" if kvm_ok else "tcg"
    return want


def accel_label(accel):
    return "kvm" if accel == "kvm" else "tcg: emulated, not a latency"


def shared_libs(path):
    """Absolute paths of the libraries `ldd` says PATH loads (none for static)."""
    r = subprocess.run(["ldd", path], capture_output=True, text=True)
    if r.returncode != 0:
        return []
    return sorted(set(re.findall(r"(/\S+)", r.stdout)))


def module_closure(moddir, names):
    """NAME.ko paths of the modules named and everything they depend on, load order."""
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()
    by_name = {}
    for mod in deps:
        base = os.path.basename(mod)[:-3].replace("-", "_")
        by_name[base] = mod
    order = []

    def visit(mod):
        if mod in order:
            return
        for d in deps.get(mod, []):
            visit(d)
        order.append(mod)

    for name in names:
        key = name.replace("-", "_")
        if key not in by_name:
            raise VmError(2, f"module {name}: not in {moddir}/modules.dep")
        visit(by_name[key])
    return [os.path.join(moddir, m) for m in order]


INIT = r"""#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /sys/kernel/debug /tmp /out /run
chmod 1777 /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up 2>/dev/null
hostname gbvm
for m in $(cat /gbvm/modules 2>/dev/null); do
	insmod "$m" || echo "gbvm: insmod $m failed"
done
if [ -f /gbvm/kvm-in-guest ]; then
	if grep -q '\bsvm\b' /proc/cpuinfo; then k=/gbvm/kvm/kvm-amd.ko; else k=/gbvm/kvm/kvm-intel.ko; fi
	insmod /gbvm/kvm/irqbypass.ko; insmod /gbvm/kvm/kvm.ko
	insmod "$k" || echo "gbvm: insmod $k failed"
fi
cd /out
echo GBVM-SCRIPT-BEGIN
sh /gbvm/script.sh < /dev/null 2>&1
rc=$?
echo GBVM-SCRIPT-END
cd /
dmesg > /gbvm-dmesg.txt 2>/dev/null
cp /gbvm-dmesg.txt /out/dmesg.txt
stty -F /dev/ttyS1 raw -echo 2>/dev/null
{ echo GBVM-OUT-BEGIN; tar -C /out -cf - . | gzip -1 | base64; echo GBVM-OUT-END; } > /dev/ttyS1
echo "GBVM-RC=$rc"
sync
poweroff -f
"""


class Image:
    """An initramfs: busybox, binaries with their libraries, modules, files."""

    def __init__(self):
        self.entries = {}  # guest path -> ("file", host path) | ("data", bytes) | ("link", target)

    def add_file(self, src, dst=None, mode=None):
        dst = dst or os.path.abspath(src)
        self.entries[dst] = ("file", os.path.realpath(src), mode)

    def add_data(self, dst, data, mode=0o644):
        self.entries[dst] = ("data", data.encode() if isinstance(data, str) else data, mode)

    def add_link(self, dst, target):
        self.entries[dst] = ("link", target, None)

    def add_bin(self, src, dst=None):
        self.add_file(src, dst)
        for lib in shared_libs(src):
            self.add_file(lib, lib)
            # the loader and libraries are found by the path ldd printed, which may be a link
            if os.path.islink(lib):
                self.add_file(os.path.realpath(lib), os.path.realpath(lib))

    def add_tree(self, src, dst=None, skip=None):
        dst = dst or os.path.abspath(src)
        for root, dirs, files in os.walk(src):
            if skip:
                dirs[:] = [d for d in dirs if not skip(os.path.join(root, d))]
            for name in files:
                p = os.path.join(root, name)
                if skip and skip(p):
                    continue
                rel = os.path.relpath(p, src)
                if os.path.isfile(p):
                    self.add_file(p, os.path.join(dst, rel))

    def digest(self):
        h = hashlib.sha256()
        with open(os.path.abspath(__file__), "rb") as f:  # the rig's own code shapes the image
            h.update(f.read())
        for dst in sorted(self.entries):
            kind, val, mode = self.entries[dst]
            h.update(f"{dst}\0{kind}\0{mode}\0".encode())
            if kind == "file":
                st = os.stat(val)
                h.update(f"{val}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_mode}".encode())
            elif kind == "data":
                h.update(val)
            else:
                h.update(val.encode())
        return h.hexdigest()[:20]

    def write(self, path):
        """newc cpio, uncompressed (the kernel unpacks it; no gzip time at each build)."""
        tmp = path + ".tmp"
        ino = [1000]
        with open(tmp, "wb") as out:
            def rec(name, mode, data=b"", nlink=1, rdev=(0, 0)):
                ino[0] += 1
                name_b = name.encode() + b"\0"
                hdr = "070701" + "".join(f"{v:08x}" for v in (
                    ino[0], mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
                    len(name_b), 0))
                out.write(hdr.encode() + name_b)
                out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
                out.write(data)
                out.write(b"\0" * ((4 - len(data) % 4) % 4))

            dirs = {"/proc", "/sys", "/dev", "/tmp", "/out", "/run", "/root", "/etc"}
            for dst in self.entries:
                d = os.path.dirname(dst)
                while d not in ("/", ""):
                    dirs.add(d)
                    d = os.path.dirname(d)
            for d in sorted(dirs):
                rec(d.lstrip("/"), 0o040755, nlink=2)
            rec("dev/console", 0o020600, rdev=(5, 1))
            rec("dev/null", 0o020666, rdev=(1, 3))
            for dst in sorted(self.entries):
                kind, val, mode = self.entries[dst]
                name = dst.lstrip("/")
                if kind == "link":
                    rec(name, 0o120777, val.encode())
                elif kind == "data":
                    rec(name, 0o100000 | mode, val)
                else:
                    with open(val, "rb") as f:
                        data = f.read()
                    m = mode if mode is not None else (os.stat(val).st_mode & 0o7777)
                    rec(name, 0o100000 | m, data)
            rec("TRAILER!!!", 0)
        os.replace(tmp, path)


def base_image(moddir, modules, kvm_in_guest):
    img = Image()
    bb = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(bb) or shared_libs(bb):
        raise VmError(SKIP, "a static busybox is needed (install busybox-static: bash ci/install-deps.sh)")
    img.add_file(bb, "/bin/busybox", 0o755)
    applets = subprocess.run([bb, "--list"], capture_output=True, text=True).stdout.split()
    for a in applets:
        if a != "busybox":
            img.add_link("/bin/" + a, "busybox")
    img.add_data("/init", INIT, 0o755)
    img.add_data("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
    img.add_data("/etc/group", "root:x:0:\n")
    mods = module_closure(moddir, modules) if modules else []
    for m in mods:
        img.add_file(m, "/gbvm/mod/" + os.path.basename(m))
    img.add_data("/gbvm/modules", "".join(f"/gbvm/mod/{os.path.basename(m)}\n" for m in mods))
    if kvm_in_guest:
        for m in module_closure(moddir, ["kvm_amd", "kvm_intel"]):
            img.add_file(m, "/gbvm/kvm/" + os.path.basename(m))
        img.add_data("/gbvm/kvm-in-guest", "1\n")
    return img


def pdeathsig_for(parent_pid):
    """A preexec_fn: qemu dies with whoever started it, whatever kills that (SIGKILL included).

    PR_SET_PDEATHSIG fires when the thread that forked dies; a parent that died
    between fork and prctl is caught by comparing getppid with parent_pid.
    """
    def preexec():
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0 or os.getppid() != parent_pid:
            os._exit(127)
        os.setsid()
    return preexec


def set_pdeathsig():
    """The first version's preexec_fn, kept for its callers: pdeathsig_for(the parent now)."""
    pdeathsig_for(os.getppid())()


def decode_out(stream_text, out_dir):
    m = re.search(BEGIN + r"\r?\n(.*?)" + END, stream_text, re.S)
    if not m:
        return False
    data = base64.b64decode("".join(m.group(1).split()))
    os.makedirs(out_dir, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(gzip_decompress(data))) as tf:
        for member in tf.getmembers():
            # a guest writes only regular files and folders under its /out
            if member.name.startswith("/") or ".." in member.name.split("/"):
                continue
            if member.isfile() or member.isdir():
                tf.extract(member, out_dir)
    return True


def gzip_decompress(data):
    import gzip
    return gzip.decompress(data)


def tail(text, lines=120):
    return "\n".join(text.splitlines()[-lines:])


class ScriptLines:
    """Feeds on_line each whole line the guest's script prints, as the console file grows."""

    def __init__(self, path, on_line):
        self.path, self.on_line = path, on_line
        self.pos, self.buf, self.inside = 0, "", False

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return
        self.pos += len(data)
        self.buf += data.decode(errors="replace")
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            line = line.rstrip("\r")
            if line == "GBVM-SCRIPT-BEGIN":
                self.inside = True
            elif line == "GBVM-SCRIPT-END":
                self.inside = False
            elif self.inside:
                self.on_line(line)


def wait_qemu(proc, timeout_s, lines):
    """proc's output and whether it timed out; lines (ScriptLines or None) polled meanwhile."""
    if lines is None:
        try:
            return proc.communicate(timeout=timeout_s)[0], False
        except subprocess.TimeoutExpired:
            return None, True
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            out = proc.communicate(timeout=0.5)[0]
            lines.poll()
            return out, False
        except subprocess.TimeoutExpired:
            lines.poll()
            if time.monotonic() >= deadline:
                return None, True


def run(script, bins=(), files=(), trees=(), modules=(), out_dir=None, accel="auto",
        cpus=1, mem_mib=1024, timeout_s=300, kvm_in_guest=False, append="", quiet=False,
        image_hook=None, on_line=None):
    """Boot, run SCRIPT (sh) in the guest's /out, return dict(rc, console, dmesg, accel).

    on_line, when given, is called with each line the script prints, while it runs.
    Raises VmError(SKIP) where qemu or the kernel is missing, VmError(3) when
    the guest did not finish, VmError(4) on a guest kernel fault. qemu never
    outlives this call (killed on timeout, on an exception here, and by
    PDEATHSIG when this process dies).
    """
    qemu = find_qemu()
    kernel, kver, moddir = find_kernel()
    accel = pick_accel(accel)
    img = base_image(moddir, list(modules), kvm_in_guest)
    for b in bins:
        src, _, dst = b.partition(":")
        img.add_bin(src, dst or None)
    for f in files:
        src, _, dst = f.partition(":")
        img.add_file(src, dst or None)
    for t in trees:
        src, _, dst = t.partition(":")
        img.add_tree(src, dst or None)
    if image_hook:
        image_hook(img)
    img.add_data("/gbvm/script.sh", script + "\n", 0o755)
    path = os.path.join(cache_dir(), f"initramfs-{kver}-{img.digest()}.cpio")
    if not os.path.exists(path):
        # an image holds its script: keep the last hour's, and at most CACHE_KEEP of them
        olds = sorted(glob.glob(os.path.join(cache_dir(), "initramfs-*.cpio")), key=os.path.getmtime)
        for i, old in enumerate(olds):
            if time.time() - os.path.getmtime(old) > 3600 or i < len(olds) - (CACHE_KEEP - 1):
                try:
                    os.unlink(old)
                except OSError:   # another run's, removed meanwhile
                    pass
        img.write(path)
    os.utime(path)
    work = tempfile.mkdtemp(prefix="gbvm-")
    console = os.path.join(work, "console.log")
    outstream = os.path.join(work, "out.b64")
    if accel == "kvm":
        cpu = ["-accel", "kvm", "-cpu", "host"]
    else:
        cpu = ["-accel", "tcg" + os.environ.get("GBVM_TCG_OPTS", ""), "-cpu", "max"]
    cmd = [qemu, "-no-user-config", "-nodefaults", "-display", "none", "-no-reboot",
           "-m", str(mem_mib), "-smp", str(cpus), *cpu,
           "-kernel", kernel, "-initrd", path,
           "-append", f"console=ttyS0 panic=-1 loglevel=4 {append}".strip(),
           "-chardev", f"file,id=con,path={console}", "-serial", "chardev:con",
           "-chardev", f"file,id=out,path={outstream}", "-serial", "chardev:out",
           "-monitor", "none"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=pdeathsig_for(os.getpid()))
    qemu_out, timed_out = None, True
    try:
        qemu_out, timed_out = wait_qemu(proc, timeout_s, ScriptLines(console, on_line) if on_line else None)
    finally:
        if proc.poll() is None:   # timed out, or an exception (KeyboardInterrupt) here
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    elapsed = time.monotonic() - t0
    con = open(console, errors="replace").read() if os.path.exists(console) else ""
    stream = open(outstream, errors="replace").read() if os.path.exists(outstream) else ""
    shutil.rmtree(work, ignore_errors=True)
    if timed_out:
        raise VmError(GUEST_UNFINISHED, f"guest did not finish within {timeout_s} s "
                      f"(accel {accel}); console tail:\n{tail(con)}", con)
    m = re.search(RC_MARK + r"(\d+)", con)
    if not m:
        raise VmError(GUEST_UNFINISHED, f"guest ended without finishing its script (panic or "
                      f"power-off; qemu status {proc.returncode}"
                      + (f", qemu said: {qemu_out.decode(errors='replace').strip()}" if qemu_out else "")
                      + f"); console tail:\n{tail(con)}", con)
    rc = int(m.group(1))
    got = False
    dmesg = ""
    with tempfile.TemporaryDirectory() as tmp:
        got = decode_out(stream, tmp)
        dpath = os.path.join(tmp, "dmesg.txt")
        if os.path.exists(dpath):
            dmesg = open(dpath, errors="replace").read()
        if out_dir and got:
            os.makedirs(out_dir, exist_ok=True)
            for name in os.listdir(tmp):
                dst = os.path.join(out_dir, name)
                if os.path.isdir(dst) and not os.path.islink(dst):
                    shutil.rmtree(dst)
                shutil.move(os.path.join(tmp, name), dst)
            with open(os.path.join(out_dir, "console.log"), "w") as f:
                f.write(con)
    if not got:
        raise VmError(GUEST_UNFINISHED, "guest finished but its /out did not come back; "
                      f"console tail:\n{tail(con)}", con)
    faults = [l for l in dmesg.splitlines() if KERNEL_FAULT.search(l)]
    if faults:
        raise VmError(GUEST_KERNEL_FAULT, "guest kernel log has faults:\n" + "\n".join(faults[:40]), con)
    return {"rc": rc, "console": con, "dmesg": dmesg, "accel": accel,
            "accel_label": accel_label(accel), "kernel": kver, "elapsed_s": elapsed}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="gbvm.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("exec", help="boot, run a script, bring /out back")
    ex.add_argument("--script", required=True, help="shell script run in the guest's /out")
    ex.add_argument("--bin", action="append", default=[], metavar="SRC[:DST]",
                    help="executable and its shared libraries (same path in the guest by default)")
    ex.add_argument("--file", action="append", default=[], metavar="SRC[:DST]")
    ex.add_argument("--tree", action="append", default=[], metavar="SRC[:DST]")
    ex.add_argument("--module", action="append", default=[], metavar="NAME",
                    help="a module of the guest kernel, loaded with its dependencies at boot")
    ex.add_argument("--out", help="where the guest's /out (and console.log, dmesg.txt) go")
    ex.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    ex.add_argument("--cpus", type=int, default=1)
    ex.add_argument("--mem", type=int, default=1024, metavar="MIB")
    ex.add_argument("--timeout", type=int, default=300, metavar="S")
    ex.add_argument("--kvm-in-guest", action="store_true",
                    help="load kvm and kvm-amd/kvm-intel in the guest (/dev/kvm inside; "
                    "under TCG the nested KVM is emulated too)")
    ex.add_argument("--append", default="", help="extra kernel command line")
    sub.add_parser("info", help="kernel, qemu and accelerator this machine would use")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "info":
            k, ver, moddir = find_kernel()
            acc = pick_accel("auto")
            print(f"qemu {find_qemu()}\nkernel {k} ({ver})\naccel {acc} ({accel_label(acc)})")
            return 0
        res = run(a.script, a.bin, a.file, a.tree, a.module, a.out, a.accel, a.cpus, a.mem,
                  a.timeout, a.kvm_in_guest, a.append)
        m = re.search(r"GBVM-SCRIPT-BEGIN\r?\n(.*?)GBVM-SCRIPT-END", res["console"], re.S)
        if m:
            sys.stdout.write(m.group(1).replace("\r\n", "\n"))
        sys.stderr.write(f"gbvm: guest ({res['accel_label']}, kernel {res['kernel']}) "
                         f"finished in {res['elapsed_s']:.1f} s, script status {res['rc']}\n")
        return res["rc"]
    except VmError as e:
        sys.stderr.write(f"gbvm: {'skip: ' if e.code == SKIP else ''}{e}\n")
        return e.code


if __name__ == "__main__":
    sys.exit(main())
