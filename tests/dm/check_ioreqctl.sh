#!/bin/bash
# SPDX-License-Identifier: MIT
# ioreqctl against a running VM on one CPU backend: the p2m guest hammers
# frame 0x601 at CPL3 while a second UART device model (COM2, attached over
# --socket) and ioreqctl talk to the VM. Checks info, servers, ranges,
# get-mem-type, a set-mem-type round trip (ram_ro drops the guest's writes and
# counts them), xen-info and the VM's xenstore (xenstore-ls, -read, -write),
# the VMM's refusals (status 1), bad usage (status 2), and that the device
# model exits 0 once the VM is gone.
# Usage: check_ioreqctl.sh BACKEND IOREQVM IOREQCTL UART-DM P2M-GUEST
# The kvm variant skips (exit 77, loudly) only when /dev/kvm is missing.
set -u
backend=$1 vmm=$2 ctl=$3 dm=$4 kernel=$5

if [ "$backend" = kvm ] && [ ! -c /dev/kvm ]; then
	echo "SKIPPED: kvm variant: /dev/kvm is missing on this machine" >&2
	exit 77
fi

tmp=$(mktemp -d)
sock=$tmp/vm.sock
vm_pid= dm_pid=
cleanup() {
	# vm_pid is timeout(1): TERM reaches ioreqvm through it; KILL would not.
	[ -n "$dm_pid" ] && kill -KILL "$dm_pid" 2>/dev/null
	[ -n "$vm_pid" ] && kill -TERM "$vm_pid" 2>/dev/null
	for ((w = 0; w < 50; w++)); do
		[ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$vm_pid" ] && pkill -KILL -P "$vm_pid" 2>/dev/null
	[ -n "$vm_pid" ] && kill -KILL "$vm_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
report() { echo "FAIL: $*" >&2; fail=1; }
dump() {
	echo "--- ioreqvm stdout:" >&2; cat "$tmp/vm.out" >&2
	echo "--- ioreqvm stderr:" >&2; cat "$tmp/vm.err" >&2
	echo "--- device model stdout+stderr:" >&2; cat "$tmp/dm.out" >&2 2>/dev/null
}
die() { report "$*"; dump; exit 1; }

# ctl STATUS ARGS...: run ioreqctl, leave its output in $tmp/ctl, check the status.
ctl() {
	local want=$1
	shift
	timeout 20 "$ctl" --socket "$sock" "$@" >"$tmp/ctl" 2>&1
	local st=$?
	if [ "$st" -ne "$want" ]; then
		report "ioreqctl $* -> status $st, expected $want"
		cat "$tmp/ctl" >&2
		return 1
	fi
	return 0
}
# has REGEX WHAT: the last ioreqctl output has a line matching REGEX.
has() {
	grep -qE -- "$1" "$tmp/ctl" || { report "$2: no line matches /$1/ in:"; cat "$tmp/ctl" >&2; }
}
field() { sed -nE "s/^$1: *//p" "$tmp/ctl" | head -n1; }

: >"$tmp/dm.out"
timeout --kill-after=5 "${GUEST_TIMEOUT:-120}" \
	"$vmm" run --accel "$backend" --kernel "$kernel" --cmdline hammer --socket "$sock" \
	>"$tmp/vm.out" 2>"$tmp/vm.err" &
vm_pid=$!

# Wait until the VM answers on its socket (ASan builds start slowly).
for ((i = 0; i < 300; i++)); do
	kill -0 "$vm_pid" 2>/dev/null || die "ioreqvm exited before its socket answered"
	"$ctl" --socket "$sock" info >"$tmp/ctl" 2>&1 && break
	sleep 0.1
done
[ "$i" -lt 300 ] || die "no answer on $sock after 30 s"

# info: the facts of this VM.
ctl 0 info && {
	has "^backend: +$backend$" info
	has '^vcpus: +1$' info
	has '^ram: +256 MiB \(268435456 bytes\)$' info
	has '^mappings: +[1-9][0-9]* of [1-9][0-9]*$' info
	has '^p2m runs: +[1-9][0-9]*$' info
	has '^unbacked reads: +ports [0-9]+, mmio [0-9]+$' info
	has '^unbacked writes: +ports [0-9]+, mmio [0-9]+$' info
	has '^ram_ro writes dropped: +[0-9]+$' info
}

# A device model attached later, over the socket: COM2.
"$dm" --socket "$sock" --port 0x2f8 --irq 3 >"$tmp/dm.out" 2>&1 &
dm_pid=$!
id=
for ((i = 0; i < 200; i++)); do
	kill -0 "$dm_pid" 2>/dev/null || die "the UART device model exited early"
	if "$ctl" --socket "$sock" servers >"$tmp/ctl" 2>&1; then
		id=$(awk -v pid="$dm_pid" 'NR > 1 && $4 == pid && $2 == "enabled" { print $1 }' "$tmp/ctl")
	fi
	[ -n "$id" ] && break
	sleep 0.1
done
[ -n "$id" ] || die "no enabled server owned by the device model (pid $dm_pid) after 20 s"
ctl 0 servers && {
	has '^ID +STATE +BUFIOREQ +PID +RANGES +REQUESTS +BUFFERED +DEFAULTED +SLEEPS +CLAIMS$' "servers header"
	has "^$id +enabled +no +$dm_pid +1 +[0-9]+ +0 +[0-9]+ +[0-9]+ +-$" "servers: the COM2 model"
}
ctl 0 ranges "$id" && {
	has '^TYPE +START +END +FLAGS$' "ranges header"
	has '^port +0x2f8 +0x2ff +-$' "ranges: COM2's ports"
	[ "$(grep -c . "$tmp/ctl")" -eq 2 ] || report "ranges $id: expected one range"
}
ctl 1 ranges 4000
has 'list_ranges: ' "ranges of an unknown server"

# get-mem-type: the kernel's RAM, the hammered frame, the PCI hole.
ctl 0 get-mem-type 0x100 && has '^ram_rw$' "get-mem-type 0x100"
ctl 0 get-mem-type 1537 && has '^ram_rw$' "get-mem-type 1537 (0x601)"
ctl 0 get-mem-type 0xe0000 && has '^mmio_dm$' "get-mem-type 0xe0000 (PCI hole)"

# set-mem-type round trip on the frame the guest writes: ram_ro drops its writes.
ctl 0 info
dropped0=$(field 'ram_ro writes dropped')
ctl 0 set-mem-type ram_ro 0x601 1
ctl 0 get-mem-type 0x601 && has '^ram_ro$' "get-mem-type after set ram_ro"
dropped1=$dropped0
for ((i = 0; i < 100; i++)); do
	ctl 0 info || break
	dropped1=$(field 'ram_ro writes dropped')
	[ "${dropped1:-0}" -gt "${dropped0:-0}" ] && break
	sleep 0.1
done
[ "${dropped1:-0}" -gt "${dropped0:-0}" ] ||
	report "ram_ro writes dropped stayed at $dropped0 while the guest wrote a ram_ro frame"
ctl 0 set-mem-type 0 0x601 1                # by number
ctl 0 get-mem-type 0x601 && has '^ram_rw$' "get-mem-type after set ram_rw"
ctl 0 set-mem-type 1 0x700 0x10
ctl 0 get-mem-type 0x70f && has '^ram_ro$' "get-mem-type 0x70f after a 16-frame set"
ctl 0 get-mem-type 0x710 && has '^ram_rw$' "get-mem-type 0x710 just past it"
ctl 0 set-mem-type ram_rw 0x700 16
ctl 0 set-mem-type mmio_dm 0xe0000 1         # a hole stays a hole (S3)
ctl 0 get-mem-type 0xe0000 && has '^mmio_dm$' "get-mem-type 0xe0000 after set mmio_dm"

# The VMM's refusals: status 1 and its message.
ctl 1 set-mem-type mmio_dm 0x601 1 && has 'set_mem_type: ' "RAM to mmio_dm (S3)"
ctl 1 set-mem-type ram_rw 0xe0000 1 && has 'set_mem_type: ' "a hole to RAM (S3)"
ctl 1 set-mem-type unused 0x601 1 && has 'set_mem_type: ' "set unused (M4)"
ctl 1 set-mem-type ioreq_server 0x601 1 && has 'set_mem_type: ' "set an unclaimed ioreq_server type (S2)"
ctl 1 set-mem-type ram_rw 0x601 0 && has 'set_mem_type: ' "set nr = 0 (S4)"
ctl 1 set-mem-type 99 0x601 1 && has 'set_mem_type: ' "set type 99 (S4)"
ctl 1 set-mem-type ram_rw 0xffffffffff 1 && has 'set_mem_type: ' "set outside guest space (S4)"
ctl 1 get-mem-type 0xffffffffffff && has 'get_mem_type: ' "get outside guest space"
ctl 0 get-mem-type 0x601 && has '^ram_rw$' "the refusals changed nothing"

# X1, X5: the VM as Xen's libraries see it, and its xenstore (default keys,
# a write read back, an absent key refused, the socket 0600 in a 0700 directory).
ctl 0 xen-info && {
	has '^domid: +1$' "xen-info domid (the default)"
	has '^uuid: +[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "xen-info uuid"
	has '^ram frames: +65504 \(populate may reach 131040\)$' "xen-info RAM frames (256 MiB less the VGA window)"
	has "^xenstore socket: +$tmp/ioreqvm-[0-9]+-xenstore-[A-Za-z0-9]{6}/socket$" "xen-info xenstore socket"
	xs=$(field 'xenstore socket')
	[ "$(stat -c %a "$xs" 2>/dev/null)" = 600 ] || report "xenstore socket $xs is not mode 600 (R5)"
	[ "$(stat -c %a "$(dirname "$xs")" 2>/dev/null)" = 700 ] || report "its directory is not mode 700 (R5)"
}
uuid=$(field uuid)
ctl 0 xenstore-read /local/domain/1/vm && has "^/vm/$uuid$" "xenstore /local/domain/1/vm"
ctl 0 xenstore-read /local/domain/1/cpu/0/availability && has '^online$' "xenstore cpu 0"
ctl 0 xenstore-write /local/domain/1/data/from-ctl 'one two'
ctl 0 xenstore-ls /local/domain/1 && {
	has '^/local/domain/1/name = "ioreqvm-[0-9]+"$' "xenstore-ls: the name"
	has '^/local/domain/1/memory/target = "262144"$' "xenstore-ls: memory in KiB"
	has '^/local/domain/1/data/from-ctl = "one two"$' "xenstore-ls: what was written"
}
ctl 0 xenstore-write rel/key v && ctl 0 xenstore-read /local/domain/0/rel/key && has '^v$' "relative keys are dom0's"
ctl 1 xenstore-read /local/domain/1/none && has 'No such file' "xenstore-read of an absent key"
ctl 1 xenstore-write '/bad//key' v && has 'Invalid argument' "xenstore-write of a bad path"

# Bad usage with a VM there: status 2, nothing sent.
ctl 2 xenstore-read
ctl 2 xenstore-write k
ctl 2 get-mem-type
ctl 2 set-mem-type ram_rw 0x601
ctl 2 set-mem-type bogus 0x601 1
ctl 2 ranges x

# The VM goes away: the device model notices and exits 0.
kill -TERM "$vm_pid"
wait "$vm_pid"
st=$?
vm_pid=
[ "$st" -eq 143 ] || report "ioreqvm stopped by SIGTERM exited $st, expected 143"
for ((i = 0; i < 100; i++)); do
	kill -0 "$dm_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$dm_pid" 2>/dev/null; then
	report "the device model still runs 10 s after the VM went away"
else
	wait "$dm_pid"
	st=$?
	dm_pid=
	[ "$st" -eq 0 ] || report "the device model exited $st after the VM went away, expected 0"
fi

if [ "$fail" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
	dump
fi
exit "$fail"
