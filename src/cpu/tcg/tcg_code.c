/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: translated code that changed behind the engines' backs (K8).
 * Each engine caches the code it translated and sees only its own guest
 * stores to it; writes by the loader, the exit path, a device model or
 * another engine are dropped here by guest-physical address.
 *
 * Two things libunicorn 2.1 makes this file do:
 * - uc_ctl_remove_cache takes a *virtual* address and finds the code's page
 *   through the guest's current page tables. A page that is not mapped to
 *   itself there is dropped with the engine's TLB switched for a moment to
 *   libunicorn's "virtual" mode (no TLB hook installed: every address maps
 *   to itself), the TLB flushed on both sides of the drop so that neither
 *   mode's entries serve the other.
 * - That costs two TLB flushes, so only pages some engine translated code
 *   from are dropped at all: the new-block hook (tcg_msr.c) notes each
 *   block's physical pages in a bitmap of the VM's pages (set, never
 *   cleared). A write to a data page (the common case: a claimed page
 *   table, a device's buffer) drops nothing. A block translated while
 *   another thread changed code may have set its bit just after that
 *   thread looked: every change bumps a generation first, and a block
 *   noted under a newer generation than its engine last saw is dropped
 *   again at the engine's next block (the bit and the generation are
 *   both sequentially consistent, so one of the two sides sees the other).
 */
#include <errno.h>
#include <stdlib.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"
#include "cpu/tcg/tcg_vm.h"

/* Past this many pages with code, one drop flushes the engine's whole cache. */
#define TCG_DROP_PAGES_MAX 64

#define PAGE_MASK_LO (GUEST_PAGE_SIZE - 1)
#define BITS 64

int tcg_code_init(struct tcg_vm *t)
{
	t->code_pages_nr = (t->space_end + GUEST_PAGE_SIZE - 1) / GUEST_PAGE_SIZE;
	t->code_pages = calloc((t->code_pages_nr + BITS - 1) / BITS, sizeof(*t->code_pages));
	return t->code_pages ? 0 : -ENOMEM;
}

void tcg_code_free(struct tcg_vm *t)
{
	free((void *)t->code_pages);
	t->code_pages = NULL;
}

static bool page_has_code(const struct tcg_vm *t, uint64_t pfn)
{
	return pfn < t->code_pages_nr && (atomic_load(&t->code_pages[pfn / BITS]) >> (pfn % BITS)) & 1;
}

void tcg_code_note(struct tcg_vcpu *c, uint64_t va, uint64_t len)
{
	struct tcg_vm *t = c->t;
	if (!len)
		return;
	uint64_t last = (va + len - 1) & ~PAGE_MASK_LO;
	for (uint64_t v = va & ~PAGE_MASK_LO;; v += GUEST_PAGE_SIZE) {
		uint64_t pa;
		if (tcg_translate(c, v, &pa)) {
			uint64_t pfn = pa / GUEST_PAGE_SIZE;
			if (pfn < t->code_pages_nr && !page_has_code(t, pfn))
				atomic_fetch_or(&t->code_pages[pfn / BITS], 1ULL << (pfn % BITS));
		}
		if (v == last)
			break;
	}
	uint64_t gen = atomic_load(&t->code_gen);
	if (gen != c->code_gen_seen) {
		c->code_gen_seen = gen;
		pthread_mutex_lock(&c->drops.lock);
		if (c->drops.nr < TCG_CODE_RANGES)
			c->drops.r[c->drops.nr++] = (typeof(c->drops.r[0])){ va, va + len, true };
		else
			c->drops.all = true;
		pthread_mutex_unlock(&c->drops.lock);
		atomic_fetch_or(&c->attn, TCG_ATTN_CODE);
	}
}

/* Pages of [start, end) that hold translated code: how many, and the span. */
static unsigned code_span(const struct tcg_vm *t, uint64_t *start, uint64_t *end)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned n = 0;
	for (uint64_t p = *start & ~PAGE_MASK_LO; p < *end; p += GUEST_PAGE_SIZE) {
		if (!page_has_code(t, p / GUEST_PAGE_SIZE))
			continue;
		n++;
		lo = lo < p ? lo : p;
		hi = p + GUEST_PAGE_SIZE;
	}
	if (n) {
		*start = *start > lo ? *start : lo;
		*end = *end < hi ? *end : hi;
	}
	return n;
}

