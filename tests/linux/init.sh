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
d=/sys/class/dmi/id
echo "ioreqvm-init: dmi $(cat $d/sys_vendor $d/product_name $d/bios_vendor $d/bios_version $d/bios_date 2>&1 | tr '\n' '|')"
echo "ioreqvm-init: tsc flags $(grep -m1 -ow -e constant_tsc -e nonstop_tsc /proc/cpuinfo | tr '\n' ' ')"
echo "ioreqvm-init: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "ioreqvm-init: uptime $(cut -d' ' -f1 /proc/uptime)"
echo "ioreqvm-init: powering off"
poweroff -f
echo "ioreqvm-init: poweroff -f returned"
