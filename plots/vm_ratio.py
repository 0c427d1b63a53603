#!/usr/bin/env python3
"""Per case, a run in a VM against the same suite run natively: the VM/native ratio.

usage: plots/vm_ratio.py NATIVE_DIR VM_DIR [--text FILE] [--svg FILE]

Reads both results folders' summary.csv (gbresults.py) and prints, per case
ok in both, p50, p99 and max natively and in the VM and their ratios (VM /
native); --text also writes that table, --svg a bar chart of the ratios
(self-contained SVG, no plotting library). A case whose reference is a
slowdown (reference-data unit `ratio`, as Karma's kernel-compile slowdown)
gets its slowdown (p50 ratio - 1) beside the paper's number, unless the VM ran
under qemu's TCG: an emulated time is not a latency, so under TCG every ratio
says how much slower emulation is, never what virtualization costs, and no
paper's number is set beside it (the table and the chart say so).
`harness compare NATIVE VM` prints this table when the two folders' rows name
different placements (the summary.csv column `placement`).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gbresults as gb  # noqa: E402

STATS = ("p50_ns", "p99_ns", "max_ns")


def placement_of(rows):
    got = sorted({r.get("placement") or "native" for r in rows})
    return ", ".join(got) if got else "?"


def emulated(placement):
    return "tcg" in placement


def ratios(native_dir, vm_dir):
    """(native placement, vm placement, [dict(case, native, vm, ratio per stat, slowdown/paper)])."""
    nat_rows = gb.read_summary(native_dir)[1]
    vm_rows = gb.read_summary(vm_dir)[1]
    nat = {r["case"]: r for r in nat_rows}
    out = []
    for r in vm_rows:
        n = nat.get(r["case"])
        line = {"case": r["case"], "why": ""}
        if n is None:
            line["why"] = "not in the native run"
        elif n["status"] != "ok" or r["status"] != "ok":
            line["why"] = f"status native '{n['status'][:40]}', vm '{r['status'][:40]}'"
        else:
            for s in STATS:
                a, b = n.get(s), r.get(s)
                line[s] = (float(a), float(b)) if a and b else None
                line["r_" + s] = float(b) / float(a) if a and b and float(a) > 0 else None
            if r.get("ref_unit") == "ratio" and r.get("ref_value") and line.get("r_p50_ns"):
                line["paper"] = (r["reference"], float(r["ref_value"]))
        out.append(line)
    return placement_of(nat_rows), placement_of(vm_rows), out


def fmt_ratio(x):
    return f"x{x:.3f}" if x is not None else "-"


def table(native_dir, vm_dir):
    pn, pv, lines = ratios(native_dir, vm_dir)
    tcg = emulated(pv)
    text = [f"VM / native, per case: native {native_dir} ({pn}), VM {vm_dir} ({pv})"]
    if tcg:
        text.append("tcg: emulated, not a latency: these ratios say how much slower qemu's emulator is, "
                    "not what virtualization costs, and are set beside no paper")
    text.append(f"{'case':44} {'p50 native':>12} {'p50 vm':>12} {'p50':>9} {'p99':>9} {'max':>9}")
    for ln in lines:
        if ln["why"]:
            text.append(f"{ln['case']:44} {ln['why']}")
            continue
        p50 = ln.get("p50_ns") or (0, 0)
        row = (f"{ln['case']:44} {p50[0]:>9.0f} ns {p50[1]:>9.0f} ns {fmt_ratio(ln.get('r_p50_ns')):>9} "
               f"{fmt_ratio(ln.get('r_p99_ns')):>9} {fmt_ratio(ln.get('r_max_ns')):>9}")
        if "paper" in ln:
            ref, val = ln["paper"]
            if tcg:
                row += f"  slowdown not compared with {ref} ({val:.1%}): tcg"
            else:
                row += f"  slowdown {ln['r_p50_ns'] - 1:+.1%}, paper {val:.1%} ({ref})"
        text.append(row)
    return "\n".join(text) + "\n", pn, pv, lines


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def svg(lines, pn, pv):
    """Horizontal bars of the p50 ratio per case (log scale), a line at 1."""
    import math
    ok = [ln for ln in lines if not ln["why"] and ln.get("r_p50_ns")]
    w, left, bar, top = 900, 330, 18, 60
    h = top + max(1, len(ok)) * (bar + 6) + 40
    vals = [ln["r_p50_ns"] for ln in ok] or [1.0]
    lo = min(0.5, min(vals) / 1.5)
    hi = max(2.0, max(vals) * 1.5)
    span = math.log10(hi) - math.log10(lo)

    def x(v):
        return left + (w - left - 40) * (math.log10(v) - math.log10(lo)) / span

    title = f"VM / native p50 per case: {pv} against {pn}"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
           f'font-size="12">', f'<text x="10" y="20" font-size="14">{esc(title)}</text>']
    if emulated(pv):
        out.append('<text x="10" y="40" fill="#b00">tcg: emulated, not a latency (ratio of emulation, '
                   'not of virtualization)</text>')
    for i, ln in enumerate(ok):
        y = top + i * (bar + 6)
        v = ln["r_p50_ns"]
        x0, x1 = sorted((x(1.0), x(v)))
        out.append(f'<text x="{left - 6}" y="{y + bar - 4}" text-anchor="end">{esc(ln["case"])}</text>')
        out.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(1.0, x1 - x0):.1f}" height="{bar}" '
                   f'fill="{"#c44" if v > 1 else "#4a4"}"/>')
        out.append(f'<text x="{x1 + 4:.1f}" y="{y + bar - 4}">x{v:.3g}</text>')
    out.append(f'<line x1="{x(1.0):.1f}" y1="{top - 6}" x2="{x(1.0):.1f}" y2="{h - 30}" stroke="black"/>')
    out.append(f'<text x="{x(1.0):.1f}" y="{h - 14}" text-anchor="middle">1 (same as native; log scale '
               f'{lo:.2g} .. {hi:.3g})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(native_dir, vm_dir, text_path=None, svg_path=None):
    """The table (returned), and the files asked for."""
    text, pn, pv, lines = table(native_dir, vm_dir)
    for path, body in ((text_path, text), (svg_path, None)):
        if not path:
            continue
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path + ".tmp", "w") as f:
            f.write(body if body is not None else svg(lines, pn, pv))
        os.replace(path + ".tmp", path)
    if svg_path:
        text += f"plot: {svg_path}\n"
    return text


def main(argv):
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    opts = {"--text": None, "--svg": None}
    dirs = []
    i = 0
    while i < len(argv):
        if argv[i] in opts and i + 1 < len(argv):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            dirs.append(argv[i])
            i += 1
    if len(dirs) != 2:
        print("usage: plots/vm_ratio.py NATIVE_DIR VM_DIR [--text FILE] [--svg FILE]", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(write(dirs[0], dirs[1], opts["--text"], opts["--svg"]))
    except (OSError, ValueError, KeyError) as e:
        print(f"vm_ratio.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
