/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the SMBIOS tables (DESIGN L2, src/platform/smbios.c):
 * written into a real guest RAM, then found and walked the way Linux's
 * dmi_scan does without EFI: the "_SM3_" entry point in 16-byte steps
 * through 0xF0000-0xFFFFF, its length and checksum, the structure table
 * at the address it gives, each structure's strings; the BIOS (type 0)
 * and system (type 1) strings Linux shows in its "DMI:" line and in
 * /sys/class/dmi/id, the end marker; clear of the MP table and the ACPI
 * area; bad input refused with guest RAM unchanged.
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
#include "platform/smbios.h"

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

struct dmi {
	uint64_t ep_addr, table, table_len;
	unsigned nr;
	const uint8_t *s[8];  /* each structure's formatted area */
	const char *str[8][4]; /* its strings 1..4 (index 0: string 1) */
};

/* Find the entry point as Linux does and walk the table to type 127. */
static void scan(struct fx *f, struct dmi *d)
{
	memset(d, 0, sizeof(*d));
	const uint8_t *area = guest_ram_ptr(&f->ram, 0xF0000, 0x10000);
	assert_non_null(area);
	for (uint64_t off = 0; off + 24 <= 0x10000; off += 16) {
		const uint8_t *p = area + off;
		if (memcmp(p, "_SM3_", 5))
			continue;
		assert_int_equal(d->ep_addr, 0); /* only one */
		d->ep_addr = 0xF0000 + off;
		assert_true(p[6] >= 24 && p[6] <= 32);
		uint8_t sum = 0;
		for (unsigned i = 0; i < p[6]; i++)
			sum = (uint8_t)(sum + p[i]);
		assert_int_equal(sum, 0);
		assert_int_equal(p[7], 3); /* SMBIOS 3.0.0 */
		assert_int_equal(p[8], 0);
		assert_int_equal(p[10], 1);
		d->table_len = rd(p + 12, 4);
		d->table = rd(p + 16, 8);
	}
	assert_int_equal(d->ep_addr, SMBIOS_ENTRY_ADDR);
	assert_true(d->table >= PLAT_SMBIOS_START + 24);
	assert_true(d->table + d->table_len <= PLAT_SMBIOS_START + PLAT_SMBIOS_SIZE);
	const uint8_t *t = guest_ram_ptr(&f->ram, d->table, d->table_len);
	assert_non_null(t);
	size_t at = 0;
	for (;;) {
		assert_true(d->nr < 8);
		assert_true(at + 4 <= d->table_len);
		const uint8_t *s = t + at;
		assert_true(s[1] >= 4 && at + s[1] <= d->table_len);
		assert_int_equal(rd(s + 2, 2), d->nr); /* handles 0, 1, 2 */
		d->s[d->nr] = s;
		size_t q = at + s[1];
		unsigned n = 0;
		if (t[q] == 0) {
			q++; /* no strings: the set is two NULs */
		} else {
			while (t[q]) {
				const char *str = (const char *)t + q;
				size_t len = strnlen(str, d->table_len - q);
				assert_true(q + len < d->table_len);
				if (n < 4)
					d->str[d->nr][n] = str;
				n++;
				q += len + 1;
			}
		}
		assert_int_equal(t[q], 0);
		at = q + 1;
		if (s[0] == 127)
			break;
		d->nr++;
	}
	d->nr++;
	assert_int_equal(at, d->table_len); /* the end marker ends the table */
}

static void test_smbios_entry_point_found_as_linux_scans(void **state)
{
	struct fx *f = *state;
	assert_int_equal(smbios_write(&f->ram, "0.1.0", f->err, sizeof(f->err)), 0);
	struct dmi d;
	scan(f, &d);
	assert_int_equal(d.nr, 3);
	assert_int_equal(d.s[0][0], 0);
	assert_int_equal(d.s[1][0], 1);
	assert_int_equal(d.s[2][0], 127);
	assert_int_equal(d.s[2][1], 4);
}

