"""The papers' figures from a results folder, as plots/figures.toml declares them.

    import figures
    figs, paper = figures.load()            # the [[figure]] entries and the [paper] table
    figures.figure_problems(figs)           # [] when every entry is complete
    got = figures.figure_table(folder, rows, fig)     # None, or (header, rows, log_y) to draw
    figures.paper_tables(rows, refdir, paper)         # this machine beside each paper, per paper and unit
    figures.draw(folder, rows, out_dir, common, made, gnuplot, refdir)   # all of them; used by plot.py
    figures.per_case_plots(folder, rows, fig)         # a series/shares figure: [(case, data file, title)]

Each figure's numbers are written beside it (DIR/plots/NAME.csv) and drawn
by curves.gp or bars.gp, which read only that file. A "series" or "shares"
figure is drawn once per case (DIR/plots/NAME-CASE) from the case's own data
file, by timeseries.gp or shares.gp. A figure none of whose
cases is in the folder (or ok) is not drawn.
"""
import csv
import fnmatch
import glob
import math
import os
import re
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
FIGURES = os.path.join(HERE, "figures.toml")
KINDS = {"curves": "curves.gp", "bars": "bars.gp", "series": "timeseries.gp", "shares": "shares.gp", "tails": "cdf.gp"}
AXES = {"curves": {"category", "logx", "logy", "autology"}, "bars": {"logy", "zero"}, "series": set(), "shares": set(),
        "tails": set()}
# drawn once per matching case from its data file (DIR/data/CASE/FILE), not from summary.csv
PER_CASE = {"series", "shares"}
REQUIRED = ("name", "title", "kind", "mechanism", "variants", "x", "y", "xlabel", "ylabel")
KNOWN = set(REQUIRED) | {"labels", "where", "y_scale", "y_data", "series_load", "paper_line", "paper_unit", "axes",
                         "file"}
# kind "tails": the latency tails (1 - CDF, cdf.gp) of the cases named, from their hist/CASE.csv,
# one series each in the order of `cases` (fnmatch patterns over case names), labelled by `labels`
TAILS_REQUIRED = ("name", "title", "kind", "cases")
TAILS_KNOWN = set(TAILS_REQUIRED) | {"labels"}
# log y when the values span more than this (axes = "autology")
AUTOLOG_SPAN = 30.0
PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\S*)")


def load(path=FIGURES):
    """([figure, ...], {paper table}); OSError or tomllib.TOMLDecodeError when unreadable."""
    with open(path, "rb") as f:
        d = tomllib.load(f)
    return d.get("figure", []), d.get("paper", {})


def figure_problems(figs):
    """What the entries lack or get wrong, one line each."""
    out, names = [], set()
    for i, f in enumerate(figs):
        where = f"figures.toml: figure {i + 1} ({f.get('name')})"
        tails = f.get("kind") == "tails"
        out += [f"{where}: no {k}" for k in (TAILS_REQUIRED if tails else REQUIRED) if k not in f]
        if set(f) - (TAILS_KNOWN if tails else KNOWN):
            out.append(f"{where}: unknown keys {sorted(set(f) - (TAILS_KNOWN if tails else KNOWN))}")
        if tails and not (isinstance(f.get("cases"), list) and f.get("cases")):
            out.append(f"{where}: a tails figure's cases list the case names (patterns) to draw")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", str(f.get("name", ""))):
            out.append(f"{where}: name is not [a-z0-9-]")
        if f.get("name") in names:
            out.append(f"{where}: name used twice")
        names.add(f.get("name"))
        if f.get("kind") not in KINDS:
            out.append(f"{where}: kind {f.get('kind')!r} is not one of {', '.join(KINDS)}")
        else:
            bad = set(str(f.get("axes", "")).split()) - AXES[f["kind"]]
            if bad:
                out.append(f"{where}: axes {sorted(bad)} not for {f['kind']}")
        if not tails and (not isinstance(f.get("variants"), list) or not f.get("variants")):
            out.append(f"{where}: variants must list the series")
        if (f.get("kind") in PER_CASE) != ("file" in f):
            out.append(f"{where}: file (a case's data file) goes with kind series or shares, and only with them")
        if f.get("kind") == "series" and not (isinstance(f.get("y"), list) and f.get("y")):
            out.append(f"{where}: a series figure's y lists the file's columns to draw")
        yd = f.get("y_data")
        if (f.get("y") == "slowdown_pct") != (yd is not None):
            out.append(f"{where}: y = \"slowdown_pct\" goes with y_data, and only with it")
        if yd is not None and (not isinstance(yd, dict) or set(yd) != {"file", "column", "baseline"}):
            out.append(f"{where}: y_data needs exactly file, column and baseline")
        if ("paper_line" in f) != ("paper_unit" in f):
            out.append(f"{where}: paper_line and paper_unit go together")
        if not re.search(r"Figure|Fig\.|slide|[Tt]able", str(f.get("title", ""))):
            out.append(f"{where}: the title names no figure, slide or table of a paper")
    return out


