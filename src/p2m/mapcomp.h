/* SPDX-License-Identifier: MIT */
/*
 * The mapping compiler (DESIGN K2-K4): keeps the backend's mappings equal to
 * the maximal runs of equal effective access (RW or RO; NONE is unmapped),
 * and turns an access change of a page range into the fewest unmap/map
 * calls: only mappings whose extent or access changes are touched (a split
 * is one unmap and up to three maps). Plans are made before anything
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

struct mapcomp_plan {
	uint64_t a, b;
	enum mem_access access;
	struct map_run *del, *add; /* mappings to remove, then to create */
	size_t nr_del, nr_add;
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
 * Carry out a plan made on the current state; vCPUs must be out of guest
 * code (K3). 0, or -errno of a backend call (then the mapping state is
 * unknown: the caller treats it as an internal error).
 */
int mapcomp_apply(struct mapcomp *mc, struct mapcomp_plan *plan);
void mapcomp_plan_free(struct mapcomp_plan *plan);

#endif
