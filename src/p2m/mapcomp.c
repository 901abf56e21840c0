/* SPDX-License-Identifier: MIT */
/*
 * Mapping compiler. A change of [a, b) can only alter the mappings that
 * overlap [a - 1, b + 1): the window is the union of the access runs there
 * (the runs of the pages just outside may merge with or split from the
 * changed range). A list of ranges merges the windows that overlap; the old
 * runs of each merged window come from the access map once, the new ones
 * are the old list repainted with every range inside it and re-merged;
 * runs equal in both are left alone; the rest become unmaps and maps.
 */
#include "p2m/mapcomp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct run_list {
	struct map_run *v;
	size_t n, cap;
};

/* Append without merging: unmaps and maps name whole mappings. */
static int list_append(struct run_list *l, const struct map_run *r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct map_run *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *r;
	return 0;
}

/* Append, merging with the last run when it has the same access and touches. */
static int list_push(struct run_list *l, uint64_t s, uint64_t e, enum mem_access acc)
{
	if (l->n && l->v[l->n - 1].access == acc && l->v[l->n - 1].end == s) {
		l->v[l->n - 1].end = e;
		return 0;
	}
	return list_append(l, &(struct map_run){ .start = s, .end = e, .access = acc });
}

static int collect(void *ctx, uint64_t s, uint64_t e, uint8_t v)
{
	return list_push(ctx, s, e, (enum mem_access)v);
}

/* Memfd offset of a page run the memfd backs in one piece (guest_ram_backing), or -1. */
static int64_t host_offset(const struct guest_ram *ram, uint64_t start, uint64_t end)
{
	return guest_ram_backing(ram, start << GUEST_PAGE_SHIFT, (end - start) << GUEST_PAGE_SHIFT);
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
	free(plan->paint);
	free(plan->del);
	free(plan->add);
	plan->paint = NULL;
	plan->del = plan->add = NULL;
	plan->nr_paint = plan->nr_del = plan->nr_add = 0;
}

static bool same_run(const struct map_run *x, const struct map_run *y)
{
	return x->start == y->start && x->end == y->end && x->access == y->access;
}

/* @neu = the runs of @old with the ranges @r[0, n) painted over, re-merged. */
static int repaint(const struct run_list *old, const struct mapcomp_range *r, size_t n,
		   struct run_list *neu)
{
	size_t j = 0;
	for (size_t i = 0; i < old->n; i++) {
		const struct map_run *o = &old->v[i];
		for (uint64_t pos = o->start; pos < o->end;) {
			while (j < n && r[j].b <= pos)
				j++;
			uint64_t end = o->end;
			enum mem_access acc = o->access;
			if (j < n && r[j].a <= pos) {
				end = r[j].b < end ? r[j].b : end;
				acc = r[j].access;
			} else if (j < n && r[j].a < end) {
				end = r[j].a;
			}
			int rc = list_push(neu, pos, end, acc);
			if (rc)
				return rc;
			pos = end;
		}
	}
	return 0;
}

/* Runs in only one of @old and @neu (both sorted, disjoint) go to @del / @add. */
static int diff(const struct run_list *old, const struct run_list *neu, struct run_list *del,
		struct run_list *add)
{
	size_t i = 0, j = 0;
	int rc = 0;
	while (!rc && (i < old->n || j < neu->n)) {
		if (i < old->n && j < neu->n && same_run(&old->v[i], &neu->v[j])) {
			i++, j++;
		} else if (j == neu->n || (i < old->n && old->v[i].start <= neu->v[j].start)) {
			if (old->v[i].access != MEM_ACCESS_NONE)
				rc = list_append(del, &old->v[i]);
			i++;
		} else {
			if (neu->v[j].access != MEM_ACCESS_NONE)
				rc = list_append(add, &neu->v[j]);
			j++;
		}
	}
	return rc;
}

