/* SPDX-License-Identifier: MIT */
/*
 * The mapping compiler (DESIGN K2-K4): keeps the backend's mappings equal to
 * the maximal runs of equal effective access (RW or RO; NONE is unmapped),
 * and turns an access change of a page range, or of a list of ranges, into
 * the fewest unmap/map calls: only mappings whose extent or access changes
 * are touched (a split is one unmap and up to three maps), and a list is
 * one plan, never one plan per range (P3). Plans are made before anything
 * changes, so a change past the backend's mapping limit fails with -ENOSPC
 * and leaves everything as it was. Counts every call, for tests and P3.
 */
#ifndef IOREQVM_MAPCOMP_H
#define IOREQVM_MAPCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/backend.h"
#include "mem/guest_ram.h"
#include "p2m/runmap.h"

/* What the compiler drives: a CPU backend, or a mock in unit tests. */
struct map_target {
	void *ctx;
	int (*map)(void *ctx, uint64_t gpa, uint64_t size, uint64_t host_offset,
		   enum mem_access access);
	int (*unmap)(void *ctx, uint64_t gpa);
	unsigned limit; /* mappings the backend can hold */
};

struct map_run {
	uint64_t start, end; /* pages */
	enum mem_access access;
};

/* Pages [a, b) to get @access; a list of them is sorted and disjoint. */
struct mapcomp_range {
	uint64_t a, b;
	enum mem_access access;
};

struct mapcomp_plan {
	struct mapcomp_range *paint; /* the ranges, for the access map */
	size_t nr_paint;
	struct map_run *del, *add; /* mappings to remove, then to create */
	size_t nr_del, nr_add;
	unsigned used_after; /* mappings in place once applied (set on -ENOSPC too) */
};

struct mapcomp {
	struct runmap access; /* value: enum mem_access, per page */
	const struct guest_ram *ram;
	struct map_target target;
	unsigned used; /* mappings in place */
	uint64_t nr_map_calls, nr_unmap_calls;
};

/*
 * Start with RAM regions RW and everything else NONE over @nr_pages, and
 * map the RAM. 0 or -errno (the backend's, or -ENOSPC).
 */
int mapcomp_init(struct mapcomp *mc, const struct guest_ram *ram, uint64_t nr_pages,
		 const struct map_target *target);
void mapcomp_destroy(struct mapcomp *mc);

/*
 * Plan giving pages [a, b) @access. 0 (plan filled; may be empty),
 * -ENOSPC past the limit, -EINVAL (RW/RO outside RAM), -ENOMEM.
 */
int mapcomp_plan(struct mapcomp *mc, uint64_t a, uint64_t b, enum mem_access access,
		 struct mapcomp_plan *plan);
/*
 * One plan giving each of the @n ranges @r (sorted, disjoint, non-empty)
 * its access: the windows of the ranges are merged, the old runs of each
 * merged window collected once, repainted, re-merged and diffed, so the
 * plan costs O(ranges + runs in their windows) and its calls are exactly
 * the mappings that differ between before and after (at most 4 per run
 * changed). Same returns as mapcomp_plan; the caller may free @r after.
 */
int mapcomp_plan_ranges(struct mapcomp *mc, const struct mapcomp_range *r, size_t n,
			struct mapcomp_plan *plan);
/*
 * Carry out a plan made on the current state; vCPUs must be out of guest
 * code (K3). 0, or -errno of a backend call (then the mapping state is
 * unknown: the caller treats it as an internal error).
 */
int mapcomp_apply(struct mapcomp *mc, struct mapcomp_plan *plan);
/*
 * mapcomp_apply in two halves, for a caller keeping its pause short: the
 * backend calls (vCPUs out of guest code, K3; same returns), then, at any
 * time before the next plan, recording the plan's result in the access
 * map (0 or -ENOMEM: then the access map is partly old).
 */
int mapcomp_apply_calls(struct mapcomp *mc, const struct mapcomp_plan *plan);
int mapcomp_record(struct mapcomp *mc, const struct mapcomp_plan *plan);
void mapcomp_plan_free(struct mapcomp_plan *plan);

#endif
