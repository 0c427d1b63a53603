#!/usr/bin/env python3
"""The data-file contract (plots/data_files.toml), without a harness run.

usage: test_data_files.py HARNESS

1. The contract parses and every entry is complete (columns with units and
   help, a plot or the reason for none, a writer that names the file), and
   names a registered mechanism and its variants (`harness list mechanisms`).
2. The checks are not vacuous: an incomplete entry is refused, and a results
   folder with a wrong header, an undeclared file, a file from the wrong
   mechanism or an ok case without its file is caught.
3. plot.py draws every declared plot of every entry from files built to the
   contract (the ones only a KVM machine writes too), skips a file with a
   header and no rows, and refuses an undeclared file (gnuplot needed; else
   this part is reported as not run).
Files the smoke suites really write are checked against the contract by the
smoke test (harness/tests/check_run.py).
"""
import copy
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile

PLOTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, PLOTS)
import datafiles  # noqa: E402

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def registered_variants(harness):
    """{mechanism: {variant, ...}} from `harness list mechanisms`."""
    p = subprocess.run([harness, "list", "mechanisms"], capture_output=True, text=True, timeout=30)
    out, mech = {}, None
    for line in p.stdout.splitlines():
        m = re.match(r"^  (\S+): ", line)
        if m:
            mech = m.group(1)
            out[mech] = set()
            continue
        m = re.match(r"^      (\S+) +\[", line)
        if m and mech:
            out[mech].add(m.group(1))
    return out


