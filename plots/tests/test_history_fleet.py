#!/usr/bin/env python3
"""The history's backends and the fleet views, one test suite run against SQLite and PostgreSQL.

usage: test_history_fleet.py sqlite HARNESS   the suite on SQLite; the default database with no --db;
                                              a version-1 database migrated in place
       test_history_fleet.py pg HARNESS       a throwaway PostgreSQL (pg_virtualenv -t), the suite on it
                                              and on SQLite, and the same answers from both; a
                                              ci/nightly.sh night recorded into it
                                              (exit 77 when PostgreSQL or psycopg2 is not installed)
       test_history_fleet.py page HARNESS     the trend page in headless Chromium (77 without Chromium)

The suite: 20 results folders of two simulated machines of different classes (made from a real run's
meta.json and summary.csv), a step injected into one machine's syscall series at revision rev06...,
a regression in the other machine's last night; fleet, trend and changes must show both machines and
report the step at that revision; recording everything again adds nothing; 4 processes recording 50
runs each (and 25 of a neighbour's) at once end with 200 runs and no duplicate; a recorder killed
inside its transaction leaves no partial run.
"""
import copy
import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PLOTS = os.path.dirname(HERE)
sys.path.insert(0, PLOTS)
import gbresults as gb  # noqa: E402
import histdb  # noqa: E402

HISTORY = os.path.join(PLOTS, "history.py")
SUITE = '[defaults]\nsamples = 300\nwarmup = 10\n[[case]]\nmechanism = "null"\n[[case]]\nmechanism = "syscall"\n'
MACHINES = {  # machine id: (hostname, CPU model, cores, kernel release, hypervisor)
    "lab-xeon-1": ("xeon1", "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", 64, "6.1.0-18-amd64",
                   {"present": False, "cpuid_vendor": "unavailable"}),
    "lab-epyc-vm-1": ("epycvm1", "AMD EPYC 7763 64-Core Processor", 32, "5.10.0-28-amd64",
                      {"present": True, "cpuid_vendor": "KVMKVMKVM   "}),
}
STEP_MACHINE, STEP_AT = "lab-xeon-1", 5          # the syscall p50 is 30% higher from the 6th night on
REV = ["rev%02d" % (i + 1) + "a1b2c3d4e5f6"[: 12 - 5] for i in range(10)]
failures = []


def check(cond, msg):
    # details (the outputs the message carries) only when the check fails
    print(("ok   " + msg.split(":")[0] if cond else "FAIL " + msg), flush=True)
    if not cond:
        failures.append(msg)


def hist(url, *args, env=None, harness=None):
    cmd = [harness, "history", "--db", url, *args] if harness else [sys.executable, HISTORY, "--db", url, *args]
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
                          env=env or os.environ)


def template(harness, d):
    """A real results folder: its meta.json and summary.csv are what the synthesized ones start from."""
    suite, out = os.path.join(d, "s.toml"), os.path.join(d, "real")
    with open(suite, "w") as f:
        f.write(SUITE)
    # --no-lock: its numbers are replaced, so it need not wait for another run's machine-wide lock
    p = gb.run(harness, suite, out, "--no-lock", timeout=120)
    if p.returncode != 0:
        sys.exit(f"harness run exited {p.returncode}: {p.stderr[-1000:]}")
    header, rows = gb.read_summary(out)
    return gb.read_meta(out), header, rows


