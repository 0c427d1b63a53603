"""The data-file contract, plots/data_files.toml: what cases write into
DIR/data/CASE/ and how each file is drawn.

    import datafiles
    files = datafiles.load()                  # [entry, ...] as the TOML has them
    datafiles.contract_problems(files)        # [] when every entry is complete
    by_name = datafiles.by_name(files)
    datafiles.header_problem(path, by_name[name])       # None when the header is as declared
    datafiles.folder_problems(results_dir, files)       # a results folder against the contract

Used by plot.py (what to draw), the smoke test (harness/tests/check_run.py)
and plots/tests/test_data_files.py.
"""
import csv
import os
import re
import tomllib

# mechanism = "*", variants = ["*"]: a file the harness writes for cases of any mechanism (intervals.csv)
ANY = "*"

HERE = os.path.dirname(os.path.abspath(__file__))
CONTRACT = os.path.join(HERE, "data_files.toml")
SOURCE_ROOT = os.path.dirname(HERE)
SCRIPTS = ("timeseries", "shares", "none")
# what shares.gp reads, by name
SHARES_COLUMNS = ("app", "t_start_s", "measured_share", "target_share")
COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def load(path=CONTRACT):
    """The [[file]] entries; OSError or tomllib.TOMLDecodeError when the file is missing or not TOML."""
    with open(path, "rb") as f:
        return tomllib.load(f).get("file", [])


def by_name(files):
    return {e.get("name"): e for e in files}


def column_names(entry):
    return [c.get("name") for c in entry.get("columns", [])]


def _text(v):
    return isinstance(v, str) and v.strip() != ""


def _plot_problems(where, plot, columns):
    out = []
    script = plot.get("script")
    if script not in SCRIPTS:
        return [f"{where}: script {script!r} is not one of {', '.join(SCRIPTS)}"]
    if script == "timeseries":
        if plot.get("x") not in columns:
            out.append(f"{where}: x {plot.get('x')!r} is not a column")
        y = plot.get("y")
        if not isinstance(y, list) or not y:
            out.append(f"{where}: y must list the columns to draw")
        else:
            out += [f"{where}: y {c!r} is not a column" for c in y if c not in columns]
        out += [f"{where}: no {k}" for k in ("xlabel", "ylabel") if not _text(plot.get(k))]
    elif script == "shares":
        out += [f"{where}: shares.gp needs column {c!r}" for c in SHARES_COLUMNS if c not in columns]
    elif not _text(plot.get("reason")):
        out.append(f"{where}: script 'none' needs a reason")
    suffix = plot.get("suffix", "")
    if not isinstance(suffix, str) or not re.fullmatch(r"[-a-z0-9_]*", suffix):
        out.append(f"{where}: suffix {suffix!r} is not [-a-z0-9_]*")
    return out


