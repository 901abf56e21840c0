/* SPDX-License-Identifier: MIT */
/*
 * tcg backend, VM half: probing, the VM's wanted mappings (K2, K4) and
 * interrupt lines into the user-space platform devices (K5), and the
 * frames track_dirty_vram logs (dirty_log): RW there is mapped RO, so every
 * guest store to them traps and the exit path, serving it into RAM, notes
 * the frame (core/dirty_vram.c). map/unmap only
 * record the wanted state and bump a generation; every vCPU brings its own
 * engine in step on its own thread before it runs guest code again, since
 * an engine must never be touched while it runs (K3). Code changed behind
 * the engines' backs is tcg_code.c's (K8). The vCPU
 * half is tcg_vcpu.c; both fill tcg_backend_ops at the end of that file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"
#include "cpu/tcg/tcg_vm.h"

static unsigned region_cuts(const struct tcg_vm *t);

int tcg_probe(const char *device, char *err, size_t errlen)
{
	unsigned major, minor;
	uc_version(&major, &minor);
	if (!uc_arch_supported(UC_ARCH_X86)) {
		snprintf(err, errlen, "libunicorn %u.%u has no x86 support", major, minor);
		return -ENOTSUP;
	}
	return 0;
}

void tcg_describe(char *buf, size_t len)
{
	unsigned v = uc_version(NULL, NULL);
	int major, minor;
	cs_version(&major, &minor);
	snprintf(buf, len, "libunicorn %u.%u.%u, capstone %d.%d", v >> 24, (v >> 16) & 0xff,
		 (v >> 8) & 0xff, major, minor);
}

int tcg_vm_create(struct vm *vm, char *err, size_t errlen)
{
	struct tcg_vm *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	vm->be = t;
	t->vm = vm;
	pthread_mutex_init(&t->lock, NULL);
	tcg_turns_init(&t->turns, vm->cfg.nr_vcpus);
	t->space_end = guest_ram_end(&vm->ram);
	if (t->space_end < GUEST_PCI_HOLE_END)
		t->space_end = GUEST_PCI_HOLE_END;
	t->chunk = TCG_MIN_CHUNK;
	while (vm->ram.size / t->chunk > TCG_MAX_CHUNKS)
		t->chunk <<= 1;
	if (tcg_code_init(t)) {
		snprintf(err, errlen, "tcg: no memory for the code-page bitmap");
		return -ENOMEM;
	}
	t->nr_ram = vm->ram.nr_regions;
	memcpy(t->ram, vm->ram.region, sizeof(t->ram));
	rangeset_init(&t->maps, (TCG_REGION_CAP - TCG_REGIONS_RESERVED - region_cuts(t) - 1) / 2,
		      0);
	int rc = tcg_exception_state_init();
	if (rc) {
		snprintf(err, errlen, "libunicorn: cannot locate the CPU's exception state "
			 "(not libunicorn 2.0.1?)");
		return rc;
	}
	/* K10: found now, in a scratch engine, before the vCPUs' engines exist. */
	(void)tcg_raise_cpl_direct_ok();
	rc = tcg_cpuid_init();
	if (rc) {
		snprintf(err, errlen, "libunicorn: CPUID leaf 1 could not be read");
		return rc;
	}
	rc = irqchip_init(&t->irqchip, vm);
	if (rc)
		snprintf(err, errlen, "tcg platform devices: %s", strerror(-rc));
	return rc;
}

void tcg_vm_destroy(struct vm *vm)
{
	struct tcg_vm *t = vm->be;
	if (!t)
		return;
	irqchip_destroy(&t->irqchip);
	tcg_turns_destroy(&t->turns);
	pthread_mutex_destroy(&t->lock);
	rangeset_free(&t->maps);
	tcg_code_free(t);
	free(t);
	vm->be = NULL;
}

