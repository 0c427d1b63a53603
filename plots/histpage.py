"""The fleet's trend page: one static HTML file, charts inline as SVG, nothing fetched from anywhere.

`harness history page OUT.html` writes it: the fleet table (latest night per
machine, verdict against its own baseline), then for each case one chart per
machine class, a line per machine over time, each change point marked with
the git revision where the series moved. A lab publishes the file as it is.
A small inline script counts the charts the browser laid out (data-charts,
data-charts-rendered on <body>), which the headless-Chromium test reads.
"""
import datetime
import html

import histfleet

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 240, 70, 20, 20, 40
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")

CSS = """body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;font-size:90%}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}th{background:#eee}
.bad{color:#b00;font-weight:bold}.good{color:#060}svg.trend{border:1px solid #ddd;background:#fff}
.step{stroke:#b00;stroke-dasharray:4 3}.steplabel{fill:#b00;font-size:11px}.axis{font-size:11px;fill:#444}
h2{margin-top:1.6em}h3{font-size:100%;margin:.8em 0 .3em}"""

SCRIPT = """window.addEventListener('load', function () {
  var charts = document.querySelectorAll('svg.trend'), ok = 0;
  charts.forEach(function (s) { var b = s.getBoundingClientRect();
    if (b.width > 100 && b.height > 50 && s.querySelectorAll('polyline, circle').length > 0) ok++; });
  document.body.setAttribute('data-charts', charts.length);
  document.body.setAttribute('data-charts-rendered', ok);
});"""


def _t(started):
    try:
        return datetime.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except (TypeError, ValueError):
        return None


