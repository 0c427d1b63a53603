"""HTML report of a results folder: self-contained (plots inline), one file.

Only formats what the harness and plot.py wrote (summary.csv, meta.json,
DIR/plots/*.png) and the papers' numbers (reference-data/*.csv); it computes
no statistics. Used by report.py.
"""
import base64
import csv
import glob
import html
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_DIR = os.path.join(HERE, "..", "reference-data")

SEEDS = [
    ("hijack", "Hijack: syscall interposition to a user-level executive (seed 000)"),
    ("uls", "ULS and SafeX: sandboxed extensions (seed 001)"),
    ("hijackcos", "Hijack^COS: a co-located OS (seed 002)"),
    ("vlibos", "vLibOS: calls into a library OS in a VM (seed 003)"),
    ("karma", "Karma: timer events in a VM (seed 004)"),
]

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
.warn { background: #fff4e0; border-left: 4px solid #f0a000; padding: .4em .8em; margin: .3em 0; }
.bad { color: #b00000; } .skip { color: #777; }
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


def load_references():
    rows = {}
    for path in sorted(glob.glob(os.path.join(REFERENCE_DIR, "*.csv"))):
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                rows[r["id"]] = r
    return rows


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


def seed_section(prefix, title, refs, rows_by_ref):
    mine = [r for i, r in refs.items() if i.split(".")[0] == prefix]
    out = [f'<section id="seed-{prefix}"><h2>{e(title)}</h2>']
    if not mine:
        return out[0] + "<p>No reference rows.</p></section>"
    measured = sum(1 for r in mine if r["id"] in rows_by_ref)
    out.append(f"<p>{len(mine)} numbers from the paper; {measured} measured in this run.</p>")
    out.append('<table><tr><th class="l">id</th><th class="l">experiment / metric</th><th>paper</th>'
               '<th class="l">paper machine</th><th class="l">case here</th><th>here</th><th>here / paper</th>'
               '<th>in time</th></tr>')
    for r in mine:
        paper = f"{r['value']} {r['unit']}" + (f" ({r['stddev']})" if r["stddev"] else "")
        machine = f"{r['cpu']}" + (f", {r['cpu_ghz']} GHz" if r["cpu_ghz"] else "")
        cases = rows_by_ref.get(r["id"], [])
        if not cases:
            # a paper's experimental setting (rate, period...) is context, not a result to measure
            what = "setting" if "setup parameter" in r["notes"].lower() else "not measured"
            out.append(f'<tr><td class="l">{e(r["id"])}</td><td class="l">{e(r["experiment"])} / {e(r["metric"])}'
                       f'</td><td>{e(paper)}</td><td class="l">{e(machine)}</td><td class="l skip">{what}'
                       f'</td><td></td><td></td><td></td></tr>')
        for c in cases:
            ok = c["status"] == "ok"
            stat = c.get("ref_stat") or "mean"
            here = f"{c[stat + '_ns'] if stat + '_ns' in c else c['mean_ns']} ns ({stat})" if ok else c["status"]
            out.append(f'<tr><td class="l">{e(r["id"])}</td><td class="l">{e(r["experiment"])} / {e(r["metric"])}'
                       f'</td><td>{e(paper)}</td><td class="l">{e(machine)}</td><td class="l">{e(c["case"])}</td>'
                       f'<td>{e(here)}</td><td>{e(c.get("ref_ratio", ""))}</td>'
                       f'<td>{e(c.get("ref_ratio_time", ""))}</td></tr>')
    out.append("</table></section>")
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
    refs = load_references()
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
    parts += [seed_section(prefix, title, refs, rows_by_ref) for prefix, title in SEEDS]
    parts += [cases_section(rows), plots_section(folder), "</body></html>"]
    path = os.path.join(folder, "report.html")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(parts))
    os.replace(path + ".tmp", path)
    return path
