/* SPDX-License-Identifier: MIT */
/*
 * The table of built-in devices, in creation order. The UART is created only
 * when the VM asks for it (vm_config.builtin_uart): normally COM1 is the
 * ioreqvm-uart16550 device model.
 */
#include "dev/device.h"

#include <stddef.h>

const struct device_desc *const builtin_devices[] = {
	&uart16550_device,
	&debug_exit_device,
	&pm_device,
	&pci_cf8_device,
	&rtc_cmos_device,
	NULL,
};
