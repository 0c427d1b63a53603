#!/usr/bin/env bash
# Nightly run on a dedicated lab machine: check the machine is quiet and
# configured, build, run the full suite, plot and report, record history,
# compare with the last good night, publish, and fail on a regression.
#
# Environment:
#   GAPBENCH_NIGHTLY_DIR  state folder: runs/, history.sqlite, last-good (default /var/lib/gapbench)
#   SUITE                 suite to run (default bench/suites/papers.toml: baselines and every paper)
#   PUBLISH_DIR           if set, the report and plots are copied to PUBLISH_DIR/latest/
#   STRICT=1              a machine that is not quiet or not configured fails the night (exit 3)
#   COMPARE_ARGS          extra arguments for harness compare (e.g. "--effect 0.05")
#   HARNESS               an already built harness to use (skips the build)
#   GAPBENCH_HISTORY      the history database: a path or postgresql://USER@HOST/DB shared by the lab's
#                         machines (default $GAPBENCH_NIGHTLY_DIR/history.sqlite); a password goes in
#                         ~/.pgpass or PGPASSWORD, never in a log
#   GAPBENCH_MACHINE_ID   this machine's name in the history (default: a hash of /etc/machine-id)
#   GAPBENCH_RUN_LABEL    a label recorded with the run (e.g. the VM or accelerator it measured under)
#
# Exit status: 0 good night, 1 regression or failed cases, 2 bad input, 3 machine not ready (STRICT=1).
set -uo pipefail
cd "$(dirname "$0")/.."
state=${GAPBENCH_NIGHTLY_DIR:-/var/lib/gapbench}
suite=${SUITE:-bench/suites/papers.toml}
mkdir -p "$state/runs" || exit 2

# 1. Is the machine quiet and configured? Every finding is printed; STRICT decides.
problems=0
note() { echo "nightly: machine check: $*"; problems=$((problems + 1)); }
for g in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do
	[ -r "$g" ] || { note "no cpufreq governor visible (a VM?)"; break; }
	[ "$(cat "$g")" = performance ] || note "$g is $(cat "$g"), not performance"
done
[ -n "$(cat /sys/devices/system/cpu/isolated 2>/dev/null)" ] || note "no isolated CPUs (isolcpus=)"
load1=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }' && note "load average $load1 > 0.5"
rt=$(ps -eo cls=,comm=,pid= | awk '$1 == "FF" || $1 == "RR"' | grep -v -E ' (migration|watchdog|irq|rcu|ksoftirq|cpuhp|idle_inject)' | head -3)
[ -z "$rt" ] || note "real-time user tasks are running: $(echo "$rt" | tr '\n' ';')"
if [ "$problems" -gt 0 ] && [ "${STRICT:-0}" = 1 ]; then
	echo "nightly: $problems machine check(s) failed and STRICT=1: not running"
	exit 3
fi

# 2. Build, run, plot, report.
if [ -z "${HARNESS:-}" ]; then
	BUILD_DIR=build bash ci/build.sh >/dev/null || { echo "nightly: build failed"; exit 1; }
	HARNESS=./build/harness/harness
fi
out="$state/runs/$(date +%Y%m%d-%H%M%S)-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
"$HARNESS" run "$suite" --out "$out"
rc=$?
[ $rc -eq 2 ] && exit 2
"$HARNESS" plot "$out" >/dev/null || echo "nightly: plots failed (is gnuplot installed?)"
python3 plots/report.py "$out" >/dev/null || echo "nightly: report failed"
# the database travels in the environment, never on a command line (ps would show a password)
export GAPBENCH_HISTORY="${GAPBENCH_HISTORY:-$state/history.sqlite}"
"$HARNESS" history record "$out" || echo "nightly: recording the history failed"
# where this machine's series moved over the last 60 nights: steps (with the revision) and slow drifts
"$HARNESS" history changes --this-machine --recent 60 | tee "$out/changes.txt"

# 3. Compare with the last good night.
if [ -d "$state/last-good" ]; then
	# shellcheck disable=SC2086
	"$HARNESS" compare ${COMPARE_ARGS:-} "$state/last-good" "$out" | tee "$out/compare.txt"
	cmp=${PIPESTATUS[0]}
	[ "$cmp" -eq 2 ] && exit 2
	[ "$cmp" -ne 0 ] && rc=1
else
	echo "nightly: no last good night yet in $state: nothing to compare"
fi

# 4. Publish, and remember a good night.
if [ -n "${PUBLISH_DIR:-}" ]; then
	mkdir -p "$PUBLISH_DIR/latest" && cp -r "$out"/report.* "$out"/summary.csv "$out"/plots "$PUBLISH_DIR/latest/" 2>/dev/null
	# the fleet's trend page: every machine this history holds (one, with the default SQLite)
	"$HARNESS" history page "$PUBLISH_DIR/fleet.html" >/dev/null || echo "nightly: the trend page failed"
fi
if [ $rc -eq 0 ]; then
	ln -sfn "$out" "$state/last-good"
	echo "nightly: good night: $out"
else
	echo "nightly: REGRESSION or failed cases: $out (last good: $(readlink "$state/last-good" 2>/dev/null || echo none))"
fi
exit $rc
