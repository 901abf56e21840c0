/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the range set (src/util/rangeset.c): overlap refused,
 * adjacency kept, merge, exact and partial removal (split), the limit,
 * whole-access lookup, ranges at UINT64_MAX, the empty set, and a random
 * walk checked against a plain array model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/rangeset.h"

static struct rangeset_val V(uint32_t tag)
{
	return (struct rangeset_val){ .tag = tag };
}

/* Ranges in order, disjoint, none empty; with @merged, no equal neighbours touch. */
static void assert_well_formed(const struct rangeset *s, bool merged)
{
	assert_true(s->nr <= s->cap || (s->nr == 0 && s->cap == 0));
	for (size_t i = 0; i < s->nr; i++) {
		assert_true(s->v[i].start <= s->v[i].last);
		if (i == 0)
			continue;
		assert_true(s->v[i - 1].last < s->v[i].start);
		if (merged && s->v[i - 1].last + 1 == s->v[i].start)
			assert_true(s->v[i - 1].val.tag != s->v[i].val.tag ||
				    s->v[i - 1].val.u != s->v[i].val.u ||
				    s->v[i - 1].val.p != s->v[i].val.p);
	}
}

static void test_rangeset_refuses_overlap_and_changes_nothing(void **state)
{
	struct rangeset s;
	rangeset_init(&s, 0, 0);
	assert_int_equal(rangeset_add(&s, 0x100, 0x10f, V(1)), 0);
	assert_int_equal(rangeset_add(&s, 0x10f, 0x10f, V(2)), -EEXIST); /* last address */
	assert_int_equal(rangeset_add(&s, 0xf0, 0x100, V(2)), -EEXIST);  /* first address */
	assert_int_equal(rangeset_add(&s, 0x104, 0x108, V(2)), -EEXIST); /* inside */
	assert_int_equal(rangeset_add(&s, 0x0, 0xfff, V(2)), -EEXIST);   /* around */
	assert_int_equal(rangeset_count(&s), 1);
	assert_int_equal(s.v[0].start, 0x100);
	assert_int_equal(s.v[0].last, 0x10f);
	assert_int_equal(s.v[0].val.tag, 1);
	/* Overlap with a range between two others is found as well. */
	assert_int_equal(rangeset_add(&s, 0x200, 0x20f, V(3)), 0);
	assert_int_equal(rangeset_add(&s, 0x110, 0x200, V(4)), -EEXIST);
	assert_int_equal(rangeset_add(&s, 0x0, 0x0, V(4)), 0);
	assert_ptr_equal(rangeset_overlap(&s, 0x10f, 0x1ff), &s.v[1]);
	assert_ptr_equal(rangeset_overlap(&s, 0x110, 0x200), &s.v[2]);
	assert_ptr_equal(rangeset_overlap(&s, 0x0, UINT64_MAX), &s.v[0]);
	assert_null(rangeset_overlap(&s, 0x110, 0x1ff));
	assert_null(rangeset_overlap(&s, 0x210, UINT64_MAX));
	assert_int_equal(rangeset_count(&s), 3);
	assert_well_formed(&s, false);
	rangeset_free(&s);
}

static void test_rangeset_keeps_adjacent_ranges_apart_without_merge(void **state)
{
	struct rangeset s;
	rangeset_init(&s, 0, 0);
	assert_int_equal(rangeset_add(&s, 0x100, 0x1ff, V(1)), 0);
	assert_int_equal(rangeset_add(&s, 0x200, 0x2ff, V(1)), 0); /* just after */
	assert_int_equal(rangeset_add(&s, 0x0ff, 0x0ff, V(1)), 0); /* just before */
	assert_int_equal(rangeset_count(&s), 3);
	/* Each is removed by its own bounds; an access across two is in neither. */
	assert_null(rangeset_find(&s, 0x1ff, 2));
	assert_int_equal(rangeset_remove(&s, 0x100, 0x2ff), -ENOENT);
	assert_int_equal(rangeset_remove(&s, 0x100, 0x1ff), 0);
	assert_int_equal(rangeset_count(&s), 2);
	assert_int_equal(s.v[0].start, 0x0ff);
	assert_int_equal(s.v[1].start, 0x200);
	assert_well_formed(&s, false);
	rangeset_free(&s);
}

