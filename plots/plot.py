#!/usr/bin/env python3
"""Draw every plot of a results folder with gnuplot.

usage: plots/plot.py DIR [--formats "png svg pdf"]

Per mechanism: the latency histograms of its ok cases overlaid (hist.gp) and
their tails (cdf.gp), at most 8 series a plot; the files cases wrote into
DIR/data/CASE/, each as its entry in plots/data_files.toml says (timeseries.gp:
e.g. packets or gaps per task per interval; shares.gp: CPU shares against
targets; a file not declared there is not drawn); the papers' figures that
plots/figures.toml declares, from summary.csv and the cases' data files
(curves.gp: e.g. cost vs working set per transport; bars.gp: vLibOS Figure
6), each drawn only when its cases are in DIR; and, when cases name paper
references, this machine beside each paper number in the paper's unit
(bars.gp, one chart per paper and unit).
Rows that ran under qemu's TCG (summary.csv placement) add "[tcg: emulated,
not a latency...]" to every title: the axes say latency, the times are the
emulator's.
Output: DIR/plots/ (a figure's numbers beside it, NAME.csv).
The scripts read only CSV files: the harness's, or the ones plot.py wrote.
"""
import csv
import os
import shutil
import sys

import tomllib

import datafiles
import figures
import gbresults as gb
from report_html import reference_dir

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SERIES = 8


class BadInput(Exception):
    """A results folder plot.py cannot read: one line, exit 2."""


# Appended to every plot's title when the rows ran under qemu's TCG (summary.csv placement): the
# axes say latency, the numbers are the emulator's.
EMULATED_NOTE = "\n[tcg: emulated, not a latency: every time here is qemu's emulator's]"
title_note = ""


def gnuplot(script, variables):
    """Run one script with named variables, passed as data (gbresults.gnuplot), never as code."""
    if title_note and "title" in variables:
        variables = dict(variables, title=variables["title"] + title_note)
    p = gb.gnuplot(os.path.join(HERE, script), variables)
    if p.returncode != 0 or p.stderr.strip():
        print(f"plot.py: {script}: {p.stderr.strip()}", file=sys.stderr)
    return p.returncode == 0


def draw_data_files(folder, rows, out_dir, common, made):
    """Each DIR/data/CASE/NAME by its contract entry; a file not declared, or not as declared, is refused."""
    contract = datafiles.by_name(datafiles.load())
    ok = True
    for r in rows:
        data_dir = os.path.join(folder, "data", r["case"])
        if not os.path.isdir(data_dir):
            continue
        for name in sorted(os.listdir(data_dir)):
            path = os.path.join(data_dir, name)
            entry = contract.get(name)
            if entry is None:
                print(f"plot.py: {path}: not declared in plots/data_files.toml: not drawn", file=sys.stderr)
                ok = False
                continue
            bad = datafiles.header_problem(path, entry)
            if bad:
                print(f"plot.py: {bad}: not drawn", file=sys.stderr)
                ok = False
                continue
            stem = name[:-4] if name.endswith(".csv") else name
            if not datafiles.has_rows(path):
                # e.g. a run shorter than one window: gnuplot would fail on it
                print(f"plot.py: {path}: a header and no rows: nothing to draw")
                continue
            for plot in entry["plots"]:
                out = os.path.join(out_dir, f"{r['case']}-{stem}{plot.get('suffix', '')}")
                if plot["script"] == "timeseries":
                    ok &= gnuplot("timeseries.gp", dict(common, file=path, out=out, title=f"{r['case']}: {stem}",
                                                        xcol=plot["x"], ycols=" ".join(plot["y"]),
                                                        xlabel=plot["xlabel"], ylabel=plot["ylabel"]))
                elif plot["script"] == "shares":
                    ok &= gnuplot("shares.gp", dict(common, file=path, out=out, title=f"{r['case']}: CPU shares"))
                else:
                    continue
                made.append(out)
    return ok


def read_inputs(folder):
    """summary.csv's rows and the plots folder, or BadInput saying what is wrong."""
    path = os.path.join(folder, "summary.csv")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            cols = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as e:
        raise BadInput(f"{path}: not a gapbench summary ({e})") from e
    missing = [c for c in ("case", "mechanism", "variant", "status") if c not in cols]
    if missing:
        raise BadInput(f"{path}: not a gapbench summary (no {', '.join(missing)} column)")
    for r in rows:
        if None in r or any(v is None for v in r.values()):
            raise BadInput(f"{path}: row {r.get('case')!r} does not match the header")
        if not r["case"] or "/" in r["case"] or r["case"] in (".", ".."):
            raise BadInput(f"{path}: {r['case']!r} is not a case name")
    out_dir = os.path.join(folder, "plots")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise BadInput(f"{out_dir}: exists and is not a folder")
    os.makedirs(out_dir, exist_ok=True)
    return rows, out_dir


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if args else 2)
    folder = args[0]
    formats = args[args.index("--formats") + 1] if "--formats" in args else "png svg"
    if not shutil.which("gnuplot"):
        print("plot.py: gnuplot is not installed (Debian package gnuplot-nox)", file=sys.stderr)
        sys.exit(2)
    try:
        rows, out_dir = read_inputs(folder)
    except (BadInput, OSError) as e:
        print(f"plot.py: {e}", file=sys.stderr)
        sys.exit(2)
    global title_note
    title_note = EMULATED_NOTE if any("tcg" in (r.get("placement") or "") for r in rows) else ""
    by_mech = {}
    for r in rows:
        hist = os.path.join(folder, "hist", r["case"] + ".csv")
        if r["status"] == "ok" and os.path.exists(hist):
            by_mech.setdefault(r["mechanism"], []).append((r["case"], hist))
    made, ok = [], True
    common = {"dir": HERE + "/", "formats": formats}
    for mech, cases in sorted(by_mech.items()):
        for part in range(0, len(cases), MAX_SERIES):
            chunk = cases[part:part + MAX_SERIES]
            suffix = f"-{part // MAX_SERIES + 1}" if len(cases) > MAX_SERIES else ""
            # case names hold no spaces (the harness keeps [A-Za-z0-9._=-]); the folder may
            names = " ".join(c for c, _ in chunk)
            for script, kind, what in (("hist.gp", "hist", "latency histogram"), ("cdf.gp", "tail", "latency tail")):
                out = os.path.join(out_dir, f"{kind}-{mech}{suffix}")
                ok &= gnuplot(script, dict(common, histdir=os.path.join(folder, "hist") + "/", cases=names, out=out,
                                           title=f"{mech}: {what}"))
                made.append(out)
    # cases' own files, drawn as plots/data_files.toml says (never guessed from a header)
    ok &= draw_data_files(folder, rows, out_dir, common, made)
    # the papers' figures (plots/figures.toml) and this machine beside each paper's numbers
    try:
        ok &= figures.draw(folder, rows, out_dir, common, made, gnuplot, reference_dir())
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"plot.py: plots/figures.toml: {e}", file=sys.stderr)
        ok = False
    print(f"{len(made)} plots ({formats}) in {out_dir}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
