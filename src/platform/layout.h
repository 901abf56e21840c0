/* SPDX-License-Identifier: MIT */
/*
 * The platform a guest sees (DESIGN L2), in one place: where the firmware
 * tables live in low memory, which I/O ports the ACPI fixed hardware uses,
 * and the interrupt wiring the tables describe. The ACPI writer, the e820
 * map, the MP table, the loaders and the in-VMM devices (dev/pm.c,
 * dev/rtc_cmos.c) all take their numbers from here, so the tables a guest
 * reads always describe the devices it gets. Constants only.
 */
#ifndef IOREQVM_PLATFORM_LAYOUT_H
#define IOREQVM_PLATFORM_LAYOUT_H

#include "mem/guest_ram.h"

/*
 * Low memory, below 1 MiB:
 *   [0, 0x9FC00)          RAM (the loaders' boot structures live here)
 *   [0x9FC00, 0xA0000)    EBDA: reserved, left empty
 *   [0xA0000, 0xE0000)    legacy VGA/option ROM window: reserved, empty
 *   [0xE0000, 0xF0000)    ACPI tables, RSDP first (guests scan 0xE0000-0xFFFFF)
 *   [0xF0000, 0xF2000)    MP table (loader/mptable.h)
 *   [0xF2000, 0xF3000)    SMBIOS 3.0 entry point and structures (platform/smbios.h)
 *   [0xF3000, 0x100000)   reserved, empty
 * The whole of [0x9FC00, 0x100000) is one reserved e820 range.
 */
#define PLAT_EBDA_START GUEST_LOW_MEM_END
#define PLAT_BIOS_AREA_END GUEST_LEGACY_HOLE_END
#define PLAT_ACPI_START 0xE0000ULL
#define PLAT_ACPI_SIZE 0x10000ULL
#define PLAT_SMBIOS_START 0xF2000ULL
#define PLAT_SMBIOS_SIZE 0x1000ULL

/* Interrupt controllers (the MP table and MADT describe these). */
#define PLAT_LAPIC_ADDR 0xFEE00000U
#define PLAT_IOAPIC_ADDR 0xFEC00000U
#define PLAT_IOAPIC_PINS 24
#define PLAT_ISA_IRQS 16

/*
 * ACPI fixed hardware at QEMU's PIIX4/ICH9 PM base (0x600): PM1a event
 * block (status, enable), PM1a control (SLP_EN with SLP_TYP S5 powers off, dev/pm.c), the
 * 24-bit PM timer at 3.579545 MHz. No SMI command port: always in ACPI
 * mode. The SCI is ISA IRQ 9, level triggered, active high (as QEMU).
 * Reset: the reset control register at 0xcf9 (dev/pci_cf8.c), value 6.
 */
#define PLAT_PM_BASE 0x600
#define PLAT_PM1A_EVT_PORT (PLAT_PM_BASE + 0)
#define PLAT_PM1_EVT_LEN 4
#define PLAT_PM1A_CNT_PORT (PLAT_PM_BASE + 4)
#define PLAT_PM1_CNT_LEN 2
#define PLAT_PM_TMR_PORT (PLAT_PM_BASE + 8)
#define PLAT_PM_TMR_LEN 4
#define PLAT_PM_TMR_HZ 3579545ULL
#define PLAT_PM1_SCI_EN (1u << 0)
#define PLAT_PM1_SLP_EN (1u << 13)
/* SLP_TYP of S5 (soft off): what the DSDT's \_S5 gives (platform/acpi.c: Zero), as QEMU's. */
#define PLAT_PM1_SLP_TYP_S5 0
#define PLAT_SCI_IRQ 9
#define PLAT_RESET_PORT 0xcf9
#define PLAT_RESET_VALUE 0x06

/* CMOS RTC (dev/rtc_cmos.c): index/data ports; the FADT names the century byte. */
#define PLAT_RTC_INDEX_PORT 0x70
#define PLAT_RTC_DATA_PORT 0x71
#define PLAT_RTC_CENTURY_REG 0x32

#endif
