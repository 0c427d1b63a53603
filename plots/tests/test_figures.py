#!/usr/bin/env python3
"""The papers' figures (plots/figures.toml) drawn by `harness plot`.

usage: test_figures.py HARNESS

1. figures.toml is complete, and an incomplete entry is refused.
2. A small suite of real cases (hijack native/sud over working sets of both
   kinds, ULS IPC threads/processes, a pipe round trip and a signal with paper
   references, the signal upcall with its stand-in) is run and plotted: each
   expected figure exists, is a real picture, holds the series and x values
   of its cases, and a figure whose cases are absent is not drawn. The
   stand-in shows in summary.csv, meta.json, the papers table and the chart.
3. vLibOS Figure 6 from made-up membus_periods.csv files (KVM cases do not
   run everywhere): the slowdown of each configuration against alone at the
   same U, warm-up periods left out, a new configuration drawn by its name;
   and the paper's one TLB number as a line across the ULS TLB curve.
4. The per-case figures (kinds series and shares) from made-up data files:
   the QoS packets per task and the service manager's shares, one picture
   per case, none for a case whose file is empty or absent.
5. Karma's latency tails (kind tails) from made-up histograms: a figure
   with its cases drawn with its labels, one whose cases are absent not
   drawn, a case that failed left out.
"""
import copy
import csv
import os
import shutil
import subprocess
import sys
import tempfile

PLOTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, PLOTS)
import datafiles  # noqa: E402
import figures  # noqa: E402
import gbresults as gb  # noqa: E402

STAND_IN = "signal stands in for the kernel upcall (tgkill onto the sandbox stack, not SYSEXIT)"
SUITE = f'''
[suite]
name = "figures"
[defaults]
samples = 400
warmup = 50
priority = 80
timeout_s = 60

[[case]]
name = "ws"
mechanism = "hijack"
variant = ["native", "sud"]
working_set_pages = [0, 8, 64]
ws_kind = ["data", "instruction"]

[[case]]
name = "ipc"
mechanism = "uls"
variant = ["ipc-thread", "ipc-process"]
working_set_pages = [0, 64]

[[case]]
mechanism = "pipe-rpc"
variant = "thread-rtt"
samples = 2000
reference = "hijackcos.table1.pipe_rpc"

[[case]]
mechanism = "signal"
variant = "self"
samples = 2000
reference = "uls.signal_delivery_current_process"

[[case]]
mechanism = "uls"
variant = "upcall"
samples = 2000
reference = "uls.raw_upcall"
stand_in = "{STAND_IN}"
'''
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def picture(path):
    """A PNG of a drawn chart, not an empty canvas: its size."""
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        head = f.read(8)
    return os.path.getsize(path) if head == b"\x89PNG\r\n\x1a\n" else 0


def plot(harness, folder):
    return subprocess.run([harness, "plot", folder], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=180)


def check_contract():
    figs, paper = figures.load()
    problems = figures.figure_problems(figs)
    check(not problems, "figures.toml complete: " + "; ".join(problems))
    check(paper.get("names") and paper.get("log_span"), "figures.toml has the [paper] table")
    base = figs[0]
    broken = {
        "no x": lambda f: f.pop("x"),
        "an unknown kind": lambda f: f.update(kind="pie"),
        "a data file on a summary figure": lambda f: f.update(file="packets_per_interval.csv"),
        "a per-case series without its data file": lambda f: f.update(kind="series", y=["a"], axes=""),
        "a per-case series whose y is not a list": lambda f: f.update(kind="series", file="x.csv", axes=""),
        "an axis the kind lacks": lambda f: f.update(axes="zero"),
        "a title that names no paper figure": lambda f: f.update(title="round trip"),
        "slowdown without data": lambda f: f.update(y="slowdown_pct"),
        "an unknown key": lambda f: f.update(colour="red"),
    }
    for what, edit in broken.items():
        f = copy.deepcopy(base)
        edit(f)
        check(figures.figure_problems([f]), f"a figure with {what} is refused")
    check(figures.figure_problems([base, copy.deepcopy(base)]), "a figure name used twice is refused")
    tails = next(f for f in figs if f["kind"] == "tails")
    for what, edit in {"no cases": lambda f: f.pop("cases"), "an empty case list": lambda f: f.update(cases=[]),
                       "an x (not a tails key)": lambda f: f.update(x="working_set_pages")}.items():
        f = copy.deepcopy(tails)
        edit(f)
        check(figures.figure_problems([f]), f"a tails figure with {what} is refused")