static void test_rangeset_merges_adjacent_ranges_with_equal_payload(void **state)
{
	struct rangeset s;
	int obj;
	rangeset_init(&s, 2, RANGESET_MERGE);
	struct rangeset_val a = { .u = 7, .p = &obj, .tag = 1 };
	assert_int_equal(rangeset_add(&s, 0x100, 0x1ff, a), 0);
	assert_int_equal(rangeset_add(&s, 0x300, 0x3ff, a), 0);
	/* At the limit, but a join adds no range: left, right, then both sides. */
	assert_int_equal(rangeset_add(&s, 0x200, 0x21f, a), 0);
	assert_int_equal(rangeset_count(&s), 2);
	assert_int_equal(s.v[0].last, 0x21f);
	assert_int_equal(rangeset_add(&s, 0x2f0, 0x2ff, a), 0);
	assert_int_equal(s.v[1].start, 0x2f0);
	assert_int_equal(rangeset_add(&s, 0x220, 0x2ef, a), 0);
	assert_int_equal(rangeset_count(&s), 1);
	assert_int_equal(s.v[0].start, 0x100);
	assert_int_equal(s.v[0].last, 0x3ff);
	assert_ptr_equal(rangeset_find(&s, 0x1f0, 0x20), &s.v[0]);
	/* A payload differing in any field is not joined (and now counts). */
	struct rangeset_val b = a, c = a, d = a;
	b.u = 8;
	c.p = NULL;
	d.tag = 2;
	assert_int_equal(rangeset_add(&s, 0x400, 0x4ff, b), 0);
	assert_int_equal(rangeset_add(&s, 0x0, 0xff, c), -ENOSPC);
	assert_int_equal(rangeset_add(&s, 0x0, 0xff, d), -ENOSPC);
	assert_int_equal(rangeset_count(&s), 2);
	/* Overlap is refused before any join. */
	assert_int_equal(rangeset_add(&s, 0x3ff, 0x3ff, a), -EEXIST);
	assert_well_formed(&s, true);
	rangeset_free(&s);
}

static void test_rangeset_remove_span_splits_the_middle_of_a_range(void **state)
{
	struct rangeset s;
	rangeset_init(&s, 0, 0);
	assert_int_equal(rangeset_add(&s, 0x1000, 0x1fff, (struct rangeset_val){ .u = 42, .tag = 3 }),
			 0);
	assert_int_equal(rangeset_remove_span(&s, 0x1400, 0x17ff), 0);
	assert_int_equal(rangeset_count(&s), 2);
	assert_int_equal(s.v[0].start, 0x1000);
	assert_int_equal(s.v[0].last, 0x13ff);
	assert_int_equal(s.v[1].start, 0x1800);
	assert_int_equal(s.v[1].last, 0x1fff);
	for (int i = 0; i < 2; i++) { /* both halves keep the payload */
		assert_int_equal(s.v[i].val.u, 42);
		assert_int_equal(s.v[i].val.tag, 3);
	}
	assert_null(rangeset_find(&s, 0x1400, 1));
	assert_null(rangeset_find(&s, 0x17ff, 1));
	assert_non_null(rangeset_find(&s, 0x13ff, 1));
	assert_non_null(rangeset_find(&s, 0x1800, 1));
	assert_well_formed(&s, false);
	rangeset_free(&s);
}

