/* SPDX-License-Identifier: MIT */
/* The e820 map of a guest RAM layout (see e820.h). */
#include "platform/e820.h"

#include "platform/layout.h"

unsigned platform_e820(const struct guest_ram *ram, struct e820_entry *out)
{
	uint64_t low_end = 0;
	for (unsigned i = 0; i < ram->nr_regions && i < GUEST_RAM_MAX_REGIONS; i++)
		if (ram->region[i].gpa == 0)
			low_end = ram->region[i].size;
	if (low_end <= PLAT_BIOS_AREA_END)
		return 0;
	unsigned n = 0;
	out[n++] = (struct e820_entry){ 0, PLAT_EBDA_START, E820_RAM };
	out[n++] = (struct e820_entry){ PLAT_EBDA_START, PLAT_BIOS_AREA_END - PLAT_EBDA_START,
					E820_RESERVED };
	out[n++] = (struct e820_entry){ PLAT_BIOS_AREA_END, low_end - PLAT_BIOS_AREA_END, E820_RAM };
	for (unsigned i = 0; i < ram->nr_regions && i < GUEST_RAM_MAX_REGIONS; i++)
		if (ram->region[i].gpa >= GUEST_PCI_HOLE_END && n < PLATFORM_E820_MAX)
			out[n++] = (struct e820_entry){ ram->region[i].gpa, ram->region[i].size,
							E820_RAM };
	return n;
}
