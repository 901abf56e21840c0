/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the MP table writer (src/loader/mptable.c): parses what it
 * wrote into guest RAM the way a guest does (scan for "_MP_", follow the
 * pointer, walk the entries) and checks checksums, counts and fields.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/mptable.h"
#include "mem/guest_ram.h"

#define RAM_SIZE (8ULL << 20)

struct parsed {
	uint32_t config;
	uint16_t length, count;
	unsigned cpus, buses, ioapics, iointr, lintr;
	uint8_t cpu_id[256], cpu_flags[256];
	uint8_t ioapic_id, ioapic_ver;
	uint32_t ioapic_addr;
	int pin_of_irq[16]; /* -1: no entry */
	uint8_t irq_dst_apic[16];
	uint8_t lint_type[2], lint_dst[2];
	unsigned lints;
};

static int setup(void **state)
{
	struct guest_ram *ram = calloc(1, sizeof(*ram));
	if (!ram || guest_ram_create(ram, RAM_SIZE) != 0)
		return -1;
	*state = ram;
	return 0;
}

static int teardown(void **state)
{
	guest_ram_destroy(*state);
	free(*state);
	return 0;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Find and walk the table as Linux's mpparse does; assert well-formedness. */
static void parse(struct guest_ram *ram, struct parsed *out)
{
	memset(out, 0, sizeof(*out));
	memset(out->pin_of_irq, -1, sizeof(out->pin_of_irq));
	const uint8_t *bios = guest_ram_ptr(ram, 0xF0000, 0x10000);
	assert_non_null(bios);
	const uint8_t *fp = NULL;
	for (size_t off = 0; off < 0x10000; off += 16)
		if (!memcmp(bios + off, "_MP_", 4) && bios[off + 8] == 1 && !sum(bios + off, 16)) {
			fp = bios + off;
			break;
		}
	assert_non_null(fp);
	assert_ptr_equal(fp, bios); /* at MPTABLE_START */
	assert_int_equal(fp[9], 4);  /* spec 1.4 */
	assert_int_equal(fp[11], 0); /* feature byte 1: config table present */
	out->config = rd32(fp + 4);
	assert_int_equal(out->config % 16, 0);
	const uint8_t *c = guest_ram_ptr(ram, out->config, 44);
	assert_non_null(c);
	assert_memory_equal(c, "PCMP", 4);
	out->length = rd16(c + 4);
	assert_int_equal(c[6], 4);
	c = guest_ram_ptr(ram, out->config, out->length);
	assert_non_null(c);
	assert_int_equal(sum(c, out->length), 0);
	assert_memory_equal(c + 8, "IOREQVM ", 8);
	assert_int_equal(rd32(c + 36), 0xFEE00000);
	assert_int_equal(rd16(c + 40), 0); /* no extended table */
	assert_true(out->config + out->length <= MPTABLE_START + MPTABLE_MAX_SIZE);
	out->count = rd16(c + 34);

	size_t off = 44;
	for (unsigned i = 0; i < out->count; i++) {
		assert_true(off < out->length);
		const uint8_t *e = c + off;
		switch (e[0]) {
		case 0:
			out->cpu_id[out->cpus] = e[1];
			out->cpu_flags[out->cpus] = e[3];
			assert_int_equal(e[2], MPTABLE_LAPIC_VERSION);
			out->cpus++;
			off += 20;
			break;
		case 1:
			assert_memory_equal(e + 2, "ISA   ", 6);
			assert_int_equal(e[1], 0);
			out->buses++;
			off += 8;
			break;
		case 2:
			out->ioapic_id = e[1];
			out->ioapic_ver = e[2];
			assert_int_equal(e[3], 1);
			out->ioapic_addr = rd32(e + 4);
			out->ioapics++;
			off += 8;
			break;
		case 3:
			assert_int_equal(e[1], 0); /* INT */
			assert_int_equal(rd16(e + 2), 0);
			assert_int_equal(e[4], 0); /* ISA bus */
			assert_true(e[5] < 16);
			assert_int_equal(out->pin_of_irq[e[5]], -1);
			out->pin_of_irq[e[5]] = e[7];
			out->irq_dst_apic[e[5]] = e[6];
			out->iointr++;
			off += 8;
			break;
		case 4:
			assert_true(e[7] < 2);
			out->lint_type[e[7]] = e[1];
			out->lint_dst[e[7]] = e[6];
			out->lints++;
			off += 8;
			break;
		default:
			fail_msg("unknown MP entry type %u at offset %zu", e[0], off);
		}
	}
	assert_int_equal(off, out->length);
}

static void test_mptable_checksums_valid_for_1_4_255_cpus(void **state)
{
	static const unsigned counts[] = { 1, 4, 255 };
	for (unsigned k = 0; k < 3; k++) {
		char err[128];
		struct parsed p;
		assert_int_equal(mptable_write(*state, counts[k], err, sizeof(err)), 0);
		parse(*state, &p);
		assert_int_equal(p.cpus, counts[k]);
		assert_int_equal(p.count, counts[k] + 1 + 1 + 15 + 2);
		assert_int_equal(p.length, 44 + 20 * counts[k] + 8 * (1 + 1 + 15 + 2));
	}
}

static void test_mptable_floating_pointer_at_f0000_points_after_itself(void **state)
{
	struct parsed p;
	assert_int_equal(mptable_write(*state, 2, NULL, 0), 0);
	parse(*state, &p);
	assert_int_equal(p.config, MPTABLE_START + 16);
}

static void test_mptable_processor_entries_enabled_bsp_on_0(void **state)
{
	struct parsed p;
	assert_int_equal(mptable_write(*state, 8, NULL, 0), 0);
	parse(*state, &p);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(p.cpu_id[i], i);
		assert_int_equal(p.cpu_flags[i], i == 0 ? 3 : 1);
	}
}

