#!/bin/sh
# SPDX-License-Identifier: MIT
# A Linux guest test (DESIGN L1, L2, L4): Debian 12's own kernel with an
# initramfs of busybox-static and init.sh, both provisioned from Debian
# packages by fetch_assets.sh (cached) and mkinitramfs.py (per run), booted
# by ioreqvm with N vCPUs; run_guest.sh checks /init's marker lines (the
# kernel's release, the CPU count Linux brought up, proc and sysfs mounted,
# the SMBIOS vendor, product and BIOS strings in /sys/class/dmi/id)
# and exit status 0 (ACPI power-off), and that Linux found PCI configuration
# mechanism #1 (the VMM's host bridge at 00:00.0).
# Usage: run_linux_guest.sh BACKEND IOREQVM CACHE_DIR WORK_DIR CPUS
#                           [--skip-on-kvm-pvm REASON] [-- IOREQVM-ARGS...]
set -eu
backend=$1 vmm=$2 cache=$3 work=$4 cpus=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)
pvm=
if [ "${1:-}" = --skip-on-kvm-pvm ]; then
	pvm=$2
	shift 2
fi
[ "${1:-}" != -- ] || shift
# Skips first: no download for a variant that cannot run.
if [ "$backend" = kvm ] && [ ! -c /dev/kvm ]; then
	echo "SKIPPED: kvm variant: /dev/kvm is missing on this machine" >&2
	exit 77
fi
if [ "$backend" = kvm ] && [ -n "$pvm" ] && [ -d /sys/module/kvm_pvm ]; then
	echo "SKIPPED: kvm variant on kvm_pvm: $pvm (DESIGN section 7); the tcg variant runs" >&2
	exit 77
fi
assets=$("$here/fetch_assets.sh" "$cache")
kernel=$(echo "$assets" | sed -n 1p)
busybox=$(echo "$assets" | sed -n 2p)
kver=$(echo "$assets" | sed -n 3p)
mkdir -p "$work"
initrd="$work/initramfs-$backend-$cpus.cpio"
python3 "$here/mkinitramfs.py" "$initrd" "$busybox" "$here/init.sh"
online=0
[ "$cpus" -eq 1 ] || online="0-$((cpus - 1))"
# no_timer_check: Linux's check_timer counts PIT interrupts against a
# TSC-timed busy wait of ~10 ticks; a virtual CPU whose host thread is not
# running for part of that window sees fewer ticks and the kernel panics
# ("IO-APIC + timer doesn't work", seen in CI on a loaded 2-core machine).
# Linux skips that check itself on KVM for the same reason (kvm_guest_init
# sets no_timer_check); on tcg nothing advertises KVM, so it is asked here.
GUEST_TIMEOUT=${GUEST_TIMEOUT:-300} exec "$here/../integration/run_guest.sh" "$backend" 0 "$vmm" \
	"$kernel" \
	--line "ioreqvm-init: /init started" \
	--line "ioreqvm-init: mounted 2 of proc and sysfs" \
	--line "ioreqvm-init: uname -r $kver" \
	--line "ioreqvm-init: cpus $cpus, online $online" \
	--regex "^ioreqvm-init: dmi ioreqvm\|ioreqvm VM\|ioreqvm\|[0-9]+\.[0-9]+\.[0-9]+\|[0-9]{2}/[0-9]{2}/[0-9]{4}\|\$" \
	--count "PCI: Fatal: No config space access function found" 0 \
	--line "ioreqvm-init: powering off" \
	--regex "^ioreqvm-init: uptime [0-9]+\\.[0-9]+\$" \
	-- --initrd "$initrd" --cpus "$cpus" --memory 256M \
	--cmdline "console=ttyS0 panic=-1 quiet no_timer_check" "$@"
