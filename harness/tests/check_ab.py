#!/usr/bin/env python3
"""harness ab: a build whose syscall experiment is 25% slower is flagged on that case and no other.

usage: check_ab.py HARNESS SOURCE_ROOT

Copies the source tree, slows the syscall mechanism's timed span by a quarter
(a spin of 25% of the call's own duration inside the probes), builds that
harness, and runs `harness ab --base-harness HARNESS --new-harness SLOW` on a
small suite: syscall-getppid must be `slower`, null and clock-read neither
slower nor faster.
"""
import os
import shutil
import subprocess
import sys
import tempfile

SUITE = """[defaults]
samples = 20000
priority = 80
[[case]]
mechanism = "null"
[[case]]
mechanism = "syscall"
variant = "getppid"
[[case]]
mechanism = "clock"
variant = "read"
"""
SLOWDOWN_FROM = "\t\traw_syscall0(e->nr);\n\t\tuint64_t t1 = tsc_end();\n"
SLOWDOWN_TO = ("\t\traw_syscall0(e->nr);\n"
               "\t\tfor (uint64_t tm = tsc_start(), d = (tm - t0) / 4; tsc_start() - tm < d;)\n"
               "\t\t\t;   /* check_ab.py: 25% slower */\n"
               "\t\tuint64_t t1 = tsc_end();\n")
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def copy_tree(src, dst):
    p = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       capture_output=True)
    if p.returncode != 0:
        print(f"SKIP: {src} is not a git checkout")
        sys.exit(77)
    for rel in p.stdout.decode().split("\0"):
        path = os.path.join(src, rel)
        if rel and os.path.isfile(path):
            os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(path, os.path.join(dst, rel))


def main():
    harness, root = os.path.abspath(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="gapbench-ab-") as d:
        tree = os.path.join(d, "src")
        copy_tree(root, tree)
        path = os.path.join(tree, "mechanisms", "syscall", "syscall.c")
        with open(path) as f:
            text = f.read()
        check(SLOWDOWN_FROM in text, "the syscall mechanism's timed span is where the test slows it")
        if SLOWDOWN_FROM not in text:
            sys.exit(1)
        with open(path, "w") as f:
            f.write(text.replace(SLOWDOWN_FROM, SLOWDOWN_TO))
        build = os.path.join(d, "build")
        for cmd in (["meson", "setup", build, tree], ["ninja", "-C", build, "harness/harness"]):
            p = subprocess.run(cmd, capture_output=True, text=True)
            check(p.returncode == 0, f"{' '.join(cmd[:2])}: {(p.stdout + p.stderr)[-300:] if p.returncode else 'ok'}")
            if p.returncode:
                sys.exit(1)
        suite = os.path.join(d, "s.toml")
        with open(suite, "w") as f:
            f.write(SUITE)
        out = os.path.join(d, "ab")
        p = subprocess.run([harness, "ab", "--base-harness", harness, "--new-harness",
                            os.path.join(build, "harness", "harness"), "--rounds", "5", "--out", out, suite,
                            "--", "--effect", "0.1"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        print(p.stdout)
        verdicts = {line.split()[0]: line.split()[1] for line in p.stdout.splitlines()[1:-1] if line.strip()}
        check(verdicts.get("syscall-getppid") == "slower", f"syscall-getppid: {verdicts.get('syscall-getppid')}")
        for case in ("null", "clock-read"):
            check(verdicts.get(case) in ("same", "noisy"), f"{case}: {verdicts.get(case)} (neither slower nor faster)")
        check(p.returncode == 1, f"ab exits 1 when a case got slower (got {p.returncode})")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