def check_real(harness, d):
    suite = os.path.join(d, "figures.toml")
    with open(suite, "w") as f:
        f.write(SUITE)
    out = os.path.join(d, "real")
    p = gb.run(harness, suite, out, timeout=300)
    check(p.returncode == 0, f"the suite ran: exit {p.returncode} {p.stderr[-400:]}")
    rows = gb.rows_by_case(out)
    # the stand-in, beside the reference wherever the case's numbers go
    up = rows.get("uls-upcall", {})
    check(up.get("stand_in") == STAND_IN, f"summary.csv stand_in of uls-upcall: {up.get('stand_in')!r}")
    check(rows.get("signal-self", {}).get("stand_in") == "", "a case without stand_in has an empty cell")
    check(gb.meta_case(gb.read_meta(out), "uls-upcall").get("stand_in") == STAND_IN, "meta.json stand_in")
    lines = p.stderr.splitlines()
    at = [i for i, line in enumerate(lines) if line.startswith("uls-upcall ")]
    check(at and at[-1] + 1 < len(lines) and STAND_IN in lines[at[-1] + 1] and "stand-in" in lines[at[-1] + 1],
          "the papers table shows the stand-in under the case's line")

    p = plot(harness, out)
    check(p.returncode == 0 and "Traceback" not in p.stderr and not p.stderr.strip(),
          f"harness plot: exit {p.returncode} {p.stderr[-500:]}")
    pd = os.path.join(out, "plots")
    # (figure, series labels in the legend, x values)
    want = {
        "hijack-ws-data": (["native (no interposition)", "sud (executive in the guest's address space)"], ["0", "8", "64"]),
        "hijack-ws-instruction": (["native (no interposition)", "sud (executive in the guest's address space)"],
                                  ["0", "8", "64"]),
        "uls-ipc-ws": (["threads (one address space)", "processes (separate address spaces)"], ["0", "64"]),
        "paper-uls-cycles": (["the paper (cycles)", "this machine (cycles)"], ["signal-self", "uls-upcall [stand-in]"]),
        "paper-hijackcos-us": (["the paper (us)", "this machine (us)"], ["pipe-rpc-thread-rtt"]),
    }
    for name, (series, xs) in want.items():
        size = picture(os.path.join(pd, name + ".png"))
        check(size > 15000, f"{name}.png drawn ({size} bytes)")
        check(os.path.exists(os.path.join(pd, name + ".svg")), f"{name}.svg drawn")
        table = read_csv(os.path.join(pd, name + ".csv")) if os.path.exists(os.path.join(pd, name + ".csv")) else [[]]
        check(table[0][1:] == series, f"{name}: series {table[0][1:]}, expected {series}")
        check([r[0] for r in table[1:]] == xs, f"{name}: x {[r[0] for r in table[1:]]}, expected {xs}")
        check(all(c != "" for r in table[1:] for c in r), f"{name}: every point has a value: {table[1:]}")
    # the numbers are the summary's: the paper chart holds ref_value and ref_here
    table = read_csv(os.path.join(pd, "paper-uls-cycles.csv"))
    got = {r[0]: (float(r[1]), float(r[2])) for r in table[1:]}
    for case, label in (("signal-self", "signal-self"), ("uls-upcall", "uls-upcall [stand-in]")):
        r = rows[case]
        want_pair = (float(r["ref_value"]), float(r["ref_here"]))
        check(label in got and all(abs(a - b) <= 5e-4 * b for a, b in zip(got[label], want_pair)),
              f"paper chart {label}: {got.get(label)}, summary.csv {want_pair}")
    # the sweep's points are the cases' p50s, in us
    table = read_csv(os.path.join(pd, "hijack-ws-data.csv"))
    p50 = float(rows["ws-sud-working_set_pages=64-ws_kind=data"]["p50_ns"]) / 1000
    check(abs(float(table[3][2]) - p50) <= 1e-3 * p50, f"hijack-ws-data sud at 64: {table[3][2]} us, p50 {p50} us")
    # figures whose cases are not in the folder are not drawn, and nothing complained
    for absent in ("hijack-nanosleep", "vlibos-fig6", "uls-tlb-ws", "paper-vlibos-cycles"):
        check(not os.path.exists(os.path.join(pd, absent + ".png")), f"{absent} not drawn without its cases")


