/* SPDX-License-Identifier: MIT */
/*
 * Adding and removing guest RAM (DESIGN X4; p2m.h: p2m_populate,
 * p2m_decrease) and where the RAM frames sit in the memfd (p2m_ram_runs).
 * A change is checked whole under the writer lock (ranges, types, backing,
 * the page limit, one mapping plan for all ranges and the release budget)
 * before anything changes; then the types of every range change and the
 * plan is applied with the vCPUs paused, as set_mem_type does. Memory is
 * released with fallocate(PUNCH_HOLE): before a populate (the guest gets
 * zeroed pages, whatever a model wrote there meanwhile) and after a
 * decrease (the host gets the memory back).
 */
#include "p2m/p2m_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-bp.h>

#include "core/log.h"

/* Ranges sorted, disjoint, non-empty, inside guest-physical space; their frames in *pages. */
static int check_ranges(const struct p2m *p, const struct p2m_range *r, size_t n,
			uint64_t *pages, char *err, size_t errlen)
{
	*pages = 0;
	if (!n) {
		snprintf(err, errlen, "no frames given");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!r[i].nr || r[i].first >= p->nr_pages || r[i].nr > p->nr_pages - r[i].first) {
			snprintf(err, errlen, "pfn range 0x%" PRIx64 "+0x%" PRIx64 " is empty or outside "
				 "guest-physical space [0, 0x%" PRIx64 ")", r[i].first, r[i].nr,
				 p->nr_pages);
			return -EINVAL;
		}
		if (i && r[i].first < r[i - 1].first + r[i - 1].nr) {
			snprintf(err, errlen, "pfn ranges must be sorted and disjoint (0x%" PRIx64
				 " follows 0x%" PRIx64 "+0x%" PRIx64 ")", r[i].first, r[i - 1].first,
				 r[i - 1].nr);
			return -EINVAL;
		}
		*pages += r[i].nr;
	}
	return 0;
}

struct type_check {
	bool populate;
	int rc;
	char *err;
	size_t errlen;
};

/* A run of a range to populate must be a hole; one to give back, ram_rw or ram_ro. */
static int check_types(void *ctx, uint64_t a, uint64_t b, uint8_t v)
{
	struct type_check *c = ctx;
	if (c->populate && v != IOREQVM_MEM_MMIO_DM) {
		snprintf(c->err, c->errlen, "pfn 0x%" PRIx64 " is %s: it has RAM already", a,
			 p2m_type_name(v));
		return c->rc = -EEXIST;
	}
	if (!c->populate && v != IOREQVM_MEM_RAM_RW && v != IOREQVM_MEM_RAM_RO) {
		snprintf(c->err, c->errlen, "pfn 0x%" PRIx64 " is %s: only ram_rw and ram_ro frames "
			 "can be given back%s", a, p2m_type_name(v),
			 v == IOREQVM_MEM_MMIO_DM ? " (it has no RAM)" : " (set it ram_rw first)");
		return c->rc = -EINVAL;
	}
	return 0;
}

/* Release the memory of the ranges (fresh zeroed pages the next time they are touched). */
static int punch(const struct p2m *p, const struct p2m_range *r, size_t n)
{
	if (p->ram->memfd < 0)
		return 0; /* unit tests: a layout without memory */
	for (size_t i = 0; i < n; i++) {
		int64_t off = guest_ram_backing(p->ram, r[i].first << GUEST_PAGE_SHIFT,
						r[i].nr << GUEST_PAGE_SHIFT);
		if (off < 0 || fallocate(p->ram->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 off, (off_t)(r[i].nr << GUEST_PAGE_SHIFT)))
			return off < 0 ? -EINVAL : -errno;
	}
	return 0;
}

/* A run as it was, to put back if a later range cannot change. */
struct saved {
	struct p2m_range *v;
	uint8_t *type;
	size_t n, cap;
};

static int save_run(void *ctx, uint64_t a, uint64_t b, uint8_t v)
{
	struct saved *s = ctx;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct p2m_range *nv = realloc(s->v, cap * sizeof(*nv));
		uint8_t *nt = nv ? realloc(s->type, cap) : NULL;
		if (nv)
			s->v = nv;
		if (!nt)
			return -ENOMEM;
		s->type = nt;
		s->cap = cap;
	}
	s->v[s->n] = (struct p2m_range){ a, b - a };
	s->type[s->n++] = v;
	return 0;
}

/*
 * The whole change, with the lock held: @populate, the frames become ram_rw
 * (mapped RW); else holes (mmio_dm, unmapped).
 */
