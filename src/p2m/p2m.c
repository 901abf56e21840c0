/* SPDX-License-Identifier: MIT */
/*
 * P2M type changes and lookups. set_mem_type: under the writer lock, walk
 * the runs of the range's window once to check S1-S4 and R5 and count the
 * ioreq_server runs there, plan the mapping change and check the release
 * budget (may refuse with ENOSPC), then pause the vCPUs, publish the new
 * type tree, apply the mappings, resume, and free the old nodes after an
 * RCU grace period. A claim change plans all runs of its type as one change
 * before the pause. Readers take only an RCU read lock; statistics come
 * from a snapshot under a lock of their own.
 */
#include "p2m/p2m.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-bp.h>

#include "core/log.h"
#include "p2m/p2m_priv.h"

static const char *const type_names[IOREQVM_MEM_NR_TYPES] = {
	"ram_rw", "ram_ro", "mmio_dm", "unused", "ioreq_server", "ioreq_server1",
	"ioreq_server2", "ioreq_server3", "ioreq_server4", "ioreq_server5",
	"ioreq_server6", "ioreq_server7",
};

const char *p2m_type_name(uint32_t type)
{
	return type < IOREQVM_MEM_NR_TYPES ? type_names[type] : "invalid";
}

#define NR_IOREQ IOREQVM_MEM_NR_IOREQ_TYPES
#define IOREQ_INDEX(t) P2M_IOREQ_INDEX(t)

/* Mapped RO or NONE: claimed and its owner enabled (C5). */
static bool claim_armed(const struct p2m_claim *c)
{
	return c->flags && c->enabled;
}

/* The runs the release budget keeps room for: those of armed types. */
uint64_t p2m_armed_runs(const uint64_t *runs, const struct p2m_claim *claims)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < NR_IOREQ; i++)
		if (claim_armed(&claims[i]))
			n += runs[i];
	return n;
}

/*
 * The release budget (p2m.h): a change leaving @maps mappings and @armed
 * armed runs must leave room to turn every armed run RW (2 mappings each).
 */
int p2m_check_budget(const struct p2m *p, uint64_t maps, uint64_t armed, char *err,
		     size_t errlen)
{
	uint64_t need = maps + 2 * armed;
	if (need <= p->maps.target.limit)
		return 0;
	snprintf(err, errlen, "needs %" PRIu64 " mappings + 2 x %" PRIu64 " claimed runs (room to "
		 "release them, C4) = %" PRIu64 ", above the limit of %u (K4)", maps, armed, need,
		 p->maps.target.limit);
	return -ENOSPC;
}

int p2m_count_ram(void *ctx, uint64_t a, uint64_t b, uint8_t v)
{
	if (v != IOREQVM_MEM_MMIO_DM)
		*(uint64_t *)ctx += b - a;
	return 0;
}

/* Caller holds the lock: the snapshot p2m_get_stats answers from. */
void p2m_publish_stats(struct p2m *p)
{
	struct p2m_stats s = {
		.nr_set_calls = p->nr_set_calls,
		.nr_map_calls = p->maps.nr_map_calls,
		.nr_unmap_calls = p->maps.nr_unmap_calls,
		.nr_runs = p->types.nr_runs,
		.bytes = p->types.nr_runs * sizeof(struct run_node),
		.nr_armed_runs = p2m_armed_runs(p->ioreq_runs, p->claims),
		.mappings_used = p->maps.used,
		.mappings_limit = p->maps.target.limit,
		.ram_pages = p->ram_pages,
		.max_ram_pages = p->max_ram_pages,
		.physmap_gen = p->physmap_gen,
	};
	for (unsigned i = 0; i < NR_IOREQ; i++)
		s.nr_ioreq_runs += p->ioreq_runs[i];
	pthread_mutex_lock(&p->stats_lock);
	p->stats = s;
	pthread_mutex_unlock(&p->stats_lock);
}