def write_csv(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def rows_for(entry, n=6):
    """n rows of small numbers, the app column cycling 1..3 (what shares.gp groups by)."""
    names = datafiles.column_names(entry)
    return [[(i % 3) + 1 if c == "app" else i for c in names] for i in range(n)]


def results_folder(d, files, cases):
    """A results folder: summary.csv with `cases` [(case, mechanism, variant, status)], data files per case."""
    os.makedirs(d)
    write_csv(os.path.join(d, "summary.csv"), ["case", "mechanism", "variant", "load", "status"],
              [[c, m, v, "none", s] for c, m, v, s in cases])
    for case, name, header, rows in files:
        write_csv(os.path.join(d, "data", case, name), header, rows)


def check_contract(files, harness):
    problems = datafiles.contract_problems(files)
    check(not problems, "contract incomplete:\n  " + "\n  ".join(problems))
    known = registered_variants(harness)
    check(known, "harness list mechanisms listed nothing")
    for e in files:
        mech = e.get("mechanism")
        if mech == datafiles.ANY:   # the harness's own, for any mechanism
            check(e.get("variants") == [datafiles.ANY], f"{e.get('name')}: a file of any mechanism has variants [\"*\"]")
            continue
        check(mech in known, f"{e.get('name')}: mechanism {mech!r} is not registered")
        for v in e.get("variants", []):
            check(v in known.get(mech, set()), f"{e.get('name')}: {mech} has no variant {v!r}")


def check_refusals(files):
    """Each kind of incomplete entry is refused by contract_problems."""
    base = files[0]
    broken = {
        "a column without a unit": lambda e: e["columns"][0].pop("unit"),
        "a column without help": lambda e: e["columns"][0].update(help=""),
        "a plot over a column that does not exist": lambda e: e["plots"].__setitem__(
            0, {"script": "timeseries", "x": "nope", "y": ["nope"], "xlabel": "a", "ylabel": "b"}),
        "no plots": lambda e: e.pop("plots"),
        "a writer that does not exist": lambda e: e.update(writer="mechanisms/none/none.c"),
        "no variants": lambda e: e.update(variants=[]),
        "an unknown key": lambda e: e.update(colour="red"),
        "script none without a reason": lambda e: e["plots"].__setitem__(0, {"script": "none"}),
    }
    for what, breaker in broken.items():
        e = copy.deepcopy(base)
        breaker(e)
        check(datafiles.contract_problems([e]), f"contract with {what} was accepted")
    check(datafiles.contract_problems([base, copy.deepcopy(base)]), "a name declared twice was accepted")
    # a writer that never names the file
    e = copy.deepcopy(base)
    e["name"] = "no_such_file.csv"
    check(any("never names the file" in p for p in datafiles.contract_problems([e])),
          "a writer that never names its file was accepted")


def check_folder_checks(files, tmp):
    e = files[0]
    mech, var = e["mechanism"], e["variants"][0]
    # every file the case's mechanism and variant write
    same = [x for x in files if x["mechanism"] == mech and var in x["variants"]]
    good = os.path.join(tmp, "good")
    results_folder(good, [("c", x["name"], datafiles.column_names(x), rows_for(x)) for x in same],
                   [("c", mech, var, "ok")])
    problems, n = datafiles.folder_problems(good, files)
    check(not problems and n == len(same), f"a folder as declared: {problems}, {n} checked")
    # (files, cases, what the problem says); skipped cases, so that only the one fault shows
    cols = datafiles.column_names(e)
    skip = [("c", mech, var, "skip: test")]
    bad_cases = {
        "a wrong header": ([("c", e["name"], cols[:-1] + ["zz"], [])], skip, "the contract says"),
        "a reordered header": ([("c", e["name"], list(reversed(cols)), [])], skip, "the contract says"),
        "an undeclared file": ([("c", "extra.csv", ["a"], [])], skip, "not declared"),
        "the file from another mechanism": ([("c", e["name"], cols, [])], [("c", "null", "probe", "skip: test")],
                                            "written by null/probe"),
        "an ok case without its file": ([], [("c", mech, var, "ok")], "wrote no data/c/"),
        "a folder of a case not in summary.csv": ([("gone", e["name"], cols, [])], [], "no such case"),
    }
    for i, (what, (data, cases, says)) in enumerate(bad_cases.items()):
        d = os.path.join(tmp, f"bad{i}")
        results_folder(d, data, cases)
        problems, _ = datafiles.folder_problems(d, files)
        check(len(problems) >= 1 and all(says in p for p in problems), f"{what}: not caught as such: {problems}")
    # a skipped case need not write anything
    d = os.path.join(tmp, "skipped")
    results_folder(d, [], [("c", mech, var, "skip: no device")])
    check(datafiles.folder_problems(d, files)[0] == [], "a skipped case without its file was flagged")


def check_plots(files, tmp):
    if not shutil.which("gnuplot"):
        print("NOT RUN: plot.py part (gnuplot is not installed)")
        return
    d = os.path.join(tmp, "plots-all")
    data, cases, want = [], [], []
    for i, e in enumerate(files):
        case = f"case{i}"
        cases.append((case, e["mechanism"], e["variants"][0], "skip: synthetic"))
        data.append((case, e["name"], datafiles.column_names(e), rows_for(e)))
        stem = e["name"][:-4]
        want += [f"{case}-{stem}{p.get('suffix', '')}" for p in e["plots"] if p["script"] != "none"]
    # a header and no rows (a run shorter than one window): skipped, not an error
    empty = files[0]
    cases.append(("empty", empty["mechanism"], empty["variants"][0], "skip: synthetic"))
    data.append(("empty", empty["name"], datafiles.column_names(empty), []))
    results_folder(d, data, cases)
    p = subprocess.run([sys.executable, os.path.join(PLOTS, "plot.py"), d, "--formats", "png"],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"plot.py exited {p.returncode}: {p.stdout} {p.stderr}")
    check(p.stderr.strip() == "", f"plot.py complained: {p.stderr}")
    for stem in want:
        path = os.path.join(d, "plots", stem + ".png")
        check(os.path.exists(path) and os.path.getsize(path) > 1000, f"declared plot {stem}.png missing or empty")
    check(not any(n.startswith("empty-") for n in os.listdir(os.path.join(d, "plots"))),
          "a file with no rows was drawn")
    # an undeclared file is not drawn, and plot.py says so and fails
    d = os.path.join(tmp, "plots-undeclared")
    results_folder(d, [("c", "mystery.csv", ["t_s", "a"], [[0, 1], [1, 2]])], [("c", "null", "probe", "skip: x")])
    p = subprocess.run([sys.executable, os.path.join(PLOTS, "plot.py"), d, "--formats", "png"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and "not declared" in p.stderr, f"undeclared file: exit {p.returncode} {p.stderr}")
    check(not os.listdir(os.path.join(d, "plots")), "an undeclared file was drawn")


def main():
    harness = sys.argv[1]
    files = datafiles.load()
    check_contract(files, harness)
    if not failures:
        check_refusals(files)
        with tempfile.TemporaryDirectory(prefix="gapbench-datafiles-") as tmp:
            check_folder_checks(files, tmp)
            check_plots(files, tmp)
    print(f"{len(files)} data files declared: {', '.join(e.get('name', '?') for e in files)}")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
