#!/usr/bin/env python3
"""Check the reference data (reference-data/*.csv) and the suites that name it.

    python3 check_refs.py [SUITE.toml ...]

Every row must parse: exactly the columns below, a numeric value, a unit from
the allowed set, cpu_ghz empty or a positive number, stddev empty or a
non-negative number, an id that is lowercase and dotted and unique across all
files, and a source naming a seed file listed in seeds.toml (the seed texts
are not needed: the check reads only files of this folder).

citations.toml says which cases may cite a row; every entry must name a row
and be complete. In the suites given, every case that names a `reference`
(sweeps expanded, [defaults] applied) must name an existing row and match one
of that row's [[cite]] entries: its mechanism, one of its variants, the
entry's params set in the suite to exactly those values, and the case key
stand_in equal to the entry's (or unset where the entry has none).

Prints one line per problem and exits 1, or exits 0; a one-line summary ends
the output either way. Python 3 standard library only.
"""
import csv
import glob
import itertools
import math
import os
import re
import sys
import tomllib

COLUMNS = ["id", "source", "experiment", "metric", "value", "stddev", "unit",
           "cpu", "cpu_ghz", "os", "notes"]
UNITS = {"cycles", "us", "s", "count", "ratio"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")
SEED_RE = re.compile(r"\b(\d{3}_[0-9a-f]+\.txt)\b")
# Field sizes of harness/refs.c (struct ref_row): longer values are truncated there.
MAXLEN = {"id": 95, "source": 159, "unit": 15, "cpu": 95}
# the case key stand_in holds at most OPT_STR_MAX - 1 bytes (bench/sdk/opts.h)
STAND_IN_MAX = 127
CITE_KEYS = {"id", "mechanism", "variants", "params", "stand_in", "why"}
# keys of a [[case]] whose list value is not a sweep
NOT_SWEPT = {"pmu"}

HERE = os.path.dirname(os.path.abspath(__file__))


def number(text):
    """float(text) for a finite number, else None."""
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def load_toml(path, problems):
    """A TOML file of this folder as a dict, or {} with a problem."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        problems.append(f"{name}: {e.strerror}")
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{name}: not valid TOML: {e}")
    return {}


def load_seeds(problems, path=None):
    """The seed file names of seeds.toml (a set)."""
    path = path or os.path.join(HERE, "seeds.toml")
    seeds = set()
    for i, e in enumerate(load_toml(path, problems).get("seed", []), start=1):
        f = e.get("file") if isinstance(e, dict) else None
        if not isinstance(f, str) or not re.fullmatch(r"\d{3}_[0-9a-f]+\.txt", f):
            problems.append(f"seeds.toml: seed {i}: file {f!r} is not NNN_hex.txt")
            continue
        if not re.fullmatch(r"[0-9a-f]{64}", str(e.get("sha256", ""))) or not str(e.get("title", "")).strip():
            problems.append(f"seeds.toml: {f}: needs a sha256 (64 hex digits) and a title")
        seeds.add(f)
    if not seeds:
        problems.append("seeds.toml: no [[seed]] entries")
    return seeds


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
        elif m.group(1) not in seeds:
            problems.append(f"{where}: source names {m.group(1)}, not a seed of seeds.toml")
    return rows


def load_citations(ids, problems, path=None):
    """{id: [entry, ...]} of citations.toml, every entry checked for completeness."""
    path = path or os.path.join(HERE, "citations.toml")
    out = {}
    for i, e in enumerate(load_toml(path, problems).get("cite", []), start=1):
        where = f"citations.toml: cite {i}"
        if not isinstance(e, dict):
            problems.append(f"{where}: not a table")
            continue
        where += f" ({e.get('id')})"
        bad = len(problems)
        if set(e) - CITE_KEYS:
            problems.append(f"{where}: unknown keys {sorted(set(e) - CITE_KEYS)}")
        if e.get("id") not in ids:
            problems.append(f"{where}: id names no row of reference-data/*.csv")
        if not isinstance(e.get("mechanism"), str) or not e["mechanism"]:
            problems.append(f"{where}: no mechanism")
        v = e.get("variants")
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
            problems.append(f"{where}: variants must list the variants that measure the row")
        if not isinstance(e.get("params"), dict):
            problems.append(f"{where}: params must be a table ({{}} for none)")
        si = e.get("stand_in")
        if si is not None and (not isinstance(si, str) or not si.strip()
                               or len(si.encode("utf-8")) > STAND_IN_MAX):
            problems.append(f"{where}: stand_in must be text of 1 to {STAND_IN_MAX} bytes (the case key's size)")
        if not isinstance(e.get("why"), str) or not e["why"].strip():
            problems.append(f"{where}: no why")
        if len(problems) == bad:
            out.setdefault(e["id"], []).append(e)
    return out


def expand_cases(suite):
    """The suite's cases as the harness expands them: [(block number, {key: value})], [defaults] applied
    and every list-valued key (but pmu) swept."""
    defaults = suite.get("defaults", {})
    out = []
    for n, block in enumerate(suite.get("case", []), start=1):
        if not isinstance(block, dict):
            continue
        merged = dict(defaults, **block)
        swept = [k for k, v in merged.items() if isinstance(v, list) and k not in NOT_SWEPT]
        for values in itertools.product(*(merged[k] for k in swept)):
            out.append((n, dict(merged, **dict(zip(swept, values)))))
    return out


def _text(v):
    """A TOML value as the harness's params show it (4096, true, nop)."""
    return str(v).lower() if isinstance(v, bool) else str(v)


def cite_mismatch(case, entry):
    """Why the case does not match the entry ("" when it does)."""
    if case.get("mechanism") != entry["mechanism"]:
        return f"mechanism {case.get('mechanism')!r}, not {entry['mechanism']!r}"
    if case.get("variant") not in entry["variants"]:
        return f"variant {case.get('variant')!r}, not one of {', '.join(entry['variants'])}"
    for k, want in entry["params"].items():
        if k not in case:
            return f"{k} not set (the row holds for {k} = {_text(want)})"
        if _text(case[k]) != _text(want):
            return f"{k} = {_text(case[k])}, the row holds for {k} = {_text(want)}"
    want, got = entry.get("stand_in"), case.get("stand_in") or None
    if want != got:
        if want is None:
            return f"stand_in {got!r}, but this entry is the paper's own mechanism"
        return f"stand_in must say {want!r}" + (f", not {got!r}" if got else "")
    return ""


def check_suite(path, ids, citations, problems):
    """The references of one suite; returns how many cases name one."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            suite = tomllib.load(f)
    except OSError as e:
        problems.append(f"{path}: {e.strerror}")
        return 0
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path}: not valid TOML: {e}")
        return 0
    n = 0
    for block, case in expand_cases(suite):
        ref = case.get("reference")
        if not ref:
            continue
        n += 1
        swept = " ".join(f"{k}={_text(v)}" for k, v in case.items()
                         if k in ("variant", "working_set_pages", "placement", "channel_bytes", "op"))
        where = f"{name}: case {block} ({case.get('name') or case.get('mechanism')} {swept})"
        if ref not in ids:
            problems.append(f"{where}: reference '{ref}' names no row of reference-data/*.csv")
            continue
        entries = citations.get(ref)
        if not entries:
            problems.append(f"{where}: reference '{ref}' has no [[cite]] entry in citations.toml")
            continue
        why = [cite_mismatch(case, e) for e in entries]
        if all(why):
            problems.append(f"{where}: may not cite '{ref}': " + "; or ".join(why))
    return n


def main(argv):
    problems = []
    ids = {}
    seeds = load_seeds(problems)
    files = sorted(glob.glob(os.path.join(HERE, "*.csv")))
    if not files:
        problems.append(f"{HERE}: no *.csv files")
    nrows = sum(check_csv(p, ids, problems, seeds) for p in files)
    citations = load_citations(ids, problems)
    nrefs = sum(check_suite(suite, ids, citations, problems) for suite in argv[1:])
    for p in problems:
        print(p)
    print(f"{nrows} rows in {len(files)} files, {sum(map(len, citations.values()))} citation rules, "
          f"{nrefs} citing cases in {len(argv) - 1} suites: " + (f"{len(problems)} problems" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