static void test_rangeset_remove_span_cuts_edges_and_drops_what_is_inside(void **state)
{
	struct rangeset s;
	rangeset_init(&s, 0, 0);
	for (uint64_t i = 0; i < 5; i++) /* [0x000, 0x0ff], [0x200, 0x2ff], ... [0x800, 0x8ff] */
		assert_int_equal(rangeset_add(&s, i * 0x200, i * 0x200 + 0xff, V((uint32_t)i)), 0);
	/* From inside the second range to inside the fourth: 3rd gone, 2nd and 4th cut. */
	assert_int_equal(rangeset_remove_span(&s, 0x280, 0x67f), 0);
	assert_int_equal(rangeset_count(&s), 4);
	assert_int_equal(s.v[1].start, 0x200);
	assert_int_equal(s.v[1].last, 0x27f);
	assert_int_equal(s.v[2].start, 0x680);
	assert_int_equal(s.v[2].last, 0x6ff);
	assert_int_equal(s.v[2].val.tag, 3);
	/* A span over gaps only, or exactly one range, or the whole space. */
	assert_int_equal(rangeset_remove_span(&s, 0x100, 0x1ff), 0);
	assert_int_equal(rangeset_count(&s), 4);
	assert_int_equal(rangeset_remove_span(&s, 0x800, 0x8ff), 0);
	assert_int_equal(rangeset_count(&s), 3);
	assert_int_equal(rangeset_remove_span(&s, 0x0ff, 0x0ff), 0); /* the last address */
	assert_int_equal(s.v[0].last, 0xfe);
	assert_int_equal(rangeset_remove_span(&s, 0x5, 0x4), -EINVAL);
	assert_int_equal(rangeset_count(&s), 3);
	assert_well_formed(&s, false);
	assert_int_equal(rangeset_remove_span(&s, 0, UINT64_MAX), 0);
	assert_int_equal(rangeset_count(&s), 0);
	rangeset_free(&s);
}

static void test_rangeset_remove_takes_exact_bounds_only(void **state)
{
	struct rangeset s;
	rangeset_init(&s, 0, 0);
	assert_int_equal(rangeset_add(&s, 0x10, 0x1f, V(1)), 0);
	assert_int_equal(rangeset_remove(&s, 0x10, 0x1e), -ENOENT);
	assert_int_equal(rangeset_remove(&s, 0x11, 0x1f), -ENOENT);
	assert_int_equal(rangeset_remove(&s, 0x0f, 0x1f), -ENOENT);
	assert_int_equal(rangeset_remove(&s, 0x20, 0x2f), -ENOENT);
	assert_int_equal(rangeset_count(&s), 1);
	assert_int_equal(rangeset_remove(&s, 0x10, 0x1f), 0);
	assert_int_equal(rangeset_count(&s), 0);
	assert_int_equal(rangeset_remove(&s, 0x10, 0x1f), -ENOENT);
	rangeset_free(&s);
}

static void test_rangeset_refuses_ranges_past_its_limit(void **state)
{
	struct rangeset s;
	rangeset_init(&s, 3, 0);
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(rangeset_add(&s, i * 0x10, i * 0x10 + 7, V(1)), 0);
	assert_int_equal(rangeset_add(&s, 0x100, 0x107, V(1)), -ENOSPC);
	/* Overlap is reported before the limit. */
	assert_int_equal(rangeset_add(&s, 0x0, 0x0, V(1)), -EEXIST);
	/* A split needs one more range: refused, the range intact. */
	assert_int_equal(rangeset_remove_span(&s, 0x12, 0x13), -ENOSPC);
	assert_int_equal(rangeset_count(&s), 3);
	assert_int_equal(s.v[1].start, 0x10);
	assert_int_equal(s.v[1].last, 0x17);
	/* Cutting an edge needs none. */
	assert_int_equal(rangeset_remove_span(&s, 0x10, 0x13), 0);
	assert_int_equal(s.v[1].start, 0x14);
	/* Room again after a removal; the limit survives a free. */
	assert_int_equal(rangeset_remove(&s, 0x20, 0x27), 0);
	assert_int_equal(rangeset_add(&s, 0x100, 0x107, V(1)), 0);
	rangeset_free(&s);
	assert_int_equal(s.limit, 3);
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(rangeset_add(&s, i * 0x10, i * 0x10 + 7, V(1)), 0);
	assert_int_equal(rangeset_add(&s, 0x100, 0x107, V(1)), -ENOSPC);
	rangeset_free(&s);
}

