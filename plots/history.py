#!/usr/bin/env python3
"""Results history in SQLite: every run recorded, any case followed over time.

usage: plots/history.py [--db FILE] record DIR
       plots/history.py [--db FILE] list [--suite NAME] [--machine TEXT]
       plots/history.py [--db FILE] show CASE [--suite NAME] [--machine TEXT]
       plots/history.py [--db FILE] plot CASE --out PATH [--suite NAME] [--machine TEXT]
       plots/history.py [--db FILE] changes [CASE] [--recent N] [--stat p50_ns] [--suite NAME] [--machine TEXT]

The default database is results/history.sqlite (or $GAPBENCH_HISTORY). Runs
are keyed by git revision, machine (hostname and CPU model) and suite; a
results folder is recorded once (its meta.json start time and suite hash
identify it). `plot` writes PATH.csv and draws PATH.png/.svg with gnuplot.
`changes` finds where a case's series moved (plots/changepoints.py): steps,
with the run and git revision where they happened and the means on each
side, told apart from slow drift (a trend per stretch between steps); with
no CASE, every case of the last N runs (what the nightly report lists).
"""
import argparse
import csv
import json
import os
import sqlite3
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import changepoints  # noqa: E402
import gbresults as gb  # noqa: E402
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL, finished TEXT, suite TEXT NOT NULL, suite_sha256 TEXT NOT NULL,
    git_revision TEXT NOT NULL, machine TEXT NOT NULL, kernel TEXT, sanitized INTEGER NOT NULL,
    folder TEXT NOT NULL, UNIQUE (started, suite_sha256, machine));
CREATE TABLE IF NOT EXISTS cases (
    run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL, mechanism TEXT, variant TEXT,
    status TEXT NOT NULL, samples INTEGER, min_ns INTEGER, p50_ns INTEGER, p90_ns INTEGER, p99_ns INTEGER,
    p999_ns INTEGER, max_ns INTEGER, mean_ns REAL, stddev_ns REAL, p50_cycles INTEGER,
    PRIMARY KEY (run_id, name));
