/* SPDX-License-Identifier: MIT */
/*
 * In-VMM device descriptors. Each device file ends with one const
 * struct device_desc; dev/devices.c lists them all in one table, so the
 * order devices come up in is visible in one place (no constructors).
 */
#ifndef IOREQVM_DEVICE_H
#define IOREQVM_DEVICE_H

struct vm;

struct device_desc {
	const char *name;
	/* Allocate state, register I/O ranges on vm->iomap. 0 or -errno. */
	int (*create)(struct vm *vm, void **state);
	void (*destroy)(void *state);
};

extern const struct device_desc *const builtin_devices[];

extern const struct device_desc uart16550_device;
extern const struct device_desc debug_exit_device;
extern const struct device_desc pm_device;
extern const struct device_desc pci_cf8_device;
extern const struct device_desc rtc_cmos_device;

#endif
