#!/usr/bin/env python3
"""plots/vm_ratio.py and `harness compare` across placements, on made-up results folders (no qemu).

usage: test_vm_ratio.py HARNESS
"""
import csv
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "plots"))
import vm_ratio  # noqa: E402

COLUMNS = ["case", "mechanism", "variant", "load", "status", "samples", "p50_ns", "p99_ns", "max_ns",
           "ref_value", "ref_unit", "ref_ratio", "reference", "ref_here", "placement"]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def folder(base, name, placement, rows):
    d = os.path.join(base, name)
    os.makedirs(d)
    with open(os.path.join(d, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r.get(c, "") for c in COLUMNS[:-1]] + [placement])
    with open(os.path.join(d, "meta.json"), "w") as f:
        f.write('{"cases": []}\n')
    return d


def rows(p50_idle, p50_compile, extra=()):
    return [{"case": "idle", "status": "ok", "p50_ns": p50_idle, "p99_ns": 2 * p50_idle, "max_ns": 4 * p50_idle},
            {"case": "compile", "status": "ok", "p50_ns": p50_compile, "p99_ns": p50_compile,
             "max_ns": p50_compile, "ref_value": "0.035", "ref_unit": "ratio",
             "reference": "karma.fig2.compile_slowdown"},
            {"case": "gone", "status": "ok", "p50_ns": 5, "p99_ns": 5, "max_ns": 5}, *extra]


def guest_side(harness, tmp):
    """What the harness does in a guest (run_vm.py sets the environment): placement, no paper, scaling."""
    suite = os.path.join(ROOT, "bench", "suites", "quick.toml")
    runs = {}
    for name, env in (("host", {}), ("tcg", {"GAPBENCH_PLACEMENT": "in vm (tcg: emulated, not a latency; samples x0.1)",
                                             "GAPBENCH_VM_SAMPLE_SCALE": "0.1"})):
        out = os.path.join(tmp, "run-" + name)
        p = subprocess.run([harness, "run", suite, "--filter", "signal-self", "--out", out, "--no-lock"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
                           env=dict(os.environ, **env))
        check(p.returncode == 0, f"{name}: harness run exited {p.returncode}: {p.stderr[-500:]}")
        with open(os.path.join(out, "summary.csv"), newline="") as f:
            runs[name] = (next(csv.DictReader(f)), p.stderr)
    (host, host_err), (tcg, tcg_err) = runs["host"], runs["tcg"]
    check(host["placement"] == "native" and host["ref_ratio"] != "" and host["ref_here"] != "",
          f"a native row is not set beside its paper: {host['placement']} {host['ref_ratio']!r}")
    check(tcg["placement"].startswith("in vm (tcg: emulated, not a latency"), f"tcg placement {tcg['placement']}")
    check(tcg["ref_ratio"] == "" and tcg["ref_here"] == "" and tcg["ref_ratio_time"] == "",
          f"a tcg row set beside a paper: here {tcg['ref_here']!r}, ratio {tcg['ref_ratio']!r}")
    check(tcg["reference"] == host["reference"] and tcg["ref_value"] == host["ref_value"],
          "a tcg row lost the paper's reference or number (they stay named)")
    check("not compared" in tcg_err and "not compared" not in host_err,
          f"the papers table does not say `not compared` under tcg only:\n{tcg_err[-800:]}")
    check(int(tcg["samples"]) * 10 == int(host["samples"]),
          f"GAPBENCH_VM_SAMPLE_SCALE=0.1: {tcg['samples']} samples against {host['samples']}")
    env = dict(os.environ, GAPBENCH_VM_SAMPLE_SCALE="2")
    p = subprocess.run([harness, "run", suite, "--out", os.path.join(tmp, "bad")], capture_output=True,
                       text=True, env=env, stdin=subprocess.DEVNULL)
    check(p.returncode == 2 and "GAPBENCH_VM_SAMPLE_SCALE" in p.stderr, f"a scale of 2 was not refused: {p.stderr}")


def main(harness):
    with tempfile.TemporaryDirectory() as tmp:
        native = folder(tmp, "native", "native", rows(1000, 1_000_000_000))
        kvm = folder(tmp, "kvm", "in vm (kvm)", rows(1500, 1_040_000_000)[:2]
                     + [{"case": "gone", "status": "timeout"}])
        tcg = folder(tmp, "tcg", "in vm (tcg: emulated, not a latency; samples x0.1)",
                     rows(50000, 30_000_000_000))

        text = vm_ratio.write(native, kvm)
        check("x1.500" in text, f"idle p50 ratio 1500/1000 not x1.500:\n{text}")
        check("slowdown +4.0%, paper 3.5% (karma.fig2.compile_slowdown)" in text,
              f"the compile slowdown is not set beside the paper's under kvm:\n{text}")
        check("status native 'ok', vm 'timeout'" in text, f"a case not ok in the VM is not said so:\n{text}")
        check("tcg" not in text, "a kvm comparison mentions tcg")

        svg_path = os.path.join(tmp, "out", "r.svg")
        text = vm_ratio.write(native, tcg, os.path.join(tmp, "out", "r.txt"), svg_path)
        check("tcg: emulated, not a latency" in text, f"the tcg table is not labelled:\n{text}")
        check("x50.000" in text, f"idle p50 ratio 50000/1000 not x50.000:\n{text}")
        check("paper 3.5%" not in text and "not compared with karma.fig2.compile_slowdown" in text,
              f"a tcg ratio set beside the paper:\n{text}")
        svg = open(svg_path).read()
        check(svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "tcg: emulated" in svg
              and svg.count("<rect") == 3, "the SVG lacks its 3 bars or the tcg label")
        check(open(os.path.join(tmp, "out", "r.txt")).read() == text.split("plot: ")[0],
              "--text did not write the table")

        # harness compare: different placements -> ratios, native first whichever side it is on
        for a, b in ((native, tcg), (tcg, native)):
            p = subprocess.run([harness, "compare", a, b], capture_output=True, text=True)
            check(p.returncode == 0, f"compare {a} {b}: exit {p.returncode} {p.stderr}")
            check("placements differ" in p.stdout and "x50.000" in p.stdout and "tcg: emulated" in p.stdout,
                  f"compare {os.path.basename(a)} {os.path.basename(b)}: no ratio table:\n{p.stdout}")
            check(os.path.isfile(os.path.join(tcg, "plots", "vm-ratio.svg")), "compare wrote no plot")
        # same placement: the usual verdicts, not ratios
        same = folder(tmp, "native2", "native", rows(1000, 1_000_000_000))
        p = subprocess.run([harness, "compare", native, same], capture_output=True, text=True)
        check("placements differ" not in p.stdout and "unknown" in p.stdout,
              f"compare of two native runs is not the usual comparison:\n{p.stdout}")
        guest_side(harness, tmp)
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("vm_ratio and compare across placements: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
