/* SPDX-License-Identifier: MIT */
/*
 * ACPI table writer (ACPI 6.x layouts): builds the tables one after the
 * other in a local buffer that stands for [PLAT_ACPI_START, +PLAT_ACPI_SIZE),
 * fills in pointers and checksums, then copies the buffer into guest RAM.
 * Fields are written at their byte offsets in little-endian order, so no
 * packed structures are needed. Knows nothing of how the devices behind
 * the tables are emulated; platform/layout.h says where they are.
 */
#include "platform/acpi.h"
#include "util/le_bytes.h"
#include "util/err_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HDR_LEN 36
#define RSDP_LEN 36
#define RSDP_V1_LEN 20
#define FACS_LEN 64
#define FADT_LEN 276
#define FADT_REVISION 6

/* Byte offsets inside the FADT (ACPI 6.x table 5.9). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208

/* FADT flags: WBINVD works, C1 on all CPUs, no fixed power/sleep buttons, reset register. */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PROC_C1 (1u << 2)
#define FADT_F_PWR_BUTTON (1u << 4)
#define FADT_F_SLP_BUTTON (1u << 5)
#define FADT_F_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture: legacy ISA devices present; no 8042, no VGA. */
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)

/* Generic Address Structure: address space ids and access sizes. */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

/* MADT: flags and entry types. */
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED 1u
#define MADT_ALL_CPUS 0xFF
/* MPS INTI flags: polarity bits 0-1 (01 high), trigger bits 2-3 (11 level). */
#define MADT_INTI_HIGH_LEVEL 0x000D

/* The DSDT's AML: Name (_S5, Package (4) { Zero, Zero, Zero, Zero }). */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', /* NameOp, NameSeg */
	0x12, 0x06, 0x04,         /* PackageOp, PkgLength 6, NumElements 4 */
	0x00, 0x00, 0x00, 0x00,   /* ZeroOp x 4: SLP_TYPa, SLP_TYPb, reserved */
};

struct acpi_buf {
	uint8_t b[8192];
	size_t len;
};

_Static_assert(sizeof(((struct acpi_buf *)0)->b) <= PLAT_ACPI_SIZE, "tables fit the ACPI area");

#define acpi_fail err_fmt

static void put8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}

#define checksum table_checksum

/* Room for @len bytes at the next multiple of @align; returns the offset. */
static size_t take(struct acpi_buf *a, size_t len, size_t align)
{
	size_t off = (a->len + align - 1) & ~(align - 1);
	a->len = off + len;
	return off;
}

static uint32_t gpa_of(size_t off)
{
	return (uint32_t)(PLAT_ACPI_START + off);
}

/* The common header; the checksum is filled in by seal(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	put8(t + 8, rev);
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, "IOVM", 4); /* OEM table id: "IOVM" + signature */
	memcpy(t + 20, sig, 4);
	put32(t + 24, 1);          /* OEM revision */
	memcpy(t + 28, "IOVM", 4); /* creator id */
	put32(t + 32, 1);          /* creator revision */
}

static void seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

static void gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint64_t port)
{
	put8(p, GAS_SYSTEM_IO);
	put8(p + 1, bits);
	put8(p + 2, 0);
	put8(p + 3, access);
	put64(p + 4, port);
}

static size_t build_fadt(struct acpi_buf *a, size_t facs, size_t dsdt)
{
	size_t off = take(a, FADT_LEN, 16);
	uint8_t *t = a->b + off;
	header(t, "FACP", FADT_LEN, FADT_REVISION);
	/* FACS through X_FIRMWARE_CTRL only: the spec wants FIRMWARE_CTRL 0 then. */
	put32(t + FADT_FIRMWARE_CTRL, 0);
	put32(t + FADT_DSDT, gpa_of(dsdt));
	put16(t + FADT_SCI_INT, PLAT_SCI_IRQ);
	/* SMI_CMD stays 0: the platform is always in ACPI mode. */
	put32(t + FADT_PM1A_EVT_BLK, PLAT_PM1A_EVT_PORT);
	put32(t + FADT_PM1A_CNT_BLK, PLAT_PM1A_CNT_PORT);
	put32(t + FADT_PM_TMR_BLK, PLAT_PM_TMR_PORT);
	put8(t + FADT_PM1_EVT_LEN, PLAT_PM1_EVT_LEN);
	put8(t + FADT_PM1_CNT_LEN, PLAT_PM1_CNT_LEN);
	put8(t + FADT_PM_TMR_LEN, PLAT_PM_TMR_LEN);
	put16(t + FADT_P_LVL2_LAT, 101); /* > 100: no C2 */
	put16(t + FADT_P_LVL3_LAT, 1001); /* > 1000: no C3 */
	put8(t + FADT_CENTURY, PLAT_RTC_CENTURY_REG);
	put16(t + FADT_IAPC_BOOT_ARCH, FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_VGA_NOT_PRESENT);
	put32(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON |
				      FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP);
	gas_io(t + FADT_RESET_REG, 8, GAS_ACCESS_BYTE, PLAT_RESET_PORT);
	put8(t + FADT_RESET_VALUE, PLAT_RESET_VALUE);
	put8(t + FADT_MINOR_VERSION, 0);
	put64(t + FADT_X_FIRMWARE_CTRL, gpa_of(facs));
	put64(t + FADT_X_DSDT, gpa_of(dsdt));
	gas_io(t + FADT_X_PM1A_EVT_BLK, PLAT_PM1_EVT_LEN * 8, GAS_ACCESS_WORD, PLAT_PM1A_EVT_PORT);
	gas_io(t + FADT_X_PM1A_CNT_BLK, PLAT_PM1_CNT_LEN * 8, GAS_ACCESS_WORD, PLAT_PM1A_CNT_PORT);
	gas_io(t + FADT_X_PM_TMR_BLK, PLAT_PM_TMR_LEN * 8, GAS_ACCESS_DWORD, PLAT_PM_TMR_PORT);
	seal(t, FADT_LEN);
	return off;
}

