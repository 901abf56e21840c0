#!/bin/bash
# SPDX-License-Identifier: MIT
# The boundary between the VMM and its clients (meson.build: client_inc):
# compiles scratch_dm.c, a stand-in device model, with the project's C
# compiler (meson's cc.cmd_array()) and the include arguments the device
# models get (client_inc_dirs, source and build side, plus its own folder).
#   1. control: the file as a device model writes it (libioreq.h only) compiles;
#   2. the rule: the same file including "core/vm.h" does NOT compile, and
#      the reason is that core/vm.h is not found;
#   3. control: with the VMM's include set (vmm_inc_dirs) that file compiles,
#      so only the include path keeps the header out.
# Usage: check_dm_boundary.sh SCRATCH.c CC... -- CLIENT_ARGS... -- VMM_ARGS...
set -u
scratch=$1
shift
cc=() client=() vmm=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do cc+=("$1"); shift; done
shift
while [ $# -gt 0 ] && [ "$1" != -- ]; do client+=("$1"); shift; done
shift
vmm=("$@")
if [ ${#cc[@]} -eq 0 ] || [ ${#client[@]} -eq 0 ] || [ ${#vmm[@]} -eq 0 ]; then
	echo "usage: check_dm_boundary.sh SCRATCH.c CC... -- CLIENT_ARGS... -- VMM_ARGS..." >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# compile NAME ARGS...: compiles the scratch file; its diagnostics in $tmp/NAME.err.
compile() {
	name=$1
	shift
	echo "+ ${cc[*]} $* -c $scratch" >"$tmp/$name.err"
	"${cc[@]}" "$@" -c "$scratch" -o "$tmp/$name.o" 2>>"$tmp/$name.err"
}

if compile client "${client[@]}"; then
	echo "ok: a device model with the client include set compiles"
else
	echo "FAIL: the control (libioreq.h only, client include set) does not compile:"
	cat "$tmp/client.err"
	fail=1
fi

if compile reach "${client[@]}" -DREACH_INTO_VMM; then
	echo "FAIL: a device model including \"core/vm.h\" compiled with the client include set"
	cat "$tmp/reach.err"
	fail=1
elif grep -q 'core/vm\.h.*[Nn]o such file\|core/vm\.h.*file not found' "$tmp/reach.err"; then
	echo "ok: a device model including \"core/vm.h\" fails to build: core/vm.h not found"
else
	echo "FAIL: including \"core/vm.h\" failed, but not because the header was not found:"
	cat "$tmp/reach.err"
	fail=1
fi

if compile vmm "${vmm[@]}" -DREACH_INTO_VMM; then
	echo "ok: the same file compiles with the VMM include set"
else
	echo "FAIL: the control (core/vm.h with the VMM include set) does not compile:"
	cat "$tmp/vmm.err"
	fail=1
fi
exit $fail
