/* SPDX-License-Identifier: MIT */
/*
 * A range set: sorted, disjoint, inclusive [start, last] ranges of a 64-bit
 * space, each carrying a small payload, in one array. Lookups are inline
 * binary searches that never allocate (vCPU exit paths use them); changes
 * allocate and leave the set unchanged when they fail. The payload's meaning,
 * locking and publication (RCU copies) belong to the users: in-VMM I/O
 * handlers (core/iomap.c), IOREQ-server ranges (ioreq/ioreq_server.c) and the
 * tcg backend's wanted mappings (cpu/tcg/tcg_vm.c).
 */
#ifndef IOREQVM_RANGESET_H
#define IOREQVM_RANGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a range carries; the set copies it and, to merge, compares it. */
struct rangeset_val {
	uint64_t u;   /* a number: a host offset */
	void *p;      /* a pointer: a handler's record */
	uint32_t tag; /* a small number: range flags, an access kind */
};

struct rangeset_range {
	uint64_t start, last; /* inclusive, so a range may end at UINT64_MAX */
	struct rangeset_val val;
};

/* rangeset_init flags. */
#define RANGESET_MERGE 1u /* add joins adjacent ranges with an equal payload */

/* All zero is a valid empty set without a limit. */
struct rangeset {
	struct rangeset_range *v; /* sorted by start, disjoint */
	size_t nr, cap;
	size_t limit;   /* at most this many ranges (-ENOSPC past it); 0: no limit */
	unsigned flags; /* RANGESET_* */
};

/* An empty set holding at most @limit ranges (0: no limit). Allocates nothing. */
void rangeset_init(struct rangeset *s, size_t limit, unsigned flags);
/* Free the ranges; the set is empty again, with its limit and flags. */
void rangeset_free(struct rangeset *s);

/*
 * Add [start, last] carrying @val. 0; -EINVAL if last < start (an empty
 * range, or one a caller computed past UINT64_MAX); -EEXIST if it overlaps
 * a range of the set; -ENOSPC if the set would hold more than its limit;
 * -ENOMEM. With RANGESET_MERGE it is joined to a neighbour that ends just
 * before or starts just after it and has an equal payload (such a join
 * does not count against the limit).
 */
int rangeset_add(struct rangeset *s, uint64_t start, uint64_t last, struct rangeset_val val);
/* Remove the range that is exactly [start, last]: 0, or -ENOENT (nothing changed). */
int rangeset_remove(struct rangeset *s, uint64_t start, uint64_t last);
/*
 * Remove every address of [start, last] from the set: ranges inside it go,
 * ranges across one of its ends are cut back, and a range holding it with
 * room on both sides is split in two (both halves keep the payload as it
 * is: a payload that depends on the start, such as an offset, is the
 * caller's to fix). 0 (also if nothing was there); -EINVAL if last < start;
 * -ENOSPC if a split would pass the limit; -ENOMEM (nothing changed).
 */
int rangeset_remove_span(struct rangeset *s, uint64_t start, uint64_t last);
/* Make @dst (uninitialised or freed) a copy of @src with its own array: 0 or -ENOMEM (@dst empty). */
int rangeset_copy(struct rangeset *dst, const struct rangeset *src);

static inline size_t rangeset_count(const struct rangeset *s)
{
	return s->nr;
}

/*
 * Every range in address order; @r is a const struct rangeset_range *. (No
 * arithmetic on an empty set's NULL array: UBSan counts even NULL + 0.)
 */
#define rangeset_for_each(r, s) \
	for (const struct rangeset_range *r = (s)->v; r && r < (s)->v + (s)->nr; r++)

/* Index of the first range ending at or after @addr (nr if none). */
static inline size_t rangeset_lower_bound(const struct rangeset *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The range holding the whole of [addr, addr + len), or NULL: none, an
 * access only partly inside one, len 0, or addr + len past 2^64.
 */
static inline const struct rangeset_range *rangeset_find(const struct rangeset *s, uint64_t addr,
							 uint64_t len)
{
	uint64_t last = addr + (len - 1);
	if (len == 0 || last < addr)
		return NULL;
	size_t i = rangeset_lower_bound(s, addr);
	if (i == s->nr || s->v[i].start > addr || s->v[i].last < last)
		return NULL;
	return &s->v[i];
}

/* The lowest range sharing an address with [start, last], or NULL (also if last < start). */
static inline const struct rangeset_range *rangeset_overlap(const struct rangeset *s,
							    uint64_t start, uint64_t last)
{
	if (last < start)
		return NULL;
	size_t i = rangeset_lower_bound(s, start);
	if (i == s->nr || s->v[i].start > last)
		return NULL;
	return &s->v[i];
}

#endif