def entry_problems(entry, source_root=SOURCE_ROOT):
    """What an entry lacks or gets wrong, as one line each."""
    name = entry.get("name")
    where = f"data_files.toml: {name!r}"
    out = []
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+\.csv", name):
        out.append(f"{where}: name must be a plain NAME.csv")
    for key in ("mechanism", "writer", "description"):
        if not _text(entry.get(key)):
            out.append(f"{where}: no {key}")
    variants = entry.get("variants")
    if not isinstance(variants, list) or not variants or not all(_text(v) for v in variants):
        out.append(f"{where}: variants must list the variants that write it")
    writer = entry.get("writer")
    if _text(writer):
        path = os.path.join(source_root, writer)
        if not os.path.isfile(path):
            out.append(f"{where}: writer {writer} does not exist")
        elif isinstance(name, str):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            # "NAME" or "%s/NAME": a string literal that ends with the name
            if not re.search(r'["/]' + re.escape(name) + '"', text):
                out.append(f"{where}: writer {writer} never names the file")
    columns = entry.get("columns")
    if not isinstance(columns, list) or not columns:
        out.append(f"{where}: no columns")
        columns = []
    seen = set()
    for i, c in enumerate(columns):
        cw = f"{where} column {i + 1}"
        if not isinstance(c, dict):
            out.append(f"{cw}: not a table")
            continue
        extra = set(c) - {"name", "unit", "help"}
        if extra:
            out.append(f"{cw}: unknown keys {sorted(extra)}")
        cname = c.get("name")
        if not isinstance(cname, str) or not COLUMN_NAME.match(cname):
            out.append(f"{cw}: name {cname!r} is not [a-z][a-z0-9_]*")
        elif cname in seen:
            out.append(f"{cw}: {cname} twice")
        seen.add(cname)
        if not isinstance(c.get("unit"), str):
            out.append(f"{cw}: no unit (\"\" for a count, an index or a label)")
        if not _text(c.get("help")):
            out.append(f"{cw}: no help")
    plots = entry.get("plots")
    if not isinstance(plots, list) or not plots:
        out.append(f"{where}: no plots (script = \"none\" with a reason for a file that is not drawn)")
        plots = []
    suffixes = [p.get("suffix", "") for p in plots if isinstance(p, dict)]
    if len(set(suffixes)) != len(suffixes):
        out.append(f"{where}: two plots with the same suffix")
    for i, p in enumerate(plots):
        if not isinstance(p, dict):
            out.append(f"{where} plot {i + 1}: not a table")
        else:
            out += _plot_problems(f"{where} plot {i + 1}", p, seen)
    known = {"name", "mechanism", "variants", "writer", "description", "columns", "plots"}
    if set(entry) - known:
        out.append(f"{where}: unknown keys {sorted(set(entry) - known)}")
    return out


def contract_problems(files, source_root=SOURCE_ROOT):
    if not files:
        return ["data_files.toml: no [[file]] entries"]
    out = []
    names = [e.get("name") for e in files]
    out += [f"data_files.toml: {n!r} declared twice" for n in sorted({n for n in names if names.count(n) > 1}, key=str)]
    for e in files:
        out += entry_problems(e, source_root)
    return out


def read_header(path):
    # bytes that are not UTF-8 show as U+FFFD: a header that does not match, not a traceback
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        return next(csv.reader(f), [])


def has_rows(path):
    """Whether the file holds a row below its header."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        next(reader, None)
        return any(row for row in reader)


def header_problem(path, entry):
    """None when the file's first line is exactly the declared columns, else what differs."""
    got, want = read_header(path), column_names(entry)
    if got == want:
        return None
    return f"{path}: header {','.join(got)!r}, the contract says {','.join(want)!r}"


def folder_problems(folder, files):
    """A results folder against the contract: (problems, files checked).

    Every DIR/data/CASE/NAME must be declared, written by a case of the
    declared mechanism and variant, with the declared header; every ok case
    of a declared mechanism and variant must have written its files.
    """
    with open(os.path.join(folder, "summary.csv"), newline="") as f:
        cases = {r["case"]: r for r in csv.DictReader(f)}
    contract = by_name(files)
    out, checked = [], 0
    data = os.path.join(folder, "data")
    written = set()
    for case in sorted(os.listdir(data)) if os.path.isdir(data) else []:
        row = cases.get(case)
        if row is None:
            out.append(f"data/{case}/: no such case in summary.csv")
            continue
        for name in sorted(os.listdir(os.path.join(data, case))):
            path = os.path.join(data, case, name)
            written.add((case, name))
            entry = contract.get(name)
            if entry is None:
                out.append(f"data/{case}/{name}: not declared in plots/data_files.toml")
                continue
            checked += 1
            if entry["mechanism"] == ANY:
                pass   # written by the harness itself, for any case of its kind
            elif row["mechanism"] != entry["mechanism"] or row["variant"] not in entry["variants"]:
                out.append(f"data/{case}/{name}: written by {row['mechanism']}/{row['variant']}, "
                           f"declared for {entry['mechanism']} {entry['variants']}")
            bad = header_problem(path, entry)
            if bad:
                out.append(bad)
    for case, row in sorted(cases.items()):
        if row["status"] != "ok":
            continue
        for e in files:
            if e["mechanism"] != ANY and row["mechanism"] == e["mechanism"] and row["variant"] in e["variants"] \
                    and (case, e["name"]) not in written:
                out.append(f"{case}: ok, but wrote no data/{case}/{e['name']}")
    return out, checked
