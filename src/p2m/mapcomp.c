/* SPDX-License-Identifier: MIT */
/*
 * Mapping compiler. A change of [a, b) can only alter the mappings that
 * overlap [a - 1, b + 1): the window is the union of the access runs there
 * (the runs of the pages just outside may merge with or split from the
 * changed range). Old runs of the window come from the access map, new ones
 * are the old list repainted and re-merged; runs equal in both are left
 * alone; the rest become unmaps and maps.
 */
#include "p2m/mapcomp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct run_list {
	struct map_run *v;
	size_t n, cap;
};

static int list_push(struct run_list *l, uint64_t s, uint64_t e, enum mem_access acc)
{
	if (l->n && l->v[l->n - 1].access == acc && l->v[l->n - 1].end == s) {
		l->v[l->n - 1].end = e; /* merge */
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct map_run *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct map_run){ .start = s, .end = e, .access = acc };
	return 0;
}

static int collect(void *ctx, uint64_t s, uint64_t e, uint8_t v)
{
	return list_push(ctx, s, e, (enum mem_access)v);
}

/* Host offset of a page run that lies inside one RAM region, or -1. */
static int64_t host_offset(const struct guest_ram *ram, uint64_t start, uint64_t end)
{
	uint64_t gpa = start << GUEST_PAGE_SHIFT, len = (end - start) << GUEST_PAGE_SHIFT;
	for (unsigned i = 0; i < ram->nr_regions; i++) {
		const struct guest_ram_region *r = &ram->region[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return (int64_t)(r->offset + (gpa - r->gpa));
	}
	return -1;
}

int mapcomp_init(struct mapcomp *mc, const struct guest_ram *ram, uint64_t nr_pages,
		 const struct map_target *target)
{
	memset(mc, 0, sizeof(*mc));
	mc->ram = ram;
	mc->target = *target;
	int rc = runmap_init(&mc->access, nr_pages, MEM_ACCESS_NONE);
	if (rc)
		return rc;
	for (unsigned i = 0; i < ram->nr_regions; i++) {
		const struct guest_ram_region *r = &ram->region[i];
		struct mapcomp_plan plan;
		uint64_t a = r->gpa >> GUEST_PAGE_SHIFT, b = (r->gpa + r->size) >> GUEST_PAGE_SHIFT;
		rc = mapcomp_plan(mc, a, b, MEM_ACCESS_RW, &plan);
		if (!rc)
			rc = mapcomp_apply(mc, &plan);
		mapcomp_plan_free(&plan);
		if (rc)
			return rc;
	}
	return 0;
}

void mapcomp_destroy(struct mapcomp *mc)
{
	runmap_destroy(&mc->access);
}

void mapcomp_plan_free(struct mapcomp_plan *plan)
{
	free(plan->del);
	free(plan->add);
	plan->del = plan->add = NULL;
	plan->nr_del = plan->nr_add = 0;
}

static bool same_run(const struct map_run *x, const struct map_run *y)
{
	return x->start == y->start && x->end == y->end && x->access == y->access;
}

int mapcomp_plan(struct mapcomp *mc, uint64_t a, uint64_t b, enum mem_access access,
		 struct mapcomp_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->a = a;
	plan->b = b;
	plan->access = access;
	if (a >= b || b > mc->access.size)
		return -EINVAL;
	if (access != MEM_ACCESS_NONE && host_offset(mc->ram, a, b) < 0)
		return -EINVAL;

	const struct run_node *root = runmap_root(&mc->access);
	uint64_t lo = runmap_lookup(root, a ? a - 1 : a)->start;
	uint64_t hi = runmap_lookup(root, b < mc->access.size ? b : b - 1)->end;

	struct run_list old = { 0 }, neu = { 0 };
	int rc = runmap_foreach(root, lo, hi, collect, &old);
	for (size_t i = 0; !rc && i < old.n; i++) {
		const struct map_run *o = &old.v[i];
		if (o->start < a)
			rc = list_push(&neu, o->start, o->end < a ? o->end : a, o->access);
		if (!rc && o->start < b && o->end > a)
			rc = list_push(&neu, o->start > a ? o->start : a, o->end < b ? o->end : b,
				       access);
		if (!rc && o->end > b)
			rc = list_push(&neu, o->start > b ? o->start : b, o->end, o->access);
	}
	if (rc)
		goto fail;

	/* Drop runs present in both lists (both are sorted, disjoint). */
	size_t i = 0, j = 0, nd = 0, na = 0;
	while (i < old.n || j < neu.n) {
		if (i < old.n && j < neu.n && same_run(&old.v[i], &neu.v[j])) {
			i++, j++;
		} else if (j == neu.n || (i < old.n && old.v[i].start <= neu.v[j].start)) {
			if (old.v[i].access != MEM_ACCESS_NONE)
				old.v[nd++] = old.v[i];
			i++;
		} else {
			if (neu.v[j].access != MEM_ACCESS_NONE)
				neu.v[na++] = neu.v[j];
			j++;
		}
	}
	if ((uint64_t)mc->used - nd + na > mc->target.limit) {
		rc = -ENOSPC;
		goto fail;
	}
	plan->del = old.v;
	plan->nr_del = nd;
	plan->add = neu.v;
	plan->nr_add = na;
	return 0;
fail:
	free(old.v);
	free(neu.v);
	return rc;
}

int mapcomp_apply(struct mapcomp *mc, struct mapcomp_plan *plan)
{
	for (size_t i = 0; i < plan->nr_del; i++) {
		int rc = mc->target.unmap(mc->target.ctx, plan->del[i].start << GUEST_PAGE_SHIFT);
		mc->nr_unmap_calls++;
		if (rc)
			return rc;
		mc->used--;
	}
	for (size_t i = 0; i < plan->nr_add; i++) {
		const struct map_run *r = &plan->add[i];
		int64_t off = host_offset(mc->ram, r->start, r->end);
		int rc = off < 0 ? -EINVAL
				 : mc->target.map(mc->target.ctx, r->start << GUEST_PAGE_SHIFT,
						  (r->end - r->start) << GUEST_PAGE_SHIFT,
						  (uint64_t)off, r->access);
		mc->nr_map_calls++;
		if (rc)
			return rc;
		mc->used++;
	}
	int rc = runmap_assign(&mc->access, plan->a, plan->b, (uint8_t)plan->access);
	runmap_free_retired(&mc->access); /* the access map has no concurrent readers */
	return rc < 0 ? rc : 0;
}
