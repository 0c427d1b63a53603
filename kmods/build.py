#!/usr/bin/env python3
"""Build gapbench's kernel modules with Kbuild, outside the source tree.

    build.py SRCDIR OUTDIR KVER STAMP

KVER '' means the Debian cloud kernel the qemu rig (vm/gbvm.py) boots: the
newest /lib/modules/*-cloud-amd64, else the running kernel. The sources are
copied to OUTDIR (Kbuild writes its objects beside them) and built with
`make -C /lib/modules/KVER/build M=OUTDIR`; the modules end up as
OUTDIR/gapbench_NAME.ko. Without that kernel's headers this is a skip: a line
saying what to install, a STAMP that says `skip`, and exit status 0, never a
failed build. STAMP holds `ok KVER` or `skip REASON` (tests read it).
"""
import glob
import os
import re
import shutil
import subprocess
import sys

MODULES = ("gapbench_translator", "gapbench_upcall", "gapbench_hijack")


def pick_kver(want):
    if want:
        return want
    cloud = sorted(glob.glob("/lib/modules/*-cloud-amd64"))
    if cloud:
        return os.path.basename(cloud[-1])
    return os.uname().release


def write_stamp(stamp, text):
    with open(stamp + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(stamp + ".tmp", stamp)


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    src, out, want, stamp = argv[1:]
    kver = pick_kver(want)
    kdir = f"/lib/modules/{kver}/build"
    if not os.path.exists(os.path.join(kdir, "Makefile")):
        why = (f"no kernel headers for {kver} at {kdir} (install linux-headers-cloud-amd64, "
               f"or the running kernel's headers, or set -Dkmod_kver=VERSION)")
        print(f"kmods: skip: {why}")
        write_stamp(stamp, "skip " + why)
        return 0
    os.makedirs(out, exist_ok=True)
    shutil.copy2(os.path.join(src, "Kbuild"), os.path.join(out, "Kbuild"))
    for m in MODULES:
        os.makedirs(os.path.join(out, m), exist_ok=True)
        for p in glob.glob(os.path.join(src, m, "*.[ch]")):
            dst = os.path.join(out, m, os.path.basename(p))
            # copy only what changed: Kbuild rebuilds by timestamps
            if not os.path.exists(dst) or open(p, "rb").read() != open(dst, "rb").read():
                shutil.copy2(p, dst)
    jobs = str(max(1, os.cpu_count() or 1))
    r = subprocess.run(["make", "-s", "-j", jobs, "-C", kdir, f"M={os.path.abspath(out)}", "modules"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Kbuild's own noise (no signing key: unsigned modules are fine unless the kernel forces signing)
    lines = [l for l in r.stdout.splitlines() if not re.search(r"(sign-file|signing_key|Skipping BTF)", l)]
    if lines:
        print("\n".join(lines))
    if r.returncode != 0:
        print(f"kmods: Kbuild against {kver} failed (status {r.returncode})", file=sys.stderr)
        return 1
    for m in MODULES:
        ko = os.path.join(out, m, m + ".ko")
        if not os.path.exists(ko):
            print(f"kmods: {ko} was not built", file=sys.stderr)
            return 1
        shutil.copy2(ko, os.path.join(out, m + ".ko"))
    write_stamp(stamp, "ok " + kver)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