static void test_smbios_bios_and_system_strings(void **state)
{
	struct fx *f = *state;
	assert_int_equal(smbios_write(&f->ram, "9.8.7-test", f->err, sizeof(f->err)), 0);
	struct dmi d;
	scan(f, &d);
	const uint8_t *b = d.s[0], *sys = d.s[1];
	/* Type 0: vendor, version, release date by string number; a VM (ext. byte 2 bit 4). */
	assert_int_equal(b[1], 24);
	assert_string_equal(d.str[0][b[4] - 1], "ioreqvm");
	assert_string_equal(d.str[0][b[5] - 1], "9.8.7-test");
	assert_string_equal(d.str[0][b[8] - 1], SMBIOS_BIOS_DATE);
	assert_int_equal(strlen(SMBIOS_BIOS_DATE), 10); /* mm/dd/yyyy */
	assert_true(rd(b + 10, 8) & (1u << 3)); /* characteristics not supported */
	assert_true(b[19] & (1u << 4));
	/* Type 1: manufacturer, product, version; serial 0 (none), UUID all zero. */
	assert_int_equal(sys[1], 27);
	assert_string_equal(d.str[1][sys[4] - 1], "ioreqvm");
	assert_string_equal(d.str[1][sys[5] - 1], "ioreqvm VM");
	assert_string_equal(d.str[1][sys[6] - 1], "9.8.7-test");
	assert_int_equal(sys[7], 0);
	for (unsigned i = 8; i < 24; i++)
		assert_int_equal(sys[i], 0);
}

static void test_smbios_clear_of_mp_table_and_acpi(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mptable_write(&f->ram, 255, f->err, sizeof(f->err)), 0);
	assert_int_equal(acpi_write(&f->ram, 255, f->err, sizeof(f->err)), 0);
	uint8_t mp[MPTABLE_MAX_SIZE], acpi[256];
	memcpy(mp, guest_ram_ptr(&f->ram, MPTABLE_START, sizeof(mp)), sizeof(mp));
	memcpy(acpi, guest_ram_ptr(&f->ram, PLAT_ACPI_START, sizeof(acpi)), sizeof(acpi));
	assert_int_equal(smbios_write(&f->ram, "0.1.0", f->err, sizeof(f->err)), 0);
	assert_memory_equal(guest_ram_ptr(&f->ram, MPTABLE_START, sizeof(mp)), mp, sizeof(mp));
	assert_memory_equal(guest_ram_ptr(&f->ram, PLAT_ACPI_START, sizeof(acpi)), acpi,
			    sizeof(acpi));
	assert_true(MPTABLE_START + MPTABLE_MAX_SIZE <= PLAT_SMBIOS_START);
	assert_true(PLAT_SMBIOS_START + PLAT_SMBIOS_SIZE <= PLAT_BIOS_AREA_END);
	struct dmi d;
	scan(f, &d);
}

static void test_smbios_rejects_bad_version_and_ram(void **state)
{
	struct fx *f = *state;
	memset(guest_ram_ptr(&f->ram, PLAT_SMBIOS_START, 64), 0xEE, 64);
	char longv[80];
	memset(longv, 'v', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = 0;
	assert_int_equal(smbios_write(&f->ram, longv, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "smbios: a version of at most 64 bytes");
	assert_int_equal(smbios_write(&f->ram, NULL, f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(*(uint8_t *)guest_ram_ptr(&f->ram, PLAT_SMBIOS_START, 1), 0xEE);
	struct guest_ram unmapped;
	assert_int_equal(guest_ram_layout(&unmapped, RAM_SIZE), 0);
	assert_int_equal(smbios_write(&unmapped, "0.1.0", f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "smbios: guest RAM is not mapped");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_smbios_entry_point_found_as_linux_scans),
		T(test_smbios_bios_and_system_strings),
		T(test_smbios_clear_of_mp_table_and_acpi),
		T(test_smbios_rejects_bad_version_and_ram),
	};
	return cmocka_run_group_tests_name("smbios (DESIGN L2)", tests, NULL, NULL);
}
