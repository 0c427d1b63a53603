#!/usr/bin/env bash
# Configures and builds gapbench into BUILD_DIR (default: build). Extra args go to meson setup.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [ -f "$build_dir/build.ninja" ]; then
	meson setup --reconfigure "$build_dir" "$@" >/dev/null
else
	meson setup "$build_dir" "$@"
fi
ninja -C "$build_dir"
