#!/usr/bin/env python3
"""hijackcos compile with interposition: the builds run and the interposition sees them.

usage: compile.py HARNESS

Runs compile.toml (beside this script). Each case is ok, or a skip where
gcc or make is missing (or, for the notify pass, where the kernel lacks
pidfd_getfd). For each ok case (typed facts of meta.json): one pair of
builds, both wall times positive; the notify pass's supervisor let more
than 100 system calls per build continue (a build of two files makes
thousands). No timing is compared: one pair on a shared machine says
nothing about a 0.08% overhead.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "plots"))
import gbresults as gb  # noqa: E402

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def main():
    harness = sys.argv[1]
    suite = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compile.toml")
    tools = shutil.which("gcc") and shutil.which("make")
    with tempfile.TemporaryDirectory(prefix="hijackcos-compile-") as out:
        gb.run(harness, suite, out, echo_stderr=True)
        rows = gb.rows_by_case(out)
        meta = gb.read_meta(out)
        check(len(rows) == 2, f"{len(rows)} cases (want 2)")
        for name, r in rows.items():
            status = r["status"]
            check(status == "ok" or (status.startswith("skip") and (not tools or "pidfd" in status)),
                  f"{name}: status {status}")
            if status != "ok":
                continue
            c = gb.meta_case(meta, name)
            check(gb.fact(c, "build_pairs") == 1, f"{name}: build pairs {gb.fact(c, 'build_pairs')}")
            native, inter = gb.fact(c, "native_mean_s"), gb.fact(c, "interposed_mean_s")
            check(native is not None and native > 0 and inter is not None and inter > 0,
                  f"{name}: native {native} s, interposed {inter} s")
            if "notify" in name:
                n = gb.fact(c, "syscalls_per_build")
                check(n is not None and n > 100, f"{name}: {n} system calls per build through the supervisor")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
