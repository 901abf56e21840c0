#!/bin/bash
# SPDX-License-Identifier: MIT
# The "Linux boot" section of BENCHMARKS.md (bench/run.sh runs it; it also
# runs alone and prints the section): Debian 12's kernel and the tests'
# busybox initramfs (tests/linux/), seconds from starting the VMM to the
# kernel's first line ("Linux version", earlyprintk) and to /init's first
# line, under ioreqvm --accel tcg with the kernel decompressed on the host
# and by the guest, and under QEMU 7.2 TCG (-M microvm, as the issue
# measured it; and pc). Usage: bench/linux_boot.sh BUILD_DIR [RUNS]
set -eu
dir=$1 runs=${2:-3}
cd "$(dirname "$0")/.."
assets=$(tests/linux/fetch_assets.sh "${XDG_CACHE_HOME:-$HOME/.cache}/ioreqvm/linux-assets")
kernel=$(echo "$assets" | sed -n 1p)
busybox=$(echo "$assets" | sed -n 2p)
kver=$(echo "$assets" | sed -n 3p)
initrd=$(mktemp --suffix=.cpio)
trap 'rm -f "$initrd"' EXIT
python3 tests/linux/mkinitramfs.py "$initrd" "$busybox" tests/linux/init.sh
cmdline="console=ttyS0 earlyprintk=serial panic=-1"
first='Linux version' init='ioreqvm-init: /init started'

# "median (min-max)" of column $1 of the lines on stdin, over the runs that
# got there; "-" if none did, and how many did not if some did not. $3: the
# unit ("s" by default, "MiB").
summ() {
	local v n miss unit=${3:-s}
	v=$(awk -v c="$1" '$c != "-" { print $c }' | sort -g)
	n=$(echo "$v" | grep -c .)
	miss=$(($2 - n))
	if [ "$n" -eq 0 ]; then
		echo "- (no run got there)"
		return
	fi
	echo "$v" | awk -v m="$miss" -v u="$unit" '{ a[NR] = $1 } END {
		printf "%.1f %s (%.1f-%.1f)", a[int((NR + 1) / 2)], u, a[1], a[NR]
		if (m > 0) printf ", %d run(s) never got there", m }'
}
# row LABEL N TIMEOUT COMMAND...: one table row over N runs.
row() {
	local label=$1 n=$2 t=$3 out
	shift 3
	out=$(for ((i = 0; i < n; i++)); do
		python3 bench/boot_times.py --memory "$t" "$first" "$init" -- "$@"
	done)
	echo "linux_boot: $label: $(echo "$out" | tr '\n' ' ')" >&2 # each run's times and memory
	echo "| $label | $(echo "$out" | summ 1 "$n") | $(echo "$out" | summ 2 "$n") |" \
		"$(echo "$out" | summ 3 "$n" MiB) | $(echo "$out" | summ 4 "$n" MiB) | $n |"
}

echo "## Linux boot: Debian 12's kernel to its first line and to /init (issue 18)"
echo
echo "Load average when this section started: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores)."
echo
echo "Kernel $kver (Debian's linux-image-amd64, an xz bzImage), the Linux tests'"
echo "busybox initramfs (tests/linux/), 256 MiB, 1 vCPU, command line \`$cmdline\`;"
echo "seconds from starting the VMM to the first serial line matching \"$first\""
echo "and to \"$init\", median (min-max). \"host\": ioreqvm decompresses the"
echo "payload with liblzma and enters the vmlinux at startup_64 (the default);"
echo "\"guest\": the kernel's own decompressor runs on the software CPU"
echo "(\`--kernel-decompress guest\`). QEMU 7.2 is Debian's qemu-system-x86_64,"
echo "its TCG, the same files. Memory when /init printed its line: the RSS of"
echo "the VMM's process, and the PSS summed over it and the processes it started"
echo "(ioreqvm's COM1 model; shared pages counted once), guest RAM it touched"
echo "included. Command: \`bench/linux_boot.sh $dir $runs\`."
echo
echo "| VMM | to the first kernel line | to /init | RSS at /init | PSS at /init, VMM + models | runs |"
echo "|---|---|---|---|---|---|"
vmm="$dir/src/ioreqvm"
row "ioreqvm --accel tcg, host decompression" "$runs" 300 \
	"$vmm" run --accel tcg --memory 256M --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline"
row "ioreqvm --accel tcg --kernel-decompress guest" 1 900 \
	"$vmm" run --accel tcg --memory 256M --kernel-decompress guest --kernel "$kernel" \
	--initrd "$initrd" --cmdline "$cmdline"
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
	row "QEMU 7.2 -accel tcg -M microvm" "$runs" 120 \
		qemu-system-x86_64 -accel tcg -M microvm -m 256 -nodefaults -no-user-config \
		-display none -serial stdio -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	row "QEMU 7.2 -accel tcg -M pc" "$runs" 120 \
		qemu-system-x86_64 -accel tcg -M pc -m 256 -nodefaults -no-user-config \
		-display none -serial stdio -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
else
	echo "| QEMU 7.2 | not installed | - | - | - | - |"
fi
# kvm: where the host runs guest kernels at native speed. On kvm_pvm (CPL0
# code emulated, DESIGN section 7) neither ioreqvm nor QEMU gets far.
if [ ! -c /dev/kvm ]; then
	echo "| --accel kvm (both VMMs) | not measured: no /dev/kvm | - | - | - | - |"
elif [ -d /sys/module/kvm_pvm ]; then
	echo "| --accel kvm (both VMMs) | not measured: this host's KVM is kvm_pvm, where QEMU/KVM did not leave the decompressor in 200 s (DESIGN section 7) | - | - | - | - |"
else
	row "ioreqvm --accel kvm" "$runs" 120 \
		"$vmm" run --accel kvm --memory 256M --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline"
	if command -v qemu-system-x86_64 >/dev/null 2>&1; then
		row "QEMU 7.2 -accel kvm -M pc" "$runs" 120 \
			qemu-system-x86_64 -accel kvm -cpu host -M pc -m 256 -nodefaults -no-user-config \
			-display none -serial stdio -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	fi
fi
echo
echo "QEMU's microvm has no HPET and no ACPI PM timer: when its PIT calibration"
echo "fails (as it does under load on TCG) Linux prints \"tsc: Marking TSC unstable"
echo "due to could not calculate TSC khz\" and, in the runs of 2026-12-03 at load"
echo "~7, went no further in 120 s (a run at lower load reached /init in 7.2 s)."
echo "ioreqvm's platform has the PM timer the kernel falls back to."
echo
ms=$(for i in 1 2 3; do
	timeout 5 "$vmm" run -v --accel tcg --memory 256M --no-default-devices --kernel "$kernel" \
		--cmdline panic=-1 2>&1 >/dev/null |
		sed -n 's/.*decompressed on the host: [0-9]* bytes in \([0-9]*\) ms/\1/p'
done | sort -n | sed -n 2p)
echo "The host's decompression itself (liblzma, $(stat -c %s "$kernel" | awk '{printf "%.1f MiB", $1 / 1048576}')"
echo "bzImage to a 63 MiB vmlinux) takes ${ms:--} ms (median of 3; \`ioreqvm -v\` reports it)."
