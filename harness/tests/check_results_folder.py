#!/usr/bin/env python3
"""Nothing measured is lost or misreported: the results folder of `harness run`.

usage: check_results_folder.py HARNESS CHECK

CHECK is one of:
  folder   a folder that holds anything is refused (exit 2), --force clears only a
           results folder, --out "" and paths that resolve to / are bad input
  resume   --resume after a SIGKILL of the harness mid-suite keeps every ok row, hist
           file and case record byte for byte and runs only the rest; another suite: exit 2
  outputs  an output that cannot be written (a read-only hist/, a full 200k tmpfs)
           makes the case's status say so, exit 1, the last line matches the disk
  signals  a closed stderr (| head -3) does not end the run; SIGHUP ends it like SIGINT
  locks    a second run into the same folder: exit 2 naming the holder's pid; into
           another folder: it waits for the measuring lock (--no-lock does not)
  append   per case, summary.csv and cases.jsonl are appended, not rewritten
           (their inodes stay), and every finished case is on disk at once
  csv      formula-like text cells of summary.csv are neutralised (OWASP), numbers not
"""
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plots"))
import gbresults as gb  # noqa: E402

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def suite(path, cases, samples=2000, timeout_s=5, name=None):
    """A suite file: cases is a list of TOML [[case]] bodies."""
    text = f'[suite]\nname = "{name or os.path.basename(path)[:-5]}"\n' \
           f"[defaults]\nsamples = {samples}\nwarmup = 0\ntimeout_s = {timeout_s}\nmlock = false\n" \
           "dma_latency = false\n"
    for c in cases:
        text += "[[case]]\n" + c + "\n"
    with open(path, "w") as f:
        f.write(text)
    return path


def env_lock(d):
    """A measuring lock of the test's own, so that other tests' runs never make ours wait."""
    e = dict(os.environ)
    e["GAPBENCH_MEASURE_LOCK"] = os.path.join(d, "measure.lock")
    return e


def run(harness, suite_path, out, *extra, env=None, timeout=120):
    return subprocess.run([harness, "run", suite_path, "--out", out, *extra], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, env=env)


def last_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