int p2m_init(struct p2m *p, const struct guest_ram *ram, const struct map_target *target,
	     const struct p2m_pauser *pauser)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->stats_lock, NULL);
	p->ram = ram;
	p->pauser = *pauser;
	uint64_t end = guest_ram_end(ram);
	if (end < GUEST_PCI_HOLE_END)
		end = GUEST_PCI_HOLE_END;
	p->nr_pages = end >> GUEST_PAGE_SHIFT;
	int rc = runmap_init(&p->types, p->nr_pages, IOREQVM_MEM_MMIO_DM);
	for (unsigned i = 0; !rc && i < ram->nr_regions; i++) {
		uint64_t a = ram->region[i].gpa >> GUEST_PAGE_SHIFT;
		uint64_t b = (ram->region[i].gpa + ram->region[i].size) >> GUEST_PAGE_SHIFT;
		rc = runmap_assign(&p->types, a, b, IOREQVM_MEM_RAM_RW);
		rc = rc < 0 ? rc : 0;
	}
	/* The VGA window is a hole, as on a PC: MMIO for a device model (I7's case). */
	uint64_t vga_a = P2M_VGA_START >> GUEST_PAGE_SHIFT, vga_b = P2M_VGA_END >> GUEST_PAGE_SHIFT;
	if (!rc && guest_ram_end(ram) >= P2M_VGA_END) {
		rc = runmap_assign(&p->types, vga_a, vga_b, IOREQVM_MEM_MMIO_DM);
		rc = rc < 0 ? rc : 0;
	}
	runmap_free_retired(&p->types);
	if (!rc)
		rc = mapcomp_init(&p->maps, ram, p->nr_pages, target);
	/* X4: frames with RAM now, and the most populate may bring them to. */
	if (!rc)
		runmap_foreach(runmap_root(&p->types), 0, p->nr_pages, p2m_count_ram, &p->ram_pages);
	p->max_ram_pages = p->ram_pages + P2M_POPULATE_MAX_PAGES;
	if (!rc && guest_ram_end(ram) >= P2M_VGA_END) {
		struct mapcomp_plan plan;
		rc = mapcomp_plan(&p->maps, vga_a, vga_b, MEM_ACCESS_NONE, &plan);
		if (!rc)
			rc = mapcomp_apply(&p->maps, &plan);
		mapcomp_plan_free(&plan);
	}
	p2m_publish_stats(p);
	return rc;
}

void p2m_destroy(struct p2m *p)
{
	mapcomp_destroy(&p->maps);
	runmap_destroy(&p->types);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->stats_lock);
}

enum mem_access p2m_type_access(const struct p2m *p, uint32_t type)
{
	switch (type) {
	case IOREQVM_MEM_RAM_RW:
		return MEM_ACCESS_RW;
	case IOREQVM_MEM_RAM_RO:
		return MEM_ACCESS_RO;
	case IOREQVM_MEM_MMIO_DM:
		return MEM_ACCESS_NONE;
	default:
		break;
	}
	if (!ioreqvm_mem_type_is_ioreq(type))
		return MEM_ACCESS_NONE;
	const struct p2m_claim *c = &p->claims[IOREQ_INDEX(type)];
	uint32_t flags = __atomic_load_n(&c->flags, __ATOMIC_ACQUIRE);
	if (!flags || !__atomic_load_n(&c->enabled, __ATOMIC_ACQUIRE))
		return MEM_ACCESS_RW; /* M5, C5: unclaimed or owner disabled */
	return (flags & IOREQVM_MEM_ACCESS_READ) ? MEM_ACCESS_NONE : MEM_ACCESS_RO;
}

struct check_ctx {
	struct p2m *p;
	uint32_t to, owned;
	uint64_t a, b;                /* the range; the walk covers its window */
	uint64_t before[NR_IOREQ];    /* runs per ioreq_server type in the window */
	char *err;
	size_t errlen;
};

/*
 * One run [s, e) of type @from in the window of the change: counted, and if
 * it lies in the range, checked against R5, S1 and S3.
 */