def synth(tmpl, folder, mid, night, rev, values, minute=0):
    """A results folder of machine `mid`'s night `night` with p50_ns of each case from `values`."""
    meta, header, rows = tmpl
    host, model, cores, release, hyp = MACHINES.get(mid, ("host-" + mid, "Simulated CPU", 8, "6.1.0-1-amd64",
                                                          {"present": False}))
    m = copy.deepcopy(meta)
    m["platform"]["kernel"].update(hostname=host, release=release)
    m["platform"]["cpu"].update(model=model, online=cores)
    m["platform"]["hypervisor"] = dict(hyp)
    m["platform"]["build"]["git_revision"] = rev
    stamp = f"2026-10-{night + 1:02d}T02:{minute // 60:02d}:{minute % 60:02d}+0000"
    m["run"].update(started=stamp, finished=stamp)
    m["suite"].update(name="nightly", sha256="5" * 64)
    os.makedirs(folder)
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(m, f)
    with open(os.path.join(folder, "summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        for r in rows:
            r = dict(r, status="ok")
            v = values[r["case"]]
            r.update(p50_ns=str(int(v)), p90_ns=str(int(v * 1.02)), p99_ns=str(int(v * 1.1)),
                     mean_ns=f"{v * 1.01:.1f}")
            w.writerow(r)
    return folder


def fleet_folders(tmpl, d):
    """20 nights: 10 per machine; the step on STEP_MACHINE at REV[STEP_AT]; the other machine's null
    case 50% slower on its last night."""
    rng = random.Random(7)
    out = {}
    for mid, base in (("lab-xeon-1", {"null": 200, "syscall": 900}),
                      ("lab-epyc-vm-1", {"null": 400, "syscall": 1500})):
        out[mid] = []
        for night in range(10):
            v = {c: b * (1 + rng.uniform(-0.01, 0.01)) for c, b in base.items()}
            if mid == STEP_MACHINE and night >= STEP_AT:
                v["syscall"] *= 1.3
            if mid != STEP_MACHINE and night == 9:
                v["null"] *= 1.5
            out[mid].append(synth(tmpl, os.path.join(d, f"{mid}-{night}"), mid, night, REV[night], v))
    return out


def count(db, sql, params=()):
    return db.query(sql, params)[0][0]


def normalise(obj, started_of):
    """Answers with run ids replaced by start times (a PostgreSQL sequence skips values a conflict used)."""
    if isinstance(obj, dict):
        return {k: (started_of.get(v, v) if k in ("run", "from_run", "to_run") else normalise(v, started_of))
                for k, v in obj.items()}
    if isinstance(obj, list):
        if len(obj) == 4 and isinstance(obj[0], int) and isinstance(obj[1], str):   # a point
            return [started_of.get(obj[0], obj[0])] + obj[1:]
        return [normalise(v, started_of) for v in obj]
    return obj


def fleet_checks(url, harness, tmpl, d):
    """Record the 20 nights, check fleet, trend and changes; return the answers (normalised)."""
    folders = fleet_folders(tmpl, os.path.join(d, "fleet"))
    for mid, fs in folders.items():
        if mid == STEP_MACHINE:   # machine id by flag, and by environment for the other machine
            p = hist(url, "record", "--machine-id", mid, *fs, harness=harness)
        else:
            p = hist(url, "record", *fs, harness=harness, env=dict(os.environ, GAPBENCH_MACHINE_ID=mid))
        check(p.returncode == 0 and p.stdout.count("recorded run") == 10,
              f"record 10 nights of {mid}: {p.returncode} {p.stderr.strip()[-300:]}")
    answers = {}
    p = hist(url, "fleet", "--json", harness=harness)
    fleet = json.loads(p.stdout) if p.returncode == 0 else []
    by = {r["machine_id"]: r for r in fleet}
    check(set(by) == set(MACHINES), f"fleet lists both machines: {sorted(by)}")
    if set(by) == set(MACHINES):
        check(by["lab-xeon-1"]["class"] == "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz, 64 cpus, linux 6.1, bare metal"
              and by["lab-epyc-vm-1"]["class"] == "AMD EPYC 7763 64-Core Processor, 32 cpus, linux 5.10, vm KVMKVMKVM",
              f"classes from meta.json: {by['lab-xeon-1']['class']!r}, {by['lab-epyc-vm-1']['class']!r}")
        check(by["lab-epyc-vm-1"]["slower"] == ["null"] and by["lab-epyc-vm-1"]["revision"] == REV[9]
              and by["lab-epyc-vm-1"]["baseline_runs"] == 9,
              f"the epyc machine's last night is slower in null against its own 9 nights: {by['lab-epyc-vm-1']}")
        # its step 5 nights ago is inside the 9-night baseline, whose median is still before the step
        check(by["lab-xeon-1"]["slower"] == ["syscall"] and by["lab-xeon-1"]["same"] == ["null"],
              f"the xeon machine's last night is slower in syscall only: {by['lab-xeon-1']}")
    p = hist(url, "fleet", harness=harness)
    check(p.returncode == 0 and "lab-xeon-1" in p.stdout and "lab-epyc-vm-1" in p.stdout
          and re.search(r"lab-epyc-vm-1 .* 1 slower", p.stdout) is not None, f"fleet table:\n{p.stdout}")
    answers["fleet"] = fleet
    p = hist(url, "trend", "syscall", "--json", harness=harness)
    tr = json.loads(p.stdout)["classes"] if p.returncode == 0 else []
    machines = {m["machine_id"]: m for c in tr for m in c["machines"]}
    check(len(tr) == 2 and set(machines) == set(MACHINES), f"trend shows two classes, both machines: {list(machines)}")
    steps = machines.get(STEP_MACHINE, {}).get("steps", [])
    check([s["revision"] for s in steps] == [REV[STEP_AT]],
          f"the step is reported at {REV[STEP_AT]}: {[(s['revision'], s['before'], s['after']) for s in steps]}")
    check(machines.get("lab-epyc-vm-1", {}).get("steps") == [], "no step on the flat machine")
    answers["trend"] = tr
    p = hist(url, "trend", "syscall", "--json", "--group", "all", harness=harness)
    one = json.loads(p.stdout)["classes"] if p.returncode == 0 else []
    check(len(one) == 1 and len(one[0]["machines"]) == 1 and len(one[0]["machines"][0]["points"]) == 20
          and one[0]["machines"][0]["host"] == "2 machine(s)", f"--group all: one series of 20 runs: {p.stdout[:300]}")
    p = hist(url, "trend", "syscall", "--json", "--group", "class", harness=harness)
    per = json.loads(p.stdout)["classes"] if p.returncode == 0 else []
    check([len(c["machines"][0]["points"]) for c in per] == [10, 10], f"--group class: two series of 10 runs: {p.stdout[:300]}")
    p = hist(url, "trend", "syscall", harness=harness)
    check(p.returncode == 0 and "step at run" in p.stdout and REV[STEP_AT] in p.stdout
          and "lab-epyc-vm-1" in p.stdout,
          f"trend text shows both machines and the step:\n{p.stdout[-1500:]}")
    p = hist(url, "changes", harness=harness)
    lines = [ln for ln in p.stdout.splitlines() if "syscall: step" in ln]
    check(len(lines) == 1 and REV[STEP_AT] in lines[0] and STEP_MACHINE in lines[0],
          f"changes names the step, its revision and machine: {p.stdout.strip()}")
    answers["changes"] = re.sub(r"run \d+", "run N", re.sub(r"runs \d+\.\.\d+", "runs N..N", p.stdout))
    # recording everything again: one run each, nothing added
    p = hist(url, "record", *folders[STEP_MACHINE], "--machine-id", STEP_MACHINE, harness=harness)
    check(p.returncode == 0 and p.stdout.count("already recorded") == 10, f"recording again: {p.stdout[-300:]}")
    return folders, answers


def concurrency_checks(url, tmpl, d):
    """4 processes x 50 runs (each also records 25 of the next one's) at once: 200 runs, no duplicate."""
    rng = random.Random(3)
    folders = [synth(tmpl, os.path.join(d, "conc", f"{i:03d}"), "lab-conc", i // 60 % 28, REV[i % 10],
                     {"null": 20 * (1 + rng.uniform(0, 0.01)), "syscall": 900}, minute=i % 60 + 60 * (i // 1680))
               for i in range(200)]
    db = histdb.connect(url)
    before_runs, before_cases = count(db, "SELECT COUNT(*) FROM runs"), count(db, "SELECT COUNT(*) FROM cases")
    procs = []
    t0 = time.monotonic()
    for i in range(4):
        mine = folders[50 * i:50 * (i + 1)] + folders[50 * ((i + 1) % 4):50 * ((i + 1) % 4) + 25]
        procs.append(subprocess.Popen([sys.executable, HISTORY, "--db", url, "record", "--machine-id", "lab-conc",
                                       *mine],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=300) for p in procs]
    took = time.monotonic() - t0
    check(all(p.returncode == 0 for p in procs), f"4 concurrent recorders exit 0: {[p.returncode for p in procs]} "
          f"{[e.strip()[-300:] for _, e in outs if e.strip()]}")
    recorded = sum(o.count("recorded run") for o, _ in outs)
    already = sum(o.count("already recorded") for o, _ in outs)
    runs = count(db, "SELECT COUNT(*) FROM runs") - before_runs
    dup = count(db, "SELECT COUNT(*) FROM (SELECT run_key FROM runs GROUP BY run_key HAVING COUNT(*) > 1) x")
    cases = count(db, "SELECT COUNT(*) FROM cases") - before_cases
    print(f"     {db.kind}: 4 x 75 records in {took:.1f} s: {recorded} recorded, {already} already recorded")
    check(runs == 200 and recorded == 200 and already == 100 and dup == 0 and cases == 200 * len(tmpl[2]),
          f"200 runs, no duplicate: {runs} runs, {recorded} recorded, {already} refused, {dup} duplicate keys, "
          f"{cases} cases")
    db.close()


def kill_checks(url, tmpl, d):
    """A recorder SIGKILLed after writing its run row and one case, inside the transaction: no trace."""
    folder = synth(tmpl, os.path.join(d, "killed"), "lab-kill", 27, REV[0], {"null": 20, "syscall": 900})
    db = histdb.connect(url)
    before_runs, before_cases = count(db, "SELECT COUNT(*) FROM runs"), count(db, "SELECT COUNT(*) FROM cases")
    db.close()
    env = dict(os.environ, GAPBENCH_HISTORY_TEST_STALL_AFTER_CASES="1")
    p = subprocess.Popen([sys.executable, HISTORY, "--db", url, "record", "--machine-id", "lab-kill", folder],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = p.stderr.readline()
    stalled = "test stall inside the transaction" in line
    p.send_signal(signal.SIGKILL)
    p.wait()
    check(stalled and p.returncode == -signal.SIGKILL, f"the recorder stalled inside its transaction and was "
          f"killed: {line.strip()!r} rc {p.returncode}")
    db = histdb.connect(url)
    runs = count(db, "SELECT COUNT(*) FROM runs")
    cases = count(db, "SELECT COUNT(*) FROM cases")
    orphans = count(db, "SELECT COUNT(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = c.run_id)")
    mine = count(db, "SELECT COUNT(*) FROM runs WHERE machine_id = ?", ["lab-kill"])
    db.close()
    check(runs == before_runs and cases == before_cases and orphans == 0 and mine == 0,
          f"no partial run after the kill: runs {before_runs} -> {runs}, cases {before_cases} -> {cases}, "
          f"{orphans} orphan cases")
    q = hist(url, "record", "--machine-id", "lab-kill", folder)
    check(q.returncode == 0 and "recorded run" in q.stdout, f"the killed run records afterwards: {q.stdout}{q.stderr}")


def first_use_checks(url):
    """4 recorders opening an empty database at once: the schema is created once, all of them work."""
    procs = [subprocess.Popen([sys.executable, HISTORY, "--db", url, "info"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    db = histdb.connect(url, migrate=False)
    rows = db.query("SELECT version FROM schema_version")
    db.close()
    check(all(p.returncode == 0 for p in procs) and [tuple(r) for r in rows] == [(2,)],
          f"4 processes creating the schema at once: {[p.returncode for p in procs]} {rows} "
          f"{[e.strip()[-200:] for _, e in outs if e.strip()]}")


def run_suite(url, harness, tmpl, d, fresh_url):
    os.makedirs(d)
    first_use_checks(fresh_url)
    _, answers = fleet_checks(url, harness, tmpl, d)
    concurrency_checks(url, tmpl, d)
    kill_checks(url, tmpl, d)
    p = hist(url, "info", harness=harness)
    check(p.returncode == 0 and "schema version 2" in p.stdout and "221 runs" in p.stdout, f"info: {p.stdout}")
    db = histdb.connect(url)
    started_of = {rid: s for rid, s in db.query("SELECT id, started FROM runs")}
    db.close()
    return normalise(answers, started_of)


def sqlite_mode(harness, d, tmpl):
    run_suite(os.path.join(d, "h.sqlite"), harness, tmpl, os.path.join(d, "suite"), os.path.join(d, "fresh.sqlite"))
    # no --db and no $GAPBENCH_HISTORY: results/history.sqlite under the working directory, no server
    cwd = os.path.join(d, "cwd")
    os.makedirs(cwd)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GAPBENCH_HISTORY", "PG"))}
    p = subprocess.run([harness, "history", "record", os.path.join(d, "real")], capture_output=True, text=True,
                       cwd=cwd, env=env)
    q = subprocess.run([harness, "history", "info"], capture_output=True, text=True, cwd=cwd, env=env)
    check(p.returncode == 0 and os.path.exists(os.path.join(cwd, "results", "history.sqlite"))
          and q.stdout.startswith("history: sqlite results/history.sqlite, schema version 2, 1 runs"),
          f"the default history is SQLite with no server: {p.stdout}{p.stderr}{q.stdout}{q.stderr}")
    # a database the history wrote before versioning: migrated in place, its runs keep their identity
    old = os.path.join(d, "v1.sqlite")
    import sqlite3
    con = sqlite3.connect(old)
    for stmt in histdb.MIGRATIONS[1]:
        con.execute(stmt.format(**histdb.DIALECT["sqlite"]))
    meta = gb.read_meta(os.path.join(d, "real"))
    machine = f"{meta['platform']['kernel']['hostname']} / {meta['platform']['cpu']['model']}"
    con.execute("INSERT INTO runs (started, finished, suite, suite_sha256, git_revision, machine, kernel, sanitized,"
                " folder) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)", (meta["run"]["started"], None, meta["suite"]["name"],
                meta["suite"]["sha256"], "oldrev", machine, meta["platform"]["kernel"]["release"],
                os.path.join(d, "real")))
    con.execute("INSERT INTO cases (run_id, name, status, p50_ns) VALUES (1, 'null', 'ok', 20)")
    con.commit()
    con.close()
    p = hist(old, "record", os.path.join(d, "real"))
    q = hist(old, "info")
    check(p.returncode == 0 and "already recorded" in p.stdout and "schema version 2, 1 runs" in q.stdout,
          f"a version-1 database is migrated and knows its runs: {p.stdout}{p.stderr}{q.stdout}{q.stderr}")
    # its runs of this host are this machine's, in the class their meta.json gives: the series goes on
    import histfleet
    db = histdb.connect(old)
    got = [tuple(r) for r in db.query("SELECT machine_id, machine_class FROM runs")]
    db.close()
    want = (histfleet.machine_id(), histfleet.machine_class(meta))
    check(got == [want], f"a version-1 run gets this machine's id and class: {got} != {[want]}")


def pg_mode(harness, d, tmpl):
    if "PGHOST" not in os.environ or os.environ.get("GAPBENCH_PG_TEST") != "inside":
        missing = [p for p in ("pg_virtualenv",) if not shutil.which(p)]
        import glob
        if missing or not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
            print("SKIP: PostgreSQL is not installed (Debian: postgresql postgresql-common)")
            sys.exit(77)
        try:
            histdb._import_psycopg2()
        except histdb.DbError as e:
            print(f"SKIP: {e}")
            sys.exit(77)
        # a throwaway server in a temporary directory (-t: also as root, where pg_virtualenv would otherwise
        # create the cluster under /etc/postgresql), dropped when this command exits
        env = dict(os.environ, GAPBENCH_PG_TEST="inside")
        # (no fsync: the test kills a client, not the server, so durability on power loss is not in question)
        p = subprocess.run(["pg_virtualenv", "-t", "-i", "--no-sync", "-o", "fsync=off", sys.executable,
                            os.path.abspath(__file__), "pg", harness],
                           env=env, stdin=subprocess.DEVNULL, timeout=280)
        sys.exit(p.returncode)
    url = "postgresql:"   # libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE from pg_virtualenv
    t0 = time.monotonic()
    admin = histdb.connect(url, migrate=False)
    admin.execute("CREATE DATABASE fresh")
    admin.close()
    pg = run_suite(url, harness, tmpl, os.path.join(d, "pg"), "postgresql:///fresh")
    print(f"     postgresql suite: {time.monotonic() - t0:.1f} s")
    # the same recordings on SQLite (its concurrency and kill checks are the sqlite test's)
    os.makedirs(os.path.join(d, "lite"))
    lite_url = os.path.join(d, "h.sqlite")
    _, answers = fleet_checks(lite_url, harness, tmpl, os.path.join(d, "lite"))
    db = histdb.connect(lite_url)
    lite = normalise(answers, {rid: s for rid, s in db.query("SELECT id, started FROM runs")})
    db.close()
    for k in pg:
        check(pg[k] == lite[k], f"SQLite and PostgreSQL give the same {k}")
    nightly_checks(url, harness, d)
    # the password never shows: a URL with one is redacted in error messages
    p = hist("postgresql://gb:s3cret@127.0.0.1:1/none", "info")
    check(p.returncode == 2 and "s3cret" not in p.stderr and len(p.stderr.strip().splitlines()) == 1,
          f"an unreachable server: one line, no password: {p.stderr.strip()}")


def nightly_checks(url, harness, d):
    """ci/nightly.sh with GAPBENCH_HISTORY pointing at the server: the night lands there, under the
    machine id from the environment, and the trend page is published."""
    script = os.path.join(os.path.dirname(PLOTS), "ci", "nightly.sh")
    wrapper = os.path.join(d, "harness-no-lock")
    with open(wrapper, "w") as f:   # the night need not wait for other runs' measuring lock
        f.write(f'#!/bin/sh\nif [ "$1" = run ]; then shift; exec "{harness}" run --no-lock "$@"; fi\n'
                f'exec "{harness}" "$@"\n')
    os.chmod(wrapper, 0o755)
    suite = os.path.join(d, "night.toml")
    with open(suite, "w") as f:
        f.write(SUITE)
    env = dict(os.environ, HARNESS=wrapper, GAPBENCH_NIGHTLY_DIR=os.path.join(d, "state"), SUITE=suite,
               PUBLISH_DIR=os.path.join(d, "pub"), GAPBENCH_HISTORY=url, GAPBENCH_MACHINE_ID="lab-nightly")
    env.pop("STRICT", None)
    p = subprocess.run(["bash", script], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                       timeout=240)
    db = histdb.connect(url)
    n = count(db, "SELECT COUNT(*) FROM runs WHERE machine_id = ?", ["lab-nightly"])
    db.close()
    check(p.returncode == 0 and n == 1 and os.path.exists(os.path.join(d, "pub", "fleet.html"))
          and not os.path.exists(os.path.join(d, "state", "history.sqlite")),
          f"a night recorded into {url} and its page published: exit {p.returncode}, {n} run(s): "
          f"{p.stdout[-1500:]} {p.stderr[-500:]}")


def page_mode(harness, d, tmpl):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: needs chromium (Debian package chromium)")
        sys.exit(77)
    url = os.path.join(d, "h.sqlite")
    os.makedirs(os.path.join(d, "p"))
    fleet_folders_ = fleet_folders(tmpl, os.path.join(d, "p", "fleet"))
    for mid, fs in fleet_folders_.items():
        hist(url, "record", "--machine-id", mid, *fs)
    out = os.path.join(d, "trend page.html")
    p = hist(url, "page", out, harness=harness)
    check(p.returncode == 0 and os.path.exists(out), f"history page: {p.stdout}{p.stderr}")
    with open(out, encoding="utf-8") as f:
        text = f.read()
    check(re.search(r'(src|href)="(https?:)?//', text) is None, "the page fetches nothing from elsewhere")
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={os.path.join(d, 'profile')}", "--virtual-time-budget=5000", "--dump-dom",
                        "file://" + out], capture_output=True, text=True, timeout=120)
    dom = p.stdout
    m = re.search(r'data-charts="(\d+)" data-charts-rendered="(\d+)"', dom)
    check(m is not None and int(m.group(1)) == 4 and m.group(2) == m.group(1),
          f"Chromium laid out every chart (2 cases x 2 classes): {m.groups() if m else dom[-500:]}")
    check(all(f'class="machine" data-machine="{mid}"' in dom for mid in MACHINES), "the fleet table lists both")
    check('class="step" x1=' in dom and f'data-revision="{REV[STEP_AT]}" data-machine="{STEP_MACHINE}"' in dom,
          "the syscall chart marks the step at its revision")
    check(f'class="steprow" data-machine="{STEP_MACHINE}" data-revision="{REV[STEP_AT]}"' in dom,
          "the step is listed under the chart")


def main():
    mode, harness = sys.argv[1], os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix=f"gapbench-history-{mode}-") as d:
        if mode == "pg" and os.environ.get("GAPBENCH_PG_TEST") != "inside":
            pg_mode(harness, d, None)   # starts the server and runs this script again inside
        tmpl = template(harness, d)
        {"sqlite": sqlite_mode, "pg": pg_mode, "page": page_mode}[mode](harness, d, tmpl)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
