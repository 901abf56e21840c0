/* SPDX-License-Identifier: MIT */
/*
 * The guest's physical memory map as a PC firmware reports it (e820): RAM
 * below and above the PCI hole, and the low reserved range that holds the
 * EBDA and the firmware tables (platform/layout.h). Built from the guest RAM
 * layout only; the Linux loader copies it into boot_params.
 */
#ifndef IOREQVM_PLATFORM_E820_H
#define IOREQVM_PLATFORM_E820_H

#include <stdint.h>

#include "mem/guest_ram.h"

#define E820_RAM 1
#define E820_RESERVED 2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* Entries platform_e820 writes at most. */
#define PLATFORM_E820_MAX 4

/*
 * Fill @out (room for PLATFORM_E820_MAX) with the map of @ram, sorted by
 * address, non-overlapping: [0, EBDA) RAM, [EBDA, 1 MiB) reserved, [1 MiB,
 * low end) RAM, and the RAM above 4 GiB if any. Returns the count, or 0 if
 * @ram has no low region reaching past 1 MiB (no map a PC guest could use).
 */
unsigned platform_e820(const struct guest_ram *ram, struct e820_entry *out);

#endif
