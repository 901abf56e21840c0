#!/bin/bash
# SPDX-License-Identifier: MIT
# remote_shutdown (L3, L4) through the real ioreqvm: another connection to
# the VM's socket (ioreqctl, one more client like any device model) stops
# the VM it is connected to with each reason, and ioreqvm exits with the
# documented status: poweroff 0, reboot 10, quit 12. A reason ioreqvm has
# no outcome for (Xen's SHUTDOWN_crash, 3) is refused with a message and
# the VM runs on. The guest is the console guest in echo mode (it runs
# until stopped from outside).
# Usage: check_shutdown.sh BACKEND IOREQVM IOREQCTL CONSOLE-KERNEL
# The kvm variant skips (exit 77, loudly) only when /dev/kvm is missing.
set -u
backend=$1 vmm=$2 ctl=$3 kernel=$4

if [ "$backend" = kvm ] && [ ! -c /dev/kvm ]; then
	echo "SKIPPED: kvm variant: /dev/kvm is missing on this machine" >&2
	exit 77
fi

tmp=$(mktemp -d)
vm=
trap '[ -n "$vm" ] && kill -KILL "$vm" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
report() { echo "FAIL: $*" >&2; fail=1; }

# start: the VM in the background, until its guest says it is ready.
start() {
	rm -f "$tmp/out" "$tmp/err"
	"$vmm" run --accel "$backend" --kernel "$kernel" --cmdline echo --socket "$tmp/vm.sock" \
		</dev/null >"$tmp/out" 2>"$tmp/err" &
	vm=$!
	for ((i = 0; i < ${GUEST_TIMEOUT:-120} * 10; i++)); do
		grep -q '^console: ready$' "$tmp/out" 2>/dev/null && return 0
		kill -0 "$vm" 2>/dev/null || break
		sleep 0.1
	done
	report "the guest did not get ready: $(cat "$tmp/err")"
	return 1
}

# stopped_with STATUS WHAT: ioreqvm ends (within 30 s) with STATUS.
stopped_with() {
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$vm" 2>/dev/null || break
		sleep 0.1
	done
	wait "$vm"
	local st=$?
	vm=
	[ "$st" -eq "$1" ] || report "$2: ioreqvm exit status $st, expected $1 ($(cat "$tmp/err"))"
}

for c in poweroff:0 reboot:10 quit:12; do
	reason=${c%:*} want=${c#*:}
	start || continue
	"$ctl" --socket "$tmp/vm.sock" shutdown "$reason" >"$tmp/ctl" 2>&1 ||
		report "ioreqctl shutdown $reason failed: $(cat "$tmp/ctl")"
	stopped_with "$want" "shutdown $reason"
done

if start; then
	"$ctl" --socket "$tmp/vm.sock" shutdown 3 >"$tmp/ctl" 2>&1
	st=$?
	[ "$st" -eq 1 ] || report "shutdown 3 (crash): ioreqctl status $st, expected 1"
	grep -q 'shutdown reason 3 not supported' "$tmp/ctl" ||
		report "shutdown 3: no reason given: $(cat "$tmp/ctl")"
	sleep 0.5
	kill -0 "$vm" 2>/dev/null || report "shutdown 3 was refused, yet the VM stopped"
	kill -TERM "$vm"
	stopped_with 143 "SIGTERM after a refused shutdown"
fi
exit "$fail"
