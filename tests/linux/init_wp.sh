#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# /init of the L5 initramfs (tests/linux/check_linux_wp.py, scripts/demo-linux.sh):
# mounts proc (wp-linux reads /proc/self/pagemap), runs /bin/wp-linux as root
# (it announces its pages to wp-monitor, writes to them and prints what it
# read back), prints its exit status, then powers off through ACPI.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
stty -onlcr # lines end in \n alone, as the tests match them (the tty adds \r)
mount -t proc proc /proc
echo "ioreqvm-init: running wp-linux"
/bin/wp-linux
echo "ioreqvm-init: wp-linux exited with status $?"
poweroff -f
