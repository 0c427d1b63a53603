#!/usr/bin/env python3
"""Draw every plot of a results folder with gnuplot.

usage: plots/plot.py DIR [--formats "png svg pdf"]

Per mechanism: the latency histograms of its ok cases overlaid (hist.gp) and
their tails (cdf.gp), at most 8 series a plot; the time series cases wrote
into DIR/data/CASE/ (timeseries.gp: packets or gaps per task per interval;
shares.gp: CPU shares against targets); and, when cases name paper
references, this machine beside each paper (paper.gp, one chart per paper).
Output: DIR/plots/.
The scripts read only the CSV files the harness wrote.
"""
import csv
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SERIES = 8


def gnuplot(script, variables):
    """Run one script with named variables (-e), never positional arguments."""
    def q(v):
        return "'" + str(v).replace("'", "''") + "'"
    assigns = "; ".join(f"{k}={q(v)}" for k, v in variables.items())
    p = subprocess.run(["gnuplot", "-e", assigns, os.path.join(HERE, script)], capture_output=True, text=True)
    if p.returncode != 0 or p.stderr.strip():
        print(f"plot.py: {script}: {p.stderr.strip()}", file=sys.stderr)
    return p.returncode == 0


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
        with open(os.path.join(folder, "summary.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        print(f"plot.py: {e}", file=sys.stderr)
        sys.exit(2)
    out_dir = os.path.join(folder, "plots")
    os.makedirs(out_dir, exist_ok=True)
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
            files = " ".join(h for _, h in chunk)
            titles = " ".join(c for c, _ in chunk)
            for script, kind, what in (("hist.gp", "hist", "latency histogram"), ("cdf.gp", "tail", "latency tail")):
                out = os.path.join(out_dir, f"{kind}-{mech}{suffix}")
                ok &= gnuplot(script, dict(common, files=files, titles=titles, out=out, title=f"{mech}: {what}"))
                made.append(out)
    # cases' own files: wide time series (first column t_*) and CPU shares
    for r in rows:
        data_dir = os.path.join(folder, "data", r["case"])
        if not os.path.isdir(data_dir):
            continue
        for name in sorted(os.listdir(data_dir)):
            path = os.path.join(data_dir, name)
            if not name.endswith(".csv"):
                continue
            with open(path, newline="") as f:
                header = next(csv.reader(f), [])
            stem = f"{r['case']}-{name[:-4]}"
            out = os.path.join(out_dir, stem)
            if header[:1] and header[0].startswith("t_"):
                ok &= gnuplot("timeseries.gp", dict(common, file=path, out=out, title=f"{r['case']}: {name[:-4]}",
                                                    ylabel=name[:-4].replace("_", " ")))
            elif {"app", "t_start_s", "measured_share", "target_share"} <= set(header):
                ok &= gnuplot("shares.gp", dict(common, file=path, out=out, title=f"{r['case']}: CPU shares"))
            else:
                continue
            made.append(out)
    # one bar chart per paper whose numbers this run stands beside
    papers = sorted({r["reference"].split(".")[0] for r in rows if r.get("ref_ratio")})
    for paper in papers:
        out = os.path.join(out_dir, f"paper-{paper}")
        ok &= gnuplot("paper.gp", dict(common, summary=os.path.join(folder, "summary.csv"), out=out,
                                       prefix=paper + ".", title=f"this machine / the paper: {paper}"))
        made.append(out)
    print(f"{len(made)} plots ({formats}) in {out_dir}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