int tcg_map(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t host_offset,
	    enum mem_access access)
{
	struct tcg_vm *t = vm->be;
	if (access == MEM_ACCESS_NONE)
		return 0; /* the gaps between mappings are MMIO regions */
	if (!size || (gpa | size | host_offset) & (GUEST_PAGE_SIZE - 1) ||
	    host_offset + size > vm->ram.size || host_offset + size < host_offset ||
	    gpa + size > t->space_end || gpa + size < gpa)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	int rc = rangeset_add(&t->maps, gpa, gpa + size - 1,
			      (struct rangeset_val){ .u = host_offset, .tag = access });
	if (!rc)
		atomic_fetch_add(&t->maps_gen, 1);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int tcg_unmap(struct vm *vm, uint64_t gpa)
{
	struct tcg_vm *t = vm->be;
	int rc = -ENOENT;
	pthread_mutex_lock(&t->lock);
	const struct rangeset_range *m = rangeset_find(&t->maps, gpa, 1);
	if (m && m->start == gpa)
		rc = rangeset_remove(&t->maps, m->start, m->last);
	if (!rc)
		atomic_fetch_add(&t->maps_gen, 1);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int tcg_dirty_log(struct vm *vm, uint64_t first, uint64_t nr)
{
	struct tcg_vm *t = vm->be;
	pthread_mutex_lock(&t->lock);
	t->dirty_first = first;
	t->dirty_nr = nr;
	atomic_fetch_add(&t->maps_gen, 1); /* the engines take it before running guest code again */
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void tcg_mapping_count(struct vm *vm, unsigned *used, unsigned *limit)
{
	struct tcg_vm *t = vm->be;
	pthread_mutex_lock(&t->lock);
	*used = (unsigned)rangeset_count(&t->maps);
	pthread_mutex_unlock(&t->lock);
	*limit = (unsigned)t->maps.limit;
}

/*
 * K4: where regions are cut whatever they hold (the cuts tcg_mapping_limit
 * counts): the ends of each RAM region and, inside RAM, multiples of the
 * chunk size. Space outside RAM never changes (no mapping reaches it), so
 * the gaps there are one region each; a NONE run at the edge of RAM stays
 * a region of its own, so a change never unmaps the PCI hole.
 */
static uint64_t next_cut(const struct tcg_vm *t, uint64_t x)
{
	uint64_t cut = UINT64_MAX;
	for (unsigned i = 0; i < t->nr_ram; i++) {
		uint64_t a = t->ram[i].gpa, b = a + t->ram[i].size;
		if (x < a && a < cut)
			cut = a;
		else if (x >= a && x < b) {
			uint64_t c = (x / t->chunk + 1) * t->chunk;
			c = c < b ? c : b;
			cut = c < cut ? c : cut;
		}
	}
	return cut;
}

/* At most how many cuts next_cut makes: each splits at most one region. */
static unsigned region_cuts(const struct tcg_vm *t)
{
	uint64_t cuts = 0;
	for (unsigned i = 0; i < t->nr_ram; i++) /* both ends, the multiples inside */
		cuts += 2 + (t->ram[i].size + t->chunk - 1) / t->chunk;
	return (unsigned)cuts;
}

/* Append [start, end) of @kind, cut where next_cut says. */
static void push_region(const struct tcg_vm *t, struct tcg_region *r, unsigned *n,
			uint64_t start, uint64_t end, enum tcg_region_kind kind, uint64_t off)
{
	while (start < end) {
		uint64_t cut = next_cut(t, start);
		if (cut > end)
			cut = end;
		r[(*n)++] = (struct tcg_region){ .start = start, .end = cut, .kind = kind,
						 .off = off };
		off += cut - start;
		start = cut;
	}
}

/*
 * The regions an engine must hold: every mapping, and an MMIO region over
 * each gap of guest-physical space between them, all cut at chunk
 * boundaries. Caller frees *out.
 */
void tcg_vm_desired_regions(struct tcg_vm *t, struct tcg_region **out, unsigned *nr,
			    uint64_t *gen)
{
	pthread_mutex_lock(&t->lock);
	*gen = atomic_load(&t->maps_gen);
	/*
	 * Every mapping and the gap before it, the last gap, every cut, and
	 * the two ends of the logged range (which come out of
	 * TCG_REGIONS_RESERVED: a RW mapping around either end is cut there).
	 */
	size_t max = 2 * rangeset_count(&t->maps) + 1 + region_cuts(t) + 2;
	uint64_t da = t->dirty_first * GUEST_PAGE_SIZE, db = da + t->dirty_nr * GUEST_PAGE_SIZE;
	struct tcg_region *r = calloc(max, sizeof(*r));
	unsigned n = 0;
	uint64_t at = 0;
	if (r) {
		rangeset_for_each(m, &t->maps) {
			push_region(t, r, &n, at, m->start, TCG_REGION_MMIO, 0);
			uint64_t a = m->start, b = m->last + 1;
			if (m->val.tag == MEM_ACCESS_RO || !t->dirty_nr || db <= a || da >= b) {
				push_region(t, r, &n, a, b, m->val.tag == MEM_ACCESS_RO ?
					    TCG_REGION_RO : TCG_REGION_RW, m->val.u);
			} else { /* RW, RO over the logged frames, RW */
				uint64_t lo = da > a ? da : a, hi = db < b ? db : b;
				push_region(t, r, &n, a, lo, TCG_REGION_RW, m->val.u);
				push_region(t, r, &n, lo, hi, TCG_REGION_RO, m->val.u + (lo - a));
				push_region(t, r, &n, hi, b, TCG_REGION_RW, m->val.u + (hi - a));
			}
			at = m->last + 1;
		}
		push_region(t, r, &n, at, t->space_end, TCG_REGION_MMIO, 0);
	}
	pthread_mutex_unlock(&t->lock);
	*out = r;
	*nr = r ? n : 0;
}

int tcg_irq_line(struct vm *vm, unsigned gsi, bool level)
{
	struct tcg_vm *t = vm->be;
	return irqchip_irq_line(&t->irqchip, gsi, level);
}

int tcg_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct tcg_vm *t = vm->be;
	return irqchip_msi(&t->irqchip, addr, data);
}

