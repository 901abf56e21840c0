/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of guest RAM layout and translation (src/mem/guest_ram.c):
 * regions below/above the PCI hole, size checks, and guest_ram_ptr at the
 * edges of regions and with ranges that wrap.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mem/guest_ram.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void test_guest_ram_layout_below_hole_is_one_region(void **state)
{
	struct guest_ram ram;
	assert_int_equal(guest_ram_layout(&ram, 512 * MiB), 0);
	assert_int_equal(ram.nr_regions, 1);
	assert_int_equal(ram.region[0].gpa, 0);
	assert_int_equal(ram.region[0].size, 512 * MiB);
	assert_int_equal(ram.region[0].offset, 0);
	assert_int_equal(ram.memfd, -1);
	assert_null(ram.host);
	assert_int_equal(guest_ram_end(&ram), 512 * MiB);
}

static void test_guest_ram_layout_exactly_hole_start_is_one_region(void **state)
{
	struct guest_ram ram;
	assert_int_equal(guest_ram_layout(&ram, GUEST_PCI_HOLE_START), 0);
	assert_int_equal(ram.nr_regions, 1);
	assert_int_equal(guest_ram_end(&ram), GUEST_PCI_HOLE_START);
}

static void test_guest_ram_layout_6g_splits_3g_low_3g_at_4g(void **state)
{
	struct guest_ram ram;
	assert_int_equal(guest_ram_layout(&ram, 6 * GiB), 0);
	assert_int_equal(ram.nr_regions, 2);
	assert_int_equal(ram.region[0].gpa, 0);
	assert_int_equal(ram.region[0].size, 3 * GiB);
	assert_int_equal(ram.region[1].gpa, 4 * GiB);
	assert_int_equal(ram.region[1].size, 3 * GiB);
	/* X4: the memfd keeps the pool (3 GiB up to the I/O APIC) between the two. */
	assert_int_equal(ram.region[1].offset, GUEST_HOLE_RAM_END);
	assert_int_equal(ram.pool.gpa, 3 * GiB);
	assert_int_equal(ram.pool.offset, 3 * GiB);
	assert_int_equal(ram.pool.size, GUEST_HOLE_RAM_END - 3 * GiB);
	assert_int_equal(ram.ram_size, 6 * GiB);
	assert_int_equal(ram.size, GUEST_HOLE_RAM_END + 3 * GiB);
	assert_int_equal(guest_ram_end(&ram), 7 * GiB);
}

/* X4: the pool starts where low RAM ends; below the I/O APIC the offset is the address. */
static void test_guest_ram_pool_and_backing(void **state)
{
	struct guest_ram ram;
	assert_int_equal(guest_ram_layout(&ram, 256 * MiB), 0);
	assert_int_equal(ram.pool.gpa, 256 * MiB);
	assert_int_equal(ram.pool.offset, 256 * MiB);
	assert_int_equal(ram.pool.size, GUEST_HOLE_RAM_END - 256 * MiB);
	assert_int_equal(ram.size, GUEST_HOLE_RAM_END);
	assert_int_equal(ram.ram_size, 256 * MiB);
	/* Boot RAM and pool frames, and a run across both: one offset. */
	assert_int_equal(guest_ram_backing(&ram, 0x1000, 0x1000), 0x1000);
	assert_int_equal(guest_ram_backing(&ram, 0xD0000000ULL, 0x10000), 0xD0000000LL);
	assert_int_equal(guest_ram_backing(&ram, 255 * MiB, 2 * MiB), 255 * MiB);
	/* The I/O APIC and up, past guest-physical space, empty, wrapping: none. */
	assert_int_equal(guest_ram_backing(&ram, GUEST_HOLE_RAM_END, 0x1000), -1);
	assert_int_equal(guest_ram_backing(&ram, GUEST_HOLE_RAM_END - 0x1000, 0x2000), -1);
	assert_int_equal(guest_ram_backing(&ram, 4 * GiB, 0x1000), -1);
	assert_int_equal(guest_ram_backing(&ram, 0, 0), -1);
	assert_int_equal(guest_ram_backing(&ram, 0x1000, UINT64_MAX), -1);
	/* Above 4 GiB: the high region only. */
	assert_int_equal(guest_ram_layout(&ram, 6 * GiB), 0);
	assert_int_equal(guest_ram_backing(&ram, 4 * GiB, 0x1000), (int64_t)GUEST_HOLE_RAM_END);
	assert_int_equal(guest_ram_backing(&ram, 7 * GiB - 0x1000, 0x1000),
			 (int64_t)(GUEST_HOLE_RAM_END + 3 * GiB - 0x1000));
	assert_int_equal(guest_ram_backing(&ram, 7 * GiB - 0x1000, 0x2000), -1);
	assert_int_equal(guest_ram_backing(&ram, 4 * GiB - 0x1000, 0x2000), -1);
}

static void test_guest_ram_layout_one_page_past_hole_start_gets_high_region(void **state)
{
	struct guest_ram ram;
	assert_int_equal(guest_ram_layout(&ram, GUEST_PCI_HOLE_START + GUEST_PAGE_SIZE), 0);
	assert_int_equal(ram.nr_regions, 2);
	assert_int_equal(ram.region[1].gpa, GUEST_PCI_HOLE_END);
	assert_int_equal(ram.region[1].size, GUEST_PAGE_SIZE);
}

