#!/usr/bin/env python3
"""The tar and compile loads and mechanism workload leave nothing behind, on every exit path:

  - a normal run: no gapbench-* folder left in TMPDIR; the loads report non-zero achieved rates;
  - the harness SIGKILLed while a case runs (tar, compile, workload): the scratch folder goes
    (its janitor removes it) and no program started for it (tar, bzip2, make, gcc) survives;
  - a case that times out while the tar load prepares its archive: same;
  - stale gapbench-tar-* folders older than a day are removed by the next tar load, recent ones kept.

Every run gets a private TMPDIR, so other runs on the machine do not matter.

usage: cleanup.py HARNESS
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "plots"))
import gbresults as gb  # noqa: E402

# mlock is beside the point here (and refused under the address sanitizer)
HEAD = """[defaults]
priority = 50
warmup = 1
mlock = false
"""
NORMAL = HEAD + """timeout_s = 60
[[case]]
name = "tar"
mechanism = "timer"
variant = "nanosleep"
duration_s = 3
load = "tar"
load_opts = { size_mb = 2, files = 200 }
[[case]]
name = "compile"
mechanism = "timer"
variant = "nanosleep"
duration_s = 3
load = "compile"
load_opts = { units = 2, jobs = 2 }
[[case]]
name = "workload"
mechanism = "workload"
variant = "compile"
units = 2
samples = 2
priority = 0
"""
# long cases to kill in the middle
LONG = HEAD + """timeout_s = 120
[[case]]
name = "tar"
mechanism = "timer"
variant = "nanosleep"
duration_s = 60
load = "tar"
load_opts = { size_mb = 4, files = 400 }
[[case]]
name = "compile"
mechanism = "timer"
variant = "nanosleep"
duration_s = 60
load = "compile"
load_opts = { units = 8 }
[[case]]
name = "workload"
mechanism = "workload"
variant = "compile"
units = 8
samples = 1000
priority = 0
"""
# the case times out while the tar load still generates and packs its tree
TIMEOUT = HEAD + """timeout_s = 12
[[case]]
name = "tar-timeout"
mechanism = "timer"
variant = "nanosleep"
duration_s = 1
load = "tar"
load_opts = { size_mb = 512, files = 50000 }
"""

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def scratch_dirs(tmp):
    return sorted(n for n in os.listdir(tmp) if n.startswith("gapbench-"))


def programs_using(tmp):
    """pids whose command line names a path under tmp (tar, bzip2 via tar, make in its folder, gcc)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if tmp in cmd or cwd.startswith(tmp):
            found.append(f"{pid} {cmd.replace(chr(0), ' ')[:80]}")
    return found


def wait_until(pred, timeout_s):
    end = time.time() + timeout_s
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def write_suite(work, name, text):
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write(f'[suite]\nname = "{name}"\n' + text)
    return path


def env_with(tmp):
    env = dict(os.environ)
    env["TMPDIR"] = tmp
    return env


def load_fact(meta, case, key):
    """A number the case's load reported (meta.json load_achieved), or None."""
    v = gb.meta_case(meta, case).get("load_achieved", {}).get(key)
    return v.get("value") if isinstance(v, dict) else None


def normal_run(harness, work):
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=work)
    out = os.path.join(work, "normal")
    p = subprocess.run([harness, "run", write_suite(work, "normal", NORMAL), "--out", out], env=env_with(tmp),
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=180)
    rows = gb.rows_by_case(out)
    for case in ("tar", "compile", "workload"):
        check(gb.ok(rows, case), f"normal run: {case} ok" + ("" if gb.ok(rows, case) else f": {p.stderr[-300:]!r}"))
    meta = gb.read_meta(out)
    tar_rate = load_fact(meta, "tar", "mib_per_s")
    units_rate = load_fact(meta, "compile", "units_per_s")
    check(tar_rate is not None and tar_rate > 0, f"tar reports a non-zero MiB/s: {tar_rate}")
    check(units_rate is not None and units_rate > 0, f"compile reports non-zero units/s: {units_rate}")
    check(scratch_dirs(tmp) == [], f"normal run: nothing left in TMPDIR: {scratch_dirs(tmp)}")


def killed_run(harness, work, case):
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=work)
    out = os.path.join(work, "killed-" + case)
    h = subprocess.Popen([harness, "run", write_suite(work, "long", LONG), "--out", out, "--filter", case],
                         env=env_with(tmp), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    # a program running for the folder: tar or make, under way
    started = wait_until(lambda: scratch_dirs(tmp) and programs_using(tmp), 60)
    check(started, f"{case}: its scratch folder and programs appeared ({scratch_dirs(tmp)})")
    time.sleep(1.0)
    h.send_signal(signal.SIGKILL)
    h.wait()
    gone = wait_until(lambda: not scratch_dirs(tmp) and not programs_using(tmp), 20)
    check(gone, f"{case}: harness SIGKILLed: folder removed and programs gone "
                f"(left: {scratch_dirs(tmp)} {programs_using(tmp)})")


def timeout_run(harness, work):
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=work)
    out = os.path.join(work, "timeout")
    p = subprocess.run([harness, "run", write_suite(work, "timeout", TIMEOUT), "--out", out], env=env_with(tmp),
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    if not os.path.exists(os.path.join(out, "summary.csv")):
        check(False, f"timeout run: no results: {p.stderr[-300:]!r}")
        return
    rows = gb.rows_by_case(out)
    check(rows.get("tar-timeout", {}).get("status") == "timeout",
          f"the case timed out: {rows.get('tar-timeout', {}).get('status')}")
    gone = wait_until(lambda: not scratch_dirs(tmp) and not programs_using(tmp), 20)
    check(gone, f"timeout: folder removed and programs gone (left: {scratch_dirs(tmp)} {programs_using(tmp)})")


def stale_run(harness, work):
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=work)
    old = os.path.join(tmp, "gapbench-tar-old123")
    new = os.path.join(tmp, "gapbench-tar-new123")
    for d in (old, new):
        os.makedirs(os.path.join(d, "x", "y"))
        with open(os.path.join(d, "x", "y", "f.c"), "w") as f:
            f.write("int x;\n")
    two_days = time.time() - 2 * 86400
    os.utime(old, (two_days, two_days))
    out = os.path.join(work, "stale")
    subprocess.run([harness, "run", write_suite(work, "normal", NORMAL), "--out", out, "--filter", "tar"],
                   env=env_with(tmp), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    check(not os.path.exists(old), "a gapbench-tar-* folder two days old was removed")
    check(os.path.exists(new), "a recent gapbench-tar-* folder was kept")


def main():
    harness = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="gb-cleanup-") as work:
        normal_run(harness, work)
        for case in ("tar", "compile", "workload"):
            killed_run(harness, work, case)
        timeout_run(harness, work)
        stale_run(harness, work)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
