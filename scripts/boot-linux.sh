#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's Linux command: builds ioreqvm, takes Debian 12's own kernel
# and busybox-static out of their packages (apt-get download, cached in
# ${XDG_CACHE_HOME:-~/.cache}/ioreqvm/linux-assets; nothing installed),
# writes an initramfs whose /init is tests/linux/init.sh (it prints what
# Linux brought up, then powers off), and boots it on the software CPU.
# Usage: scripts/boot-linux.sh [IOREQVM-ARGS...]   e.g. --cpus 4
set -eu
cd "$(dirname "$0")/.."
unicorn_pc=$(./scripts/setup.sh)
[ -z "$unicorn_pc" ] || export PKG_CONFIG_PATH="$unicorn_pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
dir=_build/release
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=debugoptimized >/dev/null
ninja -C "$dir" >/dev/null
assets=$(tests/linux/fetch_assets.sh "${XDG_CACHE_HOME:-$HOME/.cache}/ioreqvm/linux-assets")
kernel=$(echo "$assets" | sed -n 1p)
busybox=$(echo "$assets" | sed -n 2p)
initrd="$dir/initramfs-busybox.cpio"
python3 tests/linux/mkinitramfs.py "$initrd" "$busybox" tests/linux/init.sh
echo "=== ioreqvm run --accel tcg --memory 256M --kernel $kernel --initrd $initrd $*"
exec "$dir/src/ioreqvm" run --accel tcg --memory 256M --kernel "$kernel" --initrd "$initrd" \
	--cmdline "console=ttyS0 panic=-1 no_timer_check" "$@"
