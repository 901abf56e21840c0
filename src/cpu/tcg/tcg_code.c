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
 *
 * Code one vCPU writes and another already translated (Linux patches its
 * own text on SMP: jump labels, static calls, alternatives): each engine
 * sees only its own stores (K8). With more than one vCPU, every page code
 * is translated from is write-protected in the host mapping of guest RAM
 * that the engines run on; the first store to it from anywhere in the
 * process (an engine's JIT code, the VMM) faults, the SIGSEGV handler here
 * makes the page writable again and marks it written, and the store is
 * retried by the CPU. Marked pages are published before the writer's turn
 * passes to another vCPU (tcg_code_publish, from tcg_turn_give: only one
 * vCPU executes at a time, K7), so every other engine drops that code
 * before it runs again. The page is protected again when code is next
 * translated from it. Measured in a bare engine: a JIT store to a
 * protected page faults, the handler returns, the store lands, the run
 * goes on (bench/design_measurements.md). Device models write through
 * mappings of their own and say so (modified_memory), as before. Nothing
 * in the VMM may hand such memory to a system call that writes it (read(2)
 * into guest RAM would get EFAULT): the loaders write RAM before any code
 * is translated.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"
#include "cpu/tcg/tcg_vm.h"

/* Past this many pages with code, one drop flushes the engine's whole cache. */
#define TCG_DROP_PAGES_MAX 64

#define PAGE_MASK_LO (GUEST_PAGE_SIZE - 1)
#define BITS 64

/* ---- write protection of code pages in the host mapping (several vCPUs) ---- */

#define MAX_VMS 8
static struct {
	_Atomic(struct tcg_vm *) t;
	uint8_t *lo, *hi;
} vms[MAX_VMS];
static struct sigaction old_segv;
static pthread_mutex_t vms_lock = PTHREAD_MUTEX_INITIALIZER;
static bool handler_installed;

static void bit_set(_Atomic uint64_t *map, uint64_t i)
{
	atomic_fetch_or(&map[i / BITS], 1ULL << (i % BITS));
}

static bool bit_test(_Atomic uint64_t *map, uint64_t i)
{
	return (atomic_load(&map[i / BITS]) >> (i % BITS)) & 1;
}

static void chain_segv(int sig, siginfo_t *si, void *uctx)
{
	if (old_segv.sa_flags & SA_SIGINFO) {
		old_segv.sa_sigaction(sig, si, uctx);
	} else if (old_segv.sa_handler == SIG_DFL || old_segv.sa_handler == SIG_IGN) {
		signal(sig, SIG_DFL); /* the access faults again and kills, as without us */
	} else {
		old_segv.sa_handler(sig);
	}
}

/* Async-signal-safe: atomics and mprotect only. */
static void on_segv(int sig, siginfo_t *si, void *uctx)
{
	uint8_t *a = si->si_addr;
	for (unsigned i = 0; i < MAX_VMS; i++) {
		struct tcg_vm *t = atomic_load(&vms[i].t);
		if (!t || a < vms[i].lo || a >= vms[i].hi)
			continue;
		uint64_t pg = (uint64_t)(a - vms[i].lo) / GUEST_PAGE_SIZE;
		/* Whoever protected it, RAM is writable: the store is retried. */
		atomic_fetch_and(&t->code_prot[pg / BITS], ~(1ULL << (pg % BITS)));
		mprotect(vms[i].lo + pg * GUEST_PAGE_SIZE, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE);
		bit_set(t->code_written, pg);
		atomic_store(&t->code_any_written, true);
		return;
	}
	chain_segv(sig, si, uctx);
}

static int watch_writes(struct tcg_vm *t)
{
	struct guest_ram *ram = &t->vm->ram;
	uint64_t map_end = ram->size; /* the host mapping is the whole memfd */
	size_t words = (map_end / GUEST_PAGE_SIZE + BITS - 1) / BITS;
	t->code_prot = calloc(words, sizeof(*t->code_prot));
	t->code_written = calloc(words, sizeof(*t->code_written));
	t->code_words = words;
	if (!t->code_prot || !t->code_written)
		return -ENOMEM;
	int rc = -ENOSPC;
	pthread_mutex_lock(&vms_lock);
	if (!handler_installed) {
		struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER };
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, &old_segv)) {
			pthread_mutex_unlock(&vms_lock);
			return -errno;
		}
		handler_installed = true;
	}
	for (unsigned i = 0; i < MAX_VMS; i++) {
		if (atomic_load(&vms[i].t))
			continue;
		vms[i].lo = ram->host;
		vms[i].hi = ram->host + map_end;
		atomic_store(&vms[i].t, t);
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&vms_lock);
	return rc;
}