static int change(struct p2m *p, const struct p2m_range *r, size_t n, bool populate, char *err,
		  size_t errlen)
{
	uint64_t pages;
	int rc = check_ranges(p, r, n, &pages, err, errlen);
	if (rc)
		return rc;
	struct type_check tc = { .populate = populate, .err = err, .errlen = errlen };
	for (size_t i = 0; i < n && !tc.rc; i++) {
		if (populate && guest_ram_backing(p->ram, r[i].first << GUEST_PAGE_SHIFT,
						  r[i].nr << GUEST_PAGE_SHIFT) < 0) {
			snprintf(err, errlen, "pfn range 0x%" PRIx64 "+0x%" PRIx64 ": no memory can back "
				 "it (RAM goes below the I/O APIC, pfn 0x%llx, or where the VM's RAM "
				 "was)", r[i].first, r[i].nr, GUEST_HOLE_RAM_END >> GUEST_PAGE_SHIFT);
			return -EINVAL;
		}
		runmap_foreach(runmap_root(&p->types), r[i].first, r[i].first + r[i].nr, check_types,
			       &tc);
	}
	if (tc.rc)
		return tc.rc;
	if (populate && p->ram_pages + pages > p->max_ram_pages) {
		snprintf(err, errlen, "%" PRIu64 " more frames would make %" PRIu64 ", above the "
			 "limit of %" PRIu64 " (the boot RAM and %d more, R4)", pages,
			 p->ram_pages + pages, p->max_ram_pages, P2M_POPULATE_MAX_PAGES);
		return -ENOSPC;
	}

	enum mem_access access = populate ? MEM_ACCESS_RW : MEM_ACCESS_NONE;
	struct mapcomp_range *mr = calloc(n, sizeof(*mr));
	struct saved old = { 0 };
	if (!mr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		mr[i] = (struct mapcomp_range){ r[i].first, r[i].first + r[i].nr, access };
	struct mapcomp_plan plan;
	rc = mapcomp_plan_ranges(&p->maps, mr, n, &plan);
	free(mr);
	if (!rc)
		rc = p2m_check_budget(p, plan.used_after, p2m_armed_runs(p->ioreq_runs, p->claims),
				      err, errlen);
	else if (rc == -ENOSPC)
		snprintf(err, errlen, "the change needs %u mappings, above the backend's limit of %u "
			 "(K4)", plan.used_after, p->maps.target.limit);
	else
		snprintf(err, errlen, "planning mappings: %s", strerror(-rc));
	for (size_t i = 0; !rc && i < n; i++)
		rc = runmap_foreach(runmap_root(&p->types), r[i].first, r[i].first + r[i].nr,
				    save_run, &old);
	if (!rc && populate) {
		rc = punch(p, r, n);
		if (rc)
			snprintf(err, errlen, "releasing the frames' old memory: %s", strerror(-rc));
	} else if (rc == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
	}
	if (rc) {
		mapcomp_plan_free(&plan);
		free(old.v);
		free(old.type);
		return rc;
	}

	uint8_t to = populate ? IOREQVM_MEM_RAM_RW : IOREQVM_MEM_MMIO_DM;
	p->pauser.pause(p->pauser.ctx);
	size_t done = 0;
	for (; done < n; done++)
		if (runmap_assign(&p->types, r[done].first, r[done].first + r[done].nr, to) < 0)
			break;
	if (done < n) {
		/* Out of memory part way: the ranges changed go back as they were. */
		for (size_t i = 0; i < old.n; i++)
			if (old.v[i].first < r[done].first &&
			    runmap_assign(&p->types, old.v[i].first, old.v[i].first + old.v[i].nr,
					  old.type[i]) < 0)
				log_err("p2m: BUG: out of memory undoing a %s; pfn 0x%" PRIx64 "+0x%"
					PRIx64 " keeps the type %s without its mapping change",
					populate ? "populate" : "decrease", old.v[i].first, old.v[i].nr,
					p2m_type_name(to));
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	} else {
		rc = mapcomp_apply(&p->maps, &plan);
		if (rc) {
			snprintf(err, errlen, "backend mapping change failed: %s", strerror(-rc));
			rc = -EIO;
		}
		p->ram_pages = populate ? p->ram_pages + pages : p->ram_pages - pages;
		p->physmap_gen++;
	}
	p->pauser.resume(p->pauser.ctx);
	mapcomp_plan_free(&plan);
	free(old.v);
	free(old.type);
	urcu_bp_synchronize_rcu();
	runmap_free_retired(&p->types);
	if (!rc && !populate) {
		int prc = punch(p, r, n); /* the guest no longer reaches them */
		if (prc)
			log_err("p2m: releasing the memory of given-back frames: %s", strerror(-prc));
	}
	p2m_publish_stats(p);
	return rc;
}

int p2m_populate(struct p2m *p, const struct p2m_range *r, size_t n, char *err, size_t errlen)
{
	pthread_mutex_lock(&p->lock);
	int rc = change(p, r, n, true, err, errlen);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int p2m_decrease(struct p2m *p, const struct p2m_range *r, size_t n, char *err, size_t errlen)
{
	pthread_mutex_lock(&p->lock);
	int rc = change(p, r, n, false, err, errlen);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

struct runs_ctx {
	const struct p2m *p;
	struct p2m_ram_run *out;
	size_t n, max;
	uint64_t next;
};

static int collect_ram(void *ctx, uint64_t a, uint64_t b, uint8_t v)
{
	struct runs_ctx *c = ctx;
	if (v == IOREQVM_MEM_MMIO_DM)
		return 0;
	int64_t off = guest_ram_backing(c->p->ram, a << GUEST_PAGE_SHIFT, (b - a) << GUEST_PAGE_SHIFT);
	if (off < 0)
		return 0; /* cannot be: RAM types only where the memfd backs them */
	struct p2m_ram_run *last = c->n ? &c->out[c->n - 1] : NULL;
	if (last && last->first + last->nr == a &&
	    last->offset + (last->nr << GUEST_PAGE_SHIFT) == (uint64_t)off) {
		last->nr += b - a; /* ram_rw next to ram_ro, say: one run of memory */
		return 0;
	}
	if (c->n == c->max) {
		c->next = a;
		return 1;
	}
	c->out[c->n++] = (struct p2m_ram_run){ a, b - a, (uint64_t)off };
	return 0;
}

size_t p2m_ram_runs(struct p2m *p, uint64_t first, struct p2m_ram_run *out, size_t max,
		    uint64_t *next, uint64_t *gen)
{
	struct runs_ctx c = { .p = p, .out = out, .max = max, .next = p->nr_pages };
	pthread_mutex_lock(&p->lock);
	if (first < p->nr_pages)
		runmap_foreach(runmap_root(&p->types), first, p->nr_pages, collect_ram, &c);
	*gen = p->physmap_gen;
	pthread_mutex_unlock(&p->lock);
	*next = c.next;
	return c.n;
}
