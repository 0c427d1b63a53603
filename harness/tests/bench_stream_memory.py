#!/usr/bin/env python3
"""Peak resident memory of a run against its sample count: kept samples cost 8 bytes each,
streamed ones (duration_s, keep_samples = false, or more than 10^7 samples) a constant.

usage: bench_stream_memory.py HARNESS [MAX_EXPONENT]   (default 9: 10^6, 10^8, 10^9 samples of null)

Prints the peak RSS of the harness and its case processes (the largest of them, from
getrusage(RUSAGE_CHILDREN)) for each; exits 1 when a streamed run peaks at 64 MiB or more.
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

LIMIT_KB = 64 * 1024


def main():
    harness = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    bad = 0
    with tempfile.TemporaryDirectory(prefix="gapbench-memory-") as d:
        for exp in [e for e in (6, 8, 9) if e <= top]:
            n = 10 ** exp
            suite = os.path.join(d, f"n{exp}.toml")
            with open(suite, "w") as f:
                f.write(f'[defaults]\nsamples = {n}\nwarmup = 0\ntimeout_s = 3600\n[[case]]\nmechanism = "null"\n')
            t0 = time.monotonic()
            # each run in its own child, so that RUSAGE_CHILDREN's peak is this run's alone
            code = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True);"
                    "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
            p = subprocess.run([sys.executable, "-c", code, harness, "run", suite, "--out", os.path.join(d, f"o{exp}")],
                               capture_output=True, text=True)
            rc, rss_kb = (int(x) for x in p.stdout.split())
            streamed = n > 10 ** 7
            ok = rc == 0 and (not streamed or rss_kb < LIMIT_KB)
            bad += not ok
            print(f"{'ok' if ok else 'FAIL':4} null, 10^{exp} samples ({'streamed' if streamed else 'kept'}): "
                  f"peak RSS {rss_kb / 1024:.1f} MiB, {time.monotonic() - t0:.0f} s (exit {rc})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
