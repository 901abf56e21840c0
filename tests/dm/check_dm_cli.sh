#!/bin/bash
# SPDX-License-Identifier: MIT
# The command lines of ioreqctl and ioreqvm-uart16550 without a VM: help and
# version, bad usage (status 2, before any connection), and a socket nobody
# listens on (status 1, the path named).
# Usage: check_dm_cli.sh IOREQCTL UART-DM
set -u
ctl=$1 dm=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect STATUS REGEX PROGRAM ARGS...: see tests/lib/expect.sh.
. "$(dirname "$0")/../lib/expect.sh"
expect() { expect_cmd "$@"; }

unset IOREQVM_SOCKET IOREQVM_FD
nope=$tmp/nope.sock

# ioreqctl
expect 0 '^Usage: ioreqctl' "$ctl" --help
expect 0 'set-mem-type TYPE FIRST_PFN NR' "$ctl" --help
expect 0 '^ioreqctl [0-9]+\.[0-9]+' "$ctl" --version
expect 2 'no command' "$ctl"
expect 2 'no command' "$ctl" --socket "$nope"
expect 2 "unknown command 'frob'" "$ctl" --socket "$nope" frob
expect 2 "unknown option '--frob'" "$ctl" --frob info
expect 2 'needs a value' "$ctl" --socket
expect 2 'usage: ioreqctl .*get-mem-type PFN' "$ctl" --socket "$nope" get-mem-type
expect 2 'usage: ioreqctl .*info' "$ctl" --socket "$nope" info extra
expect 2 'usage: ioreqctl .*set-mem-type TYPE FIRST_PFN NR' "$ctl" --socket "$nope" set-mem-type ram_rw 1
expect 2 "bad frame number 'xyz'" "$ctl" --socket "$nope" get-mem-type xyz
expect 2 "bad frame number '-1'" "$ctl" --socket "$nope" get-mem-type -1
expect 2 "bad frame number '0x1g'" "$ctl" --socket "$nope" get-mem-type 0x1g
expect 2 "unknown type 'ram_wr'" "$ctl" --socket "$nope" set-mem-type ram_wr 1 1
expect 2 "unknown type '65536'" "$ctl" --socket "$nope" set-mem-type 65536 1 1
expect 2 "bad frame count '0x100000000'" "$ctl" --socket "$nope" set-mem-type ram_rw 1 0x100000000
expect 2 "bad server id '65536'" "$ctl" --socket "$nope" ranges 65536
# No socket given: say how to find one.
expect 2 '--socket PATH.*ioreqvm.*-v' "$ctl" info
# Nobody there: status 1 and the path, from --socket and from $IOREQVM_SOCKET.
expect 1 "cannot connect to $nope" "$ctl" --socket "$nope" info
expect 1 "cannot connect to $nope" env IOREQVM_SOCKET="$nope" "$ctl" info
expect 1 "cannot connect to $nope" env IOREQVM_SOCKET=/elsewhere "$ctl" --socket "$nope" info
: >"$tmp/plain"
expect 1 "cannot connect to $tmp/plain" "$ctl" --socket "$tmp/plain" servers

# ioreqvm-uart16550
expect 0 '^Usage: ioreqvm-uart16550' "$dm" --help
expect 0 '^ioreqvm-uart16550 [0-9]+\.[0-9]+' "$dm" --version
expect 2 "--port '0x10000'" "$dm" --socket "$nope" --port 0x10000
expect 2 "--port '0xfff9'" "$dm" --socket "$nope" --port 0xfff9
expect 2 "--port 'com1'" "$dm" --socket "$nope" --port com1
expect 2 "--irq '16'" "$dm" --socket "$nope" --irq 16
expect 2 "--irq '-1'" "$dm" --socket "$nope" --irq -1
expect 2 "unknown option '--baud'" "$dm" --socket "$nope" --baud 9600
expect 2 "unexpected argument 'x'" "$dm" --socket "$nope" x
expect 2 '--socket PATH' "$dm"
expect 1 "cannot connect to $nope" "$dm" --socket "$nope"
expect 1 "cannot connect to $nope" env IOREQVM_SOCKET="$nope" "$dm"

exit "$fail"
