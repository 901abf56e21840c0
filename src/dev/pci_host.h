/* SPDX-License-Identifier: MIT */
/*
 * The PCI host bridge at 00:00.0 (DESIGN L2): the configuration space
 * pci_cf8.c serves for that function when no IOREQ server claims it, so
 * that a kernel finds configuration mechanism #1 working (Linux's
 * pci_sanity_check looks for a host bridge or VGA class on bus 0; without
 * one it prints "PCI: Fatal: No config space access function found").
 * Read-only: writes are dropped, its BARs read 0 (none). Pure function.
 */
#ifndef IOREQVM_PCI_HOST_H
#define IOREQVM_PCI_HOST_H

#include <stdint.h>

#define PCI_HOST_SBDF 0 /* segment 0, bus 0, device 0, function 0 */
#define PCI_HOST_VENDOR 0x1b36 /* the ID QEMU gives its generic virtual host bridge ... */
#define PCI_HOST_DEVICE 0x0008 /* ... (no Linux driver or quirk binds to it) */
#define PCI_HOST_CLASS 0x060000 /* bridge, host bridge, prog-if 0 */

/* @size (1, 2 or 4) bytes at @reg (aligned to @size) of its configuration space. */
uint32_t pci_host_config_read(unsigned reg, unsigned size);

#endif
