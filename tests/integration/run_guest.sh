#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs one guest under ioreqvm on one CPU backend and checks what it did:
# the exit status and lines of its serial output (exact lines or regexes).
# Usage: run_guest.sh BACKEND STATUS IOREQVM KERNEL [--line TEXT]... \
#                     [--regex ERE]... [--count ERE N]...
#                     [--file-count FILE ERE N]... [--file-min FILE ERE N]...
#                     [--skip-on-kvm-pvm REASON] [-- IOREQVM-ARGS...]
# --file-count / --file-min check how many lines of a file written during the
# run (e.g. a device model's log) match: exactly N, or at least N.
# Stdin is /dev/null: the console model (L3) reads it, and EOF just ends input.
# The kvm variant skips (exit 77, loudly) only when /dev/kvm is missing, or
# with --skip-on-kvm-pvm when this host's KVM is kvm_pvm (DESIGN section 7),
# whose measured deviation from a CPU REASON names.
set -u
backend=$1 want_status=$2 vmm=$3 kernel=$4
shift 4
lines=() regexes=() counts=() fcounts=() fmins=() pvm_reason=
while [ $# -gt 0 ]; do
	case $1 in
	--line) lines+=("$2"); shift 2 ;;
	--regex) regexes+=("$2"); shift 2 ;;
	--count) counts+=("$2" "$3"); shift 3 ;;
	--file-count) fcounts+=("$2" "$3" "$4"); rm -f "$2"; shift 4 ;;
	--file-min) fmins+=("$2" "$3" "$4"); rm -f "$2"; shift 4 ;;
	--skip-on-kvm-pvm) pvm_reason=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "run_guest.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

if [ "$backend" = kvm ] && [ ! -c /dev/kvm ]; then
	echo "SKIPPED: kvm variant: /dev/kvm is missing on this machine" >&2
	exit 77
fi
if [ "$backend" = kvm ] && [ -n "$pvm_reason" ] && [ -d /sys/module/kvm_pvm ]; then
	echo "SKIPPED: kvm variant on kvm_pvm: $pvm_reason (DESIGN section 7); the tcg variant runs" >&2
	exit 77
fi

out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
timeout --kill-after=5 "${GUEST_TIMEOUT:-120}" \
	"$vmm" run --accel "$backend" --kernel "$kernel" "$@" </dev/null >"$out" 2>"$err"
status=$?
fail=0
report() { echo "FAIL: $*" >&2; fail=1; }

[ "$status" -eq "$want_status" ] || report "exit status $status, expected $want_status"
for l in "${lines[@]}"; do
	grep -qxF -- "$l" "$out" || report "missing output line: $l"
done
for r in "${regexes[@]}"; do
	grep -qE -- "$r" "$out" || report "no output line matches: $r"
done
for ((i = 0; i < ${#counts[@]}; i += 2)); do
	n=$(grep -cE -- "${counts[i]}" "$out")
	[ "$n" -eq "${counts[i + 1]}" ] || report "$n lines match ${counts[i]}, expected ${counts[i + 1]}"
done
for ((i = 0; i < ${#fcounts[@]}; i += 3)); do
	n=$(grep -cE -- "${fcounts[i + 1]}" "${fcounts[i]}" 2>/dev/null)
	[ "${n:-0}" -eq "${fcounts[i + 2]}" ] ||
		report "${n:-0} lines of ${fcounts[i]} match ${fcounts[i + 1]}, expected ${fcounts[i + 2]}"
done
for ((i = 0; i < ${#fmins[@]}; i += 3)); do
	n=$(grep -cE -- "${fmins[i + 1]}" "${fmins[i]}" 2>/dev/null)
	[ "${n:-0}" -ge "${fmins[i + 2]}" ] ||
		report "${n:-0} lines of ${fmins[i]} match ${fmins[i + 1]}, expected at least ${fmins[i + 2]}"
done
if [ "$fail" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
	echo "--- guest serial output ($backend):" >&2; cat "$out" >&2
	echo "--- ioreqvm stderr:" >&2; cat "$err" >&2
fi
exit "$fail"