class Lines:
    """A running harness whose stderr is read line by line."""

    def __init__(self, argv, env=None, stderr=subprocess.PIPE):
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                  text=True, env=env)
        self.lines = []

    def wait_for(self, prefix, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            line = self.p.stderr.readline()
            if not line:
                return False
            self.lines.append(line.rstrip("\n"))
            if line.startswith(prefix):
                return True
        return False

    def finish(self, timeout=60):
        rest, _ = self.p.communicate(timeout=timeout)
        self.lines += (rest or "").splitlines()
        return self.p.returncode


# ---------------------------------------------------------------- folder

def check_folder(harness):
    with tempfile.TemporaryDirectory(prefix="gapbench-folder-") as d:
        env = env_lock(d)
        s = suite(os.path.join(d, "f.toml"), ['mechanism = "null"'])
        # what a folder may already hold: every one is refused without a word lost
        for what in ("summary.csv", "meta.json", "hist/null.csv", "raw/null.csv", "data/null/x", "notes.txt"):
            out = os.path.join(d, "pre-" + what.replace("/", "_"))
            os.makedirs(os.path.dirname(os.path.join(out, what)), exist_ok=True)
            with open(os.path.join(out, what), "w") as f:
                f.write("keep me\n")
            p = run(harness, s, out, env=env)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 2 and len(lines) == 1 and "not empty" in lines[0],
                  f"a folder holding {what}: exit 2 with one line (got {p.returncode}: {p.stderr.strip()[:200]})")
            with open(os.path.join(out, what)) as f:
                check(f.read() == "keep me\n", f"a refused run left {what} as it was")

        # a finished run, then the same folder again
        out = os.path.join(d, "done")
        p = run(harness, s, out, env=env)
        check(p.returncode == 0, f"a first run exits 0 ({p.returncode}: {last_line(p.stderr)})")
        with open(os.path.join(out, "hist", "stale.csv"), "w") as f:
            f.write("old\n")
        with open(os.path.join(out, "notes.txt"), "w") as f:
            f.write("mine\n")
        before = open(os.path.join(out, "summary.csv")).read()
        p = run(harness, s, out, env=env)
        check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1,
              f"a second run into a results folder: exit 2, one line ({p.returncode}: {p.stderr.strip()[:200]})")
        check(open(os.path.join(out, "summary.csv")).read() == before, "the refused run left summary.csv alone")
        # --force clears what a results folder holds, and only that
        p = run(harness, s, out, "--force", env=env)
        check(p.returncode == 0, f"--force runs ({p.returncode}: {last_line(p.stderr)})")
        check(not os.path.exists(os.path.join(out, "hist", "stale.csv")), "--force removed the old hist/ files")
        check(os.path.exists(os.path.join(out, "notes.txt")) and "notes.txt" in p.stderr,
              "--force left a file it did not write, and said so")
        check(len(gb.read_summary(out)[1]) == 1, "after --force summary.csv holds the new run only")
        # --force on a folder that is not a results folder: refused, nothing removed
        junk = os.path.join(d, "junk")
        os.makedirs(os.path.join(junk, "hist"))
        with open(os.path.join(junk, "hist", "precious.csv"), "w") as f:
            f.write("x\n")
        p = run(harness, s, junk, "--force", env=env)
        check(p.returncode == 2 and "not look like a results folder" in p.stderr
              and os.path.exists(os.path.join(junk, "hist", "precious.csv")),
              f"--force on a folder without summary.csv/meta.json: refused, kept ({p.returncode}: {p.stderr.strip()[:200]})")
        p = run(harness, s, out, "--force", "--resume", env=env)
        check(p.returncode == 2, "--force with --resume: exit 2")
        # an empty folder is fine, and --resume of an empty folder just runs
        empty = os.path.join(d, "empty")
        os.makedirs(empty)
        p = run(harness, s, empty, "--resume", env=env)
        check(p.returncode == 0, f"--resume into an empty folder runs ({p.returncode}: {last_line(p.stderr)})")

        # "" and every spelling of / are bad input, and nothing lands in /
        root_before = set(os.listdir("/"))
        for bad, cwd in (("", d), ("/", d), ("//", d), ("/tmp/..", d), ("/gapbench-nonexistent/..", d), (".", "/"),
                         ("../../../../../../../../..", d)):
            p = subprocess.run([harness, "run", s, "--out", bad], capture_output=True, text=True, cwd=cwd,
                               stdin=subprocess.DEVNULL, timeout=60, env=env)
            check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
                  and ("empty" in p.stderr or "root folder" in p.stderr),
                  f"--out {bad!r} (in {cwd}): exit 2, one line ({p.returncode}: {p.stderr.strip()[:160]})")
        made = set(os.listdir("/")) - root_before
        check(not made, f"nothing was written into / ({sorted(made)})")
        for name in made & {"summary.csv", "meta.json", "cases.jsonl", "hist", "data", ".lock",
                            "gapbench-nonexistent"}:
            shutil.rmtree(os.path.join("/", name), ignore_errors=True)
            if os.path.isfile(os.path.join("/", name)):
                os.unlink(os.path.join("/", name))


# ---------------------------------------------------------------- resume

def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def summary_records(out):
    """summary.csv as ({case: (its record as raw text, its status)}, [rows as lists]), in file order."""
    text = read_bytes(os.path.join(out, "summary.csv")).decode()
    records, buf = [], ""
    for line in text[text.index("\n") + 1:].splitlines(keepends=True):
        buf += line
        if buf.count('"') % 2 == 0:   # a quoted cell may hold a line break
            records.append(buf)
            buf = ""
    rows = [next(csv.reader([rec])) for rec in records]
    return {row[0]: (rec, row[4]) for rec, row in zip(records, rows)}, rows


