/* SPDX-License-Identifier: MIT */
/* Unit tests of the in-VMM range map: ordered insert, overlap refusal, whole-access lookup. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/iomap.h"

static enum io_result h(void *opaque, struct vcpu *vcpu, struct io_access *a)
{
	return IO_DONE;
}

static void test_iomap_finds_containing_range(void **state)
{
	struct iomap m = { 0 };
	int tags[3];
	assert_int_equal(iomap_add(&m, 0x3f8, 8, h, &tags[0], "uart"), 0);
	assert_int_equal(iomap_add(&m, 0xf4, 4, h, &tags[1], "exit"), 0);
	assert_int_equal(iomap_add(&m, 0x604, 2, h, &tags[2], "pm"), 0);
	assert_ptr_equal(iomap_find(&m, 0x3f8, 1)->opaque, &tags[0]);
	assert_ptr_equal(iomap_find(&m, 0x3ff, 1)->opaque, &tags[0]);
	assert_ptr_equal(iomap_find(&m, 0xf4, 4)->opaque, &tags[1]);
	assert_ptr_equal(iomap_find(&m, 0x604, 2)->opaque, &tags[2]);
	assert_null(iomap_find(&m, 0x3f7, 1));
	assert_null(iomap_find(&m, 0x400, 1));
	/* An access must lie wholly inside one range. */
	assert_null(iomap_find(&m, 0x3fe, 4));
	assert_null(iomap_find(&m, 0xf6, 4));
	assert_null(iomap_find(&m, 0, 0));
	iomap_free(&m);
}

static void test_iomap_rejects_overlap(void **state)
{
	struct iomap m = { 0 };
	assert_int_equal(iomap_add(&m, 0x100, 0x10, h, NULL, "a"), 0);
	assert_int_equal(iomap_add(&m, 0x10f, 1, h, NULL, "b"), -EEXIST);
	assert_int_equal(iomap_add(&m, 0xf0, 0x11, h, NULL, "c"), -EEXIST);
	assert_int_equal(iomap_add(&m, 0x0, 0x1000, h, NULL, "d"), -EEXIST);
	assert_int_equal(iomap_add(&m, 0x110, 1, h, NULL, "e"), 0);
	assert_int_equal(iomap_add(&m, 0xff, 1, h, NULL, "f"), 0);
	assert_int_equal(rangeset_count(&m.ranges), 3);
	iomap_free(&m);
}

static void test_iomap_rejects_empty_and_wrapping_ranges(void **state)
{
	struct iomap m = { 0 };
	assert_int_equal(iomap_add(&m, 0x100, 0, h, NULL, "a"), -EINVAL);
	assert_int_equal(iomap_add(&m, UINT64_MAX, 2, h, NULL, "a"), -EINVAL);
	assert_int_equal(iomap_add(&m, UINT64_MAX - 0xfff, 0x1000, h, NULL, "top"), 0);
	assert_non_null(iomap_find(&m, UINT64_MAX, 1));
	assert_null(iomap_find(&m, UINT64_MAX, 2));
	iomap_free(&m);
}

static void test_iomap_many_ranges_stay_sorted(void **state)
{
	struct iomap m = { 0 };
	for (uint64_t i = 0; i < 500; i++) {
		uint64_t k = (i * 7919) % 500; /* scrambled insertion order */
		assert_int_equal(iomap_add(&m, k * 0x100, 0x80, h, (void *)(uintptr_t)(k + 1), "r"), 0);
	}
	for (uint64_t k = 0; k < 500; k++) {
		const struct iomap_entry *e = iomap_find(&m, k * 0x100 + 0x7f, 1);
		assert_non_null(e);
		assert_int_equal((uintptr_t)e->opaque, k + 1);
		assert_null(iomap_find(&m, k * 0x100 + 0x80, 1));
	}
	iomap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iomap_finds_containing_range),
		cmocka_unit_test(test_iomap_rejects_overlap),
		cmocka_unit_test(test_iomap_rejects_empty_and_wrapping_ranges),
		cmocka_unit_test(test_iomap_many_ranges_stay_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
