#!/usr/bin/env python3
"""check_refs.py refuses a reference cited from a case that measures something else.

usage: test_check_refs.py

Copies reference-data/ (CSV files, seeds.toml, citations.toml, check_refs.py)
into a folder with nothing beside it, so the check can only pass on what the
repository holds, and runs it over small suites: each wrong citation must be
refused with the reason, the right ones accepted.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REFDIR = os.path.dirname(HERE)
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def run(refdir, suite_text, tmp, name):
    path = os.path.join(tmp, name + ".toml")
    with open(path, "w") as f:
        f.write(suite_text)
    return subprocess.run([sys.executable, os.path.join(refdir, "check_refs.py"), path], capture_output=True,
                          text=True, cwd=tmp, timeout=60)


RAW_STAND_IN = "signal stands in for the kernel upcall (tgkill onto the sandbox stack, not SYSEXIT)"
VLIB_STAND_IN = "a KVM guest stands in for Quest-V's Linux vLib OS, a host thread for the Quest client"
GOOD = f'''
[[case]]
mechanism = "vlib"
variant = "call-sync"
op = "nop"
channel_bytes = 4096
reference = "vlibos.table2.vlib_call"
stand_in = "{VLIB_STAND_IN}"

[[case]]
mechanism = "uls"
variant = "upcall"
reference = "uls.raw_upcall"
stand_in = "{RAW_STAND_IN}"

[[case]]
name = "tlb"
mechanism = "uls"
variant = "tlb-mprotect"
working_set_pages = 16
reference = "uls.tlb_flush_reload"

[[case]]
mechanism = "signal"
variant = "process"
placement = "same"
reference = "uls.signal_delivery_other_process"
'''

# (what, suite, a piece of the message that says why)
BAD = [
    ("an async call citing the synchronous vLib call",
     f'[[case]]\nmechanism = "vlib"\nvariant = ["call-sync", "call-async"]\nop = "nop"\nchannel_bytes = 4096\n'
     f'reference = "vlibos.table2.vlib_call"\nstand_in = "{VLIB_STAND_IN}"\n', "variant 'call-async'"),
    ("a vLib call over another channel size",
     f'[[case]]\nmechanism = "vlib"\nvariant = "call-sync"\nop = "nop"\nchannel_bytes = 65536\n'
     f'reference = "vlibos.table2.vlib_call"\nstand_in = "{VLIB_STAND_IN}"\n', "channel_bytes = 65536"),
    ("the signal upcall citing the raw upcall without saying a signal stands in",
     '[[case]]\nmechanism = "uls"\nvariant = "upcall"\nreference = "uls.raw_upcall"\n', "stand_in must say"),
    ("a stand-in on a case that is the paper's own mechanism",
     '[[case]]\nmechanism = "signal"\nvariant = "self"\nreference = "uls.signal_delivery_current_process"\n'
     'stand_in = "something"\n', "the paper's own mechanism"),
    ("every size of a working-set sweep citing one number",
     '[[case]]\nmechanism = "uls"\nvariant = "tlb-mprotect"\nworking_set_pages = [1, 16, 1024]\n'
     'reference = "uls.tlb_flush_reload"\n', "working_set_pages = 1024"),
    ("the sweep's size not set at all",
     '[[case]]\nmechanism = "uls"\nvariant = "tlb-mprotect"\nreference = "uls.tlb_flush_reload"\n',
     "working_set_pages not set"),
    ("a cross-CPU signal citing the uniprocessor number",
     '[[case]]\nmechanism = "signal"\nvariant = "process"\nplacement = "split"\n'
     'reference = "uls.signal_delivery_other_process"\n', "placement = split"),
    ("a reference from [defaults] on a case of another mechanism",
     '[defaults]\nreference = "uls.raw_upcall"\n[[case]]\nmechanism = "null"\n', "mechanism 'null'"),
    ("an id with no row", '[[case]]\nmechanism = "null"\nreference = "uls.no_such_row"\n', "names no row"),
]


def main():
    with tempfile.TemporaryDirectory(prefix="gapbench-refs-") as tmp:
        # reference-data alone, nothing beside it: no ../shared/seeds to lean on
        refdir = os.path.join(tmp, "alone", "reference-data")
        shutil.copytree(REFDIR, refdir, ignore=shutil.ignore_patterns("tests", "__pycache__", "meson.build"))
        p = run(refdir, GOOD, tmp, "good")
        check(p.returncode == 0 and p.stdout.strip().endswith("ok"),
              f"a suite citing each row from its own case is accepted: {p.stdout.strip()[-400:]}")
        for i, (what, text, says) in enumerate(BAD):
            p = run(refdir, text, tmp, f"bad{i}")
            lines = [line for line in p.stdout.splitlines() if says in line]
            check(p.returncode == 1 and lines, f"{what}: refused saying {says!r} ({p.stdout.strip()[-300:]!r})")
        # a source naming a seed that seeds.toml does not list is refused, without reading any seed text
        with open(os.path.join(refdir, "uls.csv"), encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(refdir, "uls.csv"), "w", encoding="utf-8") as f:
            f.write(text.replace("001_ce8ab02c8912472d.txt", "009_0123abcd.txt", 1))
        p = run(refdir, "", tmp, "empty")
        check(p.returncode == 1 and "not a seed of seeds.toml" in p.stdout,
              f"a source naming an unknown seed: {p.stdout.strip()[-300:]!r}")
        # a citation rule that names no row is refused
        with open(os.path.join(refdir, "citations.toml"), "a", encoding="utf-8") as f:
            f.write('\n[[cite]]\nid = "uls.gone"\nmechanism = "uls"\nvariants = ["upcall"]\nparams = {}\nwhy = "x"\n')
        p = run(refdir, "", tmp, "empty2")
        check(p.returncode == 1 and "uls.gone" in p.stdout and "names no row" in p.stdout,
              f"a [[cite]] entry of a missing row: {p.stdout.strip()[-300:]!r}")
    print(f"{len(failures)} check(s) failed" if failures else "all citation checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
