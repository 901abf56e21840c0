#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's demo command: builds everything, then boots a guest that keeps
# a page-table-like structure while wp-monitor, a separate process, claims
# the ioreq_server memory type for WRITE and intercepts every update: once
# letting the writes through, once denying them.
set -eu
cd "$(dirname "$0")/.."
unicorn_pc=$(./scripts/setup.sh)
[ -z "$unicorn_pc" ] || export PKG_CONFIG_PATH="$unicorn_pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
dir=_build/release
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=debugoptimized >/dev/null
ninja -C "$dir" >/dev/null
for policy in allow deny; do
	echo
	echo "=== ioreqvm run --kernel guests/pt_demo.elf --device-model 'wp-monitor --announced --policy $policy'"
	status=0
	"$dir/src/ioreqvm" run --kernel "$dir/guests/pt_demo.elf" \
		--device-model "$dir/dm/wp-monitor/wp-monitor --announced --policy $policy" || status=$?
	# The guest ends with isa-debug-exit value 0: ioreqvm's status (0 << 1) | 1 = 1.
	if [ "$status" -ne 1 ]; then
		echo "demo: ioreqvm exited with status $status (1 expected)" >&2
		exit 1
	fi
done
