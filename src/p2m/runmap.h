/* SPDX-License-Identifier: MIT */
/*
 * A run map: a partition of [0, size) pages into maximal runs, each with a
 * one-byte value, kept as a persistent (path-copying) treap keyed by run
 * start. Why this shape:
 *  - assign(a, b, v) costs O(log runs + runs touched): two splits, a join
 *    of at most three new runs, and the touched runs retired; memory is one
 *    48-byte node per run; lookup is one O(log runs) descent;
 *  - published trees are never modified: a writer builds the new tree from
 *    fresh copies of the nodes on its paths and publishes the root with one
 *    release store, so readers (vCPU exits) never wait and never see a
 *    half-applied change. Retired nodes are freed by the caller after its
 *    readers are gone (RCU grace period): see p2m.c.
 *  - all allocation happens before the tree is touched, so -ENOMEM leaves
 *    the map exactly as it was.
 * Single writer (the caller serialises); any number of readers.
 */
#ifndef IOREQVM_RUNMAP_H
#define IOREQVM_RUNMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct run_node {
	uint64_t start, end; /* pages [start, end) */
	struct run_node *left, *right;
	struct run_node *gc_next; /* retire list link */
	uint32_t prio;
	uint8_t value;
	bool fresh; /* built by the current assign, not yet published */
};

struct runmap {
	struct run_node *root; /* published: read with runmap_root() */
	uint64_t size;         /* pages */
	uint64_t nr_runs;
	uint64_t seed;
	struct run_node *retired; /* unreachable from root, maybe still read */
	uint64_t nr_retired;
};

/* One run [0, size) of @value. 0, -EINVAL (size 0), -ENOMEM. */
int runmap_init(struct runmap *m, uint64_t size, uint8_t value);
/* Free everything, retired nodes included: no reader may remain. */
void runmap_destroy(struct runmap *m);

/* The published root, for readers (acquire load). */
static inline struct run_node *runmap_root(const struct runmap *m)
{
	return __atomic_load_n(&m->root, __ATOMIC_ACQUIRE);
}

/* The run holding @page in the tree @root, or NULL past the end. */
static inline const struct run_node *runmap_lookup(const struct run_node *n, uint64_t page)
{
	while (n) {
		if (page < n->start)
			n = n->left;
		else if (page >= n->end)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

/*
 * Give pages [a, b) the value @v, merging with equal neighbours, and
 * publish the new tree. Returns 1 if the map changed, 0 if every page
 * already had @v (nothing published), -EINVAL for an empty or out-of-range
 * [a, b), -ENOMEM (map unchanged). Replaced nodes go to the retire list.
 */
int runmap_assign(struct runmap *m, uint64_t a, uint64_t b, uint8_t v);

/* Free the retire list: only once no reader can hold a pointer into it. */
void runmap_free_retired(struct runmap *m);

/*
 * Call @fn for each run overlapping [a, b), in address order, with the
 * run clipped to [a, b). Stops early and returns fn's value if nonzero.
 */
typedef int (*runmap_visit_fn)(void *ctx, uint64_t start, uint64_t end, uint8_t value);
int runmap_foreach(const struct run_node *root, uint64_t a, uint64_t b, runmap_visit_fn fn,
		   void *ctx);

#endif
