#!/usr/bin/env python3
"""Reports of a results folder: DIR/report.html (self-contained: the machine
and its warnings, one section per paper with its numbers beside this
machine's, every case, the plots inline) and DIR/report.txt (printed).

usage: plots/report.py DIR      (run `harness plot DIR` first for the plots)

Only formats what the harness wrote (summary.csv, meta.json, read with
gbresults.py); it computes no statistics of its own, and no comparison with
the papers: the harness wrote those cells (ref_here, ref_ratio...).
"""
import os
import sys

import gbresults as gb
import report_html


def warnings_of(meta):
    p = meta.get("platform", {})
    cpu, tsc, hv, kvm = p.get("cpu", {}), p.get("tsc", {}), p.get("hypervisor", {}), p.get("kvm", {})
    pmu, build = p.get("pmu", {}), p.get("build", {})
    warnings = []
    if meta.get("accel") == "tcg":
        warnings.append(f"{meta.get('placement', 'in vm (tcg)')}: the suite ran in a guest under qemu's "
                        "emulator: tcg: emulated, not a latency (no time here is set beside a paper)")
    if hv.get("present"):
        warnings.append(f"runs in a virtual machine ({hv.get('cpuid_vendor', '?')})"
                        + ("; KVM guests here are nested" if kvm.get("guests_are_nested") else ""))
    if not pmu.get("hardware_pmu_visible"):
        warnings.append("no hardware PMU: counters are unavailable")
    govs = set(cpu.get("governor", {}).values())
    if govs and govs != {"performance"}:
        warnings.append(f"CPU frequency governor: {', '.join(sorted(govs))} (not performance)")
    if build.get("timings_from_sanitized_build"):
        warnings.append(f"sanitized build ({build.get('sanitize')}): timings are not representative")
    if not tsc.get("invariant_cpuid") and not tsc.get("nonstop_tsc"):
        warnings.append("TSC not reported invariant")
    if not tsc.get("probe_overhead", {}).get("stable", True):
        warnings.append("the probe overhead was unstable at the start of the run")
    return warnings


def machine_lines(meta, warnings):
    p = meta.get("platform", {})
    cpu, tsc, kern, build = p.get("cpu", {}), p.get("tsc", {}), p.get("kernel", {}), p.get("build", {})
    lines = [
        f"machine: {cpu.get('model', '?')}, {cpu.get('online', '?')} CPUs, kernel {kern.get('release', '?')}",
        f"TSC: {tsc.get('tsc_khz', 0) / 1000:.3f} MHz from {tsc.get('source', '?')} "
        f"({tsc.get('deviation_from_monotonic_raw_ppm', 0):+.0f} ppm vs CLOCK_MONOTONIC_RAW), "
        f"probe overhead {tsc.get('probe_overhead', {}).get('min_cycles', '?')} cycles",
        f"gapbench {build.get('version', '?')} ({build.get('git_revision', '?')}), "
        f"{build.get('buildtype', '?')} build",
    ]
    return lines + [f"warning: {w}" for w in warnings]


def case_lines(rows):
    head = (f"{'case':44} {'status':10} {'samples':>8} {'p50 ns':>9} {'p99 ns':>9} {'max ns':>10} "
            f"{'p50 cyc':>9}  paper")
    out = [head, "-" * (len(head) + 30)]
    for r in rows:
        status = r["status"]
        if status != "ok":
            out.append(f"{r['case']:44} {status}")
            continue
        paper = ""
        if r.get("reference"):
            paper = f"{r['ref_value']} {r['ref_unit']} ({r['reference']})"
            if r.get("ref_ratio"):
                here = f" {r['ref_here']} {r['ref_unit']}" if r.get("ref_here") else ""
                paper += f", {r['ref_stat']} here{here}, here / paper: x{r['ref_ratio']}"
                if r.get("ref_ratio_time") and r["ref_unit"] == "cycles":
                    paper += f" in cycles, x{r['ref_ratio_time']} in time"
            elif "tcg" in r.get("placement", ""):
                paper += ", not compared: tcg: emulated, not a latency"
            if r.get("stand_in"):
                paper += f"; stand-in, not the paper's mechanism: {r['stand_in']}"
        ok = "ok (tcg)" if "tcg" in r.get("placement", "") else "ok"   # emulated times: not latencies
        out.append(f"{r['case']:44} {ok:10} {r['samples']:>8} {r['p50_ns']:>9} {r['p99_ns']:>9} "
                   f"{r['max_ns']:>10} {r['p50_cycles']:>9}  {paper}")
    return out


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) == 2 else 2)
    folder = sys.argv[1]
    try:
        meta = gb.read_meta(folder)
        rows = gb.read_summary(folder)[1]
    except (OSError, ValueError) as e:
        print(f"report.py: {e}", file=sys.stderr)
        sys.exit(2)
    suite = meta.get("suite", {})
    text = [f"gapbench results: suite {suite.get('name', '?')} ({suite.get('path', '?')})", ""]
    warnings = warnings_of(meta)
    text += machine_lines(meta, warnings) + [""] + case_lines(rows)
    # facts a case asks to have printed with the report (e.g. vLibOS's exit + entry over the KVM floor)
    notes = [(r["case"], gb.fact(gb.meta_case(meta, r["case"]), "section_note")) for r in rows]
    text += [f"note: {case}: {note}" for case, note in notes if note]
    plot_dir = os.path.join(folder, "plots")
    if os.path.isdir(plot_dir):
        pngs = sorted(f for f in os.listdir(plot_dir) if f.endswith(".png"))
        text += ["", f"plots ({len(pngs)} PNG, with SVG beside each) in {plot_dir}:"] + [f"  {p}" for p in pngs]
    report = os.path.join(folder, "report.txt")
    with open(report + ".tmp", "w") as f:
        f.write("\n".join(text) + "\n")
    os.replace(report + ".tmp", report)
    html_path = report_html.write(folder, meta, rows, warnings)
    print("\n".join(text))
    print(f"\nreport: {html_path} (text: {report})")


if __name__ == "__main__":
    main()