def check_resume(harness):
    with tempfile.TemporaryDirectory(prefix="gapbench-resume-") as d:
        env = env_lock(d)
        s = suite(os.path.join(d, "r.toml"), [
            'name = "a-ok"\nmechanism = "null"',
            'name = "b-fail"\nmechanism = "selftest"\nvariant = "fail"',
            'name = "c-ok"\nmechanism = "selftest"\nvariant = "ok"',
            'name = "d-long"\nmechanism = "null"\nsamples = 3000000',
            'name = "e-ok"\nmechanism = "null"',
            'name = "f-ok"\nmechanism = "selftest"\nvariant = "ok"',
        ])
        out = os.path.join(d, "out")
        h = Lines([harness, "run", s, "--out", out], env=env)
        reached = h.wait_for("[4/6]")
        check(reached, "the run reached its 4th case")
        h.p.send_signal(signal.SIGKILL)
        h.finish()
        check(h.p.returncode == -signal.SIGKILL, f"the harness died of SIGKILL ({h.p.returncode})")
        before = summary_records(out)[0]
        ok_before = {c for c, (_, st) in before.items() if st == "ok"}
        check(ok_before == {"a-ok", "c-ok"}, f"the killed run left the ok rows of its first cases ({sorted(before)})")
        hist_before = {c: read_bytes(os.path.join(out, "hist", c + ".csv")) for c in ok_before}
        jsonl_path = os.path.join(out, "cases.jsonl")
        check(os.path.exists(jsonl_path), "the killed run left cases.jsonl")
        jsonl_before = read_bytes(jsonl_path).splitlines(keepends=True) if os.path.exists(jsonl_path) else []
        jsonl_ok = {json.loads(x)["case"]: x for x in jsonl_before if json.loads(x)["status"] == "ok"}
        check(set(jsonl_ok) == ok_before, f"cases.jsonl holds the finished cases ({sorted(jsonl_ok)})")

        # another suite cannot resume this folder
        other = suite(os.path.join(d, "other.toml"), ['name = "a-ok"\nmechanism = "null"'], samples=2001)
        p = run(harness, other, out, "--resume", env=env)
        check(p.returncode == 2 and "sha256" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
              f"--resume with another suite: exit 2, one line naming the sha256 ({p.returncode}: {p.stderr.strip()[:200]})")

        p = run(harness, s, out, "--resume", env=env)
        check(p.returncode == 1, f"the resumed run exits 1 (b-fail fails again): {p.returncode} {last_line(p.stderr)}")
        after, rows = summary_records(out)
        check([r[0] for r in rows] == ["a-ok", "b-fail", "c-ok", "d-long", "e-ok", "f-ok"],
              f"summary.csv holds every case in suite order ({[r[0] for r in rows]})")
        for c in ok_before:
            check(after.get(c, ("",))[0] == before[c][0], f"{c}: its summary.csv row is kept byte for byte")
            check(read_bytes(os.path.join(out, "hist", c + ".csv")) == hist_before[c], f"{c}: its hist file is kept")
            check(f"[{'abcdef'.index(c[0]) + 1}/6] {c}\n      ok  (kept" in p.stderr, f"{c}: not run again")
        for c in ("b-fail", "d-long", "e-ok", "f-ok"):
            check(re.search(rf"^\[\d/6\] {c}\n      (?!ok  \(kept)", p.stderr, re.M) is not None, f"{c}: ran again")
        check(all(after.get(c, ("", ""))[1] == "ok" for c in ("d-long", "e-ok", "f-ok")), "the cases that had not run are ok now")
        jsonl_after = read_bytes(jsonl_path).splitlines(keepends=True) if os.path.exists(jsonl_path) else []
        for c, line in jsonl_ok.items():
            check(line in jsonl_after, f"{c}: its cases.jsonl record is kept byte for byte")
        meta = gb.read_meta(out)
        check([c["case"] for c in meta["cases"]] == ["a-ok", "b-fail", "c-ok", "d-long", "e-ok", "f-ok"],
              "meta.json has every case in suite order")
        for c in ok_before:
            check(c in jsonl_ok and gb.meta_case(meta, c) == json.loads(jsonl_ok[c]), f"{c}: its meta.json record is the kept one")
        check(meta["run"].get("resumed_from", {}).get("pid") == h.p.pid, "meta.json names the run it resumed")
        check(meta["run"].get("interrupted") is False, "the resumed run finished")


