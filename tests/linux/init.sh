#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# /init of the Linux guest tests' initramfs (mkinitramfs.py puts it there):
# prints marker lines the tests check, with what Linux reports, then powers
# off through ACPI (poweroff -f: the FADT's PM1a control), so ioreqvm exits 0.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
stty -onlcr # lines end in \n alone, as run_guest.sh matches them (the tty adds \r)
echo "ioreqvm-init: /init started"
mount -t proc proc /proc && mount -t sysfs sysfs /sys &&
	echo "ioreqvm-init: mounted $(grep -cE '^(proc /proc proc|sysfs /sys sysfs) ' /proc/mounts) of proc and sysfs"
echo "ioreqvm-init: uname -r $(uname -r)"
echo "ioreqvm-init: cpus $(grep -c ^processor /proc/cpuinfo), online $(cat /sys/devices/system/cpu/online)"
echo "ioreqvm-init: uptime $(cut -d' ' -f1 /proc/uptime)"
echo "ioreqvm-init: powering off"
poweroff -f
echo "ioreqvm-init: poweroff -f returned"
