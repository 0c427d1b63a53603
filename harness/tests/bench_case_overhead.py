#!/usr/bin/env python3
"""Per-case overhead of `harness run` over a long suite: it must not grow with the number of cases.

usage: bench_case_overhead.py HARNESS [CASES]     (default 10000 cases of null, samples = 10)

Each case's time is the time between the progress lines of two cases in a row; the
script prints the mean over the first and the last 500 cases (they should be about
equal: every file a case adds to is appended, none rewritten) and the harness's peak
RSS. It exits 1 when the end is more than 1.5 times the start.
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

WINDOW = 500
MAX_GROWTH = 1.5


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    harness = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) == 3 else 10000
    window = min(WINDOW, max(1, n // 4))
    # on the disk of the build folder, not a tmpfs: fsync must cost what it costs
    with tempfile.TemporaryDirectory(prefix="gapbench-bench-overhead-", dir=os.getcwd()) as d:
        suite = os.path.join(d, "many.toml")
        with open(suite, "w") as f:
            f.write('[suite]\nname = "many"\n[defaults]\nsamples = 10\nwarmup = 0\ntimeout_s = 10\n'
                    "mlock = false\ndma_latency = false\n")
            for i in range(n):
                f.write(f'[[case]]\nname = "n{i:05d}"\nmechanism = "null"\n')
        env = dict(os.environ, GAPBENCH_MEASURE_LOCK=os.path.join(d, "measure.lock"))
        p = subprocess.Popen([harness, "run", suite, "--out", os.path.join(d, "out")], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        stamps = []
        t_start = time.monotonic()
        for line in p.stderr:
            if line.startswith("["):
                stamps.append(time.monotonic())
        rc = p.wait()
        total_s = time.monotonic() - t_start
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if rc != 0 or len(stamps) != n:
        print(f"harness run exited {rc} after {len(stamps)} of {n} cases", file=sys.stderr)
        sys.exit(1)
    per = [b - a for a, b in zip(stamps, stamps[1:])]
    start_ms = 1e3 * sum(per[:window]) / window
    end_ms = 1e3 * sum(per[-window:]) / window
    print(f"{n} cases in {total_s:.1f} s; per case: {start_ms:.2f} ms over the first {window}, "
          f"{end_ms:.2f} ms over the last {window} (x{end_ms / start_ms:.2f}); harness peak RSS {peak_kib / 1024:.1f} MiB")
    if end_ms > MAX_GROWTH * start_ms:
        print(f"the per-case overhead grew more than {MAX_GROWTH}x over the suite", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
