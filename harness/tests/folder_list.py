#!/usr/bin/env python3
"""A mechanism or load generator folder missing from its meson list stops `meson setup` by name.

usage: folder_list.py SOURCE_ROOT   (exit 77 = skip: not a git checkout)

Copies the source tree (the files git knows, tracked or not ignored: no
build folders) into a temporary folder, checks that it configures as it is,
then adds mechanisms/zz-unlisted/meson.build (and, separately,
loadgen/zz-unlisted/meson.build) and checks that `meson setup` fails with a
message naming the folder and the list it is missing from.
"""
import os
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def copy_tree(src, dst):
    p = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       capture_output=True)
    if p.returncode != 0:
        print(f"SKIP: {src} is not a git checkout: {p.stderr.decode().strip()}")
        sys.exit(77)
    n = 0
    for rel in p.stdout.decode().split("\0"):
        path = os.path.join(src, rel)
        if not rel or not os.path.isfile(path):   # deleted in the working tree, or a submodule
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(path, os.path.join(dst, rel))
        n += 1
    return n


def setup(tree, build):
    p = subprocess.run(["meson", "setup", build, tree], capture_output=True, text=True, timeout=100)
    return p.returncode, p.stdout + p.stderr


def main():
    src = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="gapbench-folders-") as tmp:
        tree = os.path.join(tmp, "src")
        n = copy_tree(src, tree)
        print(f"copied {n} files")
        rc, log = setup(tree, os.path.join(tmp, "build-clean"))
        check(rc == 0, f"the copied tree does not configure (exit {rc}):\n{log[-2000:]}")
        for top in ("mechanisms", "loadgen"):
            extra = os.path.join(tree, top, "zz-unlisted")
            os.makedirs(extra)
            with open(os.path.join(extra, "meson.build"), "w") as f:
                f.write("# a folder nobody added to the list\n")
            rc, log = setup(tree, os.path.join(tmp, f"build-{top}"))
            want = f"{top}/zz-unlisted/ is not in the folder list of {top}/meson.build"
            check(rc != 0, f"meson setup with an unlisted {top}/zz-unlisted/ succeeded")
            check(want in log, f"meson setup did not name {top}/zz-unlisted/: {log[-1500:]}")
            if rc != 0 and want in log:
                print(f"{top}/zz-unlisted/: refused by name")
            shutil.rmtree(extra)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
