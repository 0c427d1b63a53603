"""The fleet in the history: machine identity and class, per-machine verdicts, trends with change points.

A machine id is a hash of /etc/machine-id (the id itself never leaves the
machine), or what --machine-id / $GAPBENCH_MACHINE_ID say. A machine class is
"CPU model, N cpus, linux MAJOR.MINOR, virtualization" read from the run's
meta.json, or --machine-class / $GAPBENCH_MACHINE_CLASS. Verdicts and change
points are computed within one machine and class: a machine whose kernel moved
to a new minor version starts a new series.
"""
import hashlib
import os
import statistics

import changepoints

STATS = ("p50_ns", "p90_ns", "p99_ns", "mean_ns", "max_ns")


def machine_id(override=None, meta=None, machine_id_file="/etc/machine-id"):
    """The id recorded with a run: the override, $GAPBENCH_MACHINE_ID, meta.json's platform.machine_id,
    or a hash of /etc/machine-id; None when none of them exists."""
    v = override or os.environ.get("GAPBENCH_MACHINE_ID")
    if v:
        return v
    plat = meta.get("platform") if isinstance(meta, dict) else None
    if isinstance(plat, dict) and isinstance(plat.get("machine_id"), str) and plat["machine_id"]:
        return plat["machine_id"]
    try:
        with open(machine_id_file, encoding="ascii") as f:
            raw = f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not raw:
        return None
    return "m-" + hashlib.sha256(b"gapbench machine id\n" + raw.encode()).hexdigest()[:16]


def machine_class(meta, override=None):
    """The class key of the machine a run's meta.json describes."""
    v = override or os.environ.get("GAPBENCH_MACHINE_CLASS")
    if v:
        return v
    plat = meta.get("platform") or {}
    cpu, kernel, hyp = plat.get("cpu") or {}, plat.get("kernel") or {}, plat.get("hypervisor") or {}
    model = cpu.get("model") if isinstance(cpu.get("model"), str) else "?"
    cores = cpu.get("online") if isinstance(cpu.get("online"), int) else "?"
    rel = kernel.get("release") if isinstance(kernel.get("release"), str) else "?"
    rel = ".".join(rel.split("-")[0].split(".")[:2])
    if hyp.get("present") is False:
        virt = "bare metal"
    elif hyp.get("present") is True:
        who = next((str(hyp[k]).strip() for k in ("cpuid_vendor", "dmi_product", "dmi_vendor")
                    if hyp.get(k) and str(hyp[k]).strip() not in ("", "unavailable")), "unknown")
        words = who.split()
        virt = "vm " + " ".join(w for i, w in enumerate(words) if i == 0 or w != words[i - 1])   # "bhyve bhyve"
    else:
        virt = "virtualization unknown"
    return f"{model}, {cores} cpus, linux {rel}, {virt}"


def filters(args, extra=None, params=()):
    """WHERE clause (with '?' placeholders) from --suite / --machine / --this-machine / --class."""
    clauses, out = [], []
    if getattr(args, "suite", None):
        clauses.append("r.suite = ?")
        out.append(args.suite)
    if getattr(args, "machine", None):
        clauses.append("(r.machine LIKE ? OR r.machine_id LIKE ?)")
        out += [f"%{args.machine}%"] * 2
    if getattr(args, "this_machine", False):
        clauses.append("r.machine_id = ?")
        out.append(machine_id() or "?")
    if getattr(args, "machine_class", None):
        clauses.append("r.machine_class LIKE ?")
        out.append(f"%{args.machine_class}%")
    if extra:
        clauses.append(extra)
        out += list(params)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", out


SHORT_SERIES = 20   # runs; below this the permutation test's alpha is SHORT_ALPHA instead of 0.01
SHORT_ALPHA = 0.05


def series_changes(points):
    """Steps and drifts of one series [(run, started, revision, value)] (>= 6 points, else none).

    A short series cannot reach p < 0.01 in e-divisive's permutation test: 10 runs split 5/5 have an
    exact p of 2/252 = 0.008, so a 30% step in 1% noise was found in 118 of 300 such series. Under
    SHORT_SERIES runs alpha is 0.05 (300 of 300 found at their run; 7 of 300 pure-noise series of 10
    runs showed a step): the step test behind it (5 standard errors) keeps most noise out.
    """
    if len(points) < 6:
        return {"steps": [], "drifts": []}
    x = [float(p[3]) for p in points]
    res = changepoints.analyse(x, alpha=SHORT_ALPHA if len(x) < SHORT_SERIES else 0.01)
    steps, drifts = [], []
    for t in res["steps"]:
        before, after = statistics.mean(x[max(0, t - 5):t]), statistics.mean(x[t:t + 5])
        steps.append({"index": t, "run": points[t][0], "started": points[t][1], "revision": points[t][2],
                      "before": before, "after": after,
                      "change_pct": 100 * (after - before) / before if before else None})
    for lo, hi, slope, p in res["segments"]:
        if p < res["trend_alpha"] and hi - lo >= 6:
            level = statistics.median(x[lo:hi])
            drifts.append({"from_run": points[lo][0], "to_run": points[hi - 1][0], "slope": slope,
                           "pct_per_run": 100 * slope / level if level else None, "p": p})
    return {"steps": steps, "drifts": drifts}


