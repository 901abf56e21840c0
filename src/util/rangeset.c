/* SPDX-License-Identifier: MIT */
/*
 * Range set changes: add (overlap refused, optional merge), exact and
 * partial removal, copy. Lookups are inline in rangeset.h. Every check
 * and allocation comes before the array is touched, so a failed change
 * leaves the set as it was.
 */
#include "util/rangeset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rangeset_init(struct rangeset *s, size_t limit, unsigned flags)
{
	*s = (struct rangeset){ .limit = limit, .flags = flags };
}

void rangeset_free(struct rangeset *s)
{
	free(s->v);
	s->v = NULL;
	s->nr = s->cap = 0;
}

static bool val_equal(const struct rangeset_val *a, const struct rangeset_val *b)
{
	return a->u == b->u && a->p == b->p && a->tag == b->tag;
}

/* Room for one more range: 0, -ENOSPC (limit) or -ENOMEM. */
static int grow(struct rangeset *s)
{
	if (s->limit && s->nr >= s->limit)
		return -ENOSPC;
	if (s->nr < s->cap)
		return 0;
	size_t cap = s->cap ? 2 * s->cap : 8;
	struct rangeset_range *v = realloc(s->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->cap = cap;
	return 0;
}

/* Drop ranges [i, j). */
static void erase(struct rangeset *s, size_t i, size_t j)
{
	memmove(&s->v[i], &s->v[j], (s->nr - j) * sizeof(*s->v));
	s->nr -= j - i;
}

int rangeset_add(struct rangeset *s, uint64_t start, uint64_t last, struct rangeset_val val)
{
	if (last < start)
		return -EINVAL;
	size_t i = rangeset_lower_bound(s, start); /* ranges before i end before start */
	if (i < s->nr && s->v[i].start <= last)
		return -EEXIST;
	if (s->flags & RANGESET_MERGE) {
		/* v[i - 1].last < start and v[i].start > last: neither + 1 wraps. */
		bool left = i > 0 && s->v[i - 1].last + 1 == start && val_equal(&s->v[i - 1].val, &val);
		bool right = i < s->nr && s->v[i].start - 1 == last && val_equal(&s->v[i].val, &val);
		if (left && right) {
			s->v[i - 1].last = s->v[i].last;
			erase(s, i, i + 1);
			return 0;
		}
		if (left) {
			s->v[i - 1].last = last;
			return 0;
		}
		if (right) {
			s->v[i].start = start;
			return 0;
		}
	}
	int rc = grow(s);
	if (rc)
		return rc;
	memmove(&s->v[i + 1], &s->v[i], (s->nr - i) * sizeof(*s->v));
	s->v[i] = (struct rangeset_range){ .start = start, .last = last, .val = val };
	s->nr++;
	return 0;
}

int rangeset_remove(struct rangeset *s, uint64_t start, uint64_t last)
{
	size_t i = rangeset_lower_bound(s, start);
	if (i == s->nr || s->v[i].start != start || s->v[i].last != last)
		return -ENOENT;
	erase(s, i, i + 1);
	return 0;
}

int rangeset_remove_span(struct rangeset *s, uint64_t start, uint64_t last)
{
	if (last < start)
		return -EINVAL;
	size_t i = rangeset_lower_bound(s, start);
	if (i == s->nr || s->v[i].start > last)
		return 0;
	struct rangeset_range *r = &s->v[i];
	if (r->start < start && r->last > last) { /* the middle of one range: split it */
		int rc = grow(s);
		if (rc)
			return rc;
		r = &s->v[i];
		memmove(r + 1, r, (s->nr - i) * sizeof(*r));
		r[0].last = start - 1;
		r[1].start = last + 1;
		s->nr++;
		return 0;
	}
	if (r->start < start) { /* cut back the one across start */
		r->last = start - 1;
		i++;
	}
	size_t j = i;
	while (j < s->nr && s->v[j].last <= last)
		j++;
	if (j < s->nr && s->v[j].start <= last) /* cut the one across last */
		s->v[j].start = last + 1;
	erase(s, i, j);
	return 0;
}

int rangeset_copy(struct rangeset *dst, const struct rangeset *src)
{
	rangeset_init(dst, src->limit, src->flags);
	if (!src->nr)
		return 0;
	dst->v = malloc(src->nr * sizeof(*dst->v));
	if (!dst->v)
		return -ENOMEM;
	memcpy(dst->v, src->v, src->nr * sizeof(*dst->v));
	dst->nr = dst->cap = src->nr;
	return 0;
}