static int check_run(void *opaque, uint64_t s, uint64_t e, uint8_t from)
{
	struct check_ctx *c = opaque;
	if (ioreqvm_mem_type_is_ioreq(from))
		c->before[IOREQ_INDEX(from)]++;
	if (e <= c->a || s >= c->b)
		return 0; /* a neighbour: it may merge or split, nothing to check */
	if (s < c->a)
		s = c->a;
	uint32_t to = c->to;
	if (ioreqvm_mem_type_is_ioreq(from) && !(c->owned & (1u << from))) {
		snprintf(c->err, c->errlen, "pfn 0x%" PRIx64 " is %s, claimed by server %u of another "
			 "connection (R5)", s, p2m_type_name(from),
			 c->p->claims[IOREQ_INDEX(from)].server);
		return -EPERM;
	}
	const char *why = NULL;
	/* X4: RAM populated in the hole (the pool) stays ram_rw (p2m.h: why). */
	const struct guest_ram_region *pool = &c->p->ram->pool;
	uint64_t pa = pool->gpa >> GUEST_PAGE_SHIFT, pb = (pool->gpa + pool->size) >> GUEST_PAGE_SHIFT;
	if (to != IOREQVM_MEM_RAM_RW && from != IOREQVM_MEM_MMIO_DM && s < pb && e > pa) {
		snprintf(c->err, c->errlen, "pfn 0x%" PRIx64 " is RAM populated in the PCI hole: it "
			 "stays ram_rw (X4)", s > pa ? s : pa);
		return -EINVAL;
	}
	if (ioreqvm_mem_type_is_ioreq(to)) {
		if (from != IOREQVM_MEM_RAM_RW)
			why = "only ram_rw pages can become an ioreq_server type (S1)";
	} else if (ioreqvm_mem_type_is_ioreq(from)) {
		if (to != IOREQVM_MEM_RAM_RW)
			why = "ioreq_server pages can only become ram_rw (S1)";
	} else if (to == IOREQVM_MEM_MMIO_DM) {
		/* Hole pages are mmio_dm and RAM pages never are: type tells which. */
		if (from != IOREQVM_MEM_MMIO_DM)
			why = "RAM cannot become mmio_dm (S3)";
	} else if (from == IOREQVM_MEM_MMIO_DM) {
		why = "a page without RAM cannot become a RAM type (S3)";
	}
	if (!why)
		return 0;
	snprintf(c->err, c->errlen, "pfn 0x%" PRIx64 " is %s: %s", s, p2m_type_name(from), why);
	return -EINVAL;
}

/*
 * Runs of each ioreq_server type once [a, b) is @to: only runs in the
 * window [a - 1, b + 1) change, and there only three remain (the run
 * before a, the new one, the run from b), merged where equal to @to.
 */
static void runs_after(const struct p2m *p, const struct check_ctx *c, uint64_t *after)
{
	const struct run_node *root = runmap_root(&p->types);
	for (unsigned i = 0; i < NR_IOREQ; i++)
		after[i] = p->ioreq_runs[i] - c->before[i];
	if (ioreqvm_mem_type_is_ioreq(c->to))
		after[IOREQ_INDEX(c->to)]++;
	uint32_t left = c->a ? runmap_lookup(root, c->a - 1)->value : c->to;
	uint32_t right = c->b < p->nr_pages ? runmap_lookup(root, c->b)->value : c->to;
	if (left != c->to && ioreqvm_mem_type_is_ioreq(left))
		after[IOREQ_INDEX(left)]++;
	if (right != c->to && ioreqvm_mem_type_is_ioreq(right))
		after[IOREQ_INDEX(right)]++;
}

