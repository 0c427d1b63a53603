#!/usr/bin/env bash
# Installs everything gapbench needs to build, test and run, from Debian 12's packages.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
	echo "ci/install-deps.sh: run as root (apt-get install)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential g++ meson ninja-build pkg-config git ca-certificates \
	libtomlplusplus-dev libjansson-dev libmd-dev libpfm4-dev libcsv-dev \
	rt-tests gnuplot-nox python3 linux-perf chromium iproute2 \
	bzip2 \
	qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64 busybox-static cpio \
	postgresql postgresql-common python3-psycopg2 \
	kmod
