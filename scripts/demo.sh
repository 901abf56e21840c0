#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's demo command: builds ioreqvm and boots the hello guest.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
dir=_build/release
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=debugoptimized >/dev/null
ninja -C "$dir" >/dev/null
echo "\$ ioreqvm run --kernel guests/hello.elf --cmdline 'hello from the demo' -v" >&2
set +e
"$dir/src/ioreqvm" run --kernel "$dir/guests/hello.elf" --cmdline "hello from the demo" -v
status=$?
echo "ioreqvm exited with status $status (1 = the guest wrote 0 to the exit port: pass)" >&2
[ "$status" -eq 1 ]