def params(row):
    """summary.csv's params column (`key=value ...`) as a dict."""
    return dict(PARAM.findall(row.get("params") or ""))


def series_key(row, fig):
    load_name = (row.get("load") or "none").split()[0]
    if fig.get("series_load") and load_name != "none":
        return f"{row['variant']}+{load_name}"
    return row["variant"]


def _matches(row, fig):
    if row.get("status") != "ok" or row.get("mechanism") != fig["mechanism"]:
        return False
    if not any(fnmatch.fnmatchcase(row.get("variant", ""), v) for v in fig["variants"]):
        return False
    p = params(row)
    if fig["x"] not in p:
        return False
    return all(p.get(k) == (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in fig.get("where", {}).items())


def _number(text):
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def data_mean(folder, row, file, column):
    """Mean of a column of DIR/data/CASE/FILE over the rows after the case's warm-up, or None."""
    path = os.path.join(folder, "data", row["case"], file)
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None
    skip = int(_number(row.get("warmup_discarded")) or 0)
    values = [v for v in (_number(r.get(column)) for r in rows[skip:]) if v is not None]
    return sum(values) / len(values) if values else None


def _x_order(values):
    nums = [_number(v) for v in values]
    if all(n is not None for n in nums):
        return [v for _, v in sorted(zip(nums, values))]
    return sorted(values)


def _clean(text):
    # a CSV cell gnuplot reads back as one column header or label
    return str(text).replace(",", ";").replace('"', "'").replace("\n", " ")


def figure_table(folder, rows, fig):
    """(header, rows, log_y): the figure's numbers, x then one column per series, and whether y is drawn on a
    log scale (cells <= 0 are then left empty); None when nothing is to be drawn."""
    points = {}   # (series, x) -> y
    for r in rows:
        if not _matches(r, fig):
            continue
        x = params(r)[fig["x"]]
        if "y_data" in fig:
            y = data_mean(folder, r, fig["y_data"]["file"], fig["y_data"]["column"])
        else:
            y = _number(r.get(fig["y"]))
        if y is not None:
            points[(series_key(r, fig), x)] = y * float(fig.get("y_scale", 1.0))
    if "y_data" in fig:
        base = fig["y_data"]["baseline"]
        # progress lost against the baseline at the same x, in percent
        points = {(s, x): 100.0 * (1.0 - y / points[(base, x)]) for (s, x), y in points.items()
                  if points.get((base, x))}
    if not points:
        return None
    labels = fig.get("labels", {})
    present = {s for s, _ in points}
    series = [s for s in labels if s in present] + sorted(present - set(labels))
    xs = _x_order({x for _, x in points})
    axes = str(fig.get("axes", "")).split()
    log_y = "logy" in axes or ("autology" in axes and _spans(points.values()))
    extra = []
    ref = fig.get("paper_line")
    if ref:
        cited = [r for r in rows if r.get("reference") == ref and r.get("ref_unit") == fig.get("paper_unit")
                 and _number(r.get("ref_value"))]
        if cited:
            extra = [(f"the paper: {cited[0]['ref_value']} {cited[0]['ref_unit']} (one size)",
                      _number(cited[0]["ref_value"]))]
    header = [fig["x"]] + [_clean(labels.get(s, s)) for s in series] + [_clean(t) for t, _ in extra]
    table = []
    for x in xs:
        cells = [_clean(x)]
        cells += [_bar_value(points.get((s, x)), log_y) for s in series]
        cells += [_bar_value(v, log_y) for _, v in extra]
        table.append(cells)
    return header, table, log_y


def _spans(values, span=AUTOLOG_SPAN):
    pos = [v for v in values if v > 0]
    return bool(pos) and max(pos) / min(pos) > span


def _bar_value(v, log_y):
    """A bar's cell, also its label: 4 significant digits, whole numbers without an exponent (20000, not
    2e+04); empty where a log axis cannot show it."""
    if v is None or (log_y and v <= 0):
        return ""
    text = f"{v:.4g}"
    return f"{v:.0f}" if "e+" in text and abs(v) < 1e12 else text


def write_table(path, header, table):
    with open(path + ".tmp", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(table)
    os.replace(path + ".tmp", path)


def reference_sources(refdir):
    """{id: where in the paper (e.g. "Table 2")} from the reference CSV files."""
    out = {}
    for path in sorted(glob.glob(os.path.join(refdir, "*.csv"))):
        try:
            with open(path, newline="", encoding="utf-8") as f:
                for r in csv.DictReader(f):
                    src = (r.get("source") or "").strip()
                    out[r.get("id")] = re.sub(r"^\d{3}_[0-9a-f]+\.txt\s*", "", src)
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
    return out


def paper_tables(rows, refdir, paper):
    """[(file stem, title, header, rows, log_y)]: per paper and unit, each case that stands beside a paper number,
    the paper's value and this machine's, in the paper's unit."""
    names = paper.get("names", {})
    groups = {}
    for r in rows:
        here, value = _number(r.get("ref_here")), _number(r.get("ref_value"))
        if r.get("status") != "ok" or not r.get("reference") or here is None or value is None:
            continue
        groups.setdefault((r["reference"].split(".")[0], r["ref_unit"]), []).append((r, value, here))
    sources = reference_sources(refdir)
    out = []
    for (key, unit), items in sorted(groups.items()):
        where = []
        for r, _, _ in items:
            s = sources.get(r["reference"], "")
            if s and s not in where:
                where.append(s)
        stand_ins = any(r.get("stand_in") for r, _, _ in items)
        title = (f"{names.get(key, key)}, {'; '.join(where)}:\nthis machine beside the paper, in the paper's unit ({unit})"
                 + ("; [stand-in]: not the paper's mechanism (summary.csv stand_in)" if stand_ins else ""))
        log_y = _spans([v for _, a, b in items for v in (a, b)], float(paper.get("log_span", AUTOLOG_SPAN)))
        header = ["case", f"the paper ({unit})", f"this machine ({unit})"]
        table = [[_clean(r["case"] + (" [stand-in]" if r.get("stand_in") else "")),
                  _bar_value(a, log_y), _bar_value(b, log_y)] for r, a, b in items]
        unit_stem = re.sub(r"[^a-z0-9]+", "", unit.lower()) or "unit"
        out.append((f"paper-{key}-{unit_stem}", title, header, table, log_y))
    return out


def per_case_plots(folder, rows, fig):
    """[(case, data file path, title)] of a series or shares figure: every ok case of its mechanism and variants
    whose data file has a row, in summary.csv's order."""
    out = []
    for r in rows:
        if r.get("status") != "ok" or r.get("mechanism") != fig["mechanism"]:
            continue
        if not any(fnmatch.fnmatchcase(r.get("variant", ""), v) for v in fig["variants"]):
            continue
        p = params(r)
        if not all(p.get(k) == (str(v).lower() if isinstance(v, bool) else str(v))
                   for k, v in fig.get("where", {}).items()):
            continue
        path = os.path.join(folder, "data", r["case"], fig["file"])
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if sum(1 for line in f if line.strip()) < 2:
                    continue
        except OSError:
            continue
        label = fig.get("labels", {}).get(r["variant"], r["variant"])
        out.append((r["case"], path, f"{fig['title']}\n{_clean(label)} (case {r['case']})"))
    return out


def tails_cases(folder, rows, fig):
    """[(case, label)] of a tails figure: ok cases with a histogram file, in the order of its patterns."""
    out = []
    for pat in fig["cases"]:
        for r in rows:
            c = r.get("case", "")
            if (r.get("status") == "ok" and fnmatch.fnmatchcase(c, pat) and c not in [o for o, _ in out]
                    and os.path.isfile(os.path.join(folder, "hist", c + ".csv"))):
                out.append((c, _clean(fig.get("labels", {}).get(c, c)).replace('"', "'")))
    return out


def _draw_tails(rows, folder, out_dir, common, made, gnuplot, fig):
    cases = tails_cases(folder, rows, fig)
    if not cases:
        return True
    out = os.path.join(out_dir, fig["name"])
    made.append(out)
    return gnuplot(KINDS["tails"], dict(common, histdir=os.path.join(folder, "hist") + "/", out=out,
                                        cases=" ".join(c for c, _ in cases),
                                        titles=" ".join(f'"{t}"' for _, t in cases), title=fig["title"]))


def _draw_per_case(rows, folder, out_dir, common, made, gnuplot, fig):
    ok = True
    for case, path, title in per_case_plots(folder, rows, fig):
        out = os.path.join(out_dir, f"{fig['name']}-{case}")
        args = dict(common, file=path, out=out, title=title, xlabel=fig["xlabel"], ylabel=fig["ylabel"])
        if fig["kind"] == "series":
            args.update(xcol=fig["x"], ycols=" ".join(fig["y"]))
        else:
            args.update(othercol="taken_share")
        ok &= gnuplot(KINDS[fig["kind"]], args)
        made.append(out)
    return ok


def draw(folder, rows, out_dir, common, made, gnuplot, refdir):
    """Every declared figure with cases in the folder, and the paper charts; False when gnuplot failed."""
    figs, paper = load()
    ok = True
    for fig in figs:
        if fig["kind"] == "tails":
            ok &= _draw_tails(rows, folder, out_dir, common, made, gnuplot, fig)
            continue
        if fig["kind"] in PER_CASE:
            ok &= _draw_per_case(rows, folder, out_dir, common, made, gnuplot, fig)
            continue
        got = figure_table(folder, rows, fig)
        if got is None:
            continue
        header, table, log_y = got
        out = os.path.join(out_dir, fig["name"])
        write_table(out + ".csv", header, table)
        axes = [a for a in str(fig.get("axes", "")).split() if a not in ("autology", "logy")]
        if log_y:
            axes.append("logy")
        ok &= gnuplot(KINDS[fig["kind"]], dict(common, file=out + ".csv", out=out, title=fig["title"],
                                               xlabel=fig["xlabel"], ylabel=fig["ylabel"], axes=" ".join(axes)))
        made.append(out)
    for stem, title, header, table, log_y in paper_tables(rows, refdir, paper):
        out = os.path.join(out_dir, stem)
        write_table(out + ".csv", header, table)
        ok &= gnuplot("bars.gp", dict(common, file=out + ".csv", out=out, title=title, xlabel="",
                                      ylabel=header[1].replace("the paper ", "in the paper's unit "),
                                      axes="rotate" + (" logy" if log_y else "")))
        made.append(out)
    return ok
