#!/bin/bash
# SPDX-License-Identifier: MIT
# The console (DESIGN L3) through the real ioreqvm and its default UART
# model, with stdin and stdout as a user's shell gives them (no terminal;
# the terminal cases are check_console_pty.py):
#   flood  the console guest prints N bytes of the pattern; every byte must
#          reach stdout, in order (console_pattern check); IOREQVM-ARGS
#          after N (e.g. a model started with --posted) go to ioreqvm;
#   pipe   N pattern bytes piped into ioreqvm reach the guest, each checked
#          by the guest; EOF ends input, the VM runs on;
#   file   the same from a file on stdin;
#   none   --console none: the guest's output goes nowhere (stdout stays
#          empty) and stdin is not read (a file's offset stays 0).
# Usage: check_console.sh MODE BACKEND IOREQVM CONSOLE-KERNEL CONSOLE-PATTERN N [IOREQVM-ARGS...]
# The kvm variant skips (exit 77, loudly) only when /dev/kvm is missing.
set -u
mode=$1 backend=$2 vmm=$3 kernel=$4 pattern=$5 n=$6
shift 6

if [ "$backend" = kvm ] && [ ! -c /dev/kvm ]; then
	echo "SKIPPED: kvm variant: /dev/kvm is missing on this machine" >&2
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
report() { echo "FAIL: $*" >&2; fail=1; }
run() { # run STDIN-FILE IOREQVM-ARGS...
	local in=$1
	shift
	timeout --kill-after=5 "${GUEST_TIMEOUT:-200}" \
		"$vmm" run --accel "$backend" --kernel "$kernel" "$@" <"$in" >"$tmp/out" 2>"$tmp/err"
}

case $mode in
flood)
	start=$EPOCHREALTIME
	run /dev/null --cmdline "flood $n" "$@"
	status=$?
	end=$EPOCHREALTIME
	[ "$status" -eq 1 ] || report "exit status $status, expected 1 (the guest's pass)"
	"$pattern" check "$n" "$tmp/out" >"$tmp/check" || report "output: $(cat "$tmp/check")"
	echo "flood: $n bytes in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s: $(cat "$tmp/check")"
	;;
pipe)
	"$pattern" gen "$n" | timeout --kill-after=5 "${GUEST_TIMEOUT:-200}" \
		"$vmm" run --accel "$backend" --kernel "$kernel" --cmdline "read $n" >"$tmp/out" 2>"$tmp/err"
	status=$?
	[ "$status" -eq 1 ] || report "exit status $status, expected 1 (the guest's pass)"
	grep -qE "^console: read $n bytes, 0 wrong \(first at -1\) in [0-9]+ interrupts$" "$tmp/out" ||
		report "the guest did not read the $n bytes intact"
	;;
file)
	"$pattern" gen "$n" >"$tmp/in"
	run "$tmp/in" --cmdline "read $n"
	status=$?
	[ "$status" -eq 1 ] || report "exit status $status, expected 1 (the guest's pass)"
	grep -qE "^console: read $n bytes, 0 wrong \(first at -1\) in [0-9]+ interrupts$" "$tmp/out" ||
		report "the guest did not read the $n bytes intact"
	;;
none)
	"$pattern" gen 65536 >"$tmp/in"
	exec 3<"$tmp/in"
	timeout --kill-after=5 "${GUEST_TIMEOUT:-200}" \
		"$vmm" run --accel "$backend" --kernel "$kernel" --cmdline "flood $n" --console none \
		<&3 >"$tmp/out" 2>"$tmp/err"
	status=$?
	pos=$(awk '/^pos:/ { print $2 }' /proc/$$/fdinfo/3)
	exec 3<&-
	[ "$status" -eq 1 ] || report "exit status $status, expected 1 (the guest's pass)"
	[ ! -s "$tmp/out" ] || report "stdout has $(wc -c <"$tmp/out") bytes, expected none"
	[ "$pos" = 0 ] || report "stdin was read ($pos bytes): --console none must leave it alone"
	;;
*)
	echo "check_console.sh: unknown mode $mode" >&2
	exit 2
	;;
esac

if [ "$fail" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
	echo "--- guest serial output ($backend, first 40 lines):" >&2; head -40 "$tmp/out" >&2
	echo "--- ioreqvm stderr:" >&2; cat "$tmp/err" >&2
fi
exit "$fail"