static size_t build_madt(struct acpi_buf *a, unsigned nr_cpus)
{
	uint32_t len = HDR_LEN + 8 + nr_cpus * 8 + 12 + 2 * 10 + 6;
	size_t off = take(a, len, 16);
	uint8_t *t = a->b + off;
	header(t, "APIC", len, 4);
	put32(t + 36, PLAT_LAPIC_ADDR);
	put32(t + 40, MADT_PCAT_COMPAT); /* 8259 pair present: the guest masks it */
	uint8_t *e = t + 44;
	for (unsigned i = 0; i < nr_cpus; i++, e += 8) {
		put8(e, MADT_LAPIC);
		put8(e + 1, 8);
		put8(e + 2, (uint8_t)i); /* ACPI processor UID */
		put8(e + 3, (uint8_t)i); /* APIC id */
		put32(e + 4, MADT_LAPIC_ENABLED);
	}
	put8(e, MADT_IOAPIC);
	put8(e + 1, 12);
	put8(e + 2, (uint8_t)nr_cpus); /* I/O APIC id, as in the MP table */
	put8(e + 3, 0);
	put32(e + 4, PLAT_IOAPIC_ADDR);
	put32(e + 8, 0); /* GSI base */
	e += 12;
	static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } iso[2] = {
		{ 0, 2, 0 },                                 /* the PIT's IRQ0 on pin 2 */
		{ PLAT_SCI_IRQ, PLAT_SCI_IRQ, MADT_INTI_HIGH_LEVEL }, /* the SCI */
	};
	for (unsigned i = 0; i < 2; i++, e += 10) {
		put8(e, MADT_ISO);
		put8(e + 1, 10);
		put8(e + 2, 0); /* bus: ISA */
		put8(e + 3, iso[i].irq);
		put32(e + 4, iso[i].gsi);
		put16(e + 8, iso[i].flags);
	}
	put8(e, MADT_LAPIC_NMI);
	put8(e + 1, 6);
	put8(e + 2, MADT_ALL_CPUS);
	put16(e + 3, 0); /* flags: conforming */
	put8(e + 5, 1);  /* LINT1 */
	seal(t, len);
	return off;
}

int acpi_write(struct guest_ram *ram, unsigned nr_cpus, char *err, size_t errlen)
{
	struct acpi_buf a;
	memset(&a, 0, sizeof(a));
	if (!ram || !ram->host)
		return acpi_fail(err, errlen, -EINVAL, "acpi: guest RAM is not mapped");
	if (nr_cpus < 1 || nr_cpus > ACPI_MAX_CPUS)
		return acpi_fail(err, errlen, -EINVAL, "acpi: %u vCPUs is outside 1..%u", nr_cpus,
				 ACPI_MAX_CPUS);

	size_t rsdp = take(&a, RSDP_LEN, 16);
	size_t facs = take(&a, FACS_LEN, 64);
	memcpy(a.b + facs, "FACS", 4);
	put32(a.b + facs + 4, FACS_LEN);
	put8(a.b + facs + 32, 2); /* version */

	size_t dsdt_len = HDR_LEN + sizeof(dsdt_aml);
	size_t dsdt = take(&a, dsdt_len, 16);
	header(a.b + dsdt, "DSDT", (uint32_t)dsdt_len, 2); /* revision 2: 64-bit integers */
	memcpy(a.b + dsdt + HDR_LEN, dsdt_aml, sizeof(dsdt_aml));
	seal(a.b + dsdt, (uint32_t)dsdt_len);

	size_t fadt = build_fadt(&a, facs, dsdt);
	size_t madt = build_madt(&a, nr_cpus);

	const size_t tables[2] = { fadt, madt };
	uint32_t xsdt_len = HDR_LEN + 2 * 8, rsdt_len = HDR_LEN + 2 * 4;
	size_t xsdt = take(&a, xsdt_len, 16);
	header(a.b + xsdt, "XSDT", xsdt_len, 1);
	size_t rsdt = take(&a, rsdt_len, 16);
	header(a.b + rsdt, "RSDT", rsdt_len, 1);
	for (unsigned i = 0; i < 2; i++) {
		put64(a.b + xsdt + HDR_LEN + 8 * i, gpa_of(tables[i]));
		put32(a.b + rsdt + HDR_LEN + 4 * i, gpa_of(tables[i]));
	}
	seal(a.b + xsdt, xsdt_len);
	seal(a.b + rsdt, rsdt_len);

	uint8_t *p = a.b + rsdp;
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, ACPI_OEM_ID, 6);
	put8(p + 15, 2); /* revision 2: ACPI 2.0+, XSDT present */
	put32(p + 16, gpa_of(rsdt));
	put32(p + 20, RSDP_LEN);
	put64(p + 24, gpa_of(xsdt));
	p[8] = checksum(p, RSDP_V1_LEN);
	p[32] = checksum(p, RSDP_LEN);

	uint8_t *dst = guest_ram_ptr(ram, PLAT_ACPI_START, a.len);
	if (!dst)
		return acpi_fail(err, errlen, -ENOMEM, "acpi: [0x%llx, 0x%llx) is not guest RAM",
				 (unsigned long long)PLAT_ACPI_START,
				 (unsigned long long)(PLAT_ACPI_START + a.len));
	memcpy(dst, a.b, a.len);
	return 0;
}