static void test_rangeset_find_wants_the_whole_access_in_one_range(void **state)
{
	struct rangeset s;
	rangeset_init(&s, 0, 0);
	assert_int_equal(rangeset_add(&s, 0x3f8, 0x3ff, V(1)), 0);
	assert_int_equal(rangeset_add(&s, 0x400, 0x407, V(2)), 0); /* adjacent, apart */
	assert_int_equal(rangeset_add(&s, 0xf4, 0xf7, V(3)), 0);
	assert_int_equal(rangeset_find(&s, 0x3f8, 1)->val.tag, 1);
	assert_int_equal(rangeset_find(&s, 0x3f8, 8)->val.tag, 1);
	assert_int_equal(rangeset_find(&s, 0x3ff, 1)->val.tag, 1);
	assert_int_equal(rangeset_find(&s, 0x400, 8)->val.tag, 2);
	assert_int_equal(rangeset_find(&s, 0xf4, 4)->val.tag, 3);
	/* Partly inside: across an end, across two adjacent ranges, longer than one. */
	assert_null(rangeset_find(&s, 0x3f7, 2));
	assert_null(rangeset_find(&s, 0x3fe, 4));
	assert_null(rangeset_find(&s, 0x3f8, 9));
	assert_null(rangeset_find(&s, 0xf6, 4));
	/* Outside, empty, wrapping. */
	assert_null(rangeset_find(&s, 0xf3, 1));
	assert_null(rangeset_find(&s, 0x408, 1));
	assert_null(rangeset_find(&s, 0x3f8, 0));
	assert_null(rangeset_find(&s, 0x3f8, UINT64_MAX));
	/* overlap answers partial accesses the find refuses. */
	assert_int_equal(rangeset_overlap(&s, 0x3f0, 0x3f8)->val.tag, 1);
	assert_int_equal(rangeset_overlap(&s, 0x3fe, 0x401)->val.tag, 1);
	assert_int_equal(rangeset_overlap(&s, 0x404, 0x500)->val.tag, 2);
	rangeset_free(&s);
}

static void test_rangeset_holds_ranges_ending_at_uint64_max(void **state)
{
	struct rangeset s;
	rangeset_init(&s, 0, RANGESET_MERGE);
	assert_int_equal(rangeset_add(&s, UINT64_MAX - 0xfff, UINT64_MAX, V(1)), 0);
	assert_int_equal(rangeset_add(&s, UINT64_MAX, UINT64_MAX, V(1)), -EEXIST);
	assert_non_null(rangeset_find(&s, UINT64_MAX, 1));
	assert_non_null(rangeset_find(&s, UINT64_MAX - 7, 8));
	assert_null(rangeset_find(&s, UINT64_MAX, 2)); /* past 2^64 */
	assert_null(rangeset_find(&s, UINT64_MAX - 0x1000, 2));
	assert_ptr_equal(rangeset_overlap(&s, UINT64_MAX, UINT64_MAX), &s.v[0]);
	/* Merge up to the top; a split and a cut at the top. */
	assert_int_equal(rangeset_add(&s, UINT64_MAX - 0x1fff, UINT64_MAX - 0x1000, V(1)), 0);
	assert_int_equal(rangeset_count(&s), 1);
	assert_int_equal(s.v[0].start, UINT64_MAX - 0x1fff);
	assert_int_equal(rangeset_remove_span(&s, UINT64_MAX - 0x10, UINT64_MAX - 1), 0);
	assert_int_equal(rangeset_count(&s), 2);
	assert_int_equal(s.v[1].start, UINT64_MAX);
	assert_int_equal(s.v[1].last, UINT64_MAX);
	assert_int_equal(rangeset_remove_span(&s, UINT64_MAX, UINT64_MAX), 0);
	assert_int_equal(rangeset_count(&s), 1);
	assert_int_equal(s.v[0].last, UINT64_MAX - 0x11);
	/* The whole space is one range; nothing else fits. */
	rangeset_free(&s);
	assert_int_equal(rangeset_add(&s, 0, UINT64_MAX, V(1)), 0);
	assert_int_equal(rangeset_add(&s, 5, 5, V(1)), -EEXIST);
	assert_non_null(rangeset_find(&s, 0, UINT64_MAX));
	assert_int_equal(rangeset_remove(&s, 0, UINT64_MAX), 0);
	rangeset_free(&s);
}

