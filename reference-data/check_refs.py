#!/usr/bin/env python3
"""Check the reference data (reference-data/*.csv) and the suites that name it.

    python3 check_refs.py [SUITE.toml ...]

Every row must parse: exactly the columns below, a numeric value, a unit from
the allowed set, cpu_ghz empty or a positive number, stddev empty or a
non-negative number, an id that is lowercase and dotted and unique across all
files, and a source naming a seed file (NNN_hex.txt; when ../shared/seeds
exists beside the repository, the file must be there). Every `reference = "ID"`
(or `reference = ["A", "B"]`) in the suites given must name an existing id.

Prints one line per problem and exits 1, or exits 0; a one-line summary ends
the output either way. Python 3 standard library only.
"""
import csv
import glob
import math
import os
import re
import sys

COLUMNS = ["id", "source", "experiment", "metric", "value", "stddev", "unit",
           "cpu", "cpu_ghz", "os", "notes"]
UNITS = {"cycles", "us", "s", "count", "ratio"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")
SEED_RE = re.compile(r"\b(\d{3}_[0-9a-f]+\.txt)\b")
# Field sizes of harness/refs.c (struct ref_row): longer values are truncated there.
MAXLEN = {"id": 95, "source": 159, "unit": 15, "cpu": 95}
# reference = "x"  or  reference = ["a", "b"] (the array may span lines)
REF_RE = re.compile(r'^\s*reference\s*=\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|\[[^\]]*\])', re.M)
STR_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'')

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def number(text):
    """float(text) for a finite number, else None."""
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def seeds_dir():
    env = os.environ.get("GAPBENCH_SEEDS_DIR")
    if env:
        return env
    d = os.path.normpath(os.path.join(REPO, "..", "shared", "seeds"))
    return d if os.path.isdir(d) else None


def check_csv(path, ids, problems, seeds):
    name = os.path.basename(path)
    rows = 0
    try:
        f = open(path, newline="", encoding="utf-8")
    except OSError as e:
        problems.append(f"{name}: {e.strerror}")
        return 0
    with f:
        try:
            records = list(csv.reader(f, strict=True))
        except (csv.Error, UnicodeDecodeError) as e:
            problems.append(f"{name}: not valid CSV: {e}")
            return 0
    if not records:
        problems.append(f"{name}: empty file")
        return 0
    if records[0] != COLUMNS:
        problems.append(f"{name}:1: columns are {','.join(records[0])}, expected {','.join(COLUMNS)}")
        return 0
    for lineno, rec in enumerate(records[1:], start=2):
        where = f"{name}:{lineno}"
        if not rec or rec == [""]:
            problems.append(f"{where}: empty line")
            continue
        if len(rec) != len(COLUMNS):
            problems.append(f"{where}: {len(rec)} fields, expected {len(COLUMNS)}")
            continue
        rows += 1
        r = dict(zip(COLUMNS, rec))
        rid = r["id"]
        if not ID_RE.match(rid):
            problems.append(f"{where}: id '{rid}' is not lowercase and dotted (e.g. uls.raw_upcall)")
        if rid in ids:
            problems.append(f"{where}: id '{rid}' already defined in {ids[rid]}")
        else:
            ids[rid] = where
        if number(r["value"]) is None:
            problems.append(f"{where}: value '{r['value']}' is not a number")
        if r["stddev"] and (number(r["stddev"]) is None or number(r["stddev"]) < 0):
            problems.append(f"{where}: stddev '{r['stddev']}' is not empty or a non-negative number")
        if r["unit"] not in UNITS:
            problems.append(f"{where}: unit '{r['unit']}' not one of {', '.join(sorted(UNITS))}")
        if r["cpu_ghz"] and (number(r["cpu_ghz"]) is None or number(r["cpu_ghz"]) <= 0):
            problems.append(f"{where}: cpu_ghz '{r['cpu_ghz']}' is not empty or a positive number")
        for col in ("experiment", "metric", "cpu", "os"):
            if not r[col].strip():
                problems.append(f"{where}: {col} is empty")
        for col, limit in MAXLEN.items():
            if len(r[col].encode("utf-8")) > limit:
                problems.append(f"{where}: {col} longer than {limit} bytes (harness/refs.c would truncate it)")
        m = SEED_RE.search(r["source"])
        if not m:
            problems.append(f"{where}: source '{r['source']}' names no seed file (NNN_hex.txt)")
        elif seeds and not os.path.isfile(os.path.join(seeds, m.group(1))):
            problems.append(f"{where}: source names {m.group(1)}, not found in {seeds}")
    return rows


def suite_references(text):
    """Every id a suite's `reference = ...` lines name."""
    out = []
    for m in REF_RE.finditer(text):
        for s in STR_RE.finditer(m.group(1)):
            out.append(s.group(1) if s.group(1) is not None else s.group(2))
    return out


def main(argv):
    problems = []
    ids = {}
    seeds = seeds_dir()
    files = sorted(glob.glob(os.path.join(HERE, "*.csv")))
    if not files:
        problems.append(f"{HERE}: no *.csv files")
    nrows = sum(check_csv(p, ids, problems, seeds) for p in files)
    nrefs = 0
    for suite in argv[1:]:
        try:
            with open(suite, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            problems.append(f"{suite}: {e.strerror}")
            continue
        for ref in suite_references(text):
            nrefs += 1
            if ref not in ids:
                problems.append(f"{suite}: reference '{ref}' names no row of reference-data/*.csv")
    for p in problems:
        print(p)
    print(f"{nrows} rows in {len(files)} files, {nrefs} suite references in {len(argv) - 1} suites: "
          + (f"{len(problems)} problems" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
