#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# /init of the Linux console tests' initramfs (check_linux_console.py): an
# interactive busybox shell on the console (ttyS0, the UART model), which
# the test drives through a terminal or a pipe (DESIGN L3, L4).
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "ioreqvm-init: shell on the console"
exec sh