static void test_rangeset_empty_set_and_empty_ranges(void **state)
{
	struct rangeset s = { 0 }; /* all zero is an empty set without a limit */
	assert_int_equal(rangeset_count(&s), 0);
	assert_null(rangeset_find(&s, 0, 1));
	assert_null(rangeset_find(&s, UINT64_MAX, 1));
	assert_null(rangeset_overlap(&s, 0, UINT64_MAX));
	assert_int_equal(rangeset_remove(&s, 0, 0), -ENOENT);
	assert_int_equal(rangeset_remove_span(&s, 0, UINT64_MAX), 0);
	unsigned n = 0;
	rangeset_for_each(r, &s)
		n++;
	assert_int_equal(n, 0);
	struct rangeset c;
	assert_int_equal(rangeset_copy(&c, &s), 0);
	assert_null(c.v);
	assert_int_equal(rangeset_count(&c), 0);
	/* last below start: an empty range, or a length that wrapped. */
	assert_int_equal(rangeset_add(&s, 0x100, 0xff, V(1)), -EINVAL);
	assert_int_equal(rangeset_add(&s, 1, 0, V(1)), -EINVAL);
	assert_null(rangeset_overlap(&s, 0x100, 0xff));
	assert_int_equal(rangeset_count(&s), 0);
	rangeset_free(&s);
	rangeset_free(&s); /* twice is harmless */
}

static void test_rangeset_copy_is_independent(void **state)
{
	struct rangeset s, c;
	rangeset_init(&s, 4, RANGESET_MERGE);
	assert_int_equal(rangeset_add(&s, 0x10, 0x1f, V(1)), 0);
	assert_int_equal(rangeset_add(&s, 0x40, 0x4f, V(2)), 0);
	assert_int_equal(rangeset_copy(&c, &s), 0);
	assert_int_equal(c.limit, 4);
	assert_int_equal(c.flags, RANGESET_MERGE);
	assert_int_equal(rangeset_remove(&s, 0x10, 0x1f), 0);
	assert_int_equal(rangeset_add(&s, 0x20, 0x2f, V(3)), 0);
	assert_int_equal(rangeset_count(&c), 2);
	assert_int_equal(rangeset_find(&c, 0x10, 0x10)->val.tag, 1);
	assert_int_equal(rangeset_find(&c, 0x40, 1)->val.tag, 2);
	assert_null(rangeset_find(&c, 0x20, 1));
	uint64_t sum = 0;
	rangeset_for_each(r, &c)
		sum += r->start;
	assert_int_equal(sum, 0x50);
	rangeset_free(&c);
	assert_int_equal(rangeset_find(&s, 0x20, 1)->val.tag, 3);
	rangeset_free(&s);
}

/*
 * A random walk of adds and removals over 0..SPACE-1, with and without
 * merge, against a model of each address: which range it is in (an id
 * per add, a fresh one for the upper half of a split) and its payload.
 * The set must hold exactly the model's maximal runs: of equal id without
 * merge, of equal payload with it.
 */
#define SPACE 96
#define WALK_LIMIT 12

struct model {
	int id[SPACE]; /* 0: free */
	uint32_t tag[SPACE];
};

static bool same_run(const struct model *m, uint64_t x, uint64_t y, bool merged)
{
	if (!m->id[x] || !m->id[y])
		return false;
	return merged ? m->tag[x] == m->tag[y] : m->id[x] == m->id[y];
}

static void check_against_model(const struct rangeset *s, const struct model *m, bool merged)
{
	assert_well_formed(s, merged);
	size_t n = 0;
	for (uint64_t a = 0; a < SPACE; a++) {
		const struct rangeset_range *r = rangeset_find(s, a, 1);
		if (!m->id[a]) {
			assert_null(r);
			continue;
		}
		assert_non_null(r);
		assert_int_equal(r->val.tag, m->tag[a]);
		if (a > 0 && same_run(m, a - 1, a, merged))
			continue;
		uint64_t b = a;
		while (b + 1 < SPACE && same_run(m, b, b + 1, merged))
			b++;
		assert_true(n < s->nr);
		assert_int_equal(s->v[n].start, a);
		assert_int_equal(s->v[n].last, b);
		n++;
	}
	assert_int_equal(n, rangeset_count(s));
}

