#!/usr/bin/env python3
"""Results history: every run of every lab machine recorded, any case followed over time.

usage: plots/history.py [--db URL] record DIR... [--machine-id ID] [--machine-class KEY] [--label TEXT]
       plots/history.py [--db URL] list [--suite NAME] [--machine TEXT] [--this-machine] [--class TEXT]
       plots/history.py [--db URL] show CASE [filters]
       plots/history.py [--db URL] plot CASE --out PATH [filters]
       plots/history.py [--db URL] changes [CASE] [--recent N] [--stat p50_ns] [--group G] [filters]
       plots/history.py [--db URL] fleet [--baseline N] [--effect F] [--stat p50_ns] [filters]
       plots/history.py [--db URL] trend CASE [--recent N] [--stat p50_ns] [--group G] [--json] [filters]
       plots/history.py [--db URL] page OUT.html [--case CASE]... [--recent N] [--stat p50_ns] [filters]
       plots/history.py [--db URL] info

URL is a file path or sqlite:PATH (SQLite, the default: results/history.sqlite,
or $GAPBENCH_HISTORY; no server) or postgresql://USER@HOST/DB (psycopg2; the
password from ~/.pgpass or $PGPASSWORD, never on a command line), or
`postgresql:` alone for libpq's PG* variables. Both hold one versioned schema
(plots/histdb.py). A run is identified by its meta.json start time, suite
hash and host: recording a folder twice is one run, and each run is written
in one transaction (all its cases or nothing), so several machines may
record at once. Each run carries its machine id (a hash of /etc/machine-id,
or --machine-id / $GAPBENCH_MACHINE_ID) and machine class (CPU model, cores,
kernel major.minor, virtualization; or --machine-class /
$GAPBENCH_MACHINE_CLASS) and a label (--label / $GAPBENCH_RUN_LABEL, e.g.
"tcg"). `changes`, `trend` and `fleet` work per machine, within its class
(`--group class` or `all` for one series per class or of every run).
`fleet`: the latest night of each machine with its verdicts against that
machine's own earlier nights. `trend`: a case's series per class and machine
with its change points (plots/changepoints.py) and the git revision of each.
`page`: the same as one static HTML page, charts inline (plots/histpage.py).
`plot` writes PATH.csv and draws PATH.png/.svg with gnuplot.
"""
import argparse
import csv
import datetime
import hashlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gbresults as gb  # noqa: E402
import histdb  # noqa: E402
import histfleet  # noqa: E402
import histpage  # noqa: E402

