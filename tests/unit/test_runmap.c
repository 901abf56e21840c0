/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the run map against a flat array model: random assigns keep
 * runs maximal, ordered and heap-shaped; counts match; a tree published
 * before an assign still reads as before (readers see whole snapshots).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p2m/runmap.h"

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct check {
	const uint8_t *model;
	uint64_t next;  /* expected start of the next run */
	int last_value; /* -1 before the first run */
	uint64_t runs;
};

static int check_run(void *ctx, uint64_t s, uint64_t e, uint8_t v)
{
	struct check *c = ctx;
	assert_int_equal(s, c->next);
	assert_true(e > s);
	assert_int_not_equal(c->last_value, v); /* maximal runs */
	for (uint64_t i = s; i < e; i++)
		assert_int_equal(c->model[i], v);
	c->next = e;
	c->last_value = v;
	c->runs++;
	return 0;
}

static void check_shape(const struct run_node *n, uint64_t lo, uint64_t hi, uint32_t maxprio)
{
	if (!n)
		return;
	assert_true(n->start >= lo && n->end <= hi);
	assert_true(n->prio <= maxprio);
	assert_false(n->fresh);
	check_shape(n->left, lo, n->start, n->prio);
	check_shape(n->right, n->end, hi, n->prio);
}

static uint64_t check_against(const struct run_node *root, const uint8_t *model, uint64_t size)
{
	struct check c = { .model = model, .last_value = -1 };
	assert_int_equal(runmap_foreach(root, 0, size, check_run, &c), 0);
	assert_int_equal(c.next, size);
	check_shape(root, 0, size, UINT32_MAX);
	return c.runs;
}

static void test_runmap_starts_as_one_run(void **state)
{
	struct runmap m;
	assert_int_equal(runmap_init(&m, 1000, 7), 0);
	assert_int_equal(m.nr_runs, 1);
	const struct run_node *n = runmap_lookup(runmap_root(&m), 999);
	assert_non_null(n);
	assert_int_equal(n->value, 7);
	assert_null(runmap_lookup(runmap_root(&m), 1000));
	runmap_destroy(&m);
}

static void test_runmap_rejects_bad_ranges(void **state)
{
	struct runmap m;
	assert_int_equal(runmap_init(&m, 0, 0), -EINVAL);
	assert_int_equal(runmap_init(&m, 100, 0), 0);
	assert_int_equal(runmap_assign(&m, 10, 10, 1), -EINVAL);
	assert_int_equal(runmap_assign(&m, 20, 10, 1), -EINVAL);
	assert_int_equal(runmap_assign(&m, 0, 101, 1), -EINVAL);
	assert_int_equal(runmap_assign(&m, 0, 100, 0), 0); /* unchanged */
	assert_int_equal(m.nr_runs, 1);
	runmap_destroy(&m);
}

static void test_runmap_split_and_merge(void **state)
{
	struct runmap m;
	assert_int_equal(runmap_init(&m, 100, 0), 0);
	assert_int_equal(runmap_assign(&m, 10, 20, 1), 1);
	assert_int_equal(m.nr_runs, 3);
	assert_int_equal(runmap_assign(&m, 20, 30, 1), 1); /* extends, merges */
	assert_int_equal(m.nr_runs, 3);
	const struct run_node *n = runmap_lookup(runmap_root(&m), 25);
	assert_int_equal(n->start, 10);
	assert_int_equal(n->end, 30);
	assert_int_equal(runmap_assign(&m, 10, 30, 0), 1); /* back to one run */
	assert_int_equal(m.nr_runs, 1);
	assert_int_equal(runmap_assign(&m, 0, 1, 2), 1);   /* edges */
	assert_int_equal(runmap_assign(&m, 99, 100, 2), 1);
	assert_int_equal(m.nr_runs, 3);
	runmap_free_retired(&m);
	runmap_destroy(&m);
}

static void test_runmap_random_against_model(void **state)
{
	enum { SIZE = 4096, OPS = 20000 };
	uint8_t *model = calloc(SIZE, 1);
	struct runmap m;
	assert_int_equal(runmap_init(&m, SIZE, 0), 0);
	for (int op = 0; op < OPS; op++) {
		uint64_t a = rnd() % SIZE;
		uint64_t len = (rnd() % 4 == 0) ? rnd() % SIZE : 1 + rnd() % 16;
		uint64_t b = a + len > SIZE ? SIZE : a + len;
		if (a == b)
			continue;
		uint8_t v = (uint8_t)(rnd() % 4);
		int changed = 0;
		for (uint64_t i = a; i < b; i++)
			changed |= model[i] != v;
		assert_int_equal(runmap_assign(&m, a, b, v), changed);
		memset(model + a, v, b - a);
		if (op % 97 == 0 || op == OPS - 1)
			assert_int_equal(check_against(runmap_root(&m), model, SIZE), m.nr_runs);
		runmap_free_retired(&m);
	}
	runmap_destroy(&m);
	free(model);
}

static void test_runmap_published_snapshot_survives_assign(void **state)
{
	enum { SIZE = 2048 };
	uint8_t *before = calloc(SIZE, 1), *after = calloc(SIZE, 1);
	struct runmap m;
	assert_int_equal(runmap_init(&m, SIZE, 0), 0);
	for (int i = 0; i < 300; i++) {
		uint64_t a = rnd() % SIZE, b = a + 1 + rnd() % 8;
		if (b > SIZE)
			b = SIZE;
		uint8_t v = (uint8_t)(1 + rnd() % 3);
		runmap_assign(&m, a, b, v);
		memset(before + a, v, b - a);
	}
	runmap_free_retired(&m);
	memcpy(after, before, SIZE);
	/* A reader holds the old root while a writer replaces a big range. */
	const struct run_node *old = runmap_root(&m);
	assert_int_equal(runmap_assign(&m, 100, 1900, 9), 1);
	memset(after + 100, 9, 1800);
	check_against(old, before, SIZE);
	check_against(runmap_root(&m), after, SIZE);
	assert_true(m.nr_retired > 0);
	runmap_free_retired(&m);
	check_against(runmap_root(&m), after, SIZE);
	runmap_destroy(&m);
	free(before);
	free(after);
}

static void test_runmap_cost_follows_runs_not_pages(void **state)
{
	/* 1 Gi pages as one run: an assign touches a handful of nodes. */
	struct runmap m;
	assert_int_equal(runmap_init(&m, 1ULL << 30, 0), 0);
	assert_int_equal(runmap_assign(&m, 1000, (1ULL << 30) - 1000, 4), 1);
	assert_int_equal(m.nr_runs, 3);
	assert_true(m.nr_retired <= 4);
	runmap_free_retired(&m);
	/* 1000 runs then one assign over all of them retires about 1000 nodes. */
	for (uint64_t i = 0; i < 1000; i++)
		runmap_assign(&m, 2000 + i * 10, 2000 + i * 10 + 5, 5);
	runmap_free_retired(&m);
	uint64_t runs = m.nr_runs;
	assert_int_equal(runmap_assign(&m, 0, 1ULL << 30, 0), 1);
	assert_int_equal(m.nr_runs, 1);
	assert_true(m.nr_retired >= runs && m.nr_retired <= runs + 64);
	runmap_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runmap_starts_as_one_run),
		cmocka_unit_test(test_runmap_rejects_bad_ranges),
		cmocka_unit_test(test_runmap_split_and_merge),
		cmocka_unit_test(test_runmap_random_against_model),
		cmocka_unit_test(test_runmap_published_snapshot_survives_assign),
		cmocka_unit_test(test_runmap_cost_follows_runs_not_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
