/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the ACPI tables (DESIGN L2, src/platform/acpi.c): written
 * into a real guest RAM, then found and parsed back the way a guest does:
 * the RSDP at 0xE0000, the XSDT and RSDT, each table by signature, every
 * checksum; the FADT's fixed hardware at the ports dev/pm.c serves, the
 * DSDT's \_S5 package, the MADT's local APICs, I/O APIC, overrides and NMI.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/mptable.h"
#include "mem/guest_ram.h"
#include "platform/acpi.h"
#include "platform/layout.h"

#define RAM_SIZE (16ULL << 20)

struct fx {
	struct guest_ram ram;
	char err[256];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || guest_ram_create(&f->ram, RAM_SIZE) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	guest_ram_destroy(&f->ram);
	free(f);
	return 0;
}

static uint64_t rd(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* A table at @gpa: inside the ACPI area, 36-byte header, checksum zero. */
static const uint8_t *table(struct fx *f, uint64_t gpa, const char *sig)
{
	assert_true(gpa >= PLAT_ACPI_START);
	const uint8_t *t = guest_ram_ptr(&f->ram, gpa, 36);
	assert_non_null(t);
	if (memcmp(t, sig, 4))
		fail_msg("table at 0x%llx is '%.4s', want '%s'", (unsigned long long)gpa, t, sig);
	uint32_t len = (uint32_t)rd(t + 4, 4);
	assert_true(len >= 36);
	assert_true(gpa + len <= PLAT_ACPI_START + PLAT_ACPI_SIZE);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "IOREQV", 6);
	return t;
}

struct parsed {
	const uint8_t *rsdp, *xsdt, *rsdt, *fadt, *madt, *dsdt, *facs;
};

static void parse(struct fx *f, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->rsdp = guest_ram_ptr(&f->ram, ACPI_RSDP_ADDR, 36);
	assert_non_null(p->rsdp);
	assert_memory_equal(p->rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(p->rsdp, 20), 0);
	assert_int_equal(p->rsdp[15], 2);
	assert_int_equal(rd(p->rsdp + 20, 4), 36);
	assert_int_equal(sum(p->rsdp, 36), 0);
	p->xsdt = table(f, rd(p->rsdp + 24, 8), "XSDT");
	p->rsdt = table(f, rd(p->rsdp + 16, 4), "RSDT");
	unsigned nx = (unsigned)(rd(p->xsdt + 4, 4) - 36) / 8;
	unsigned nr = (unsigned)(rd(p->rsdt + 4, 4) - 36) / 4;
	assert_int_equal(nx, 2);
	assert_int_equal(nr, nx);
	for (unsigned i = 0; i < nx; i++) {
		uint64_t x = rd(p->xsdt + 36 + 8 * i, 8), r = rd(p->rsdt + 36 + 4 * i, 4);
		assert_int_equal(x, r); /* both list the same tables */
		const uint8_t *t = guest_ram_ptr(&f->ram, x, 4);
		assert_non_null(t);
		if (!memcmp(t, "FACP", 4))
			p->fadt = table(f, x, "FACP");
		else if (!memcmp(t, "APIC", 4))
			p->madt = table(f, x, "APIC");
	}
	assert_non_null(p->fadt);
	assert_non_null(p->madt);
	uint64_t dsdt = rd(p->fadt + 140, 8);
	assert_int_equal(rd(p->fadt + 40, 4), dsdt);
	p->dsdt = table(f, dsdt, "DSDT");
	uint64_t facs = rd(p->fadt + 132, 8);
	assert_int_equal(rd(p->fadt + 36, 4), 0); /* X_FIRMWARE_CTRL set: FIRMWARE_CTRL 0 */
	assert_int_equal(facs % 64, 0);
	p->facs = guest_ram_ptr(&f->ram, facs, 64);
	assert_memory_equal(p->facs, "FACS", 4);
	assert_int_equal(rd(p->facs + 4, 4), 64);
}

