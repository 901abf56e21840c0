/* SPDX-License-Identifier: MIT */
/*
 * The P2M (DESIGN section 2): the one source of truth for the type of every
 * 4 KiB guest frame (M7), kept as runs in a run map published by RCU, so a
 * vCPU exit reads it without waiting behind a type change. Type changes
 * check the S rules on the whole range first and then apply, all or
 * nothing, together with the mapping changes they imply (K2-K4).
 * Claims (section 3) live here as a table per ioreq_server type; the claim
 * operations themselves belong to the IOREQ-server layer.
 *
 * The release budget (C4, I5, K4). Releasing a claim, destroying its owner
 * and disabling the owner must never fail, yet each turns the type's pages
 * RW, which can need more mappings (a RO run inside a RO mapping splits it
 * in three: 2 more). So every operation that can add mappings or claimed
 * runs keeps
 *     mappings in use + 2 x (armed runs) <= the backend's limit,
 * where an armed run is a run of the type map whose type is an
 * ioreq_server type (4..11) claimed by an enabled owner (mapped RO or NONE;
 * a disabled owner's runs are RW already and need no room). set_mem_type,
 * a claim or flag change and enabling an owner refuse with -ENOSPC and
 * change nothing when the result would break it. A release or a disable
 * turns armed runs RW, at most 2 mappings each, and disarms them, so the
 * sum never grows: any release or disable, in any order, fits. Runs are
 * counted per type incrementally, from the window of each change.
 */
#ifndef IOREQVM_P2M_H
#define IOREQVM_P2M_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu/urcu-bp.h>

#include "ioreqvm/ctl_proto.h"
#include "ioreqvm/memtype.h"
#include "mem/guest_ram.h"
#include "p2m/mapcomp.h"
#include "p2m/runmap.h"

/* The legacy VGA window: not RAM to the guest (mmio_dm), as on a PC. */
#define P2M_VGA_START 0xA0000ULL
#define P2M_VGA_END 0xC0000ULL

struct p2m_claim {
	uint32_t server; /* owner's id */
	uint32_t flags;  /* IOREQVM_MEM_ACCESS_*; 0: unclaimed */
	bool enabled;    /* owner enabled (I4): claims forward only then (C5) */
};

/* How the P2M stops vCPUs around mapping changes (K3); the VM provides it. */
struct p2m_pauser {
	void *ctx;
	void (*pause)(void *ctx);
	void (*resume)(void *ctx);
};

struct p2m_stats {
	uint64_t nr_set_calls;  /* set_mem_type calls that changed something */
	uint64_t nr_map_calls;  /* backend map calls, ever */
	uint64_t nr_unmap_calls;
	uint64_t nr_runs;       /* type runs now */
	uint64_t bytes;         /* memory held by the type map */
	uint64_t nr_ioreq_runs; /* runs of ioreq_server types (4..11) */
	uint64_t nr_armed_runs; /* of those, claimed by an enabled owner (the budget) */
	unsigned mappings_used, mappings_limit;
	uint64_t ram_pages, max_ram_pages; /* X4: frames with RAM, the most populate reaches */
	uint64_t physmap_gen;              /* changes with every populate and decrease */
};

/* X4: frames populate may add beyond the boot RAM (R4), ctl_proto.h's number. */
#define P2M_POPULATE_MAX_PAGES IOREQVM_POPULATE_MAX_PAGES

/* owned_types of the VMM itself (tests, benchmarks): it acts on every claim. */
#define P2M_OWNER_VMM UINT32_MAX

/* Index of an ioreq_server type (4..11) in the claims table. */
#define P2M_IOREQ_INDEX(t) ((t) - IOREQVM_MEM_IOREQ_SERVER)

struct p2m {
	pthread_mutex_t lock; /* writers */
	struct runmap types;  /* value: enum ioreqvm_mem_type */
	struct mapcomp maps;
	const struct guest_ram *ram;
	uint64_t nr_pages; /* guest-physical space: RAM, the PCI hole, 4 GiB at least */
	struct p2m_claim claims[IOREQVM_MEM_NR_IOREQ_TYPES];
	uint64_t ioreq_runs[IOREQVM_MEM_NR_IOREQ_TYPES]; /* runs of each type (the budget) */
	struct p2m_pauser pauser;
	uint64_t nr_set_calls;
	uint64_t ram_pages, max_ram_pages; /* X4 (under the lock) */
	uint64_t physmap_gen;
	/* What p2m_get_stats answers: written at the end of every change, so a
	 * reader never waits behind one (the lock is never held across it). */
	pthread_mutex_t stats_lock;
	struct p2m_stats stats;
};

/* RAM pages ram_rw, the rest (and the VGA window) mmio_dm; maps the RAM. 0 or -errno. */
int p2m_init(struct p2m *p, const struct guest_ram *ram, const struct map_target *target,
	     const struct p2m_pauser *pauser);
void p2m_destroy(struct p2m *p);

/*
 * set_mem_type(type, first_pfn, nr) with S1-S5, for a caller that owns the
 * claims of the ioreq_server types whose bits are set in @owned_types (bit
 * t for type t; P2M_OWNER_VMM for all). R5: pages of a claimed type change
 * type, and pages are set to a claimed type, only by the claim's owner.
 * 0, or -EINVAL (rule broken: message in err), -EPERM (another owner's
 * claim: the message names its server), -ENOSPC (mapping limit or release
 * budget, nothing changed), -ENOMEM, -EIO (backend failed mid-change:
 * internal error).
 */
int p2m_set_mem_type(struct p2m *p, uint32_t type, uint64_t first_pfn, uint64_t nr,
		     uint32_t owned_types, char *err, size_t errlen);

