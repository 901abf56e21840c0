#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's demo on a real kernel (DESIGN L5): builds ioreqvm, wp-monitor
# and wp-linux (guests/linux/wp_linux.c, a static Linux program), takes
# Debian 12's own kernel and busybox-static out of their packages
# (tests/linux/fetch_assets.sh: apt-get download, cached in
# ${XDG_CACHE_HOME:-~/.cache}/ioreqvm/linux-assets; nothing installed), writes
# an initramfs whose /init (tests/linux/init_wp.sh) runs wp-linux, and boots
# it on the software CPU with wp-monitor as a device model. wp-linux finds
# the guest-physical frames of its own buffer in /proc/self/pagemap,
# announces them to wp-monitor, writes to them and prints what it reads
# back; wp-monitor prints each write it intercepted.
# Usage: scripts/demo-linux.sh [deny|allow|log]   (wp-monitor's policy; deny)
set -eu
policy=${1:-deny}
case $policy in
deny|allow|log) ;;
*) echo "usage: $0 [deny|allow|log]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
unicorn_pc=$(./scripts/setup.sh)
[ -z "$unicorn_pc" ] || export PKG_CONFIG_PATH="$unicorn_pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
dir=_build/release
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=debugoptimized >/dev/null
ninja -C "$dir" >/dev/null
assets=$(tests/linux/fetch_assets.sh "${XDG_CACHE_HOME:-$HOME/.cache}/ioreqvm/linux-assets")
kernel=$(echo "$assets" | sed -n 1p)
busybox=$(echo "$assets" | sed -n 2p)
initrd="$dir/initramfs-wp-linux.cpio"
python3 tests/linux/mkinitramfs.py "$initrd" "$busybox" tests/linux/init_wp.sh \
	"bin/wp-linux=$dir/guests/linux/wp-linux"
echo "=== ioreqvm run --accel tcg --kernel $(basename "$kernel") --initrd $(basename "$initrd")" \
	"--device-model 'wp-monitor --announced --policy $policy'"
status=0
"$dir/src/ioreqvm" run --accel tcg --memory 256M --kernel "$kernel" --initrd "$initrd" \
	--cmdline "console=ttyS0 panic=-1 quiet no_timer_check" \
	--device-model "$dir/dm/wp-monitor/wp-monitor --announced --policy $policy" || status=$?
# /init powers off through ACPI once wp-linux is done: ioreqvm's status 0.
if [ "$status" -ne 0 ]; then
	echo "demo-linux: ioreqvm exited with status $status (0 expected)" >&2
	exit 1
fi
