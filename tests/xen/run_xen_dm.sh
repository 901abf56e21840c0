#!/bin/bash
# SPDX-License-Identifier: MIT
# A Xen device model (xen_dm_model.c) under ioreqvm on one CPU backend:
#   1. it was linked against Debian's libxendevicemodel.so.1: DT_NEEDED names
#      that SONAME (and no ioreqvm library), its version needs list VERS_
#      nodes of it, and without help the loader resolves it to Debian's file;
#   2. with compat/xen/ first on LD_LIBRARY_PATH the loader picks ours;
#   3. ioreqvm starts it (--device-model) beside the ioreq guest's "pio"
#      mode: its DM ops (log lines "NAME ok") all pass, and the guest's
#      port writes and reads round-trip through it.
# Usage: run_xen_dm.sh BACKEND IOREQVM MODEL KERNEL COMPAT_DIR DEBIAN_LIB
# Skips (exit 77, loudly) only without /dev/kvm for kvm, or without Debian's
# library (libxen-dev).
set -u
backend=$1 vmm=$2 model=$3 kernel=$4 compat=$5 debian=$6

if [ "$backend" = kvm ] && [ ! -c /dev/kvm ]; then
	echo "SKIPPED: kvm variant: /dev/kvm is missing on this machine" >&2
	exit 77
fi
if [ ! -e "$debian" ]; then
	echo "SKIPPED: Debian's $debian is missing (install libxen-dev: scripts/setup.sh)" >&2
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
report() { echo "FAIL: $*" >&2; fail=1; }

# 1. How the model was linked.
needed=$(readelf -d "$model" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
grep -qx 'libxendevicemodel.so.1' <<<"$needed" || report "DT_NEEDED lacks libxendevicemodel.so.1: $needed"
grep -qE 'ioreq' <<<"$needed" && report "the model needs an ioreqvm library: $needed"
vneeds=$(readelf -V -W "$model" | awk '/File: /{f=$0} /Name: VERS_/{if (f ~ /libxendevicemodel.so.1/) print $0}')
[ -n "$vneeds" ] || report "no version needs on libxendevicemodel.so.1's VERS_ nodes"
echo "version needs on libxendevicemodel.so.1: $(grep -o 'VERS_[0-9.]*' <<<"$vneeds" | tr '\n' ' ')"
resolve() { # the file the loader picks for libxendevicemodel.so.1
	# meson test puts its build's library folders on LD_LIBRARY_PATH: not here.
	env -u LD_LIBRARY_PATH "$@" LD_TRACE_LOADED_OBJECTS=1 "$model" 2>/dev/null | awk '$1 == "libxendevicemodel.so.1" {print $3}'
}
plain=$(resolve)
[ "$(readlink -f "$plain")" = "$(readlink -f "$debian")" ] ||
	report "without LD_LIBRARY_PATH the model loads '$plain', not Debian's $debian"
ours=$(resolve LD_LIBRARY_PATH="$compat")
[ "$(readlink -f "$(dirname "$ours")")" = "$(readlink -f "$compat")" ] ||
	report "with LD_LIBRARY_PATH=$compat the model loads '$ours', not ours"

# 2-3. Under ioreqvm.
log="$tmp/model.log"
timeout --kill-after=5 "${GUEST_TIMEOUT:-120}" \
	"$vmm" run --accel "$backend" --kernel "$kernel" --cmdline pio \
	--device-model "env LD_LIBRARY_PATH=$compat $model --port 0x510:0x51f --log $log" \
	>"$tmp/out" 2>"$tmp/err"
status=$?
[ "$status" -eq 1 ] || report "exit status $status, expected 1 (the guest's pass)"
n=$(grep -c ' ok ' "$tmp/out")
[ "$n" -eq 5 ] || report "$n guest lines with ' ok ', expected 5"
grep -qxF 'ioreq: 0 failures' "$tmp/out" || report "missing guest line: ioreq: 0 failures"
grep -q 'FAIL' "$log" 2>/dev/null && report "the model's DM ops failed: $(grep FAIL "$log")"
n=$(grep -cE '^[a-z0-9_]+ ok$' "$log" 2>/dev/null)
[ "${n:-0}" -eq 38 ] || report "${n:-0} DM op checks passed, expected 38"
grep -qxF 'checks: 0 failures' "$log" 2>/dev/null || report "the model did not finish its checks"
grep -qxF 'bufioreq_port 0' "$log" 2>/dev/null || report "get_ioreq_server_info: no bufioreq_port 0"
grep -qxF 'vcpu 0 type 0 dir write addr 0x512 size 1 data 0x11' "$log" 2>/dev/null ||
	report "the model did not serve the guest's write of 0x11 to port 0x512"
grep -qE '^vcpu 0 type 0 dir read addr 0x51c size 4 ' "$log" 2>/dev/null ||
	report "the model did not serve the guest's read of port 0x51c"
if [ "$fail" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
	echo "--- model log ($backend):" >&2; cat "$log" >&2
	echo "--- guest serial output:" >&2; cat "$tmp/out" >&2
	echo "--- ioreqvm stderr:" >&2; cat "$tmp/err" >&2
fi
exit "$fail"
