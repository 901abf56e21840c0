#!/bin/bash
# SPDX-License-Identifier: MIT
# A Xen device model (xen_dm_model.c) under ioreqvm on one CPU backend:
#   1. it was linked against Debian's libxendevicemodel.so.1,
#      libxenforeignmemory.so.1 and libxenevtchn.so.1: DT_NEEDED names those
#      SONAMEs (and no ioreqvm library), its version needs list VERS_ nodes
#      of each, and without help the loader resolves each to Debian's file;
#   2. with compat/xen/ first on LD_LIBRARY_PATH the loader picks ours;
#   3. ioreqvm starts it (--device-model) beside a guest: its checks (log
#      lines "NAME ok") all pass, it serves the guest through
#      xenforeignmemory and xenevtchn, the guest checks what it read back,
#      and the model leaves when the VM goes (VIRQ_DOM_EXC); its poll() never
#      said readable with no port pending (its fd is O_NONBLOCK: counted).
# Modes (the guest's and the model's part):
#   pio     ioreq guest "pio": port writes and reads round-trip (X1-X3)
#   posted  ioreq guest "buffered": 1000 writes, most posted through the
#           ring (its port fires, unmasked only after a drain), then the
#           checksum read back in order
#   smp     ioreq guest "smp", 4 vCPUs: 2000 round trips each on its own
#           port at once, each vCPU's port on a handle of its own served by
#           a thread of its own (blocking pending(): only its own port)
#   cmdbuf  xencmd guest: 64 KiB command buffers by frame number, mapped
#           per request with xenforeignmemory_map, worked on in place
#   mmio    ioreq guest "mmio": a page of MMIO (0xE0000000) served, 1-8
#           byte writes read back, unwritten bytes the pattern
#   pci     ioreq guest "pci": 00:03.0's configuration space (map_pcidev),
#           dword/word/byte round trips through 0xcf8/0xcfc
#   irq     xencmd guest "irq": ISA IRQ 5 raised and lowered by the model
#           (set_isa_irq_level) three times, three interrupts taken
#   claim   xencmd guest "claim": writes to an ioreq_server page the model
#           claimed (map_mem_type_to_ioreq_server + set_mem_type) go to the
#           model (a rep stosl: one write per element), released they are
#           RAM, claimed again the model's
#   dirty   xencmd guest "dirty": track_dirty_vram's bitmaps are exactly
#           the frames the guest wrote (Xen's all-dirty first call,
#           none after a second call, modified_memory counted)
#   shutdown_poweroff, shutdown_reboot
#           xencmd guest: the model calls xendevicemodel_shutdown for the
#           guest (refusals first); ioreqvm exits 0 / 10
# and, started with ioreqvm run --xen-device-model (the launcher: ioreqvm
# finds compat/xen itself) and a VM kept running while the host looks:
#   xsram   xencmd guest "populate" (X4): RAM populated in the PCI hole and
#           given back (boot RAM too) through libxenctrl, read by the guest,
#           mapped by the model; the model read a seeded xenstore key at
#           start and wrote its own (X1): the host reads them with ioreqctl
#           (and the RAM frames count), then writes the key the model
#           watches, which lets the guest finish
#   kill    xencmd guest "killed" (I5): the host kills the model with
#           SIGKILL while it holds a request; the guest gets the default
#           and runs to its end, the VM logs the model's end
#   xenenv  ioreqvm xen-env: a VM (--domid 5, no --socket: the default
#           directory) runs the p2m guest; xen-env, told nothing, finds it
#           and runs the model (--checks-only) with ioreqvm's libraries,
#           XENSTORED_PATH and the domid; with no VM there it says so
# Usage: run_xen_dm.sh BACKEND IOREQVM MODEL KERNEL COMPAT_DIR DEBIAN_LIBDIR MODE [IOREQCTL]
# Skips (exit 77, loudly) only without /dev/kvm for kvm, or without Debian's
# libraries (libxen-dev).
set -u
backend=$1 vmm=$2 model=$3 kernel=$4 compat=$5 debian=$6 mode=$7 ctl=${8:-}
libs="libxendevicemodel.so.1 libxenforeignmemory.so.1 libxenevtchn.so.1 libxenctrl.so.4.17"
# The model's checks before it serves (log lines "NAME ok"): these in every
# mode, and those of each mode's ranges and options (below).
nr_checks=122

