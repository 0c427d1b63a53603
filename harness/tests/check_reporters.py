#!/usr/bin/env python3
"""The reporters of `harness run`, end to end: the JUnit XML file, the papers
table, and the reports of plots/ showing the harness's comparison with the
papers as written (never recomputed), with every reference CSV as a section.

usage: check_reporters.py HARNESS
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "plots"))
import gbresults as gb  # noqa: E402

# The suite's name holds every character XML must escape.
SUITE = """[suite]
name = "reporters <&> \\"'"
description = "one case of each outcome, two beside a paper"
[defaults]
samples = 2000
warmup = 0
timeout_s = 5
mlock = false
dma_latency = false
[[case]]
mechanism = "selftest"
variant = ["ok", "fail", "skip", "sigkill"]
[[case]]
mechanism = "signal"
variant = "self"
reference = "uls.signal_delivery_current_process"
[[case]]
name = "null-beside-new-paper"
mechanism = "null"
reference = "newpaper.table1.probe_pair"
"""

# A paper the source tree does not know: its file alone must give it a section.
NEW_PAPER = """id,source,experiment,metric,value,stddev,unit,cpu,cpu_ghz,os,notes
newpaper.table1.probe_pair,005_0123456789abcdef.txt Table 1,probe pair,probe_pair,40,,cycles,Some CPU,2.0,Linux,a test row
newpaper.setup.rate,005_0123456789abcdef.txt Section 2,setup,rate,1000,,count,Some CPU,2.0,Linux,setup parameter
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def check_junit(path, rows, suite_name):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        check(False, f"{path} is not valid XML: {e}")
        return
    suites = root.findall("testsuite")
    check(root.tag == "testsuites" and len(suites) == 1, f"expected one <testsuite> in <testsuites>, got {root.tag}")
    if not suites:
        return
    check(suites[0].get("name") == suite_name, f"testsuite name {suites[0].get('name')!r}, expected {suite_name!r}")
    cases = suites[0].findall("testcase")
    check([c.get("name") for c in cases] == [r["case"] for r in rows],
          f"testcases {[c.get('name') for c in cases]} are not the cases of summary.csv")
    fails = skips = 0
    for c, r in zip(cases, rows):
        name, status = r["case"], r["status"]
        check(c.get("classname") == r["mechanism"], f"{name}: classname {c.get('classname')!r}")
        check(c.get("time") == r["elapsed_s"], f"{name}: time {c.get('time')} but elapsed_s {r['elapsed_s']}")
        failure, skipped = c.find("failure"), c.find("skipped")
        if status == "ok":
            check(failure is None and skipped is None, f"{name}: ok but marked {list(c)}")
        elif status.startswith("skip"):
            skips += 1
            check(skipped is not None and skipped.get("message") == status and failure is None,
                  f"{name}: a skip needs <skipped message={status!r}>, got {[(x.tag, x.attrib) for x in c]}")
        else:
            fails += 1
            check(failure is not None and failure.get("message") == status and failure.text == status
                  and skipped is None, f"{name}: {status!r} needs a <failure> with it, got {[(x.tag, x.attrib) for x in c]}")
    check(suites[0].get("tests") == str(len(rows)) and suites[0].get("failures") == str(fails)
          and suites[0].get("skipped") == str(skips), f"testsuite counts {suites[0].attrib}, expected "
          f"{len(rows)} tests, {fails} failures, {skips} skipped")
    check(fails == 2 and skips == 1, f"the suite should give 2 failures and 1 skip, got {fails} and {skips}")


def check_papers_table(stderr, rows):
    """The table after the run shows the summary row's cells, not numbers of its own."""
    beside = [r for r in rows if r.get("ref_ratio")]
    check(len(beside) == 2, f"expected 2 cases with a ratio, got {[r['case'] for r in beside]}")
    for r in beside:
        lines = [line for line in stderr.splitlines() if line.startswith(r["case"] + " ")]
        want = [r["case"], r["ref_stat"], r["ref_here"], r["ref_unit"], r["ref_value"], r["ref_unit"],
                r["ref_ratio"], r["ref_ratio_time"] or "-", r["reference"]]
        check(len(lines) == 1 and lines[0].split() == want, f"papers table line {lines}, expected the cells {want}")
        # here and the ratio are one computation: here / paper is the ratio (to its 3 decimals)
        here, paper, ratio = float(r["ref_here"]), float(r["ref_value"]), float(r["ref_ratio"])
        check(abs(here / paper - ratio) <= 0.0005 + 1e-6 * ratio, f"{r['case']}: {here} / {paper} is not {ratio}")