/* S5: the type of @pfn. 0 or -EINVAL (outside guest-physical space). */
int p2m_get_mem_type(struct p2m *p, uint64_t pfn, uint32_t *type);

/*
 * Type of the frame holding @gpa, for exits: one RCU-protected walk of the
 * run map, never waiting behind a change (M7). Inline: the exit path's one
 * lookup per trapped access.
 */
static inline uint32_t p2m_lookup(struct p2m *p, uint64_t gpa)
{
	uint32_t t = IOREQVM_MEM_MMIO_DM;
	urcu_bp_read_lock();
	const struct run_node *n = runmap_lookup(runmap_root(&p->types), gpa >> GUEST_PAGE_SHIFT);
	if (n)
		t = n->value;
	urcu_bp_read_unlock();
	return t;
}

/* Effective access of a type under the current claims (K2). */
enum mem_access p2m_type_access(const struct p2m *p, uint32_t type);

/* Current claim of an ioreq_server type (a copy; flags 0 if unclaimed). */
struct p2m_claim p2m_get_claim(struct p2m *p, uint32_t type);
/* The same without the lock, for exits: never waits behind a change. */
static inline struct p2m_claim p2m_claim_peek(const struct p2m *p, uint32_t type)
{
	struct p2m_claim c = { 0 };
	if (!ioreqvm_mem_type_is_ioreq(type))
		return c;
	const struct p2m_claim *s = &p->claims[P2M_IOREQ_INDEX(type)];
	c.flags = __atomic_load_n(&s->flags, __ATOMIC_ACQUIRE);
	c.enabled = __atomic_load_n(&s->enabled, __ATOMIC_ACQUIRE);
	c.server = __atomic_load_n(&s->server, __ATOMIC_RELAXED);
	return c;
}

/*
 * Set the claim of ioreq_server @type (DESIGN C4, C5, K2): claim->flags 0
 * releases it, and every page still of that type becomes ram_rw. Pages of
 * the type get their new access before this returns, with the vCPUs paused
 * around the change (one plan for all its runs, made before the pause), so
 * a claim holds for every access that starts after it. A claim, flag
 * change or enable is all or nothing: -ENOSPC (mappings or the release
 * budget would not fit) changes nothing. A release or disable cannot run
 * out of mappings (the budget); it fails only with -ENOMEM before anything
 * changed. The C1-C3 checks belong to the caller. 0 or -errno, message in err.
 */
int p2m_set_claim(struct p2m *p, uint32_t type, const struct p2m_claim *claim, char *err,
		  size_t errlen);
/*
 * The claims of @server follow its enabled state (C5: disabled = ram_rw).
 * Disabling never runs out of mappings; enabling may (-ENOSPC).
 */
int p2m_set_server_enabled(struct p2m *p, uint32_t server, bool enabled);
/*
 * Release every claim of @server (C4), e.g. when it is destroyed. Cannot
 * fail for want of mappings (the budget); a backend or memory failure,
 * which would be a bug or a host in trouble, is logged loudly.
 */
void p2m_release_server(struct p2m *p, uint32_t server);
/* Pages of @type now (O(runs)). */
uint64_t p2m_count_type(struct p2m *p, uint32_t type);

/* A range of guest frames [first, first + nr). */
struct p2m_range {
	uint64_t first, nr;
};

/*
 * X4, populate_physmap: RAM at @n ranges (sorted, disjoint, non-empty,
 * inside guest-physical space), all or nothing. Every frame must be a hole
 * (mmio_dm) the memfd can back (guest_ram_backing: the boot RAM's frames,
 * or the pool below the I/O APIC): else -EINVAL, or -EEXIST for a frame
 * that has RAM. Past max_ram_pages: -ENOSPC; past the backend's mappings
 * (with the release budget, p2m.h's top): -ENOSPC. The frames' memory is
 * released first (fresh, zeroed pages), then they become ram_rw, mapped,
 * with the vCPUs paused around it (K3). 0 or -errno, message in err;
 * -ENOMEM and -EIO as p2m_set_mem_type. Frames populated in the pool (the
 * hole above low RAM) stay ram_rw: set_mem_type refuses them another type
 * (EINVAL), since the VMM's own accesses to guest memory (guest_ram_ptr:
 * the software CPU's page walks and stepped writes) reach the boot RAM's
 * regions only; boot RAM given back and populated again may change type.
 */
int p2m_populate(struct p2m *p, const struct p2m_range *r, size_t n, char *err, size_t errlen);
/*
 * X4, decrease_reservation: the frames of @n ranges (as above) stop being
 * RAM, all or nothing. Every frame must be ram_rw or ram_ro (-EINVAL
 * otherwise: a hole, or an ioreq_server type). They become holes
 * (mmio_dm), unmapped with the vCPUs paused, and their memory is released.
 * 0 or -errno, message in err.
 */
int p2m_decrease(struct p2m *p, const struct p2m_range *r, size_t n, char *err, size_t errlen);

/* Where RAM frames are in the memfd: [first, first + nr) at memfd offset @offset. */
struct p2m_ram_run {
	uint64_t first, nr, offset;
};
/*
 * The runs of frames with RAM (any type but mmio_dm) from @first on, each
 * as long as its pages follow each other in the memfd: up to @max into
 * @out; *next is where the next ask starts (nr_pages when all were given),
 * *gen the physmap generation they belong to. Returns the count.
 */
size_t p2m_ram_runs(struct p2m *p, uint64_t first, struct p2m_ram_run *out, size_t max,
		    uint64_t *next, uint64_t *gen);

/* Counters as of the last finished change; never waits behind a change. */
void p2m_get_stats(struct p2m *p, struct p2m_stats *st);

const char *p2m_type_name(uint32_t type);

#endif
