/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables (DESIGN L2) for a guest that wants them instead of the MP
 * table: RSDP, XSDT and RSDT, FADT (with FACS and DSDT), MADT. They
 * describe the platform of platform/layout.h: every vCPU's local APIC, the
 * I/O APIC with ISA IRQ0 on GSI 2 and the SCI (IRQ 9) level/high, the PM1a
 * blocks and PM timer at 0x600 (dev/pm.c), the reset register 0xcf9 and the
 * CMOS century byte. The DSDT holds only \_S5 so a guest can power off.
 * Owns the layout of [PLAT_ACPI_START, + PLAT_ACPI_SIZE).
 */
#ifndef IOREQVM_PLATFORM_ACPI_H
#define IOREQVM_PLATFORM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "mem/guest_ram.h"
#include "platform/layout.h"

/* The RSDP is the first thing in the ACPI area (16-byte aligned, as required). */
#define ACPI_RSDP_ADDR PLAT_ACPI_START
#define ACPI_MAX_CPUS 255
#define ACPI_OEM_ID "IOREQV"

/*
 * Write every table into @ram for @nr_cpus vCPUs (APIC ids 0..n-1, the
 * I/O APIC's id n, as the MP table has them). Checksums are filled in.
 * Returns 0, -EINVAL (@nr_cpus outside 1..255, @ram not mapped) or -ENOMEM
 * (the area is not guest RAM); on error a message in @err (may be NULL) and
 * guest RAM unchanged.
 */
int acpi_write(struct guest_ram *ram, unsigned nr_cpus, char *err, size_t errlen);

#endif