static void test_acpi_checksums_and_pointers_for_1_4_64_255_cpus(void **state)
{
	struct fx *f = *state;
	static const unsigned counts[] = { 1, 4, 64, 255 };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(acpi_write(&f->ram, counts[i], f->err, sizeof(f->err)), 0);
		struct parsed p;
		parse(f, &p);
	}
}

static void test_acpi_fadt_fixed_hardware_at_pm_ports(void **state)
{
	struct fx *f = *state;
	assert_int_equal(acpi_write(&f->ram, 2, f->err, sizeof(f->err)), 0);
	struct parsed p;
	parse(f, &p);
	const uint8_t *t = p.fadt;
	assert_int_equal(rd(t + 4, 4), 276);
	assert_int_equal(t[8], 6);                      /* FADT revision 6 */
	assert_int_equal(rd(t + 46, 2), 9);             /* SCI on IRQ 9 */
	assert_int_equal(rd(t + 48, 4), 0);             /* no SMI_CMD: always ACPI mode */
	assert_int_equal(rd(t + 56, 4), 0x600);         /* PM1a_EVT_BLK */
	assert_int_equal(rd(t + 64, 4), 0x604);         /* PM1a_CNT_BLK: the power-off port */
	assert_int_equal(rd(t + 76, 4), 0x608);         /* PM_TMR_BLK */
	assert_int_equal(t[88], 4);
	assert_int_equal(t[89], 2);
	assert_int_equal(t[91], 4);
	assert_int_equal(t[108], 0x32);                 /* CMOS century register */
	assert_int_equal(rd(t + 109, 2) & 0x2, 0);      /* no 8042 */
	assert_int_equal(rd(t + 112, 4) & (1u << 20), 0); /* not hardware-reduced */
	assert_int_equal(rd(t + 112, 4) & (1u << 10), 1u << 10); /* reset register */
	assert_int_equal(t[116], 1);                    /* reset: system I/O */
	assert_int_equal(rd(t + 120, 8), 0xcf9);
	assert_int_equal(t[128], 6);
	/* X_PM1a_CNT_BLK as a GAS: I/O, 16 bits, at 0x604 (and the others). */
	assert_int_equal(t[172], 1);
	assert_int_equal(t[173], 16);
	assert_int_equal(rd(t + 176, 8), 0x604);
	assert_int_equal(t[148], 1);
	assert_int_equal(t[149], 32);
	assert_int_equal(rd(t + 152, 8), 0x600);
	assert_int_equal(t[208], 1);
	assert_int_equal(t[209], 32);
	assert_int_equal(rd(t + 212, 8), 0x608);
}

static void test_acpi_dsdt_has_s5_package(void **state)
{
	struct fx *f = *state;
	assert_int_equal(acpi_write(&f->ram, 1, f->err, sizeof(f->err)), 0);
	struct parsed p;
	parse(f, &p);
	uint32_t len = (uint32_t)rd(p.dsdt + 4, 4);
	assert_int_equal(p.dsdt[8], 2);
	/* NameOp "_S5_" PackageOp PkgLength NumElements(4) then four integers. */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04 };
	assert_int_equal(len, 36 + sizeof(s5) + 4);
	assert_memory_equal(p.dsdt + 36, s5, sizeof(s5));
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(p.dsdt[36 + sizeof(s5) + i], 0x00); /* ZeroOp */
}