# ---------------------------------------------------------------- outputs

def mount_tmpfs(path, options):
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path], capture_output=True, text=True)
    return p.returncode == 0, p.stderr.strip()


def final_line_matches_disk(stderr, out, n_cases):
    """The last line's counts are those of summary.csv as it is on disk."""
    line = last_line(stderr)
    m = re.match(r"(\d+) cases: (\d+) ok, (\d+) skipped, (\d+) failed", line)
    if not m:
        return False, f"no totals line: {line!r}"
    rows = gb.read_summary(out)[1]
    held = re.search(r"summary\.csv holds (\d+) of the (\d+) rows", line)
    want_rows = int(held.group(1)) if held else n_cases
    ok = sum(r["status"] == "ok" for r in rows)
    skip = sum(r["status"].startswith("skip") for r in rows)
    bad = len(rows) - ok - skip
    if len(rows) != want_rows:
        return False, f"summary.csv has {len(rows)} rows, the last line says {want_rows}: {line!r}"
    if not held and (int(m.group(2)), int(m.group(3)), int(m.group(4))) != (ok, skip, bad):
        return False, f"summary.csv has {ok} ok, {skip} skipped, {bad} failed; the last line: {line!r}"
    return True, line


def check_outputs(harness):
    with tempfile.TemporaryDirectory(prefix="gapbench-outputs-") as d:
        os.chmod(d, 0o755)
        env = env_lock(d)
        # a hist/ folder that cannot be written
        s = suite(os.path.join(d, "h.toml"), ['mechanism = "null"', 'name = "null-2"\nmechanism = "null"'])
        out = os.path.join(d, "ro")
        os.makedirs(os.path.join(out, "hist"))
        mounted, why = (mount_tmpfs(os.path.join(out, "hist"), "ro,size=64k") if os.geteuid() == 0 else (False, ""))
        runner = []
        if not mounted and os.geteuid() != 0:
            os.chmod(os.path.join(out, "hist"), 0o555)
        elif not mounted:
            print(f"SKIP read-only hist/: cannot mount a read-only tmpfs ({why}) and root ignores modes")
            runner = None
        if runner is not None:
            try:
                p = run(harness, s, out, env=env)
            finally:
                if mounted:
                    subprocess.run(["umount", os.path.join(out, "hist")])
            rows = gb.rows_by_case(out)
            check(p.returncode == 1, f"read-only hist/: exit 1 ({p.returncode})")
            for c in ("null", "null-2"):
                st = rows.get(c, {}).get("status", "")
                check(st.startswith(f"fail: output: cannot write hist/{c}.csv: "),
                      f"read-only hist/: {c}'s status says its histogram was not written ({st!r})")
            good, line = final_line_matches_disk(p.stderr, out, 2)
            check(good, f"read-only hist/: the last line matches summary.csv ({line})")

        # a disk that fills up: 200k of tmpfs, raw files of ~120k each
        mnt = os.path.join(d, "small")
        os.makedirs(mnt)
        if os.geteuid() != 0:
            print("SKIP full disk: needs root to mount a small tmpfs")
            return
        mounted, why = mount_tmpfs(mnt, "size=200k")
        if not mounted:
            print(f"SKIP full disk: mount -t tmpfs failed: {why}")
            return
        try:
            s = suite(os.path.join(d, "full.toml"), [f'name = "n{i}"\nmechanism = "null"' for i in range(5)],
                      samples=40000)
            out = os.path.join(mnt, "out")
            p = run(harness, s, out, "--raw", env=env)
            rows = gb.read_summary(out)[1] if os.path.exists(os.path.join(out, "summary.csv")) else []
            sts = [r["status"] for r in rows]
            check(p.returncode == 1, f"full disk: exit 1 ({p.returncode}: {last_line(p.stderr)})")
            check(any("output: cannot write raw/" in st and "No space left on device" in st for st in sts),
                  f"full disk: the case whose raw file did not fit says so ({sts})")
            check(not any(st == "ok" and not os.path.exists(os.path.join(out, "raw", r["case"] + ".csv"))
                          for st, r in zip(sts, rows)), "full disk: no ok row lacks its raw file")
            check("stopped: the disk is full" in last_line(p.stderr), f"full disk: the run stopped ({last_line(p.stderr)})")
            good, line = final_line_matches_disk(p.stderr, out, 5)
            check(good, f"full disk: the last line matches what is on disk ({line})")
            if "cannot write meta.json" not in last_line(p.stderr):
                meta = gb.read_meta(out)
                check(meta["run"].get("stopped_disk_full") is True and len(meta["cases"]) == len(rows),
                      "full disk: meta.json says the run stopped and has a record per row")
        finally:
            subprocess.run(["umount", mnt])


