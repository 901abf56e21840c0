#!/bin/bash
# SPDX-License-Identifier: MIT
# The command line's contract, through the real binary: exit statuses and
# messages for bad usage, missing or malformed kernels, a missing /dev/kvm.
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
expect 2 -- '--kernel FILE is required'
expect 2 "unknown command 'boot'" boot --kernel "$good"
expect 2 -- "--memory 'lots'" run --kernel "$good" --memory lots
expect 2 -- "--cpus '0'" run --kernel "$good" --cpus 0
expect 2 -- "--accel 'xen'" run --kernel "$good" --accel xen
expect 2 -- "unknown option '--frobnicate'" run --kernel "$good" --frobnicate
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
exit "$fail"