/* Drop one engine's code from physical [start, end) (its own thread, not running). */
static void drop_phys(struct tcg_vcpu *c, uint64_t start, uint64_t end)
{
	struct tcg_vm *t = c->t;
	if (code_span(t, &start, &end) > TCG_DROP_PAGES_MAX) {
		uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));
		return;
	}
	bool virtual_tlb = false;
	for (uint64_t p = start & ~PAGE_MASK_LO; p < end; p += GUEST_PAGE_SIZE) {
		if (!page_has_code(t, p / GUEST_PAGE_SIZE))
			continue;
		uint64_t lo = p > start ? p : start, hi = p + GUEST_PAGE_SIZE < end ? p + GUEST_PAGE_SIZE : end;
		uint64_t pa;
		if (!virtual_tlb && !(tcg_translate(c, lo, &pa) && pa == lo)) {
			uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TLB_TYPE, 1), UC_TLB_VIRTUAL);
			uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TLB_FLUSH, 0));
			virtual_tlb = true;
		}
		/* One page a call: libunicorn finds the first page's block of RAM only. */
		uc_ctl_remove_cache(c->uc, lo, hi);
	}
	if (virtual_tlb) {
		uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TLB_FLUSH, 0));
		uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TLB_TYPE, 1), UC_TLB_CPU);
	}
}

void tcg_code_drop_phys(struct tcg_vcpu *c, uint64_t start, uint64_t end)
{
	drop_phys(c, start, end);
}

/*
 * Queue [start, end) for an engine, merged into a queued range it overlaps
 * or touches: a vCPU writing one word under a claim queues the same range
 * for every other engine on every write, and a full queue means a flush of
 * all translated code (memset of libunicorn's whole code buffer, ms each),
 * which 2 vCPUs under a claim made in a loop: one vCPU did nothing else.
 */
static void queue_drop(struct tcg_code_drops *d, uint64_t start, uint64_t end)
{
	if (d->all)
		return;
	for (unsigned i = 0; i < d->nr; i++) {
		if (!d->r[i].virt && start <= d->r[i].end && d->r[i].start <= end) {
			d->r[i].start = start < d->r[i].start ? start : d->r[i].start;
			d->r[i].end = end > d->r[i].end ? end : d->r[i].end;
			return;
		}
	}
	if (d->nr == TCG_CODE_RANGES)
		d->all = true;
	else
		d->r[d->nr++] = (typeof(d->r[0])){ start, end, false };
}

void tcg_vm_code_changed(struct tcg_vm *t, struct tcg_vcpu *self, uint64_t gpa, uint64_t len)
{
	struct vm *vm = t->vm;
	uint64_t start = gpa, end = gpa + len;
	atomic_fetch_add(&t->code_gen, 1); /* before looking at the bits (tcg_code_note) */
	if (!len || end < start || !code_span(t, &start, &end))
		return; /* no engine translated code from there */
	if (self)
		drop_phys(self, start, end);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct tcg_vcpu *c = vm->vcpus[i].be;
		if (!c || c == self)
			continue;
		struct tcg_code_drops *d = &c->drops;
		pthread_mutex_lock(&d->lock);
		queue_drop(d, start, end);
		pthread_mutex_unlock(&d->lock);
		atomic_fetch_or(&c->attn, TCG_ATTN_CODE); /* seen at its next block or run */
	}
}

void tcg_vcpu_apply_code_drops(struct tcg_vcpu *c)
{
	struct tcg_code_drops *d = &c->drops;
	atomic_fetch_and(&c->attn, ~TCG_ATTN_CODE);
	pthread_mutex_lock(&d->lock);
	if (d->all)
		uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));
	else
		for (unsigned i = 0; i < d->nr; i++)
			if (d->r[i].virt) /* a block of its own, by the address it ran at */
				uc_ctl_remove_cache(c->uc, d->r[i].start, d->r[i].end);
			else
				drop_phys(c, d->r[i].start, d->r[i].end);
	d->nr = 0;
	d->all = false;
	pthread_mutex_unlock(&d->lock);
}

int tcg_code_changed(struct vm *vm, struct vcpu *self, uint64_t gpa, uint64_t len)
{
	tcg_vm_code_changed(vm->be, self ? self->be : NULL, gpa, len);
	return 0;
}