int p2m_set_mem_type(struct p2m *p, uint32_t type, uint64_t first, uint64_t nr,
		     uint32_t owned_types, char *err, size_t errlen)
{
	if (type >= IOREQVM_MEM_NR_TYPES) {
		snprintf(err, errlen, "unknown memory type %" PRIu32 " (S4)", type);
		return -EINVAL;
	}
	if (type == IOREQVM_MEM_UNUSED) {
		snprintf(err, errlen, "no page can be set to type unused (M4)");
		return -EINVAL;
	}
	if (nr == 0) {
		snprintf(err, errlen, "empty range: nr is 0 (S4)");
		return -EINVAL;
	}
	if (first + nr < first || first >= p->nr_pages || nr > p->nr_pages - first) {
		snprintf(err, errlen, "pfn range 0x%" PRIx64 "+0x%" PRIx64
			 " is outside guest-physical space [0, 0x%" PRIx64 ") (S4)",
			 first, nr, p->nr_pages);
		return -EINVAL;
	}

	pthread_mutex_lock(&p->lock);
	int rc = 0;
	if (ioreqvm_mem_type_is_ioreq(type)) {
		const struct p2m_claim *claim = &p->claims[IOREQ_INDEX(type)];
		if (!claim->flags) {
			snprintf(err, errlen, "type %s is not claimed by any IOREQ server (S2)",
				 p2m_type_name(type));
			rc = -EINVAL;
			goto out;
		}
		if (!(owned_types & (1u << type))) {
			snprintf(err, errlen, "type %s is claimed by server %u of another connection: "
				 "only its owner sets pages to it (R5)", p2m_type_name(type),
				 claim->server);
			rc = -EPERM;
			goto out;
		}
	}
	struct check_ctx cc = { .p = p, .to = type, .owned = owned_types, .a = first,
				.b = first + nr, .err = err, .errlen = errlen };
	uint64_t wa = first ? first - 1 : 0, wb = cc.b < p->nr_pages ? cc.b + 1 : cc.b;
	rc = runmap_foreach(runmap_root(&p->types), wa, wb, check_run, &cc);
	if (rc)
		goto out;
	uint64_t after[NR_IOREQ];
	runs_after(p, &cc, after);

	struct mapcomp_plan plan;
	rc = mapcomp_plan(&p->maps, first, first + nr, p2m_type_access(p, type), &plan);
	if (!rc)
		rc = p2m_check_budget(p, plan.used_after, p2m_armed_runs(after, p->claims), err, errlen);
	else if (rc == -ENOSPC)
		snprintf(err, errlen, "the change needs %u mappings, above the backend's limit of %u "
			 "(K4)", plan.used_after, p->maps.target.limit);
	else
		snprintf(err, errlen, "planning mappings: %s", strerror(-rc));
	if (rc) {
		mapcomp_plan_free(&plan);
		goto out;
	}

	p->pauser.pause(p->pauser.ctx);
	rc = runmap_assign(&p->types, first, first + nr, (uint8_t)type);
	if (rc >= 0) {
		memcpy(p->ioreq_runs, after, sizeof(after));
		rc = mapcomp_apply(&p->maps, &plan);
		if (rc) {
			snprintf(err, errlen, "backend mapping change failed: %s", strerror(-rc));
			rc = -EIO;
		}
		p->nr_set_calls++;
	} else {
		snprintf(err, errlen, "out of memory");
	}
	p->pauser.resume(p->pauser.ctx);
	mapcomp_plan_free(&plan);
	/* Readers that may still hold old nodes leave their read sections first. */
	urcu_bp_synchronize_rcu();
	runmap_free_retired(&p->types);
	p2m_publish_stats(p);
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int p2m_get_mem_type(struct p2m *p, uint64_t pfn, uint32_t *type)
{
	if (pfn >= p->nr_pages)
		return -EINVAL;
	*type = p2m_lookup(p, pfn << GUEST_PAGE_SHIFT);
	return 0;
}

struct p2m_claim p2m_get_claim(struct p2m *p, uint32_t type)
{
	struct p2m_claim c = { 0 };
	if (ioreqvm_mem_type_is_ioreq(type)) {
		pthread_mutex_lock(&p->lock);
		c = p->claims[IOREQ_INDEX(type)];
		pthread_mutex_unlock(&p->lock);
	}
	return c;
}

/* Runs of one type, as ranges to be given @access (or only counted, v NULL). */
struct run_list {
	uint32_t type;
	enum mem_access access;
	struct mapcomp_range *v;
	size_t n, cap;
	uint64_t pages;
};

static int collect_type(void *ctx, uint64_t a, uint64_t b, uint8_t v)
{
	struct run_list *l = ctx;
	if (v != l->type)
		return 0;
	l->pages += b - a;
	if (!l->v) /* counting only */
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap * 2;
		void *nv = realloc(l->v, cap * sizeof(*l->v));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = (struct mapcomp_range){ .a = a, .b = b, .access = l->access };
	return 0;
}

uint64_t p2m_count_type(struct p2m *p, uint32_t type)
{
	struct run_list l = { .type = type };
	pthread_mutex_lock(&p->lock);
	runmap_foreach(runmap_root(&p->types), 0, p->nr_pages, collect_type, &l);
	pthread_mutex_unlock(&p->lock);
	return l.pages;
}

static enum mem_access claim_access(const struct p2m_claim *c)
{
	if (!c->flags || !c->enabled)
		return MEM_ACCESS_RW;
	return (c->flags & IOREQVM_MEM_ACCESS_READ) ? MEM_ACCESS_NONE : MEM_ACCESS_RO;
}

static void store_claim(struct p2m_claim *dst, const struct p2m_claim *c)
{
	__atomic_store_n(&dst->server, c->server, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->enabled, c->enabled, __ATOMIC_RELEASE);
	__atomic_store_n(&dst->flags, c->flags, __ATOMIC_RELEASE);
}

/*
 * Caller holds the lock. One plan for every run of the type, made before the
 * pause; the pause holds only the claim's store and the backend calls; the
 * access map and (on a release) the type map are brought up to date after
 * the resume: a released type's pages behave as ram_rw from the moment its
 * claim is cleared (M5), and the access map is read by planners only, under
 * the lock. A change that only turns the type's pages RW (a release or a
 * disable) is within the release budget and never refused for want of
 * mappings.
 */
static int set_claim_locked(struct p2m *p, uint32_t type, const struct p2m_claim *c, char *err,
			    size_t errlen)
{
	unsigned ti = IOREQ_INDEX(type);
	struct p2m_claim *slot = &p->claims[ti];
	struct p2m_claim old = *slot;
	bool release = !c->flags;
	enum mem_access from = claim_access(&old), to = release ? MEM_ACCESS_RW : claim_access(c);
	bool frees = to == MEM_ACCESS_RW;
	struct run_list l = { .type = type, .access = to };
	struct mapcomp_plan plan = { 0 };
	int rc = 0;
	if (from != to || release) {
		l.cap = p->ioreq_runs[ti] ? p->ioreq_runs[ti] : 16;
		l.v = malloc(l.cap * sizeof(*l.v));
		rc = l.v ? runmap_foreach(runmap_root(&p->types), 0, p->nr_pages, collect_type, &l)
			 : -ENOMEM;
	}
	if (!rc)
		rc = mapcomp_plan_ranges(&p->maps, l.v, from != to ? l.n : 0, &plan);
	bool apply = true;
	if (rc == -ENOSPC && frees) {
		/* The budget rules this out; if it happens anyway, release all the
		 * same: the pages keep their mappings, and their exits are served
		 * from the P2M (M7), as plain RAM. */
		log_err("p2m: BUG: turning %s RW needs %u mappings, above the limit of %u despite "
			"the release budget; its pages stay trapped", p2m_type_name(type),
			plan.used_after, p->maps.target.limit);
		apply = false;
		rc = 0;
	}
	if (!rc && !frees) {
		struct p2m_claim next[NR_IOREQ];
		memcpy(next, p->claims, sizeof(next));
		next[ti] = *c;
		rc = p2m_check_budget(p, plan.used_after, p2m_armed_runs(p->ioreq_runs, next), err,
				      errlen);
	} else if (rc == -ENOSPC) {
		snprintf(err, errlen, "the claim needs %u mappings, above the backend's limit of %u "
			 "(K4)", plan.used_after, p->maps.target.limit);
	} else if (rc) {
		snprintf(err, errlen, "out of memory");
	}
	if (rc) {
		mapcomp_plan_free(&plan);
		free(l.v);
		return rc;
	}

	p->pauser.pause(p->pauser.ctx);
	store_claim(slot, c); /* trapped accesses see it from now on */
	if (apply)
		rc = mapcomp_apply_calls(&p->maps, &plan);
	if (rc && !frees)
		store_claim(slot, &old);
	p->pauser.resume(p->pauser.ctx);

	if (apply && !rc)
		rc = mapcomp_record(&p->maps, &plan);
	if (rc && frees) {
		log_err("p2m: BUG: mapping change failed turning %s RW (%s); the claim goes all "
			"the same, its pages' exits are served from the P2M", p2m_type_name(type),
			strerror(-rc));
		rc = 0;
	} else if (rc) {
		snprintf(err, errlen, "backend mapping change failed: %s", strerror(-rc));
		rc = -EIO;
	}
	if (release) {
		/* C4: what is left of the type is plain RAM again. */
		size_t kept = 0;
		for (size_t i = 0; i < l.n; i++)
			if (runmap_assign(&p->types, l.v[i].a, l.v[i].b, IOREQVM_MEM_RAM_RW) < 0)
				kept++;
		if (kept)
			log_err("p2m: out of memory releasing %s: %zu runs keep the type, unclaimed "
				"(plain RAM, M5)", p2m_type_name(type), kept);
		p->ioreq_runs[ti] = kept;
	}
	mapcomp_plan_free(&plan);
	free(l.v);
	urcu_bp_synchronize_rcu();
	runmap_free_retired(&p->types);
	p2m_publish_stats(p);
	return rc;
}

int p2m_set_claim(struct p2m *p, uint32_t type, const struct p2m_claim *claim, char *err,
		  size_t errlen)
{
	if (!ioreqvm_mem_type_is_ioreq(type) ||
	    (claim->flags & ~(IOREQVM_MEM_ACCESS_READ | IOREQVM_MEM_ACCESS_WRITE))) {
		snprintf(err, errlen, "bad claim of type %u flags 0x%x", type, claim->flags);
		return -EINVAL;
	}
	pthread_mutex_lock(&p->lock);
	int rc = set_claim_locked(p, type, claim, err, errlen);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int p2m_set_server_enabled(struct p2m *p, uint32_t server, bool enabled)
{
	char err[128];
	int rc = 0;
	pthread_mutex_lock(&p->lock);
	for (uint32_t t = IOREQVM_MEM_IOREQ_SERVER; t <= IOREQVM_MEM_IOREQ_SERVER7 && !rc; t++) {
		struct p2m_claim c = p->claims[IOREQ_INDEX(t)];
		if (!c.flags || c.server != server || c.enabled == enabled)
			continue;
		c.enabled = enabled;
		rc = set_claim_locked(p, t, &c, err, sizeof(err));
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void p2m_release_server(struct p2m *p, uint32_t server)
{
	char err[128];
	pthread_mutex_lock(&p->lock);
	for (uint32_t t = IOREQVM_MEM_IOREQ_SERVER; t <= IOREQVM_MEM_IOREQ_SERVER7; t++) {
		struct p2m_claim c = p->claims[IOREQ_INDEX(t)];
		if (!c.flags || c.server != server)
			continue;
		struct p2m_claim none = { 0 };
		int rc = set_claim_locked(p, t, &none, err, sizeof(err));
		if (rc) /* only -ENOMEM before anything changed: the budget covers mappings */
			log_err("p2m: releasing %s of server %u failed: %s; the claim stays",
				p2m_type_name(t), server, err);
	}
	pthread_mutex_unlock(&p->lock);
}

void p2m_get_stats(struct p2m *p, struct p2m_stats *st)
{
	pthread_mutex_lock(&p->stats_lock);
	*st = p->stats;
	pthread_mutex_unlock(&p->stats_lock);
}