static void test_mptable_ioapic_after_cpu_ids(void **state)
{
	struct parsed p;
	assert_int_equal(mptable_write(*state, 3, NULL, 0), 0);
	parse(*state, &p);
	assert_int_equal(p.buses, 1);
	assert_int_equal(p.ioapics, 1);
	assert_int_equal(p.ioapic_id, 3);
	assert_int_equal(p.ioapic_ver, 0x11);
	assert_int_equal(p.ioapic_addr, 0xFEC00000);
}

static void test_mptable_routes_irq0_to_pin2_and_others_identity(void **state)
{
	struct parsed p;
	assert_int_equal(mptable_write(*state, 2, NULL, 0), 0);
	parse(*state, &p);
	assert_int_equal(p.iointr, 15);
	assert_int_equal(p.pin_of_irq[0], 2);
	assert_int_equal(p.pin_of_irq[2], -1); /* cascade: pin 2 is IRQ0's */
	for (int irq = 1; irq < 16; irq++) {
		if (irq == 2)
			continue;
		assert_int_equal(p.pin_of_irq[irq], irq);
		assert_int_equal(p.irq_dst_apic[irq], 2);
	}
}

static void test_mptable_local_interrupts_extint_lint0_nmi_lint1(void **state)
{
	struct parsed p;
	assert_int_equal(mptable_write(*state, 1, NULL, 0), 0);
	parse(*state, &p);
	assert_int_equal(p.lints, 2);
	assert_int_equal(p.lint_type[0], 3); /* ExtINT */
	assert_int_equal(p.lint_type[1], 1); /* NMI */
	assert_int_equal(p.lint_dst[0], 0xFF);
	assert_int_equal(p.lint_dst[1], 0xFF);
}

static void test_mptable_rejects_bad_cpu_count(void **state)
{
	char err[128];
	assert_int_equal(mptable_write(*state, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0 vCPUs"));
	assert_int_equal(mptable_write(*state, 256, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "256 vCPUs is outside 1..255"));
	const uint8_t *bios = guest_ram_ptr(*state, MPTABLE_START, 16);
	assert_int_equal(bios[0], 0); /* nothing written */
}

static void test_mptable_rejects_unmapped_ram(void **state)
{
	struct guest_ram unmapped;
	assert_int_equal(guest_ram_layout(&unmapped, RAM_SIZE), 0);
	assert_int_equal(mptable_write(&unmapped, 1, NULL, 0), -EINVAL);
	assert_int_equal(mptable_write(NULL, 1, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_mptable_checksums_valid_for_1_4_255_cpus),
		T(test_mptable_floating_pointer_at_f0000_points_after_itself),
		T(test_mptable_processor_entries_enabled_bsp_on_0),
		T(test_mptable_ioapic_after_cpu_ids),
		T(test_mptable_routes_irq0_to_pin2_and_others_identity),
		T(test_mptable_local_interrupts_extint_lint0_nmi_lint1),
		T(test_mptable_rejects_bad_cpu_count),
		T(test_mptable_rejects_unmapped_ram),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
