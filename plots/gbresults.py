"""Running the harness and reading its results folder: the one copy every Python script uses.

Tests, the cross-check and the report tools import it (tests put plots/ on
sys.path first):

    import gbresults as gb
    proc = gb.run(harness, suite, out)            # harness run SUITE --out OUT
    rows = gb.rows_by_case(out)                   # summary.csv as {case: row}
    gb.stat(rows, "syscall-getppid", "p50_ns")    # a number, or None when not ok
    meta = gb.read_meta(out)
    gb.fact(gb.meta_case(meta, "vlib-vm-exit"), "kvm_backend")   # a fact, text or number
"""
import csv
import json
import os
import subprocess


def run(harness, suite, out, *extra, timeout=None, echo_stderr=False):
    """`harness run SUITE --out OUT [extra...]` with no stdin; returns the CompletedProcess (text)."""
    p = subprocess.run([harness, "run", suite, "--out", out, *extra], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    if echo_stderr:
        import sys
        sys.stderr.write(p.stderr)
    return p


def read_summary(out):
    """summary.csv of a results folder: (column names, list of row dicts)."""
    with open(os.path.join(out, "summary.csv"), newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def rows_by_case(out):
    """summary.csv as {case name: row dict}."""
    return {r["case"]: r for r in read_summary(out)[1]}


def ok(rows, case):
    """True when the case exists and its status is ok."""
    return case in rows and rows[case]["status"] == "ok"


def stat(rows, case, column="p50_ns"):
    """A statistic of an ok case as a float, or None (missing, not ok, or empty)."""
    if not ok(rows, case) or not rows[case].get(column):
        return None
    return float(rows[case][column])


def read_meta(out):
    with open(os.path.join(out, "meta.json")) as f:
        return json.load(f)


def meta_case(meta, case):
    """The meta.json record of one case ({} when absent)."""
    for c in meta.get("cases", []):
        if c.get("case") == case:
            return c
    return {}


def fact(case_meta, key, default=None):
    """A fact the mechanism reported: text as str, a number as its value (its unit: fact_unit)."""
    v = case_meta.get("report", {}).get(key, default)
    return v["value"] if isinstance(v, dict) and "value" in v else v


def fact_unit(case_meta, key):
    v = case_meta.get("report", {}).get(key)
    return v.get("unit") if isinstance(v, dict) else None


GNUPLOT_ARGS_LINE = ('do for [i=1:ARGC] { a = value("ARG".i); p = strstrt(a, "="); '
                     'eval a[1:p-1]." = value(\\"ARG".i."\\")[".(p+1).":]" }')


def gnuplot(script, variables):
    """Run a gnuplot script with named string variables, passed as data, never as code.

    Each variable travels as one `gnuplot -c SCRIPT name=value` argument; the
    script's first line (GNUPLOT_ARGS_LINE) assigns name from ARGn by
    reference, so a value with quotes, semicolons or `system(...)` stays a
    string. Names must be identifiers; gnuplot passes at most 9 arguments.
    Returns the CompletedProcess (text).
    """
    import re
    if len(variables) > 9:
        raise ValueError(f"gnuplot takes at most 9 arguments, {len(variables)} given for {script}")
    for k in variables:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
            raise ValueError(f"not a gnuplot variable name: {k!r}")
    args = [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(["gnuplot", "-c", script, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