if [ "$backend" = kvm ] && [ ! -c /dev/kvm ]; then
	echo "SKIPPED: kvm variant: /dev/kvm is missing on this machine" >&2
	exit 77
fi
for l in $libs; do
	if [ ! -e "$debian/$l" ]; then
		echo "SKIPPED: Debian's $debian/$l is missing (install libxen-dev: scripts/setup.sh)" >&2
		exit 77
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
report() { echo "FAIL: $*" >&2; fail=1; }

# 1-2. How the model was linked, and which files the loader picks.
needed=$(readelf -d "$model" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
grep -qE 'ioreq' <<<"$needed" && report "the model needs an ioreqvm library: $needed"
resolve() { # the file the loader picks for library $1
	local lib=$1; shift
	# meson test puts its build's library folders on LD_LIBRARY_PATH: not here.
	env -u LD_LIBRARY_PATH "$@" LD_TRACE_LOADED_OBJECTS=1 "$model" 2>/dev/null | awk -v l="$lib" '$1 == l {print $3}'
}
for l in $libs; do
	grep -qx "$l" <<<"$needed" || report "DT_NEEDED lacks $l: $needed"
	vneeds=$(readelf -V -W "$model" | awk -v l="$l" '/File: /{f=$0} /Name: VERS_/{if (index(f, l)) print $0}')
	[ -n "$vneeds" ] || report "no version needs on $l's VERS_ nodes"
	echo "version needs on $l: $(grep -o 'VERS_[0-9.]*' <<<"$vneeds" | tr '\n' ' ')"
	plain=$(resolve "$l")
	[ "$(readlink -f "$plain")" = "$(readlink -f "$debian/$l")" ] ||
		report "without LD_LIBRARY_PATH the model loads '$plain' for $l, not Debian's"
	ours=$(resolve "$l" LD_LIBRARY_PATH="$compat")
	[ "$(readlink -f "$(dirname "$ours")")" = "$(readlink -f "$compat")" ] ||
		report "with LD_LIBRARY_PATH=$compat the model loads '$ours' for $l, not ours"
done

# Debian's own libxenstore (and libxentoolcore) serve the model, ours first or not.
for l in libxenstore.so.4 libxentoolcore.so.1; do
	ours=$(resolve "$l" LD_LIBRARY_PATH="$compat")
	[ "$(readlink -f "$ours")" = "$(readlink -f "$debian/$l")" ] ||
		report "with LD_LIBRARY_PATH=$compat the model loads '$ours' for $l, not Debian's"
done

# 3. Under ioreqvm.
case $mode in
xsram|kill|xenenv) . "$(dirname "$0")/run_xen_dm_live.sh"; exit "$fail" ;;
esac
case $mode in
pio) cmdline=pio cpus=1 args="--port 0x510:0x51f" more=1 ;;
posted) cmdline=buffered cpus=1 more=4
	args="--port 0x520:0x523 --sum-port 0x520 --mmio 0xA0000:0xA0FFF --sum-mmio 0xA0000 --posted" ;;
smp) cmdline=smp cpus=4 args="--port 0x510:0x52f --threads" more=1 ;;
cmdbuf) cmdline=buffers cpus=1 args="--cmd-port 0x550" more=1 ;;
mmio) cmdline=mmio cpus=1 args="--mmio 0xE0000000:0xE0000FFF" more=1 ;;
pci) cmdline=pci cpus=1 args="--pci 3" more=1 ;;
irq) cmdline=irq cpus=1 args="--irq-port 0x570" more=1 ;;
claim) cmdline=claim cpus=1 args="--claim-port 0x574" more=2 ;;
dirty) cmdline=dirty cpus=1 args="--dirty-port 0x568" more=1 ;;
shutdown_poweroff) cmdline=$mode cpus=1 args="--shutdown-port 0x564" more=1 want_status=0 ;;
shutdown_reboot) cmdline=$mode cpus=1 args="--shutdown-port 0x564" more=1 want_status=10 ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
log="$tmp/model.log"
want_status=${want_status:-1}
timeout --kill-after=5 "${GUEST_TIMEOUT:-150}" \
	"$vmm" run --accel "$backend" --kernel "$kernel" --cmdline "$cmdline" --cpus "$cpus" \
	--device-model "env LD_LIBRARY_PATH=$compat $model $args --log $log" \
	>"$tmp/out" 2>"$tmp/err"