INT_COLS = ("samples", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns")
CASE_COLS = ("run_id", "name", "mechanism", "variant", "status", *INT_COLS, "mean_ns", "stddev_ns", "p50_cycles",
             "repeats", "rep_p50_median_ns", "rep_p50_lo_ns", "rep_p50_hi_ns")
# a test hook: stall inside the recording transaction after this many cases (the kill test)
STALL_ENV = "GAPBENCH_HISTORY_TEST_STALL_AFTER_CASES"


def num(text, conv):
    return conv(text) if text not in ("", None) else None


class BadInput(Exception):
    """A results folder that is not what `harness run` writes: one line, exit 2."""


def field(obj, path, kind=str, optional=False):
    """obj[a][b]... along a dotted path, of the given type; BadInput naming the path otherwise."""
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            if optional:
                return None
            raise BadInput(f"meta.json has no {path}")
        cur = cur[part]
    if cur is None and optional:
        return None
    if not isinstance(cur, kind):
        raise BadInput(f"meta.json: {path} is {type(cur).__name__}, expected {kind.__name__}")
    return cur


def read_folder(folder):
    try:
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
        _, rows = gb.read_summary(folder)
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as e:
        raise BadInput(f"{folder}: {e}") from e
    if not isinstance(meta, dict):
        raise BadInput(f"{folder}/meta.json is a JSON {type(meta).__name__}, not an object")
    for r in rows:
        if None in r or any(v is None for v in r.values()) or "case" not in r:
            raise BadInput(f"{folder}/summary.csv: a row does not match the header")
    return meta, rows


def case_row(run_id, r):
    return (run_id, r["case"], r.get("mechanism"), r.get("variant"), r.get("status") or "?",
            *[num(r.get(c), int) for c in INT_COLS], num(r.get("mean_ns"), float), num(r.get("stddev_ns"), float),
            num(r.get("p50_cycles"), int), num(r.get("repeats"), int), num(r.get("rep_p50_median_ns"), float),
            num(r.get("rep_p50_lo_ns"), float), num(r.get("rep_p50_hi_ns"), float))


def record(db, folder, args):
    meta, rows = read_folder(folder)
    kernel = field(meta, "platform.kernel", dict)
    cpu = field(meta, "platform.cpu", dict)
    machine = f"{kernel.get('hostname', '?')} / {cpu.get('model', '?')}"
    started, sha = field(meta, "run.started"), field(meta, "suite.sha256")
    mid = histfleet.machine_id(args.machine_id, meta) or histdb.legacy_machine_id(machine)
    cls = histfleet.machine_class(meta, args.machine_class)
    label = args.label or os.environ.get("GAPBENCH_RUN_LABEL") or field(meta, "run.label", optional=True)
    platform = json.dumps(meta.get("platform"), sort_keys=True)
    run = (histdb.run_key(started, sha, machine), started, field(meta, "run.finished", optional=True),
           field(meta, "suite.name"), sha, field(meta, "platform.build.git_revision"), machine,
           kernel.get("release") if isinstance(kernel.get("release"), str) else None,
           int(bool(field(meta, "platform.build.timings_from_sanitized_build", bool, optional=True))),
           os.path.abspath(folder), mid, cls, label,
           datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S%z"))
    stall = int(os.environ.get(STALL_ENV, "-1") or -1)
    with db.tx():
        psha = hashlib.sha256(platform.encode()).hexdigest()
        db.execute("INSERT INTO platforms (sha256, json) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING",
                   [psha, platform])
        pid = db.query("SELECT id FROM platforms WHERE sha256 = ?", [psha])[0][0]
        got = db.query("INSERT INTO runs (run_key, started, finished, suite, suite_sha256, git_revision, machine,"
                       " kernel, sanitized, folder, machine_id, machine_class, label, recorded, platform_id)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_key) DO NOTHING"
                       " RETURNING id", list(run) + [pid])
        if not got:
            print(f"history: {folder} is already recorded")
            return
        run_id = got[0][0]
        marks = ", ".join("?" * len(CASE_COLS))
        sql = f"INSERT INTO cases ({', '.join(CASE_COLS)}) VALUES ({marks})"
        values = [case_row(run_id, r) for r in rows]
        if 0 <= stall < len(values):
            db.executemany(sql, values[:stall])
            print(f"history: test stall inside the transaction of run {run_id}", file=sys.stderr, flush=True)
            time.sleep(600)
            values = values[stall:]
        db.executemany(sql, values)
    print(f"history: recorded run {run_id} ({len(rows)} cases, {run[5]}, {mid}, {cls})")


def list_runs(db, args):
    w, params = histfleet.filters(args)
    rows = db.query("SELECT r.id, r.started, r.suite, r.git_revision, r.machine, r.sanitized,"
                    " (SELECT COUNT(*) FROM cases c WHERE c.run_id = r.id AND c.status = 'ok'),"
                    " (SELECT COUNT(*) FROM cases c WHERE c.run_id = r.id), r.machine_id, r.label"
                    f" FROM runs r{w} ORDER BY r.started, r.id", params)
    print(f"{'run':>4} {'started':25} {'suite':12} {'revision':18} {'ok':>9}  {'machine id':19} machine")
    for rid, started, suite, rev, machine, san, ok, total, mid, label in rows:
        extra = (" (sanitized)" if san else "") + (f" [{label}]" if label else "")
        print(f"{rid:>4} {started:25} {suite:12} {rev:18} {ok:>4}/{total:<4}  {mid or '?':19} {machine}{extra}")


def case_series(db, args):
    w, params = histfleet.filters(args, "c.name = ?", [args.case])
    return db.query("SELECT r.id, r.started, r.git_revision, c.status, c.samples, c.p50_ns, c.p99_ns, c.max_ns,"
                    " c.mean_ns, r.machine_id FROM cases c JOIN runs r ON r.id = c.run_id" + w +
                    " ORDER BY r.started, r.id", params)


def show(db, args):
    rows = case_series(db, args)
    if not rows:
        sys.exit(f"history: no run of case {args.case}")
    print(f"{'run':>4} {'started':25} {'revision':18} {'status':8} {'p50 ns':>9} {'p99 ns':>9} {'max ns':>10}"
          "  machine id")
    for rid, started, rev, status, n, p50, p99, mx, mean, mid in rows:
        st = "ok" if status == "ok" else status[:8]
        print(f"{rid:>4} {started:25} {rev:18} {st:8} {p50 or '':>9} {p99 or '':>9} {mx or '':>10}  {mid or '?'}")


def plot(db, args):
    rows = [r for r in case_series(db, args) if r[3] == "ok"]
    if not rows:
        sys.exit(f"history: no ok run of case {args.case}")
    data = args.out + ".csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "started", "git_revision", "p50_ns", "p99_ns"])
        for rid, started, rev, status, n, p50, p99, mx, mean, mid in rows:
            w.writerow([rid, started, rev, p50, p99])
    p = gb.gnuplot(os.path.join(HERE, "history.gp"), dict(dir=HERE + "/", data=data, out=args.out, title=args.case))
    if p.returncode:
        sys.exit(f"history: gnuplot: {p.stderr.strip()}")
    print(f"history: {len(rows)} runs of {args.case} in {args.out}.png and .svg")


def change_lines(case, classes, stat):
    """The step and drift lines of a trend; each names its machine (and class) when there are several."""
    several = sum(len(c["machines"]) for c in classes) > 1
    out = []
    for c in classes:
        for m in c["machines"]:
            where = f" [{m['machine_id']}; {c['class']}]" if several else ""
            for s in m["steps"]:
                pct = f" ({s['change_pct']:+.1f}%)" if s["change_pct"] is not None else ""
                out.append(f"{case}: step at run {s['run']} ({s['started']}, {s['revision']}): {stat} "
                           f"{s['before']:.0f} -> {s['after']:.0f}{pct}{where}")
            for d in m["drifts"]:
                pct = f"{d['pct_per_run']:+.2f}% per run, " if d["pct_per_run"] is not None else ""
                out.append(f"{case}: drift over runs {d['from_run']}..{d['to_run']}: {d['slope']:+.1f} per run "
                           f"({pct}Mann-Kendall p = {d['p']:.2g}){where}")
    return out


def case_names(db, args):
    w, params = histfleet.filters(args)
    return [r[0] for r in db.query("SELECT DISTINCT c.name FROM cases c JOIN runs r ON r.id = c.run_id" + w +
                                   " ORDER BY c.name", params)]


def changes(db, args):
    lines = []
    for case in [args.case] if args.case else case_names(db, args):
        lines += change_lines(case, histfleet.trend(db, args, case, args.stat, args.recent, args.group), args.stat)
    print("\n".join(lines) if lines else f"history: no step or drift in the last {args.recent} runs"
          f"{' of ' + args.case if args.case else ''} ({args.stat})")


def fleet(db, args):
    rows = histfleet.fleet(db, args, args.stat, args.baseline, args.effect)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    if not rows:
        print("history: no runs")
        return
    print(f"{'machine id':19} {'class':44} {'suite':12} {'latest night':25} {'revision':14} {'cases':>5} "
          f"{'base':>4}  verdict")
    for r in rows:
        print(f"{r['machine_id'] or '?':19} {(r['class'] or '?')[:44]:44} {r['suite'][:12]:12} {r['started']:25} "
              f"{r['revision'][:14]:14} {r['cases']:>5} {r['baseline_runs']:>4}  {histfleet.fleet_verdict(r)}"
              f"{'  [' + r['label'] + ']' if r['label'] else ''}")
        for k in ("slower", "faster", "broken", "failed"):
            if r[k]:
                print(f"{'':19}   {k}: {', '.join(r[k])}")


def trend(db, args):
    classes = histfleet.trend(db, args, args.case, args.stat, args.recent, args.group)
    if args.json:
        print(json.dumps({"case": args.case, "stat": args.stat, "classes": classes}, indent=1))
        return
    if not classes:
        sys.exit(f"history: no ok run of case {args.case}")
    for c in classes:
        print(f"class {c['class']}: {len(c['machines'])} machine(s)")
        for m in c["machines"]:
            vals = [p[3] for p in m["points"]]
            print(f"  machine {m['machine_id']} ({m['host']}{', ' + m['label'] if m['label'] else ''}): "
                  f"{len(vals)} runs, {args.stat} {min(vals):.0f} .. {max(vals):.0f}")
            at = {s["run"]: s for s in m["steps"]}
            for rid, started, rev, v in m["points"]:
                mark = f"  <- step {at[rid]['before']:.0f} -> {at[rid]['after']:.0f}" if rid in at else ""
                print(f"    {rid:>5} {started:25} {rev:18} {v:>12.0f}{mark}")
        for line in change_lines(args.case, [c], args.stat):
            print("  " + line)


def page(db, args):
    cases = args.case or case_names(db, args)
    trends = [(c, histfleet.trend(db, args, c, args.stat, args.recent)) for c in cases]
    text = histpage.page(histfleet.fleet(db, args, args.stat), trends, args.stat)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.out)
    print(f"history: {sum(1 for _, t in trends if t)} case(s) on {args.out}")


def info(db, args):
    n = db.query("SELECT COUNT(*), COUNT(DISTINCT machine_id), COUNT(DISTINCT machine_class) FROM runs")[0]
    print(f"history: {db.kind} {db.where}, schema version {db.version()}, {n[0]} runs, {n[1]} machines, "
          f"{n[2]} classes")


def parser():
    ap = argparse.ArgumentParser(description="gapbench results history (SQLite or PostgreSQL)")
    ap.add_argument("--db", default=os.environ.get("GAPBENCH_HISTORY") or "results/history.sqlite",
                    help="a path, sqlite:PATH or postgresql://... (default $GAPBENCH_HISTORY or "
                         "results/history.sqlite)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="record results folders, one transaction each")
    rec.add_argument("dir", nargs="+")
    rec.add_argument("--machine-id", help="this machine's id (default: a hash of /etc/machine-id)")
    rec.add_argument("--machine-class", help="the class key (default: from meta.json)")
    rec.add_argument("--label", help="e.g. the accelerator or VM the run measured under")
    sub.add_parser("info", help="backend, schema version, counts")
    for name in ("list", "show", "plot", "changes", "fleet", "trend", "page"):
        s = sub.add_parser(name)
        if name == "changes":
            s.add_argument("case", nargs="?")
        elif name in ("show", "plot", "trend"):
            s.add_argument("case")
        elif name == "page":
            s.add_argument("out", help="the HTML file to write")
            s.add_argument("--case", action="append", help="a case to chart (default: every case)")
        if name in ("changes", "trend", "page"):
            s.add_argument("--recent", type=int, default=60, help="the last N runs of each series (default 60)")
        if name in ("changes", "trend"):
            s.add_argument("--group", choices=histfleet.GROUPS, default="machine",
                           help="one series per machine within its class (default), per class, or all runs")
        if name in ("changes", "trend", "page", "fleet"):
            s.add_argument("--stat", choices=histfleet.STATS, default="p50_ns")
        if name in ("trend", "fleet"):
            s.add_argument("--json", action="store_true")
        if name == "fleet":
            s.add_argument("--baseline", type=int, default=10, help="earlier runs of a machine to compare with")
            s.add_argument("--effect", type=float, default=0.05, help="smallest change that counts (fraction)")
        if name == "plot":
            s.add_argument("--out", required=True, help="output path without extension")
        s.add_argument("--suite")
        s.add_argument("--machine", help="substring of the machine id or of hostname / CPU model")
        s.add_argument("--this-machine", action="store_true",
                       help="only this machine's runs ($GAPBENCH_MACHINE_ID or the hash of /etc/machine-id)")
        s.add_argument("--class", dest="machine_class", help="substring of the machine class")
    return ap


def main():
    args = parser().parse_args()
    db = None
    try:
        db = histdb.connect(args.db)
        {"record": lambda: [record(db, d, args) for d in args.dir], "list": lambda: list_runs(db, args),
         "show": lambda: show(db, args), "plot": lambda: plot(db, args), "changes": lambda: changes(db, args),
         "fleet": lambda: fleet(db, args), "trend": lambda: trend(db, args), "page": lambda: page(db, args),
         "info": lambda: info(db, args)}[args.cmd]()
    except (OSError, KeyError, ValueError, BadInput, histdb.DbError) as e:
        print(f"history: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # a database error of either backend: one line, exit 2
        if db is None or not isinstance(e, db.errors):
            raise
        print(f"history: {db.where}: {str(e).strip().splitlines()[0]}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