# ---------------------------------------------------------------- signals

def check_signals(harness):
    with tempfile.TemporaryDirectory(prefix="gapbench-signals-") as d:
        env = env_lock(d)
        # stderr closed after three lines (`2>&1 | head -3`): the run goes on to the end
        s = suite(os.path.join(d, "p.toml"), [f'name = "n{i}"\nmechanism = "null"' for i in range(6)])
        out = os.path.join(d, "pipe")
        h = Lines([harness, "run", s, "--out", out], env=env)
        got = [h.p.stderr.readline() for _ in range(3)]
        h.p.stderr.close()   # what head does after its lines
        rc = h.p.wait(timeout=120)
        check(all(got), "three lines came before the pipe closed")
        check(rc == 0, f"a closed stderr does not end the run: exit {rc} (SIGPIPE is {-signal.SIGPIPE})")
        rows = gb.read_summary(out)[1] if os.path.exists(os.path.join(out, "summary.csv")) else []
        check(len(rows) == 6 and all(r["status"] == "ok" for r in rows),
              f"every case was measured after the pipe closed ({[r['status'] for r in rows]})")
        # and through a shell, as the issue has it
        out2 = os.path.join(d, "pipe-shell")
        p = subprocess.run(["bash", "-c", f'"$0" run "$1" --out "$2" 2>&1 | head -3; exit "${{PIPESTATUS[0]}}"',
                            harness, s, out2], capture_output=True, text=True, env=env, timeout=120)
        check(p.returncode == 0 and len(p.stdout.splitlines()) == 3,
              f"`harness run ... 2>&1 | head -3` exits 0 ({p.returncode})")

        # SIGHUP: like SIGINT and SIGTERM
        s = suite(os.path.join(d, "hup.toml"), [
            'name = "first"\nmechanism = "null"',
            'name = "hangs"\nmechanism = "selftest"\nvariant = "hang"\ntimeout_s = 60',
            'name = "third"\nmechanism = "null"', 'name = "fourth"\nmechanism = "null"'])
        out = os.path.join(d, "hup")
        h = Lines([harness, "run", s, "--out", out], env=env)
        check(h.wait_for("[2/4]"), "the run reached the hanging case")
        time.sleep(0.3)
        t0 = time.monotonic()
        h.p.send_signal(signal.SIGHUP)
        rc = h.finish(timeout=60)
        check(rc == 1, f"SIGHUP: the harness ends with exit 1, not killed ({rc})")
        check(time.monotonic() - t0 < 20, "SIGHUP: it ended at once, not at the case's timeout")
        rows = gb.rows_by_case(out) if os.path.exists(os.path.join(out, "summary.csv")) else {}
        check(rows.get("first", {}).get("status") == "ok", "SIGHUP: the case before it is ok")
        check(rows.get("hangs", {}).get("status", "").startswith("fail: interrupted"),
              f"SIGHUP: the running case was interrupted ({rows.get('hangs', {}).get('status')})")
        for c in ("third", "fourth"):
            check(rows.get(c, {}).get("status") == "fail: not run (interrupted)", f"SIGHUP: {c} not run (interrupted)")
        meta = gb.read_meta(out) if os.path.exists(os.path.join(out, "meta.json")) else {}
        check(meta.get("run", {}).get("interrupted") is True, "SIGHUP: meta.json says interrupted")
        check(len(meta.get("cases", [])) == 4, "SIGHUP: meta.json has every case")


