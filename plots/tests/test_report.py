#!/usr/bin/env python3
"""The report in a real headless browser: sections present, every image decoded.

usage: test_report.py HARNESS     (exit 77: skipped, no Chromium or gnuplot here)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import gbresults as gb  # noqa: E402

SUITE = """[suite]
name = "report-test"
description = "two cases, one with a paper reference"
[defaults]
samples = 2000
[[case]]
mechanism = "syscall"
[[case]]
mechanism = "signal"
variant = "self"
reference = "uls.signal_delivery_current_process"
"""


def main():
    harness = sys.argv[1]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not shutil.which("gnuplot"):
        print("SKIP: needs chromium and gnuplot (Debian packages chromium, gnuplot-nox)")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="gapbench-report-") as d:
        suite, out = os.path.join(d, "s.toml"), os.path.join(d, "out")
        with open(suite, "w") as f:
            f.write(SUITE)
        for cmd in ([harness, "run", suite, "--out", out], [harness, "plot", out],
                    [sys.executable, os.path.join(HERE, "..", "report.py"), out]):
            p = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if p.returncode != 0:
                sys.exit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-2000:]}")
        report = os.path.join(out, "report.html")
        p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", f"--user-data-dir={os.path.join(d, 'profile')}",
                            "--virtual-time-budget=5000", "--dump-dom", "file://" + report],
                           capture_output=True, text=True, timeout=120)
        dom = p.stdout
        failures = []
        for section in ("machine", "seed-hijack", "seed-uls", "seed-hijackcos", "seed-vlibos", "seed-karma",
                        "cases", "plots"):
            if f'id="{section}"' not in dom:
                failures.append(f"section {section} missing from the rendered page")
        m = re.search(r'data-images="(\d+)" data-images-rendered="(\d+)"', dom)
        if not m:
            failures.append("the page's load check did not run")
        else:
            total, rendered = int(m.group(1)), int(m.group(2))
            print(f"{rendered} of {total} images rendered")
            if total < 4 or rendered != total:
                failures.append(f"{rendered} of {total} images rendered, expected all of at least 4")
        if "signal-self" not in dom or "uls.signal_delivery_current_process" not in dom:
            failures.append("the paper's row and this machine's case are not side by side")
        row = gb.rows_by_case(out).get("signal-self", {})
        here = f'<td class="here">{row.get("ref_here")} {row.get("ref_unit")} ({row.get("ref_stat")})</td>'
        if not row.get("ref_here") or here not in dom:
            failures.append(f"the page does not show summary.csv's number for signal-self beside the paper: {here}")
        for f in failures:
            print("FAIL:", f)
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