static void random_walk(unsigned flags, unsigned seed)
{
	struct rangeset s;
	struct model m = { 0 };
	bool merged = flags & RANGESET_MERGE;
	rangeset_init(&s, WALK_LIMIT, flags);
	srand(seed);
	for (int step = 1; step < 4000; step++) {
		uint64_t a = (uint64_t)rand() % SPACE, len = 1 + (uint64_t)rand() % 12;
		uint64_t b = a + len - 1 < SPACE ? a + len - 1 : SPACE - 1;
		uint32_t tag = (uint32_t)rand() % 3;
		size_t before = rangeset_count(&s);
		int op = rand() % 3;
		if (op == 0) {
			bool free_ = true;
			for (uint64_t x = a; x <= b; x++)
				free_ = free_ && !m.id[x];
			bool joins = merged && ((a > 0 && m.id[a - 1] && m.tag[a - 1] == tag) ||
						(b + 1 < SPACE && m.id[b + 1] && m.tag[b + 1] == tag));
			int rc = rangeset_add(&s, a, b, V(tag));
			if (!free_) {
				assert_int_equal(rc, -EEXIST);
			} else if (before == WALK_LIMIT && !joins) {
				assert_int_equal(rc, -ENOSPC);
			} else {
				assert_int_equal(rc, 0);
				for (uint64_t x = a; x <= b; x++)
					m.id[x] = step, m.tag[x] = tag;
			}
		} else if (op == 1) {
			const struct rangeset_range *r = rangeset_find(&s, a, 1);
			if (r && rand() % 2) { /* an existing range, by its exact bounds */
				uint64_t start = r->start, last = r->last;
				assert_int_equal(rangeset_remove(&s, start, last), 0);
				for (uint64_t x = start; x <= last; x++)
					m.id[x] = 0;
			} else if (!r || r->start != a || r->last != b) {
				assert_int_equal(rangeset_remove(&s, a, b), -ENOENT);
			}
		} else {
			const struct rangeset_range *r = rangeset_find(&s, a, 1);
			bool splits = r && r->start < a && r->last > b;
			int rc = rangeset_remove_span(&s, a, b);
			if (splits && before == WALK_LIMIT) {
				assert_int_equal(rc, -ENOSPC);
			} else {
				assert_int_equal(rc, 0);
				/* The upper half of a split is a range of its own. */
				int old = splits ? m.id[b + 1] : 0;
				for (uint64_t x = b + 1; splits && x < SPACE && m.id[x] == old; x++)
					m.id[x] = -step;
				for (uint64_t x = a; x <= b; x++)
					m.id[x] = 0;
			}
		}
		check_against_model(&s, &m, merged);
	}
	rangeset_free(&s);
}

static void test_rangeset_random_walk_matches_a_model(void **state)
{
	for (unsigned seed = 1; seed <= 8; seed++) {
		random_walk(0, seed);
		random_walk(RANGESET_MERGE, seed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rangeset_refuses_overlap_and_changes_nothing),
		cmocka_unit_test(test_rangeset_keeps_adjacent_ranges_apart_without_merge),
		cmocka_unit_test(test_rangeset_merges_adjacent_ranges_with_equal_payload),
		cmocka_unit_test(test_rangeset_remove_span_splits_the_middle_of_a_range),
		cmocka_unit_test(test_rangeset_remove_span_cuts_edges_and_drops_what_is_inside),
		cmocka_unit_test(test_rangeset_remove_takes_exact_bounds_only),
		cmocka_unit_test(test_rangeset_refuses_ranges_past_its_limit),
		cmocka_unit_test(test_rangeset_find_wants_the_whole_access_in_one_range),
		cmocka_unit_test(test_rangeset_holds_ranges_ending_at_uint64_max),
		cmocka_unit_test(test_rangeset_empty_set_and_empty_ranges),
		cmocka_unit_test(test_rangeset_copy_is_independent),
		cmocka_unit_test(test_rangeset_random_walk_matches_a_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