/* First page of the window of @r: the start of the run holding the page before it. */
static uint64_t window_lo(const struct run_node *root, const struct mapcomp_range *r)
{
	return runmap_lookup(root, r->a ? r->a - 1 : 0)->start;
}

/* End of the window of @r: the end of the run holding the page after it. */
static uint64_t window_hi(const struct run_node *root, uint64_t size, const struct mapcomp_range *r)
{
	return runmap_lookup(root, r->b < size ? r->b : r->b - 1)->end;
}

int mapcomp_plan_ranges(struct mapcomp *mc, const struct mapcomp_range *r, size_t n,
			struct mapcomp_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->used_after = mc->used;
	for (size_t i = 0; i < n; i++) {
		if (r[i].a >= r[i].b || r[i].b > mc->access.size || (i && r[i].a < r[i - 1].b))
			return -EINVAL;
		if (r[i].access != MEM_ACCESS_NONE && host_offset(mc->ram, r[i].a, r[i].b) < 0)
			return -EINVAL;
	}
	if (!n)
		return 0;
	plan->paint = malloc(n * sizeof(*r));
	if (!plan->paint)
		return -ENOMEM;
	memcpy(plan->paint, r, n * sizeof(*r));
	plan->nr_paint = n;

	const struct run_node *root = runmap_root(&mc->access);
	uint64_t size = mc->access.size;
	struct run_list old = { 0 }, neu = { 0 }, del = { 0 }, add = { 0 };
	int rc = 0;
	for (size_t i = 0; !rc && i < n;) {
		/* Ranges i..j-1 whose windows overlap or touch make one window [lo, hi). */
		uint64_t lo = window_lo(root, &r[i]), hi = window_hi(root, size, &r[i]);
		size_t j = i + 1;
		while (j < n && window_lo(root, &r[j]) <= hi)
			hi = window_hi(root, size, &r[j++]);
		old.n = neu.n = 0;
		rc = runmap_foreach(root, lo, hi, collect, &old);
		if (!rc)
			rc = repaint(&old, &r[i], j - i, &neu);
		if (!rc)
			rc = diff(&old, &neu, &del, &add);
		i = j;
	}
	free(old.v);
	free(neu.v);
	plan->used_after = (unsigned)((uint64_t)mc->used - del.n + add.n);
	if (!rc && (uint64_t)mc->used - del.n + add.n > mc->target.limit)
		rc = -ENOSPC;
	if (rc) {
		free(del.v);
		free(add.v);
		mapcomp_plan_free(plan);
		return rc;
	}
	plan->del = del.v;
	plan->nr_del = del.n;
	plan->add = add.v;
	plan->nr_add = add.n;
	return 0;
}

int mapcomp_plan(struct mapcomp *mc, uint64_t a, uint64_t b, enum mem_access access,
		 struct mapcomp_plan *plan)
{
	if (a >= b || b > mc->access.size) {
		memset(plan, 0, sizeof(*plan));
		return -EINVAL;
	}
	struct mapcomp_range r = { .a = a, .b = b, .access = access };
	return mapcomp_plan_ranges(mc, &r, 1, plan);
}

int mapcomp_apply_calls(struct mapcomp *mc, const struct mapcomp_plan *plan)
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
	return 0;
}

int mapcomp_record(struct mapcomp *mc, const struct mapcomp_plan *plan)
{
	int rc = 0;
	for (size_t i = 0; i < plan->nr_paint && rc >= 0; i++)
		rc = runmap_assign(&mc->access, plan->paint[i].a, plan->paint[i].b,
				   (uint8_t)plan->paint[i].access);
	runmap_free_retired(&mc->access); /* the access map has no concurrent readers */
	return rc < 0 ? rc : 0;
}

int mapcomp_apply(struct mapcomp *mc, struct mapcomp_plan *plan)
{
	int rc = mapcomp_apply_calls(mc, plan);
	return rc ? rc : mapcomp_record(mc, plan);
}
