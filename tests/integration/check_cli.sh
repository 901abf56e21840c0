#!/bin/bash
# SPDX-License-Identifier: MIT
# The command line's contract, through the real binary: exit statuses and
# messages for bad usage, missing or malformed kernels (Multiboot and Linux
# bzImage, DESIGN L1), a missing /dev/kvm.
# Usage: check_cli.sh IOREQVM GOOD-KERNEL
set -u
vmm=$1 good=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect STATUS REGEX ARGS...: ioreqvm ARGS, checked by tests/lib/expect.sh.
. "$(dirname "$0")/../lib/expect.sh"
expect() { local st=$1 re=$2; shift 2; expect_cmd "$st" "$re" "$vmm" "$@"; }

expect 0 'Exit status' --help
expect 0 '^Usage: ioreqvm' run --help
expect 0 '^ioreqvm [0-9]+\.[0-9]+' --version
expect 0 '^tcg backend: libunicorn 2\.([1-9]|[1-9][0-9])\.[0-9]+, capstone' --version
expect 2 '--kernel FILE is required' run
expect 2 "unknown command 'boot'" boot --kernel "$good"
expect 2 "--memory 'lots'" run --kernel "$good" --memory lots
expect 2 "--cpus '0'" run --kernel "$good" --cpus 0
expect 2 "--accel 'xen'" run --kernel "$good" --accel xen
expect 2 "--kernel-decompress 'both': expected host or guest" run --kernel "$good" --kernel-decompress both
expect 2 "--console 'tty': expected stdio or none" run --kernel "$good" --console tty
expect 0 '--console stdio\|none' --help
expect 0 'Ctrl-A x quits \(status 12\)' --help
expect 2 "unknown option '--frobnicate'" run --kernel "$good" --frobnicate
expect 4 "$tmp/nope.elf: No such file" run --kernel "$tmp/nope.elf"
expect 4 "$tmp: not a regular file" run --kernel "$tmp"

# A missing KVM device: names it and suggests the software CPU.
expect 4 "$tmp/kvm.*--accel tcg" run --kernel "$good" --accel kvm --accel-device "$tmp/kvm"

# Malformed kernels: a precise loader message, status 4, never a crash.
: >"$tmp/empty"
expect 4 'kernel' run --kernel "$tmp/empty"
head -c 2000 /dev/urandom >"$tmp/random"
expect 4 'kernel' run --kernel "$tmp/random"
for n in 64 300 1000 4096; do
	head -c "$n" "$good" >"$tmp/trunc$n"
	expect 4 'kernel' run --kernel "$tmp/trunc$n"
done

# Linux bzImages (L1), recognised by the setup header whatever the file is
# called. mkbz FILE VERSION XLOADFLAGS: a 1-sector setup, 4 KiB of code
# (syssize 0x100), relocatable, pref_address 16 MiB, init_size 1 MiB.
put() { printf "$2" | dd of="$1" bs=1 seek=$(($3)) conv=notrunc status=none; }
mkbz() {
	head -c 5120 /dev/zero >"$1"
	put "$1" '\x01' 0x1f1
	put "$1" '\x00\x01\x00\x00' 0x1f4
	put "$1" '\x55\xaa\xeb\x6aHdrS' 0x1fe
	put "$1" "$2" 0x206
	put "$1" '\x01' 0x211
	put "$1" '\xff\xff\xff\x7f\x00\x00\x20\x00\x01\x15' 0x22c
	put "$1" "$3" 0x236
	put "$1" '\xff\x07\x00\x00' 0x238
	put "$1" '\x00\x00\x00\x01' 0x258
	put "$1" '\x00\x00\x10\x00' 0x260
}
mkbz "$tmp/bz.elf" '\x0f\x02' '\x03\x00'
head -c 3000 "$tmp/bz.elf" >"$tmp/bz-trunc"
expect 4 '^ioreqvm: kernel: bzImage: file is truncated: 3000 bytes, its protected-mode code \(syssize 0x1000 bytes from 0x400\) ends at 0x1400$' \
	run --kernel "$tmp/bz-trunc"
head -c 700 "$tmp/bz.elf" >"$tmp/bz-trunc-setup"
expect 4 'kernel: bzImage: file is truncated: 700 bytes, the setup code' run --kernel "$tmp/bz-trunc-setup"
mkbz "$tmp/bz-old" '\x05\x02' '\x03\x00'
expect 4 'kernel: bzImage: boot protocol 2.05 is too old' run --kernel "$tmp/bz-old"
mkbz "$tmp/bz-32" '\x0f\x02' '\x02\x00'
expect 4 'kernel: bzImage: no 64-bit entry point' run --kernel "$tmp/bz-32"
# The kernel takes [16 MiB, 17 MiB); a 16 MiB initrd cannot fit below 32 MiB.
head -c $((16 << 20)) /dev/zero >"$tmp/initrd"
expect 4 'initrd: 16777216 bytes do not fit in guest RAM between the kernel.s end 0x1100000 and 0x2000000' \
	run --kernel "$tmp/bz.elf" --initrd "$tmp/initrd" --memory 32M
expect 4 'kernel: bzImage needs guest RAM \[0x1000000, 0x1100000\).*give --memory 17M or more' \
	run --kernel "$tmp/bz.elf" --memory 16M
exit "$fail"