def chart(entry, stat):
    """An inline SVG of one class: a polyline per machine, a dashed line at each step with its revision."""
    e = html.escape
    machines = entry["machines"]
    pts = [p for m in machines for p in m["points"]]
    times = [_t(p[1]) for p in pts]
    use_time = all(t is not None for t in times) and len(set(times)) > 1
    order = {p[0]: i for i, p in enumerate(sorted(pts, key=lambda p: (p[1], p[0])))}

    def xval(p):
        return _t(p[1]) if use_time else order[p[0]]
    xs, ys = [xval(p) for p in pts], [p[3] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    span = max(y1 - y0, 0.1 * max(abs(y0), abs(y1)), 1.0)   # at least 10%: 1% noise should look flat
    mid = (y0 + y1) / 2
    y0, y1 = mid - span / 2, mid + span / 2
    margin = (y1 - y0) * 0.08
    y0, y1 = max(0.0, y0 - margin), y1 + margin
    sx = (W - PAD_L - PAD_R) / ((x1 - x0) or 1)
    sy = (H - PAD_T - PAD_B) / (y1 - y0)

    def X(v):
        return PAD_L + (v - x0) * sx

    def Y(v):
        return H - PAD_B - (v - y0) * sy
    out = [f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" role="img" aria-label="{e(stat)} of {e(entry["class"])}">']
    out.append(f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="#888"/>'
               f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="#888"/>')
    for frac in (0.0, 0.5, 1.0):
        v = y0 + frac * (y1 - y0)
        out.append(f'<text class="axis" x="{PAD_L - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    out.append(f'<text class="axis" x="{PAD_L}" y="{H - 8}">{e(min(p[1] for p in pts))}</text>'
               f'<text class="axis" x="{W - PAD_R}" y="{H - 8}" text-anchor="end">{e(max(p[1] for p in pts))}</text>')
    for i, m in enumerate(machines):
        colour = COLOURS[i % len(COLOURS)]
        coords = " ".join(f"{X(xval(p)):.1f},{Y(p[3]):.1f}" for p in m["points"])
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}" '
                   f'data-machine="{e(m["machine_id"])}"/>')
        for p in m["points"]:
            out.append(f'<circle cx="{X(xval(p)):.1f}" cy="{Y(p[3]):.1f}" r="2.5" fill="{colour}">'
                       f'<title>{e(m["machine_id"])} run {p[0]} {e(p[1])} {e(p[2])}: {p[3]:.0f}</title></circle>')
        for s in m["steps"]:
            x = X(xval(m["points"][s["index"]]))
            out.append(f'<line class="step" x1="{x:.1f}" y1="{PAD_T}" x2="{x:.1f}" y2="{H - PAD_B}" '
                       f'data-revision="{e(s["revision"])}" data-machine="{e(m["machine_id"])}"/>'
                       f'<text class="steplabel" x="{x + 3:.1f}" y="{PAD_T + 12 + 12 * i}">{e(s["revision"])}</text>')
    out.append("</svg>")
    legend = " ".join(f'<span style="color:{COLOURS[i % len(COLOURS)]}">&#9632; {e(m["machine_id"])} '
                      f'({e(m["host"] or "?")}{", " + e(m["label"]) if m["label"] else ""})</span>'
                      for i, m in enumerate(machines))
    return "".join(out) + f"<div>{legend}</div>"


def steps_list(entry, stat):
    e = html.escape
    items = []
    for m in entry["machines"]:
        for s in m["steps"]:
            pct = f" ({s['change_pct']:+.1f}%)" if s["change_pct"] is not None else ""
            items.append(f'<li class="steprow" data-machine="{e(m["machine_id"])}" data-revision="{e(s["revision"])}">'
                         f'{e(m["machine_id"])}: step at {e(s["revision"])} ({e(s["started"])}, run {s["run"]}): '
                         f'{e(stat)} {s["before"]:.0f} &rarr; {s["after"]:.0f}{pct}</li>')
        for d in m["drifts"]:
            items.append(f'<li>{e(m["machine_id"])}: drift over runs {d["from_run"]}..{d["to_run"]}: '
                         f'{d["slope"]:+.1f} per run (Mann-Kendall p = {d["p"]:.2g})</li>')
    return f"<ul>{''.join(items)}</ul>" if items else "<p>No step or drift.</p>"


def fleet_table(rows):
    e = html.escape
    out = ["<table id=\"fleet\"><tr><th>machine</th><th>class</th><th>label</th><th>suite</th><th>latest night</th>"
           "<th>revision</th><th>cases</th><th>baseline runs</th><th>verdict</th></tr>"]
    for r in rows:
        v = histfleet.fleet_verdict(r)
        cls = "good" if v.startswith("ok") else "bad" if v != "no baseline yet" else ""
        detail = "; ".join(f"{k}: {', '.join(r[k])}" for k in ("slower", "broken", "failed", "faster") if r[k])
        out.append(f'<tr class="machine" data-machine="{e(r["machine_id"] or "?")}"><td>{e(r["machine_id"] or "?")}'
                   f'<br><small>{e(r["host"] or "")}</small></td><td>{e(r["class"] or "?")}</td>'
                   f'<td>{e(r["label"] or "")}</td><td>{e(r["suite"])}</td><td>{e(r["started"])}</td>'
                   f'<td>{e(r["revision"])}</td><td>{r["cases"]}</td><td>{r["baseline_runs"]}</td>'
                   f'<td class="{cls}" title="{e(detail)}">{e(v)}</td></tr>')
    out.append("</table>")
    return "".join(out)


def page(fleet_rows, trends, stat, title="gapbench fleet"):
    """The whole page. trends: [(case, histfleet.trend(...))]."""
    e = html.escape
    body = [f"<h1>{e(title)}</h1>",
            f"<p>Generated {e(datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))}. "
            f"Statistic: {e(stat)}. Verdicts and change points are computed per machine, within its class.</p>",
            "<h2 id=\"fleet-heading\">Latest night per machine</h2>", fleet_table(fleet_rows)]
    for case, classes in trends:
        if not classes:
            continue
        body.append(f'<section class="case" data-case="{e(case)}"><h2>{e(case)}</h2>')
        for entry in classes:
            body.append(f'<div class="class" data-class="{e(entry["class"])}"><h3>{e(entry["class"])}</h3>')
            body.append(chart(entry, stat))
            body.append(steps_list(entry, stat))
            body.append("</div>")
        body.append("</section>")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>"
            f"<style>{CSS}</style><script>{SCRIPT}</script></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")
