#!/usr/bin/env bash
# The main job: install, build, run the baselines and every paper's experiments this machine can run
# (bench/suites/papers.toml), draw the plots, print the report beside the papers, cross-check.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
	bash ci/install-deps.sh
fi
BUILD_DIR=build bash ci/build.sh
out=${OUT:-results/papers-$(date +%Y%m%d-%H%M%S)}
rc=0
./build/harness/harness run "${SUITE:-bench/suites/papers.toml}" --out "$out" || rc=$?
if [ $rc -eq 2 ]; then
	exit 2
fi
./build/harness/harness plot "$out" || true
python3 plots/report.py "$out"
echo
echo "Cross-check against perf bench and cyclictest on this machine:"
python3 ci/crosscheck.py ./build/harness/harness || true
exit $rc