status=$?
[ "$status" -eq "$want_status" ] || report "exit status $status, expected $want_status"
# The model's stderr is ioreqvm's: a sanitizer's report there (sanitize builds) fails the test.
grep -qE 'Sanitizer|runtime error:' "$tmp/err" && report "a sanitizer reported on the model or ioreqvm: $(grep -m1 -E 'Sanitizer|runtime error:' "$tmp/err")"
grep -q 'FAIL' "$log" 2>/dev/null && report "the model's checks failed: $(grep FAIL "$log")"
n=$(grep -cE '^[a-z0-9_]+ ok$' "$log" 2>/dev/null)
[ "${n:-0}" -eq $((nr_checks + more)) ] || report "${n:-0} model checks passed, expected $((nr_checks + more))"
grep -qxF 'checks: 0 failures' "$log" 2>/dev/null || report "the model did not finish its checks"
grep -qxF 'bufioreq_port 0' "$log" 2>/dev/null || report "get_ioreq_server_info: no bufioreq_port 0 for a server without a ring"
grep -qE '^VIRQ_DOM_EXC: the domain is gone' "$log" 2>/dev/null ||
	report "the model was not told the VM went away (VIRQ_DOM_EXC)"
grep -qxF 'served '"$(grep -c '^command ' "$log" 2>/dev/null)"' commands; 0 failures' "$log" 2>/dev/null ||
	report "the model did not end cleanly"
lines() { grep -cE "$1" "$log" 2>/dev/null; }
case $mode in
pio)
	[ "$(grep -c ' ok ' "$tmp/out")" -eq 5 ] || report "guest lines with ' ok ': $(grep -c ' ok ' "$tmp/out"), expected 5"
	grep -qxF 'ioreq: 0 failures' "$tmp/out" || report "missing guest line: ioreq: 0 failures"
	[ "$(lines '^vcpu 0 type 0 dir write addr 0x512 size 1 data 0x11$')" -eq 1 ] ||
		report "the model did not serve the guest's write of 0x11 to port 0x512 once"
	[ "$(lines '^vcpu 0 type 0 dir read addr 0x51c size 4 ')" -eq 1 ] ||
		report "the model did not serve the guest's read of port 0x51c once"
	;;
posted)
	grep -qxF 'ioreq: 0 failures' "$tmp/out" || report "missing guest line: ioreq: 0 failures"
	# Every write arrives once; most through the ring (a full ring sends the write synchronously).
	n=$(lines '^vcpu (-1|0) type [01] dir write addr 0x(520|a0000) ')
	[ "$n" -eq 1000 ] || report "$n writes served, expected 1000"
	n=$(lines '^vcpu -1 ')
	[ "$n" -ge 500 ] || report "$n posted writes read from the ring, expected at least 500"
	[ "$(lines '^ring port fired [1-9][0-9]* times$')" -eq 1 ] || report "the ring's port never fired"
	;;
smp)
	grep -qxF 'ioreq: 4 cpus did 2000 round trips each' "$tmp/out" || report "missing guest line: 4 cpus did 2000 round trips each"
	grep -qxF 'ioreq: 0 failures' "$tmp/out" || report "missing guest line: ioreq: 0 failures"
	for v in 0 1 2 3; do
		n=$(lines "^vcpu $v type 0 dir (write|read) addr ")
		[ "$n" -eq 4000 ] || report "vCPU $v: $n requests served through its port, expected 4000"
	done
	;;
mmio|pci)
	[ "$(grep -c ' ok ' "$tmp/out")" -eq 6 ] || report "guest lines with ' ok ': $(grep -c ' ok ' "$tmp/out"), expected 6"
	grep -qxF 'ioreq: 0 failures' "$tmp/out" || report "missing guest line: ioreq: 0 failures"
	if [ "$mode" = pci ]; then
		[ "$(lines '^vcpu 0 type 2 dir write addr 0x1800000010 size 4 data 0xfebc0000$')" -eq 1 ] ||
			report "the model did not serve the guest's config write to 00:03.0 register 0x10"
	else
		[ "$(lines '^vcpu 0 type 1 dir write addr 0xe0000040 size 8 data 0x123456789abcdef$')" -eq 1 ] ||
			report "the model did not serve the guest's 8-byte MMIO write"
	fi
	;;