def case_points(db, args, case, stat):
    """Ok values of a case: {(class, machine id): {"host", "label", "points": [(run, started, rev, value)]}}."""
    w, params = filters(args, f"c.name = ? AND c.status = 'ok' AND c.{stat} IS NOT NULL", [case])
    rows = db.query(f"SELECT r.id, r.started, r.git_revision, c.{stat}, r.machine_class, r.machine_id, r.machine,"
                    " r.label FROM cases c JOIN runs r ON r.id = c.run_id" + w + " ORDER BY r.started, r.id",
                    params)
    out = {}
    for rid, started, rev, value, cls, mid, host, label in rows:
        s = out.setdefault((cls or "?", mid or "?"), {"host": host, "label": label, "points": []})
        s["points"].append((rid, started, rev, float(value)))
    return out


GROUPS = ("machine", "class", "all")


def trend(db, args, case, stat, recent, group="machine"):
    """The trend of a case: [{"class", "machines": [{machine_id, host, label, points, steps, drifts}]}],
    classes in name order. group "machine" (the default): one series per machine within its class;
    "class": one series per class, its machines' runs in time order; "all": one series of every run."""
    series = case_points(db, args, case, stat)
    if group != "machine":
        merged = {}
        for (cls, mid), s in series.items():
            key = (cls if group == "class" else "all classes", "*")
            m = merged.setdefault(key, {"host": None, "label": None, "points": [], "ids": set()})
            m["points"] += s["points"]
            m["ids"].add(mid)
        for m in merged.values():
            m["points"].sort(key=lambda p: (p[1], p[0]))
            m["host"] = f"{len(m.pop('ids'))} machine(s)"
        series = merged
    classes = {}
    for (cls, mid), s in sorted(series.items()):
        pts = s["points"][-recent:]
        classes.setdefault(cls, []).append({"machine_id": mid, "host": s["host"], "label": s["label"],
                                            "points": pts, **series_changes(pts)})
    return [{"class": cls, "machines": machines} for cls, machines in sorted(classes.items())]


def verdict(value, baseline, effect):
    """same / slower / faster of one value against a machine's earlier values (>= 3 of them)."""
    if len(baseline) < 3:
        return "no baseline"
    med = statistics.median(baseline)
    mad = statistics.median(abs(b - med) for b in baseline) * 1.4826
    limit = max(effect * med, 4 * mad)
    if value > med + limit:
        return "slower"
    if value < med - limit:
        return "faster"
    return "same"


def fleet(db, args, stat="p50_ns", baseline_runs=10, effect=0.05):
    """The latest run of each machine (and suite) with its cases' verdicts against that machine's own
    earlier runs of the same suite and class: [{run fields..., counts, slower: [cases], ...}]."""
    w, params = filters(args)
    runs = db.query("SELECT r.id, r.started, r.suite, r.git_revision, r.machine_id, r.machine_class, r.machine,"
                    " r.label, r.sanitized FROM runs r" + w + " ORDER BY r.started, r.id", params)
    history = {}
    for r in runs:
        history.setdefault((r[4], r[2]), []).append(r)
    out = []
    for (mid, suite), rs in sorted(history.items(), key=lambda kv: (kv[1][-1][5] or "", kv[0][0] or "", kv[0][1])):
        last = rs[-1]
        base = [r[0] for r in rs[:-1] if r[5] == last[5]][-baseline_runs:]
        ids = base + [last[0]]
        marks = ",".join("?" * len(ids))
        values = {}
        for rid, name, status, v in db.query(f"SELECT run_id, name, status, {stat} FROM cases WHERE run_id IN "
                                             f"({marks})", ids):
            values.setdefault(name, {})[rid] = (status, v)
        counts = {"same": [], "slower": [], "faster": [], "no baseline": [], "failed": [], "broken": [],
                  "skipped": []}
        for name, by_run in sorted(values.items()):
            status, v = by_run.get(last[0], (None, None))
            if status is None:
                continue
            earlier = [float(by_run[b][1]) for b in base if b in by_run and by_run[b][0] == "ok"
                       and by_run[b][1] is not None]
            if status.startswith("skip"):
                counts["skipped"].append(name)
                continue
            if status != "ok" or v is None:
                counts["broken" if earlier else "failed"].append(name)
                continue
            counts[verdict(float(v), earlier, effect)].append(name)
        out.append({"run": last[0], "started": last[1], "suite": suite, "revision": last[3], "machine_id": mid,
                    "class": last[5], "host": last[6], "label": last[7], "sanitized": bool(last[8]),
                    "baseline_runs": len(base), "cases": sum(len(v) for v in counts.values()), **counts})
    return out


def fleet_verdict(row):
    """One word or short phrase for a machine's night."""
    bad = [f"{len(row[k])} {k}" for k in ("slower", "broken", "failed") if row[k]]
    if bad:
        return ", ".join(bad)
    if row["baseline_runs"] < 3:
        return "no baseline yet"
    return f"ok ({len(row['faster'])} faster)" if row["faster"] else "ok"