static void test_guest_ram_layout_rejects_bad_sizes(void **state)
{
	struct guest_ram ram;
	assert_int_equal(guest_ram_layout(&ram, GUEST_RAM_MIN), 0);
	assert_int_equal(guest_ram_layout(&ram, GUEST_RAM_MAX), 0);
	assert_int_equal(guest_ram_layout(&ram, 0), -EINVAL);
	assert_int_equal(guest_ram_layout(&ram, GUEST_RAM_MIN - GUEST_PAGE_SIZE), -EINVAL);
	assert_int_equal(guest_ram_layout(&ram, GUEST_RAM_MAX + GUEST_PAGE_SIZE), -EINVAL);
	assert_int_equal(guest_ram_layout(&ram, 64 * MiB + 1), -EINVAL);
	assert_int_equal(guest_ram_layout(&ram, 64 * MiB + 2048), -EINVAL);
	assert_int_equal(guest_ram_layout(&ram, UINT64_MAX), -EINVAL);
	assert_int_equal(guest_ram_create(&ram, 64 * MiB + 1), -EINVAL);
	assert_int_equal(ram.memfd, -1);
}

static void test_guest_ram_ptr_edges_of_one_region(void **state)
{
	struct guest_ram ram;
	assert_int_equal(guest_ram_create(&ram, 4 * MiB), 0);
	assert_ptr_equal(guest_ram_ptr(&ram, 0, 1), ram.host);
	assert_ptr_equal(guest_ram_ptr(&ram, 0, 4 * MiB), ram.host);
	assert_ptr_equal(guest_ram_ptr(&ram, 4 * MiB - 1, 1), ram.host + 4 * MiB - 1);
	assert_null(guest_ram_ptr(&ram, 4 * MiB - 1, 2));
	assert_null(guest_ram_ptr(&ram, 4 * MiB, 1));
	assert_null(guest_ram_ptr(&ram, 0, 4 * MiB + 1));
	assert_null(guest_ram_ptr(&ram, 0, 0)); /* len 0 refused */
	*(volatile uint8_t *)guest_ram_ptr(&ram, 4 * MiB - 1, 1) = 0x5A;
	guest_ram_destroy(&ram);
	assert_null(ram.host);
	assert_int_equal(ram.memfd, -1);
	assert_null(guest_ram_ptr(&ram, 0, 1));
}

static void test_guest_ram_ptr_rejects_wrapping_range(void **state)
{
	struct guest_ram ram;
	assert_int_equal(guest_ram_create(&ram, 4 * MiB), 0);
	assert_null(guest_ram_ptr(&ram, UINT64_MAX, 2));
	assert_null(guest_ram_ptr(&ram, UINT64_MAX - 1, 4));
	assert_null(guest_ram_ptr(&ram, 16, UINT64_MAX));
	assert_null(guest_ram_ptr(&ram, 1, UINT64_MAX - 0x7FF));
	assert_null(guest_ram_ptr(&ram, UINT64_MAX, UINT64_MAX));
	guest_ram_destroy(&ram);
}

static void test_guest_ram_ptr_splits_at_pci_hole(void **state)
{
	struct guest_ram ram;
	/* 6 GiB of address space, MAP_NORESERVE: only touched pages cost memory. */
	assert_int_equal(guest_ram_create(&ram, 6 * GiB), 0);
	uint8_t *low_last = guest_ram_ptr(&ram, 3 * GiB - 1, 1);
	uint8_t *high_first = guest_ram_ptr(&ram, 4 * GiB, 1);
	assert_ptr_equal(low_last, ram.host + 3 * GiB - 1);
	/* In the memfd the pool (X4) lies between them: high RAM from the I/O APIC's address. */
	assert_ptr_equal(high_first, ram.host + GUEST_HOLE_RAM_END);
	assert_null(guest_ram_ptr(&ram, 3 * GiB - 1, 2));  /* runs into the hole */
	assert_null(guest_ram_ptr(&ram, 3 * GiB, 1));      /* in the hole */
	assert_null(guest_ram_ptr(&ram, 4 * GiB - 1, 2));  /* from the hole into RAM */
	assert_null(guest_ram_ptr(&ram, 2 * GiB, 3 * GiB)); /* spans the hole */
	assert_ptr_equal(guest_ram_ptr(&ram, 7 * GiB - 1, 1),
			 ram.host + GUEST_HOLE_RAM_END + 3 * GiB - 1);
	assert_null(guest_ram_ptr(&ram, 7 * GiB - 1, 2));
	assert_null(guest_ram_ptr(&ram, 7 * GiB, 1));
	*high_first = 0xA5;
	*low_last = 0x5A;
	assert_int_equal(ram.host[GUEST_HOLE_RAM_END], 0xA5);
	assert_int_equal(ram.host[3 * GiB - 1], 0x5A);
	guest_ram_destroy(&ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_ram_layout_below_hole_is_one_region),
		cmocka_unit_test(test_guest_ram_layout_exactly_hole_start_is_one_region),
		cmocka_unit_test(test_guest_ram_layout_6g_splits_3g_low_3g_at_4g),
		cmocka_unit_test(test_guest_ram_pool_and_backing),
		cmocka_unit_test(test_guest_ram_layout_one_page_past_hole_start_gets_high_region),
		cmocka_unit_test(test_guest_ram_layout_rejects_bad_sizes),
		cmocka_unit_test(test_guest_ram_ptr_edges_of_one_region),
		cmocka_unit_test(test_guest_ram_ptr_rejects_wrapping_range),
		cmocka_unit_test(test_guest_ram_ptr_splits_at_pci_hole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
