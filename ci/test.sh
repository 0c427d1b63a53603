#!/usr/bin/env bash
# Installs dependencies, builds, and runs `meson test`; then the unit tests again
# under ASan/UBSan. Ends with one line: N passed, N failed, N skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
	bash ci/install-deps.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi
rc=0
BUILD_DIR=build bash ci/build.sh || rc=1
BUILD_DIR=build-asan bash ci/build.sh -Db_sanitize=address,undefined -Db_lundef=false || rc=1
if [ $rc -ne 0 ]; then
	echo "build failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
# suite known-bug: tests of defects found and not yet fixed (named in the README); not a gate
known=$(meson test -C build --list --suite known-bug 2>/dev/null | grep '^gapbench:' | sed 's/.* //' | tr '\n' ' ')
echo "not run (suite known-bug): ${known:-none}"
meson test -C build --no-suite known-bug --print-errorlogs || rc=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --print-errorlogs || rc=1
python3 ci/count-results.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json || rc=1
exit $rc