def check_html(out, rows):
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        page = f.read()
    sections = re.findall(r'<section id="seed-([^"]+)"><h2>([^<]*)</h2>', page)
    keys = [k for k, _ in sections]
    check(keys == ["hijack", "uls", "hijackcos", "vlibos", "karma", "newpaper"],
          f"paper sections {keys}: the five seeds in order, then the new paper's")
    check(("newpaper", "Seed 005: newpaper.csv") in sections, f"the new paper's section is titled {sections[-1:]}")
    for r in rows:
        if not r.get("ref_here"):
            continue
        cells = re.findall(rf'<td class="l">{re.escape(r["case"])}</td><td class="here">([^<]*)</td>'
                           r'<td class="ratio">([^<]*)</td>', page)
        want = (f"{r['ref_here']} {r['ref_unit']} ({r['ref_stat']})", r["ref_ratio"])
        check(cells == [want], f"{r['case']}: the report shows {cells}, summary.csv says {want}")
    with open(os.path.join(out, "report.txt"), encoding="utf-8") as f:
        text = f.read()
    for r in rows:
        if r.get("ref_here"):
            check(f"here {r['ref_here']} {r['ref_unit']}, here / paper: x{r['ref_ratio']}" in text,
                  f"{r['case']}: report.txt does not show the CSV's ref_here and ref_ratio")


def main():
    harness = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="gapbench-reporters-") as d:
        refs = os.path.join(d, "refs")
        shutil.copytree(os.path.join(ROOT, "reference-data"), refs)
        with open(os.path.join(refs, "newpaper.csv"), "w") as f:
            f.write(NEW_PAPER)
        env = dict(os.environ, GAPBENCH_REFERENCE_DIR=refs)
        suite, out, junit = os.path.join(d, "s.toml"), os.path.join(d, "out"), os.path.join(d, "ci", "junit.xml")
        with open(suite, "w") as f:
            f.write(SUITE)

        # an unwritable JUnit file stops the run before any case
        p = subprocess.run([harness, "run", suite, "--out", os.path.join(d, "out0"), "--junit",
                            os.path.join(d, "missing", "junit.xml")], capture_output=True, text=True, env=env,
                           stdin=subprocess.DEVNULL, timeout=60)
        check(p.returncode == 2 and "cannot write" in p.stderr and "[1/" not in p.stderr,
              f"an unwritable --junit FILE: exit {p.returncode}, {p.stderr[-300:]!r}")

        os.mkdir(os.path.join(d, "ci"))
        p = subprocess.run([harness, "run", suite, "--out", out, "--junit", junit], capture_output=True,
                           text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
        sys.stderr.write(p.stderr)
        check(p.returncode == 1, f"a run with failing cases exited {p.returncode}, expected 1")
        columns, rows = gb.read_summary(out)
        tail = ["ref_here", "stand_in", "repeats", "rep_p50_median_ns", "rep_p50_lo_ns", "rep_p50_hi_ns",
                "placement"]
        check(columns[-len(tail):] == tail, f"the columns added at the end of summary.csv are not {tail}: {columns}")
        check(all(r["placement"] == "native" for r in rows), "a run outside a VM has rows not placed `native`")
        check_junit(junit, rows, "reporters <&> \"'")
        check_papers_table(p.stderr, rows)

        p = subprocess.run([sys.executable, os.path.join(ROOT, "plots", "report.py"), out], capture_output=True,
                           text=True, env=env, timeout=60)
        check(p.returncode == 0, f"report.py exited {p.returncode}: {p.stderr[-500:]}")
        if p.returncode == 0:
            check_html(out, rows)
    print(f"{len(failures)} check(s) failed" if failures else "all reporter checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