"""
INT_COLS = ("samples", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "p50_cycles")


def connect(path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


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


def record(db, folder):
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
    kernel = field(meta, "platform.kernel", dict)
    cpu = field(meta, "platform.cpu", dict)
    machine = f"{kernel.get('hostname', '?')} / {cpu.get('model', '?')}"
    run = (field(meta, "run.started"), field(meta, "run.finished", optional=True), field(meta, "suite.name"),
           field(meta, "suite.sha256"), field(meta, "platform.build.git_revision"), machine,
           kernel.get("release") if isinstance(kernel.get("release"), str) else None,
           int(bool(field(meta, "platform.build.timings_from_sanitized_build", bool, optional=True))),
           os.path.abspath(folder))
    with db:
        cur = db.execute("INSERT OR IGNORE INTO runs (started, finished, suite, suite_sha256, git_revision, machine,"
                         " kernel, sanitized, folder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", run)
        if cur.rowcount == 0:
            print(f"history: {folder} is already recorded")
            return
        run_id = cur.lastrowid
        for r in rows:
            db.execute("INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, r["case"], r["mechanism"], r["variant"], r["status"],
                        *[num(r[c], int) for c in INT_COLS[:7]], num(r["mean_ns"], float),
                        num(r["stddev_ns"], float), num(r["p50_cycles"], int)))
    print(f"history: recorded run {run_id} ({len(rows)} cases, {run[4]}, {machine})")


def where(args, extra=""):
    clauses, params = [], []
    if args.suite:
        clauses.append("r.suite = ?")
        params.append(args.suite)
    if args.machine:
        clauses.append("r.machine LIKE ?")
        params.append(f"%{args.machine}%")
    if extra:
        clauses.append(extra)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_runs(db, args):
    w, params = where(args)
    rows = db.execute("SELECT r.id, r.started, r.suite, r.git_revision, r.machine, r.sanitized,"
                      " (SELECT COUNT(*) FROM cases c WHERE c.run_id = r.id AND c.status = 'ok'),"
                      " (SELECT COUNT(*) FROM cases c WHERE c.run_id = r.id)"
                      f" FROM runs r{w} ORDER BY r.started", params).fetchall()
    print(f"{'run':>4} {'started':25} {'suite':12} {'revision':18} {'ok':>9}  machine")
    for rid, started, suite, rev, machine, san, ok, total in rows:
        print(f"{rid:>4} {started:25} {suite:12} {rev:18} {ok:>4}/{total:<4}  {machine}{' (sanitized)' if san else ''}")


def case_series(db, args):
    w, params = where(args, "c.name = ?")
    return db.execute("SELECT r.id, r.started, r.git_revision, c.status, c.samples, c.p50_ns, c.p99_ns, c.max_ns,"
                      " c.mean_ns FROM cases c JOIN runs r ON r.id = c.run_id" + w + " ORDER BY r.started",
                      params + [args.case]).fetchall()


def show(db, args):
    rows = case_series(db, args)
    if not rows:
        sys.exit(f"history: no run of case {args.case}")
    print(f"{'run':>4} {'started':25} {'revision':18} {'status':8} {'p50 ns':>9} {'p99 ns':>9} {'max ns':>10}")
    for rid, started, rev, status, n, p50, p99, mx, mean in rows:
        st = "ok" if status == "ok" else status[:8]
        print(f"{rid:>4} {started:25} {rev:18} {st:8} {p50 or '':>9} {p99 or '':>9} {mx or '':>10}")


def plot(db, args):
    rows = [r for r in case_series(db, args) if r[3] == "ok"]
    if not rows:
        sys.exit(f"history: no ok run of case {args.case}")
    data = args.out + ".csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "started", "git_revision", "p50_ns", "p99_ns"])
        for rid, started, rev, status, n, p50, p99, mx, mean in rows:
            w.writerow([rid, started, rev, p50, p99])
    p = gb.gnuplot(os.path.join(HERE, "history.gp"), dict(dir=HERE + "/", data=data, out=args.out, title=args.case))
    if p.returncode:
        sys.exit(f"history: gnuplot: {p.stderr.strip()}")
    print(f"history: {len(rows)} runs of {args.case} in {args.out}.png and .svg")


STATS = ("p50_ns", "p90_ns", "p99_ns", "mean_ns", "max_ns")


def changes_of(db, args, case):
    """Lines describing the steps and trends of one case's ok series, [] when it has too few runs."""
    w, params = where(args, "c.name = ? AND c.status = 'ok'")
    rows = db.execute(f"SELECT r.id, r.started, r.git_revision, c.{args.stat} FROM cases c JOIN runs r ON r.id = "
                      "c.run_id" + w + " ORDER BY r.started", params + [case]).fetchall()
    rows = [r for r in rows if r[3] is not None][-args.recent:]
    if len(rows) < 6:
        return []
    x = [float(r[3]) for r in rows]
    res = changepoints.analyse(x)
    out = []
    for t in res["steps"]:
        before = statistics.mean(x[max(0, t - 5):t])
        after = statistics.mean(x[t:t + 5])
        out.append(f"{case}: step at run {rows[t][0]} ({rows[t][1]}, {rows[t][2]}): {args.stat} "
                   f"{before:.0f} -> {after:.0f} ({100 * (after - before) / before:+.1f}%)")
    for lo, hi, slope, p in res["segments"]:
        if p < res["trend_alpha"] and hi - lo >= 6:
            level = statistics.median(x[lo:hi])
            out.append(f"{case}: drift over runs {rows[lo][0]}..{rows[hi - 1][0]}: {slope:+.1f} per run "
                       f"({100 * slope / level:+.2f}% per run, Mann-Kendall p = {p:.2g})")
    return out


def changes(db, args):
    if args.case:
        cases = [args.case]
    else:
        w, params = where(args)
        cases = [r[0] for r in db.execute("SELECT DISTINCT c.name FROM cases c JOIN runs r ON r.id = c.run_id"
                                          + w + " ORDER BY c.name", params)]
    lines = []
    for case in cases:
        lines += changes_of(db, args, case)
    print("\n".join(lines) if lines else f"history: no step or drift in the last {args.recent} runs"
          f"{' of ' + args.case if args.case else ''} ({args.stat})")


def main():
    ap = argparse.ArgumentParser(description="gapbench results history (SQLite)")
    ap.add_argument("--db", default=os.environ.get("GAPBENCH_HISTORY", "results/history.sqlite"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="record a results folder")
    rec.add_argument("dir")
    for name in ("list", "show", "plot", "changes"):
        s = sub.add_parser(name)
        if name == "changes":
            s.add_argument("case", nargs="?")
            s.add_argument("--recent", type=int, default=60, help="the last N runs (default 60)")
            s.add_argument("--stat", choices=STATS, default="p50_ns")
        elif name != "list":
            s.add_argument("case")
        if name == "plot":
            s.add_argument("--out", required=True, help="output path without extension")
        s.add_argument("--suite")
        s.add_argument("--machine", help="substring of hostname / CPU model")
    args = ap.parse_args()
    try:
        db = connect(args.db)
        {"record": lambda: record(db, args.dir), "list": lambda: list_runs(db, args),
         "show": lambda: show(db, args), "plot": lambda: plot(db, args),
         "changes": lambda: changes(db, args)}[args.cmd]()
    except (OSError, KeyError, ValueError, sqlite3.Error, BadInput) as e:
        print(f"history: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
