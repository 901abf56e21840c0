#!/bin/bash
# SPDX-License-Identifier: MIT
# What a Xen device model pays for the VM's xenstore and for populating and
# giving back RAM (DESIGN X1, X4): bench_xen_services, attached with
# `ioreqvm xen-env` to a VM running the p2m guest (it writes one frame in a
# loop), per backend. Not run by meson test.
# Usage: bench/xen_services.sh [BUILD_DIR] (default _build/release)
set -eu
dir=${1:-_build/release}
tmp=$(mktemp -d)
trap 'kill -TERM $vm 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
backends=tcg
[ -c /dev/kvm ] && backends="kvm tcg"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
for b in $backends; do
	"$dir/src/ioreqvm" run --accel "$b" --kernel "$dir/guests/p2m.elf" --cmdline hammer \
		--socket "$tmp/vm.sock" >/dev/null 2>&1 &
	vm=$!
	for ((i = 0; i < 100; i++)); do
		"$dir/tools/ioreqctl/ioreqctl" --socket "$tmp/vm.sock" info >/dev/null 2>&1 && break
		sleep 0.1
	done
	echo
	echo "backend $b"
	echo
	echo "| operation | calls | per call |"
	echo "|---|---|---|"
	"$dir/src/ioreqvm" xen-env --socket "$tmp/vm.sock" -- "$dir/bench/bench_xen_services" 1
	kill -TERM "$vm"
	wait "$vm" || true
done
