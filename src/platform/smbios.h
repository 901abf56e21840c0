/* SPDX-License-Identifier: MIT */
/*
 * SMBIOS (DMI) tables (DESIGN L2): a 64-bit SMBIOS 3.0 entry point where a
 * guest without EFI scans for it (Linux: 16-byte steps through
 * 0xF0000-0xFFFFF), and a minimal structure table after it: BIOS
 * information (type 0, marked as describing a virtual machine), system
 * information (type 1: manufacturer "ioreqvm", product, version) and the
 * end-of-table marker (type 127). Without it Debian's kernel prints "DMI
 * not present or invalid." and /sys/class/dmi/id is empty. Owns the
 * layout of [PLAT_SMBIOS_START, + PLAT_SMBIOS_SIZE).
 */
#ifndef IOREQVM_PLATFORM_SMBIOS_H
#define IOREQVM_PLATFORM_SMBIOS_H

#include <stddef.h>

#include "mem/guest_ram.h"
#include "platform/layout.h"

#define SMBIOS_ENTRY_ADDR PLAT_SMBIOS_START
#define SMBIOS_VENDOR "ioreqvm"
#define SMBIOS_PRODUCT "ioreqvm VM"
/* The "firmware" release date: when these tables last changed (mm/dd/yyyy). */
#define SMBIOS_BIOS_DATE "12/03/2026"

/*
 * Write the entry point and the structures into @ram, @version (ioreqvm's
 * version, at most 64 bytes) as the BIOS and system version. Checksum
 * filled in. Returns 0, -EINVAL (@ram not mapped, @version NULL or too
 * long) or -ENOMEM (the area is not guest RAM); on error a message in
 * @err (may be NULL) and guest RAM unchanged.
 */
int smbios_write(struct guest_ram *ram, const char *version, char *err, size_t errlen);

#endif
