#!/usr/bin/env python3
"""The vLibOS section of the report prints the KVM-floor note of its vm-exit/vm-entry cases.

usage: test_report_note.py   (no harness, no KVM: a made-up meta.json record)
A case's `section_note` fact appears once under the paper whose row the case
cites, or whose key its `section_paper` fact names (Figure 6's rows), and not
under another paper (report_html.section_notes / seed_section).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "plots"))
import report_html  # noqa: E402

NOTE = "vm exit p50 100 + vm entry p50 200 = 300 cycles; KVM floor round trip p50 150 cycles: 2.00x the floor"


def main():
    meta = {"cases": [{"case": "vlib-vm-exit", "report": {"section_note": NOTE}},
                      {"case": "vlib-vm-entry", "report": {"section_note": NOTE}},
                      {"case": "other", "report": {}},
                      {"case": "vlib-membus-membus-guest-u_pct=10",
                       "report": {"section_paper": "vlibos", "section_note": "Figure 6, linux: not visible"}}]}
    row = {"id": "vlibos.table2.vm_exit", "experiment": "e", "metric": "m", "value": "481", "unit": "cycles",
           "stddev": "", "cpu": "c", "cpu_ghz": "", "notes": ""}
    vlib = {"key": "vlibos", "title": "vLibOS", "about": "", "file": "vlibos.csv", "rows": [row]}
    other = {"key": "uls", "title": "ULS", "about": "", "file": "uls.csv",
             "rows": [dict(row, id="uls.x")]}
    case = {"case": "vlib-vm-exit", "status": "skip: x", "reference": "vlibos.table2.vm_exit"}
    by_ref = {"vlibos.table2.vm_exit": [case, dict(case, case="vlib-vm-entry")], "uls.x": [dict(case, case="other")]}
    notes = report_html.section_notes(meta, vlib, by_ref)
    bad = []
    if notes != [("vlib-vm-exit", NOTE), ("vlib-vm-entry", NOTE),
                 ("vlib-membus-membus-guest-u_pct=10", "Figure 6, linux: not visible")]:
        bad.append(f"notes {notes}")
    html = report_html.seed_section(vlib, by_ref, notes)
    if html.count("2.00x the floor") != 2 or not html.endswith("</section>"):
        bad.append("the vLibOS section lacks the notes")
    if report_html.section_notes(meta, other, by_ref):
        bad.append("a note under another paper")
    for b in bad:
        print(f"FAIL: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
