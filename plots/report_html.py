"""HTML report of a results folder: self-contained (plots inline), one file.

Only formats what the harness and plot.py wrote (summary.csv, meta.json,
DIR/plots/*.png) and the papers' numbers (reference-data/*.csv, or
$GAPBENCH_REFERENCE_DIR/*.csv as for the harness: one section per file); it
computes no statistics, and shows the harness's comparison with each paper
(ref_here, ref_ratio, ref_ratio_time) as written. Used by report.py.
"""
import base64
import csv
import glob
import html
import os
import re
import gbresults as gb

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_DIR = os.path.join(HERE, "..", "reference-data")


def reference_dir():
    """The papers' CSV files: $GAPBENCH_REFERENCE_DIR, as for the harness, else the source tree's."""
    return os.environ.get("GAPBENCH_REFERENCE_DIR") or REFERENCE_DIR


STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
.warn { background: #fff4e0; border-left: 4px solid #f0a000; padding: .4em .8em; margin: .3em 0; }
.bad { color: #b00000; } .skip { color: #777; } .stand-in { color: #8a5a00; font-style: italic; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
"""

# After load, record how many images decoded: a headless browser test reads it.
CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-images-rendered', ok);
});
"""


def e(text):
    return html.escape(str(text))


def readme_table(folder):
    """{CSV file name: (seed cell, what is in it)} from the file table of the folder's README.md, if any."""
    table = {}
    try:
        with open(os.path.join(folder, "README.md"), encoding="utf-8") as f:
            lines = f.readlines()
    except OSError:
        return table
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[0].endswith(".csv`"):
            table[cells[0].strip("`")] = (cells[1], cells[2])
    return table


def load_papers(folder):
    """One paper per CSV file of the reference folder, in seed order: a dict with its section id, title,
    what is in it and its rows. A new file is a new section; its README.md row, where it has one,
    names it (e.g. "002 Hijack^COS"), else the file and the seed of its source column do."""
    readme = readme_table(folder)
    papers = []
    for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
        name = os.path.basename(path)
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        prefixes = {r["id"].split(".")[0] for r in rows}
        key = prefixes.pop() if len(prefixes) == 1 else re.sub(r"[^a-z0-9]", "", name[:-4].lower())
        seeds = sorted({m.group(1) for r in rows for m in [re.match(r"(\d+)_", r.get("source") or "")] if m})
        seed_cell, about = readme.get(name, ("", ""))
        m = re.match(r"(\d+)\s+(.*)", seed_cell)
        number, title = (m.group(1), m.group(2)) if m else (seeds[0] if seeds else "", seed_cell or name)
        papers.append({"key": key, "seed": number, "file": name, "about": about, "rows": rows,
                       "title": f"Seed {number}: {title}" if number else title})
    papers.sort(key=lambda p: (p["seed"] or "~", p["file"]))
    seen = set()
    for p in papers:   # section ids stay unique when two files share an id prefix
        if p["key"] in seen:
            p["key"] += "-" + re.sub(r"[^a-z0-9]", "", p["file"][:-4].lower())
        seen.add(p["key"])
    return papers


def machine_section(meta, warnings):
    p = meta.get("platform", {})
    cpu, tsc, kern, build = p.get("cpu", {}), p.get("tsc", {}), p.get("kernel", {}), p.get("build", {})
    items = [
        ("CPU", f"{cpu.get('model', '?')} ({cpu.get('online', '?')} CPUs, microcode {cpu.get('microcode', '?')}, "
                f"SMT {cpu.get('smt_active', '?')}, isolated: {cpu.get('isolated', '') or 'none'})"),
        ("TSC", f"{tsc.get('tsc_khz', 0) / 1000:.3f} MHz from {tsc.get('source', '?')}, "
                f"{tsc.get('deviation_from_monotonic_raw_ppm', 0):+.0f} ppm vs CLOCK_MONOTONIC_RAW, invariant: "
                f"{tsc.get('invariant_cpuid')}, probe overhead {tsc.get('probe_overhead', {}).get('min_cycles', '?')} "
                f"cycles"),
        ("kernel", f"{kern.get('release', '?')} {kern.get('version', '')}"),
        ("cmdline", kern.get("cmdline", "?")),
        ("clocksource", kern.get("clocksource", "?")),
        ("hypervisor", f"{p.get('hypervisor', {}).get('cpuid_vendor', '?')} "
                       f"({p.get('hypervisor', {}).get('dmi_product', '')})"),
        ("gapbench", f"{build.get('version', '?')} ({build.get('git_revision', '?')}), {build.get('buildtype', '?')}, "
                     f"sanitize={build.get('sanitize', '?')}"),
        ("suite", f"{meta.get('suite', {}).get('path', '?')} (sha256 {meta.get('suite', {}).get('sha256', '?')[:16]}...)"),
    ]
    out = ['<section id="machine"><h2>Machine and environment</h2>']
    out += [f'<div class="warn">warning: {e(w)}</div>' for w in warnings]
    out.append("<table>" + "".join(f'<tr><th class="l">{e(k)}</th><td class="l">{e(v)}</td></tr>'
                                   for k, v in items) + "</table></section>")
    return "\n".join(out)


def here_cell(c):
    """This machine's number beside the paper's: the harness's ref_here, in the paper's unit, as written."""
    if c["status"] != "ok":
        return c["status"]
    if "tcg" in c.get("placement", ""):
        return "not compared: tcg: emulated, not a latency"
    stat = c.get("ref_stat") or "mean"
    if c.get("ref_here"):
        return f"{c['ref_here']} {c['ref_unit']} ({stat})"
    # a unit that is not a latency (count, ratio): the statistic itself, in ns
    return f"{c[stat + '_ns'] if stat + '_ns' in c else c['mean_ns']} ns ({stat})"


def section_notes(meta, paper, rows_by_ref):
    """The `section_note` facts of this run's cases that cite one of the paper's rows (e.g. vLibOS's
    VM exit + entry over the KVM floor) or name the paper's section key in their `section_paper`
    fact (e.g. Figure 6's rows, which cite no single number), as (case, note)."""
    cases = [c["case"] for r in paper["rows"] for c in rows_by_ref.get(r["id"], [])]
    cases += [c["case"] for c in meta.get("cases", [])
              if gb.fact(c, "section_paper") == paper["key"] and c.get("case") not in cases]
    notes = []
    for case in cases:
        note = gb.fact(gb.meta_case(meta, case), "section_note")
        if note and (case, note) not in notes:
            notes.append((case, note))
    return notes


def seed_section(paper, rows_by_ref, notes=()):
    mine = paper["rows"]
    out = [f'<section id="seed-{e(paper["key"])}"><h2>{e(paper["title"])}</h2>']
    if paper["about"]:
        out.append(f'<p>{e(paper["about"])} (<code>{e(paper["file"])}</code>)</p>')
    if not mine:
        return "\n".join(out) + "<p>No reference rows.</p></section>"
    measured = sum(1 for r in mine if r["id"] in rows_by_ref)
    out.append(f"<p>{len(mine)} numbers from the paper; {measured} measured in this run.</p>")
    out.append('<table><tr><th class="l">id</th><th class="l">experiment / metric</th><th>paper</th>'
               '<th class="l">paper machine</th><th class="l">case here</th><th>here</th><th>here / paper</th>'
               '<th>in time</th><th class="l">stand-in (not the paper\'s mechanism)</th></tr>')
    for r in mine:
        paper_cell = f"{r['value']} {r['unit']}" + (f" ({r['stddev']})" if r["stddev"] else "")
        machine = f"{r['cpu']}" + (f", {r['cpu_ghz']} GHz" if r["cpu_ghz"] else "")
        cases = rows_by_ref.get(r["id"], [])
        if not cases:
            # a paper's experimental setting (rate, period...) is context, not a result to measure
            what = "setting" if "setup parameter" in r["notes"].lower() else "not measured"
            out.append(f'<tr><td class="l">{e(r["id"])}</td><td class="l">{e(r["experiment"])} / {e(r["metric"])}'
                       f'</td><td>{e(paper_cell)}</td><td class="l">{e(machine)}</td><td class="l skip">{what}'
                       f'</td><td></td><td></td><td></td><td></td></tr>')
        for c in cases:
            out.append(f'<tr><td class="l">{e(r["id"])}</td><td class="l">{e(r["experiment"])} / {e(r["metric"])}'
                       f'</td><td>{e(paper_cell)}</td><td class="l">{e(machine)}</td><td class="l">{e(c["case"])}</td>'
                       f'<td class="here">{e(here_cell(c))}</td><td class="ratio">{e(c.get("ref_ratio", ""))}</td>'
                       f'<td>{e(c.get("ref_ratio_time", ""))}</td>'
                       f'<td class="l stand-in">{e(c.get("stand_in") or "")}</td></tr>')
    out.append("</table>")
    out += [f'<p class="note"><code>{e(case)}</code>: {e(note)}</p>' for case, note in notes]
    out.append("</section>")
    return "\n".join(out)


def cases_section(rows):
    out = ['<section id="cases"><h2>Every case</h2><table><tr><th class="l">case</th><th class="l">status</th>'
           '<th>n</th><th>min ns</th><th>p50 ns</th><th>p99 ns</th><th>p99.9 ns</th><th>max ns</th><th>mean ns</th>'
           '<th>stddev ns</th><th>p50 cycles</th><th>missed</th><th class="l">load</th><th class="l">params</th></tr>']
    for r in rows:
        st = r["status"]
        cls = "" if st == "ok" else (" skip" if st.startswith("skip") else " bad")
        cells = [r[k] for k in ("samples", "min_ns", "p50_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns",
                                "stddev_ns", "p50_cycles", "missed_periods")]
        out.append(f'<tr><td class="l">{e(r["case"])}</td><td class="l{cls}">{e(st)}</td>'
                   + "".join(f"<td>{e(c)}</td>" for c in cells)
                   + f'<td class="l">{e(r["load"])}</td><td class="l">{e(r["params"])}</td></tr>')
    out.append("</table></section>")
    return "\n".join(out)


def plots_section(folder):
    pngs = sorted(glob.glob(os.path.join(folder, "plots", "*.png")))
    out = ['<section id="plots"><h2>Plots</h2>']
    if not pngs:
        out.append("<p>No plots: run <code>harness plot DIR</code> (gnuplot) first.</p>")
    for path in pngs:
        with open(path, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        name = os.path.basename(path)
        out.append(f'<figure><img alt="{e(name)}" src="data:image/png;base64,{data}">'
                   f"<figcaption>{e(name)}</figcaption></figure>")
    out.append("</section>")
    return "\n".join(out)


def write(folder, meta, rows, warnings):
    papers = load_papers(reference_dir())
    rows_by_ref = {}
    for r in rows:
        if r.get("reference"):
            rows_by_ref.setdefault(r["reference"], []).append(r)
    suite = meta.get("suite", {})
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>gapbench: {e(suite.get('name', '?'))}"
             f"</title><style>{STYLE}</style><script>{CHECK_SCRIPT}</script></head><body>",
             f"<h1>gapbench results: suite {e(suite.get('name', '?'))}</h1>",
             f"<p>{e(suite.get('description', ''))}. {len(rows)} cases, run "
             f"{e(meta.get('run', {}).get('started', '?'))} to {e(meta.get('run', {}).get('finished', '?'))}.</p>",
             machine_section(meta, warnings)]
    parts += [seed_section(paper, rows_by_ref, section_notes(meta, paper, rows_by_ref)) for paper in papers]
    parts += [cases_section(rows), plots_section(folder), "</body></html>"]
    path = os.path.join(folder, "report.html")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(parts))
    os.replace(path + ".tmp", path)
    return path