def membus_case(folder, case, variant, u, columns, load="none", warmup=2):
    entry = datafiles.by_name(datafiles.load())["membus_periods.csv"]
    path = os.path.join(folder, "data", case, "membus_periods.csv")
    os.makedirs(os.path.dirname(path))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(datafiles.column_names(entry))
        # warm-up periods first: far off, so that counting them would show
        for i in range(warmup):
            w.writerow([i, 1, 999999, 0, 0, 0])
        for i, c in enumerate(columns):
            w.writerow([warmup + i, c, 1000000 // c, 5000, 0, 0])
    return [case, "vlib", variant, load, "ok", f"u_pct={u} period_ms=100", str(warmup)]


def check_vlib(harness, d):
    folder = os.path.join(d, "vlib")
    os.makedirs(folder)
    rows = []
    for u, alone in ((10, 100), (30, 300), (60, 600)):
        rows.append(membus_case(folder, f"alone-{u}", "membus-alone", u, [alone, alone]))
        rows.append(membus_case(folder, f"guest-{u}", "membus-guest", u, [alone // 2, alone // 2]))   # 50% lost
        rows.append(membus_case(folder, f"thr-{u}", "membus-throttled", u, [alone * 3 // 4] * 2))    # 25% lost
    rows.append(membus_case(folder, "host-10", "membus-alone", 10, [90, 90], load="m_jump cpu=-1"))     # 10% lost
    rows.append(membus_case(folder, "quest-60", "membus-quest", 60, [480, 480]))                      # 20% lost
    rows = [r + ["", "", "", ""] for r in rows]
    # the ULS TLB curve with the paper's one number as a flat line (cited at 16 pages)
    rows.append(["tlb-1", "uls", "tlb-mprotect", "none", "ok", "working_set_pages=1", "0", "9000", "", "", ""])
    rows.append(["tlb-16", "uls", "tlb-mprotect", "none", "ok", "working_set_pages=16", "0", "20000",
                 "uls.tlb_flush_reload", "cycles", "8500"])
    with open(os.path.join(folder, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "mechanism", "variant", "load", "status", "params", "warmup_discarded", "p50_cycles",
                    "reference", "ref_unit", "ref_value"])
        w.writerows(rows)
    p = plot(harness, folder)
    check(p.returncode == 0 and not p.stderr.strip(), f"harness plot (made-up vlib): {p.returncode} {p.stderr[-400:]}")
    pd = os.path.join(folder, "plots")
    size = picture(os.path.join(pd, "vlibos-fig6.png"))
    check(size > 15000, f"vlibos-fig6.png drawn ({size} bytes)")
    table = read_csv(os.path.join(pd, "vlibos-fig6.csv"))
    want = [["u_pct", "alone", "linux (guest m_jump unchecked)", "linux + mem (guest m_jump in a throttled vLib call)",
             "host m_jump (no VM)", "membus-quest"],
            ["10", "0", "50", "25", "10", ""], ["30", "0", "50", "25", "", ""], ["60", "0", "50", "25", "", "20"]]
    check(table == want, f"vlibos-fig6.csv: {table}, expected {want}")
    table = read_csv(os.path.join(pd, "uls-tlb-ws.csv"))
    want = [["working_set_pages", "mprotect (page bits + TLB invalidate)", "the paper: 8500 cycles (one size)"],
            ["1", "9000", "8500"], ["16", "20000", "8500"]]
    check(table == want, f"uls-tlb-ws.csv: {table}, expected {want}")
    check(picture(os.path.join(pd, "uls-tlb-ws.png")) > 15000, "uls-tlb-ws.png drawn")


def data_case(folder, case, name, rows):
    """DIR/data/CASE/NAME with its declared header and the given rows."""
    entry = datafiles.by_name(datafiles.load())[name]
    path = os.path.join(folder, "data", case, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(datafiles.column_names(entry))
        w.writerows(rows)


def check_per_case(harness, d):
    """series and shares figures: one picture per case, from its own data file; none without rows."""
    folder = os.path.join(d, "per-case")
    os.makedirs(folder)
    data_case(folder, "e4-qos-tokens", "packets_per_interval.csv",
              [[f"{t / 10:.3f}", 40 if t >= 30 else 0, 30 if t >= 20 else 0, 20 if t >= 10 else 0, 10]
               for t in range(40)])
    data_case(folder, "e4-qos-same", "packets_per_interval.csv", [])   # a header and no rows: not drawn
    data_case(folder, "mgr", "utilization.csv",
              [[w, f"{w:.3f}", a, 8 * a, t, t + 0.01, 0.01, 0.3 if 3 <= w < 6 else 0.01]
               for w in range(10) for a, t in ((1, 0.3), (2, 0.2), (3, 0.1))])
    rows = [["e4-qos-tokens", "hijack", "qos-tokens", "packet-stream", "ok", "task_start_ms=1000"],
            ["e4-qos-same", "hijack", "qos-same", "packet-stream", "ok", "task_start_ms=1000"],
            ["mgr", "uls", "sm-user", "mmpp", "ok", "tick_us=10000"]]
    with open(os.path.join(folder, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "mechanism", "variant", "load", "status", "params"])
        w.writerows(rows)
    p = plot(harness, folder)
    check(p.returncode == 0, f"harness plot (made-up per-case data): {p.returncode} {p.stderr[-400:]}")
    pd = os.path.join(folder, "plots")
    for name in ("hijack-qos-packets-e4-qos-tokens", "uls-csm-shares-mgr"):
        size = picture(os.path.join(pd, name + ".png"))
        check(size > 10000, f"{name}.png drawn ({size} bytes)")
    check(not os.path.exists(os.path.join(pd, "hijack-qos-packets-e4-qos-same.png")),
          "a case whose data file has no rows is not drawn")
    check(not os.path.exists(os.path.join(pd, "hijack-qos-jitter-e4-qos-tokens.png")),
          "a case without the figure's data file is not drawn")


def check_tails(harness, d):
    """Karma Figure 7's tails from made-up histograms of its two cases; Figure 5's cases are absent."""
    folder = os.path.join(d, "tails")
    os.makedirs(os.path.join(folder, "hist"))
    rows = []
    for case, variant, base_ns, status in (("karma-vm-tpr-on", "vm-tpr", 20000, "ok"),
                                           ("karma-vm-tpr-off", "vm-tpr", 26000, "ok"),
                                           ("karma-vm-pv-deferred", "vm-pv-deferred", 15000, "fail: made up")):
        with open(os.path.join(folder, "hist", case + ".csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["lo_ns", "hi_ns", "count", "cumulative"])
            total = 0
            for i, n in enumerate((500, 300, 120, 50, 20, 8, 2)):
                total += n
                w.writerow([base_ns * (i + 1), base_ns * (i + 1) + 999, n, total])
        rows.append([case, "karma", variant, "none", status, ""])
    with open(os.path.join(folder, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "mechanism", "variant", "load", "status", "params"])
        w.writerows(rows)
    p = plot(harness, folder)
    check(p.returncode == 0, f"harness plot (made-up karma histograms): {p.returncode} {p.stderr[-400:]}")
    pd = os.path.join(folder, "plots")
    size = picture(os.path.join(pd, "karma-fig7.png"))
    check(size > 10000, f"karma-fig7.png drawn ({size} bytes)")
    svg = open(os.path.join(pd, "karma-fig7.svg")).read() if os.path.exists(os.path.join(pd, "karma-fig7.svg")) else ""
    check("TPR raised by the timer handler" in svg and "TPR not raised" in svg, "karma-fig7 names both series")
    check("Figure 7" in svg, "karma-fig7's title names the paper's figure")
    check(not os.path.exists(os.path.join(pd, "karma-fig5.png")), "a tails figure whose ok cases are absent is not drawn")
    figs, _ = figures.load()
    fig5 = next(f for f in figs if f["name"] == "karma-fig5")
    as_dicts = [dict(zip(["case", "mechanism", "variant", "load", "status", "params"], r)) for r in rows]
    check(figures.tails_cases(folder, as_dicts, fig5) == [], "a failed case is left out of its tails figure")


def main():
    harness = os.path.abspath(sys.argv[1])
    check_contract()
    if not shutil.which("gnuplot"):
        print("SKIP: gnuplot is not installed")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="gapbench-figures-") as d:
        check_vlib(harness, d)
        check_per_case(harness, d)
        check_tails(harness, d)
        check_real(harness, d)
    print(f"{len(failures)} check(s) failed" if failures else "all figure checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