# ---------------------------------------------------------------- locks

def check_locks(harness):
    with tempfile.TemporaryDirectory(prefix="gapbench-locks-") as d:
        env = env_lock(d)
        long_case = 'name = "hold"\nmechanism = "selftest"\nvariant = "hang"\ntimeout_s = 2'
        s = suite(os.path.join(d, "a.toml"), ['name = "a-first"\nmechanism = "null"', long_case], name="lock-a")
        out = os.path.join(d, "a")
        h = Lines([harness, "run", s, "--out", out], env=env)
        check(h.wait_for("[2/2]"), "run A is measuring")
        for extra in ((), ("--resume",), ("--force",), ("--no-lock",)):
            p = run(harness, s, out, *extra, env=env, timeout=30)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 2 and len(lines) == 1 and "in use" in lines[0] and f"pid {h.p.pid}" in lines[0],
                  f"a second run into A's folder {' '.join(extra)}: exit 2, one line naming pid {h.p.pid} "
                  f"({p.returncode}: {p.stderr.strip()[:200]})")
        h.finish()
        check(len(gb.read_summary(out)[1]) == 2, "run A kept both its rows")

        # different folders: the second waits for the measuring lock; --no-lock does not
        sb = suite(os.path.join(d, "b.toml"), ['name = "b-first"\nmechanism = "null"'], name="lock-b")
        sc = suite(os.path.join(d, "c.toml"), ['name = "c-first"\nmechanism = "null"'], name="lock-c")
        rfd, wfd = os.pipe()
        shared = os.fdopen(rfd, "r")
        outa, outb, outc = (os.path.join(d, x) for x in ("a2", "b", "c"))
        a = subprocess.Popen([harness, "run", s, "--out", outa], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=wfd, env=env)
        lines = []

        def read_until(pred):
            while True:
                line = shared.readline()
                if not line:
                    return False
                lines.append(line.rstrip("\n"))
                if pred(lines[-1]):
                    return True

        check(read_until(lambda x: x.startswith("[2/2] hold")), "run A is measuring its long case")
        b = subprocess.Popen([harness, "run", sb, "--out", outb], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=wfd, env=env)
        c = subprocess.Popen([harness, "run", sc, "--out", outc, "--no-lock"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=wfd, env=env)
        os.close(wfd)
        read_until(lambda x: False)   # to EOF: every run ended
        for proc in (a, b, c):
            proc.wait(timeout=60)

        def index(pred, what):
            for i, line in enumerate(lines):
                if pred(line):
                    return i
            check(False, f"no line {what}")
            return -1

        wait_b = index(lambda x: x.startswith("harness: waiting for the measuring lock") and f"pid {a.pid}" in x,
                       f"saying that run B waits for run A (pid {a.pid})")
        end_a = index(lambda x: re.match(r"\d+ cases: ", x) and x.endswith("results in " + outa), "ending run A")
        start_b = index(lambda x: x.startswith("[1/1] b-first"), "starting run B's case")
        start_c = index(lambda x: x.startswith("[1/1] c-first"), "starting run C's case")
        check(0 <= wait_b < end_a < start_b, f"run B waited (line {wait_b}) until run A ended (line {end_a}) "
              f"before measuring (line {start_b})")
        check(0 <= start_c < end_a, f"the --no-lock run C measured while A held the lock (lines {start_c}, {end_a})")
        waiting = [x for x in lines if x.startswith("harness: waiting")]
        check(len(waiting) == 1, f"one waiting line, from run B only ({waiting})")
        check(b.returncode == 0 and c.returncode == 0, f"runs B and C exit 0 ({b.returncode}, {c.returncode})")
        mb, mc = gb.read_meta(outb), gb.read_meta(outc)
        seen_b = {r["pid"]: r for r in mb["run"]["measure_lock"]["runs_beside"]}
        check(seen_b.get(a.pid, {}).get("this_run_waited_for_it") is True and seen_b[a.pid].get("out") == outa
              and seen_b[a.pid].get("started"), f"run B's meta.json records run A, which it waited for ({seen_b})")
        seen_c = {r["pid"]: r for r in mc["run"]["measure_lock"]["runs_beside"]}
        check(seen_c.get(a.pid, {}).get("held_measuring_lock") is True,
              f"the --no-lock run's meta.json records run A measuring beside it ({seen_c})")
        check(mc["run"]["measure_lock"]["taken"] is False and mb["run"]["measure_lock"]["taken"] is True,
              "meta.json says which run took the measuring lock")


# ---------------------------------------------------------------- append

def check_append(harness):
    with tempfile.TemporaryDirectory(prefix="gapbench-append-") as d:
        env = env_lock(d)
        s = suite(os.path.join(d, "ap.toml"), [f'name = "n{i}"\nmechanism = "null"' for i in range(6)]
                  + ['name = "hold"\nmechanism = "selftest"\nvariant = "hang"\ntimeout_s = 1'])
        out = os.path.join(d, "out")
        h = Lines([harness, "run", s, "--out", out], env=env)
        check(h.wait_for("[2/7]"), "the run reached its second case")
        ino = {f: os.stat(os.path.join(out, f)).st_ino for f in ("summary.csv", "meta.json", "cases.jsonl")
               if os.path.exists(os.path.join(out, f))}
        check(len(ino) == 3, f"summary.csv, meta.json and cases.jsonl exist from the start ({sorted(ino)})")
        check(h.wait_for("[7/7]"), "the run reached its last case")
        for f, i in ino.items():
            check(os.stat(os.path.join(out, f)).st_ino == i, f"{f} was not rewritten per case (same inode)")
        check(len(gb.read_summary(out)[1]) == 6, "summary.csv holds the 6 finished cases while the 7th runs")
        jsonl = os.path.join(out, "cases.jsonl")
        check(os.path.exists(jsonl) and len(open(jsonl).readlines()) == 6,
              "cases.jsonl holds the 6 finished cases while the 7th runs")
        h.finish()
        meta = gb.read_meta(out)
        check(len(meta["cases"]) == 7 and len(gb.read_summary(out)[1]) == 7, "at the end: 7 rows and 7 records")


# ---------------------------------------------------------------- csv

def check_csv(harness):
    with tempfile.TemporaryDirectory(prefix="gapbench-csv-") as d:
        env = env_lock(d)
        formulas = ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)"]
        cases = []
        for i, f in enumerate(formulas):
            escaped = f.replace('"', '\\"')
            cases.append(f'name = "f{i}"\nmechanism = "null"\npmu = ["{escaped}"]')
        s = suite(os.path.join(d, "c.toml"), cases)
        out = os.path.join(d, "out")
        p = run(harness, s, out, env=env)
        check(p.returncode in (0, 1), f"the run finished ({p.returncode}: {last_line(p.stderr)})")
        rows = gb.rows_by_case(out)
        for i, f in enumerate(formulas):
            cell = rows.get(f"f{i}", {}).get("pmu", "")
            check(cell.startswith("'" + f), f"the pmu cell of {f!r} is neutralised with a quote ({cell!r})")
        text = open(os.path.join(out, "summary.csv")).read()
        check("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")" in text, "the neutralised cell is quoted")
        for line in text.splitlines()[1:]:
            for cell in next(csv.reader([line])):
                check(not re.match(r"[=+\-@\t\r]", cell) or re.fullmatch(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?", cell),
                      f"no text cell starts with a formula character ({cell!r})")


CHECKS = {"folder": check_folder, "resume": check_resume, "outputs": check_outputs, "signals": check_signals,
          "locks": check_locks, "append": check_append, "csv": check_csv}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CHECKS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    CHECKS[sys.argv[2]](os.path.abspath(sys.argv[1]))
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