static void test_acpi_madt_lists_every_cpu_and_the_ioapic(void **state)
{
	struct fx *f = *state;
	static const unsigned counts[] = { 1, 3, 64 };
	for (size_t c = 0; c < 3; c++) {
		unsigned n = counts[c];
		assert_int_equal(acpi_write(&f->ram, n, f->err, sizeof(f->err)), 0);
		struct parsed p;
		parse(f, &p);
		const uint8_t *t = p.madt;
		uint32_t len = (uint32_t)rd(t + 4, 4);
		assert_int_equal(rd(t + 36, 4), 0xFEE00000);
		assert_int_equal(rd(t + 40, 4) & 1, 1); /* PCAT_COMPAT */
		unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
		bool irq0_to_gsi2 = false, sci_level_high = false;
		for (uint32_t off = 44; off < len;) {
			const uint8_t *e = t + off;
			assert_true(e[1] >= 2 && off + e[1] <= len);
			switch (e[0]) {
			case 0:
				assert_int_equal(e[1], 8);
				assert_int_equal(e[2], lapics); /* UID */
				assert_int_equal(e[3], lapics); /* APIC id */
				assert_int_equal(rd(e + 4, 4) & 1, 1);
				lapics++;
				break;
			case 1:
				assert_int_equal(e[1], 12);
				assert_int_equal(e[2], n); /* I/O APIC id after the CPUs', as the MP table */
				assert_int_equal(rd(e + 4, 4), 0xFEC00000);
				assert_int_equal(rd(e + 8, 4), 0);
				ioapics++;
				break;
			case 2:
				assert_int_equal(e[1], 10);
				assert_int_equal(e[2], 0);
				if (e[3] == 0 && rd(e + 4, 4) == 2 && rd(e + 8, 2) == 0)
					irq0_to_gsi2 = true;
				if (e[3] == 9 && rd(e + 4, 4) == 9 && rd(e + 8, 2) == 0xd)
					sci_level_high = true;
				isos++;
				break;
			case 4:
				assert_int_equal(e[1], 6);
				assert_int_equal(e[2], 0xFF); /* all processors */
				assert_int_equal(e[5], 1);    /* LINT1 */
				nmis++;
				break;
			default:
				fail_msg("unexpected MADT entry type %u", e[0]);
			}
			off += e[1];
		}
		assert_int_equal(lapics, n);
		assert_int_equal(ioapics, 1);
		assert_int_equal(isos, 2);
		assert_int_equal(nmis, 1);
		assert_true(irq0_to_gsi2);
		assert_true(sci_level_high);
	}
}

static void test_acpi_stays_clear_of_the_mp_table(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mptable_write(&f->ram, 255, f->err, sizeof(f->err)), 0);
	uint8_t mp[64];
	memcpy(mp, guest_ram_ptr(&f->ram, MPTABLE_START, sizeof(mp)), sizeof(mp));
	assert_int_equal(acpi_write(&f->ram, 255, f->err, sizeof(f->err)), 0);
	assert_memory_equal(guest_ram_ptr(&f->ram, MPTABLE_START, sizeof(mp)), mp, sizeof(mp));
	assert_true(PLAT_ACPI_START + PLAT_ACPI_SIZE <= MPTABLE_START);
	struct parsed p;
	parse(f, &p);
}

static void test_acpi_rejects_bad_cpu_count_and_ram(void **state)
{
	struct fx *f = *state;
	memset(guest_ram_ptr(&f->ram, PLAT_ACPI_START, 64), 0xEE, 64);
	assert_int_equal(acpi_write(&f->ram, 0, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "acpi: 0 vCPUs is outside 1..255");
	assert_int_equal(acpi_write(&f->ram, 256, f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(*(uint8_t *)guest_ram_ptr(&f->ram, PLAT_ACPI_START, 1), 0xEE);
	struct guest_ram unmapped;
	assert_int_equal(guest_ram_layout(&unmapped, RAM_SIZE), 0);
	assert_int_equal(acpi_write(&unmapped, 1, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "acpi: guest RAM is not mapped");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_acpi_checksums_and_pointers_for_1_4_64_255_cpus),
		T(test_acpi_fadt_fixed_hardware_at_pm_ports),
		T(test_acpi_dsdt_has_s5_package),
		T(test_acpi_madt_lists_every_cpu_and_the_ioapic),
		T(test_acpi_stays_clear_of_the_mp_table),
		T(test_acpi_rejects_bad_cpu_count_and_ram),
	};
	return cmocka_run_group_tests_name("acpi (DESIGN L2)", tests, NULL, NULL);
}