irq)
	grep -qxF 'xencmd: 0 failures' "$tmp/out" || report "missing guest line: xencmd: 0 failures"
	grep -qxF 'xencmd: ISA IRQ 5 taken 3 times' "$tmp/out" || report "missing guest line: ISA IRQ 5 taken 3 times"
	[ "$(lines '^isa irq 5 level 1 status 0$')" -eq 3 ] || report "the model did not raise IRQ 5 three times"
	;;
claim)
	grep -qxF 'xencmd: 0 failures' "$tmp/out" || report "missing guest line: xencmd: 0 failures"
	[ "$(grep -c 'claimed: the model' "$tmp/out")" -eq 3 ] || report "not 3 claimed writes seen by the guest"
	[ "$(lines '^vcpu 0 type 1 dir write addr 0xc400[1-4]0 size 4 ')" -eq 3 ] ||
		report "the model did not get the 3 claimed writes (and only those)"
	[ "$(lines '^vcpu 0 type 1 dir write addr 0xc4010[0-9a-f] size 4 data 0x30$')" -eq 4 ] ||
		report "the model did not get the 4 elements of the rep stosl, one write each"
	grep -qxF 'xencmd: rep stosl of 4 dwords at +0x100: 4 hold the model'"'"'s value' "$tmp/out" ||
		report "the guest did not read the model's value in all 4 elements"
	[ "$(lines '^release: ok$')" -eq 1 ] && [ "$(lines '^claim: ok$')" -eq 2 ] || report "claim, release, claim again did not all succeed"
	;;
dirty)
	grep -qxF 'xencmd: 0 failures' "$tmp/out" || report "missing guest line: xencmd: 0 failures"
	[ "$(grep -c '^xencmd: dirty bitmap ' "$tmp/out")" -eq 8 ] || report "not 8 bitmaps checked by the guest"
	grep -qxF 'xencmd: dirty bitmap 0x80000188 (want 0x80000188): exactly the frames written' "$tmp/out" ||
		report "the bitmap after writes to frames 3, 7, 8, 31 was not exactly those"
	;;
shutdown_poweroff|shutdown_reboot)
	[ "$(grep -c ' ok ' "$tmp/out")" -eq 2 ] || report "guest lines with ' ok ': $(grep -c ' ok ' "$tmp/out"), expected 2 (the refusals)"
	r=0; [ "$mode" = shutdown_reboot ] && r=1
	[ "$(lines "^shutdown reason $r status 0\$")" -eq 1 ] || report "the model's shutdown (reason $r) did not succeed once"
	[ "$(lines '^shutdown reason 2 status 95$')" -eq 1 ] || report "shutdown suspend was not refused with EOPNOTSUPP"
	grep -q 'xencmd: [1-9][0-9]* failures' "$tmp/out" && report "the guest reported failures"
	;;
cmdbuf)
	grep -qxF 'xencmd: 0 failures' "$tmp/out" || report "missing guest line: xencmd: 0 failures"
	n=$(grep -c ' ok (got ' "$tmp/out")
	[ "$n" -eq 12 ] || report "$n guest checks ok, expected 12"
	[ "$(lines '^command [0-9]+ pfn 0x[0-9a-f]+ status 0$')" -eq 5 ] || report "the model did not work on 5 buffers"
	[ "$(lines '^command [0-9]+ pfn 0xe0000 status 22$')" -eq 1 ] || report "the PCI hole buffer was not refused with EINVAL"
	;;
esac
if [ "$fail" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
	echo "--- model log ($backend, $mode), last 60 lines:" >&2; tail -n 60 "$log" >&2
	echo "--- guest serial output:" >&2; cat "$tmp/out" >&2
	echo "--- ioreqvm stderr:" >&2; cat "$tmp/err" >&2
fi
exit "$fail"