static void unwatch_writes(struct tcg_vm *t)
{
	pthread_mutex_lock(&vms_lock);
	for (unsigned i = 0; i < MAX_VMS; i++)
		if (atomic_load(&vms[i].t) == t)
			atomic_store(&vms[i].t, NULL);
	pthread_mutex_unlock(&vms_lock);
	if (t->code_prot)
		for (uint64_t w = 0; w < t->code_words; w++)
			for (uint64_t m = atomic_load(&t->code_prot[w]); m; m &= m - 1) {
				uint64_t pg = w * BITS + (uint64_t)__builtin_ctzll(m);
				mprotect(t->vm->ram.host + pg * GUEST_PAGE_SIZE, GUEST_PAGE_SIZE,
					 PROT_READ | PROT_WRITE);
			}
	free((void *)t->code_prot);
	free((void *)t->code_written);
	t->code_prot = t->code_written = NULL;
}

/* Code is translated from guest-physical page @pa: writes to it must be seen. */
static void protect(struct tcg_vm *t, uint64_t pa)
{
	uint8_t *h = guest_ram_ptr(&t->vm->ram, pa & ~PAGE_MASK_LO, GUEST_PAGE_SIZE);
	if (!h)
		return;
	uint64_t pg = (uint64_t)(h - t->vm->ram.host) / GUEST_PAGE_SIZE;
	if (bit_test(t->code_prot, pg))
		return;
	bit_set(t->code_prot, pg);
	mprotect(h, GUEST_PAGE_SIZE, PROT_READ);
}

/* Guest-physical address of memfd page @pg (RAM regions are few). */
static bool page_gpa(const struct guest_ram *ram, uint64_t pg, uint64_t *gpa)
{
	uint64_t off = pg * GUEST_PAGE_SIZE;
	for (unsigned i = 0; i < ram->nr_regions; i++)
		if (off >= ram->region[i].offset && off < ram->region[i].offset + ram->region[i].size) {
			*gpa = ram->region[i].gpa + (off - ram->region[i].offset);
			return true;
		}
	return false;
}

void tcg_code_publish(struct tcg_vm *t)
{
	if (!t->code_written || !atomic_exchange(&t->code_any_written, false))
		return;
	for (uint64_t w = 0; w < t->code_words; w++) {
		if (!atomic_load(&t->code_written[w]))
			continue;
		for (uint64_t m = atomic_exchange(&t->code_written[w], 0); m; m &= m - 1) {
			uint64_t gpa, pg = w * BITS + (uint64_t)__builtin_ctzll(m);
			if (page_gpa(&t->vm->ram, pg, &gpa))
				tcg_vm_code_changed(t, NULL, gpa, GUEST_PAGE_SIZE);
		}
	}
}

int tcg_code_init(struct tcg_vm *t)
{
	t->code_pages_nr = (t->space_end + GUEST_PAGE_SIZE - 1) / GUEST_PAGE_SIZE;
	t->code_pages = calloc((t->code_pages_nr + BITS - 1) / BITS, sizeof(*t->code_pages));
	if (!t->code_pages)
		return -ENOMEM;
	return t->vm->cfg.nr_vcpus > 1 ? watch_writes(t) : 0;
}

void tcg_code_free(struct tcg_vm *t)
{
	if (t->vm->cfg.nr_vcpus > 1)
		unwatch_writes(t);
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
			if (t->code_prot)
				protect(t, pa);
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
