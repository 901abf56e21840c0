/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: one vCPU's Unicorn engine. Creation (64-bit engine, its
 * hooks, capstone decoders), the K9 boot stub that brings it to the
 * Multiboot 32-bit protected-mode state (or real mode for a SIPI, or the
 * Linux 64-bit entry's long mode), every run of the engine (its "until"
 * address kept in libunicorn's exits list, so that no address is
 * reserved), a step against a scratch copy of a RO page (K11), and keeping
 * its regions equal to
 * the VM's wanted mappings (RW and RO runs mapped from the guest RAM memfd
 * mapping, K1; gaps as MMIO regions; RO runs get the K11 write hooks).
 * Only the vCPU's own thread calls these, while its engine is stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"

extern const uint8_t tcg_stub_start[], tcg_stub_done[], tcg_stub_real_cs[], tcg_stub_end[];
extern const uint8_t tcg_stub_long[], tcg_stub_long_done[];

static int uc_err_to_errno(uc_err e)
{
	switch (e) {
	case UC_ERR_OK:
		return 0;
	case UC_ERR_NOMEM:
		return -ENOMEM;
	case UC_ERR_MAP:
		return -EEXIST;
	case UC_ERR_ARG:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int tcg_engine_create(struct tcg_vcpu *c)
{
	uc_hook h;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &c->uc) != UC_ERR_OK) {
		c->uc = NULL;
		return -ENOMEM;
	}
	/* tcg_run: uc_emu_start's "until" is ignored from now on. */
	c->exit_set = false;
	if (uc_ctl_exits_enable(c->uc) != UC_ERR_OK)
		return -ENOTSUP;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &c->cs64) != CS_ERR_OK ||
	    cs_open(CS_ARCH_X86, CS_MODE_32, &c->cs32) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(c->cs64, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(c->cs32, CS_OPT_DETAIL, CS_OPT_ON);
	if (uc_context_alloc(c->uc, &c->ctx) != UC_ERR_OK) {
		c->ctx = NULL;
		return -ENOMEM;
	}
	uc_err e = uc_hook_add(c->uc, &h, UC_HOOK_BLOCK, tcg_hook_block, c, 1, 0);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_INSN, tcg_hook_in, c, 1, 0, UC_X86_INS_IN);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_INSN, tcg_hook_out, c, 1, 0, UC_X86_INS_OUT);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_INSN, tcg_hook_cpuid, c, 1, 0, UC_X86_INS_CPUID);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_INSN, tcg_hook_syscall, c, 1, 0,
				UC_X86_INS_SYSCALL);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_INSN, tcg_hook_sysenter, c, 1, 0,
				UC_X86_INS_SYSENTER);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_EDGE_GENERATED, tcg_hook_new_block, c, 1, 0);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_INTR, tcg_hook_intr, c, 1, 0);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_INSN_INVALID, tcg_hook_invalid, c, 1, 0);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_FETCH_PROT,
				tcg_hook_unmapped, c, 1, 0);
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_MEM_WRITE_PROT, tcg_hook_wprot, c, 1, 0);
	/*
	 * K11: with any UC_HOOK_MEM_WRITE (READ) present, libunicorn stores RIP
	 * before every guest store (load) it translates: the stop from the
	 * write-protection hook is precise and RIP in an MMIO callback names
	 * the accessing instruction (without them it can name an earlier one
	 * of the block). They must exist before any code is translated (a hook
	 * added later leaves older translations as they were, and dropping
	 * them all clears the whole 1 GiB code buffer), so they are permanent,
	 * on the last byte of the stub's range, where they never fire.
	 */
	if (!e)
		e = uc_hook_add(c->uc, &h, UC_HOOK_MEM_WRITE | UC_HOOK_MEM_READ, tcg_hook_sync_rip,
				c, TCG_STUB_BASE + TCG_STUB_SIZE - 1, TCG_STUB_BASE + TCG_STUB_SIZE - 1);
	return uc_err_to_errno(e);
}

void tcg_engine_destroy(struct tcg_vcpu *c)
{
	if (c->ctx)
		uc_free(c->ctx);
	c->ctx = NULL;
	if (c->uc)
		uc_close(c->uc);
	c->uc = NULL;
	if (c->cs64)
		cs_close(&c->cs64);
	if (c->cs32)
		cs_close(&c->cs32);
	if (c->cs16)
		cs_close(&c->cs16);
	for (unsigned i = 0; i < c->nr_regions; i++)
		free(c->regions[i].mmio);
	free(c->regions);
	c->regions = NULL;
	c->nr_regions = 0;
	c->cap_regions = 0;
	c->gen_applied = 0;
	free(c->scratch);
	c->scratch = NULL;
}

/*
 * uc_emu_start's "until" cannot say "none": libunicorn 2.1.1 stops at that
 * linear address whatever it is (translate.c, uc_addr_is_exit: the
 * instruction there becomes a HLT), and after each run it drops the code at
 * until - 1, translating that address through the guest's page tables
 * (softmmu/cpus.c, uc_exit_invalidate_iter). Measured on a bare 2.1.1
 * engine in long mode with paging (nop; hlt, then a #GP): until 0 keeps
 * code at linear 0 from running, and a run begun there leaves CR2 =
 * 0xfffffffffffff000 and a #PF "in flight" that turns the next #GP into
 * #DF; an until the guest cannot reach fails the same way (non-canonical
 * 0x8000000000000000: CR2 kept, but the failed walk leaves a #GP in flight,
 * next #GP -> #DF; canonical unmapped: CR2 written, #DF). With the exits
 * list enabled (UC_CTL_UC_USE_EXITS) and empty, nothing is reserved and
 * nothing is walked: code at 0 ran, CR2 kept, the next #GP was #GP. A run
 * that needs an "until" puts that one address in the list (87 ns for
 * setting and clearing it; it is kept until a run wants another).
 */
uc_err tcg_run(struct tcg_vcpu *c, uint64_t begin, uint64_t until, size_t count)
{
	bool want = until != TCG_NO_UNTIL;
	if (want != c->exit_set || (want && until != c->exit_at)) {
		uc_err e = uc_ctl_set_exits(c->uc, &until, want ? 1 : 0);
		if (e)
			return e;
		c->exit_set = want;
		c->exit_at = until;
	}
	return uc_emu_start(c->uc, begin, 0, 0, count);
}

/*
 * K9: run the stub in a region of this engine only, from @entry until
 * @until, then drop the region. @real_cs >= 0 is patched in first.
 */
static int run_stub(struct tcg_vcpu *c, const uint8_t *entry, uint64_t until, int real_cs)
{
	uc_engine *uc = c->uc;
	size_t len = (size_t)(tcg_stub_end - tcg_stub_start);
	if (len > TCG_STUB_SIZE)
		return -EINVAL;
	uc_err e = uc_mem_map(uc, TCG_STUB_BASE, TCG_STUB_SIZE, UC_PROT_ALL);
	if (e)
		return uc_err_to_errno(e);
	e = uc_mem_write(uc, TCG_STUB_BASE, tcg_stub_start, len);
	if (!e && real_cs >= 0) {
		uint16_t cs = (uint16_t)real_cs;
		e = uc_mem_write(uc, TCG_STUB_BASE + (uint64_t)(tcg_stub_real_cs - tcg_stub_start),
				 &cs, sizeof(cs));
	}
	c->in_gate = true; /* no stops of ours while it runs */
	if (!e)
		e = tcg_run(c, TCG_STUB_BASE + (uint64_t)(entry - tcg_stub_start), until, 0);
	c->in_gate = false;
	uc_err e2 = uc_mem_unmap(uc, TCG_STUB_BASE, TCG_STUB_SIZE);
	return e || e2 ? -EIO : 0;
}

int tcg_engine_boot_stub(struct tcg_vcpu *c, int real_cs)
{
	uc_engine *uc = c->uc;
	uint64_t until = TCG_STUB_BASE + (uint64_t)(tcg_stub_done - tcg_stub_start);
	if (real_cs >= 0)
		until = (uint64_t)real_cs << 4; /* linear address of cs:0000 */
	int rc = run_stub(c, tcg_stub_start, until, real_cs);
	if (rc)
		return rc;
	uint64_t efer = 0, cr0 = 0, cs_now = 0, rip = 0;
	uc_x86_msr msr = { .rid = X86_MSR_EFER };
	uc_reg_read(uc, UC_X86_REG_MSR, &msr);
	efer = msr.value;
	uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
	uc_reg_read(uc, UC_X86_REG_CS, &cs_now);
	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	if (efer & 0x500)
		return -EIO; /* still in long mode: not the libunicorn this was made for */
	if (real_cs < 0 && (cr0 & 0x80000001) != 1)
		return -EIO;
	if (real_cs >= 0 && ((cr0 & 0x80000001) || cs_now != (uint64_t)real_cs || rip != 0))
		return -EIO;
	/* GDTR and IDTR at their reset values: the guest loads its own. */
	uc_x86_mmr reset = { .base = 0, .limit = 0xffff };
	uc_reg_write(uc, UC_X86_REG_GDTR, &reset);
	if (real_cs >= 0)
		reset.limit = 0x3ff; /* the real-mode IVT */
	uc_reg_write(uc, UC_X86_REG_IDTR, &reset);
	uint64_t flags = 2;
	uc_reg_write(uc, UC_X86_REG_EFLAGS, &flags);
	/*
	 * No tb_flush (libunicorn clears its whole 1 GiB code buffer for it):
	 * the stub's code belonged to its region, gone now, and nothing of
	 * guest RAM is translated yet, so the loader's writes need no drop (K8).
	 */
	c->stop = TCG_STOP_NONE;
	return 0;
}

int tcg_engine_boot_long(struct tcg_vcpu *c, uint64_t cr3, uint64_t gdt_base,
			 uint16_t gdt_limit)
{
	uc_engine *uc = c->uc;
	int rc = run_stub(c, tcg_stub_long,
			  TCG_STUB_BASE + (uint64_t)(tcg_stub_long_done - tcg_stub_start), -1);
	if (rc)
		return rc;
	uc_x86_msr msr = { .rid = X86_MSR_EFER };
	uc_reg_read(uc, UC_X86_REG_MSR, &msr);
	uint64_t cr0 = 0, cs = 0;
	uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
	uc_reg_read(uc, UC_X86_REG_CS, &cs);
	if (!(msr.value & X86_EFER_LMA) || !(cr0 & X86_CR0_PG) || cs != 0x10)
		return -EIO;
	/*
	 * The guest's tables: same descriptors at 0x10 and 0x18 as the stub's,
	 * so the segment caches stay right. libunicorn 2.1 writes CR3 through
	 * cpu_x86_update_cr3 (a TLB flush); the stub's pages are gone anyway.
	 */
	uc_x86_mmr gdtr = { .base = gdt_base, .limit = gdt_limit };
	uc_x86_mmr idtr = { .base = 0, .limit = 0xffff };
	uint64_t flags = 2;
	if (uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr) || uc_reg_write(uc, UC_X86_REG_IDTR, &idtr) ||
	    uc_reg_write(uc, UC_X86_REG_CR3, &cr3) || uc_reg_write(uc, UC_X86_REG_EFLAGS, &flags))
		return -EIO;
	c->stop = TCG_STOP_NONE;
	return 0;
}

static bool same_region(const struct tcg_region *a, const struct tcg_region *b)
{
	return a->start == b->start && a->end == b->end && a->kind == b->kind &&
	       (a->kind == TCG_REGION_MMIO || a->off == b->off);
}

static int region_map(struct tcg_vcpu *c, struct tcg_region *r)
{
	struct vm *vm = c->vcpu->vm;
	uc_err e;
	switch (r->kind) {
	case TCG_REGION_MMIO:
		r->mmio = malloc(sizeof(*r->mmio));
		if (!r->mmio)
			return -ENOMEM;
		*r->mmio = (struct tcg_mmio_region){ .c = c, .base = r->start };
		e = uc_mmio_map(c->uc, r->start, r->end - r->start, tcg_mmio_read, r->mmio,
				tcg_mmio_write, r->mmio);
		break;
	case TCG_REGION_RO:
		e = uc_mem_map_ptr(c->uc, r->start, r->end - r->start,
				   UC_PROT_READ | UC_PROT_EXEC, vm->ram.host + r->off);
		break;
	default:
		e = uc_mem_map_ptr(c->uc, r->start, r->end - r->start, UC_PROT_ALL,
				   vm->ram.host + r->off);
		break;
	}
	if (e) {
		free(r->mmio);
		r->mmio = NULL;
	}
	return uc_err_to_errno(e);
}

/* @h lies inside the RAM region @w and maps the same memfd offsets (a piece of it). */
static bool piece_of(const struct tcg_region *h, const struct tcg_region *w)
{
	return h->kind == w->kind && h->start >= w->start && h->end <= w->end &&
	       h->off - h->start == w->off - w->start;
}

/*
 * Bring the engine's regions in step with the VM's mappings: unmap the
 * regions that are not wanted as they are, then map the missing ones. An
 * MMIO or RO region keeps its place only if it is exactly as wanted. A
 * wanted RW region may stay as the RW pieces the engine already holds of
 * it, the holes between them mapped anew, while that leaves at most
 * TCG_LAZY_PIECES regions more than wanted (K4): a page flipped
 * RW -> NONE -> RW then costs a one-page RAM map and no unmap of the chunk
 * around it (libunicorn 2.1.1 flushes the soft TLB page by page for every
 * page unmapped, and each RAM map walks every RAM block twice nested).
 * On failure the engine matches nothing known: the caller stops the VM.
 */
int tcg_engine_sync_regions(struct tcg_vcpu *c)
{
	if (c->gen_applied == atomic_load(&c->t->maps_gen) && c->regions)
		return 0;
	struct tcg_region *want;
	unsigned nr_want;
	uint64_t gen;
	tcg_vm_desired_regions(c->t, &want, &nr_want, &gen);
	if (!want)
		return -ENOMEM;
	unsigned budget = TCG_LAZY_PIECES;
	if (nr_want + budget > TCG_REGION_CAP - TCG_REGIONS_RESERVED)
		budget = nr_want < TCG_REGION_CAP - TCG_REGIONS_RESERVED
				 ? TCG_REGION_CAP - TCG_REGIONS_RESERVED - nr_want
				 : 0;
	struct tcg_region *out = calloc(nr_want + budget + 1, sizeof(*out));
	bool *fresh = calloc(nr_want + budget + 1, sizeof(*fresh));
	bool *kept = calloc(c->nr_regions + 1, sizeof(*kept));
	if (!out || !fresh || !kept) {
		free(want);
		free(out);
		free(fresh);
		free(kept);
		return -ENOMEM;
	}
	/* Both lists are sorted and disjoint: walk them together. */
	unsigned n = 0, extra = 0, i = 0;
	for (unsigned w = 0; w < nr_want; w++) {
		const struct tcg_region *wr = &want[w];
		while (i < c->nr_regions && c->regions[i].end <= wr->start)
			i++;
		unsigned pieces = 0, holes = 0;
		uint64_t at = wr->start;
		for (unsigned j = i; wr->kind == TCG_REGION_RW && j < c->nr_regions &&
				     c->regions[j].start < wr->end; j++) {
			if (!piece_of(&c->regions[j], wr))
				continue;
			holes += c->regions[j].start > at;
			at = c->regions[j].end;
			pieces++;
		}
		holes += pieces && at < wr->end;
		if (wr->kind != TCG_REGION_RW || !pieces || extra + pieces + holes - 1 > budget) {
			if (i < c->nr_regions && same_region(&c->regions[i], wr)) {
				kept[i] = true;
				out[n++] = c->regions[i];
				c->regions[i].mmio = NULL; /* ownership moves to the new list */
			} else {
				fresh[n] = true;
				out[n] = *wr;
				out[n++].mmio = NULL;
			}
			continue;
		}
		extra += pieces + holes - 1;
		at = wr->start;
		for (unsigned j = i; j < c->nr_regions && c->regions[j].start < wr->end; j++) {
			if (!piece_of(&c->regions[j], wr))
				continue;
			if (c->regions[j].start > at) {
				fresh[n] = true;
				out[n++] = (struct tcg_region){ .start = at, .end = c->regions[j].start,
								.kind = wr->kind,
								.off = wr->off + (at - wr->start) };
			}
			kept[j] = true;
			out[n++] = c->regions[j];
			at = c->regions[j].end;
		}
		if (at < wr->end) {
			fresh[n] = true;
			out[n++] = (struct tcg_region){ .start = at, .end = wr->end, .kind = wr->kind,
							.off = wr->off + (at - wr->start) };
		}
	}
	/*
	 * libunicorn 2.1.1 drops a region's translated code as it unmaps it
	 * (memory_unmap -> uc_invalidate_tb), finding the code's RAM by walking
	 * the region's *physical* start through the guest's page tables. Where
	 * that address is not mapped (any Linux process: a claimed page of its
	 * own at 0x29e2000 is at 0x7ff9... for it), the walk fails and leaves
	 * CR2 overwritten and a #PF "in flight" (env->old_exception): two such
	 * unmaps then make the guest's next real #PF a triple fault (the engine
	 * stops for no reason of ours), and code of the region stays cached
	 * while another page's is dropped where the walk found one. So the
	 * unmaps and maps run with the engine's TLB in libunicorn's "virtual"
	 * mode (every address maps to itself: the walk is the identity), the
	 * TLB flushed on both sides as tcg_code.c does for its drops; the
	 * flush afterwards also drops TLB entries of other virtual addresses
	 * that still pointed at the regions unmapped (libunicorn flushes only
	 * the page at the physical address itself).
	 */
	bool unmaps = false;
	for (i = 0; i < c->nr_regions && !unmaps; i++)
		unmaps = !kept[i];
	if (unmaps) {
		uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TLB_TYPE, 1), UC_TLB_VIRTUAL);
		uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TLB_FLUSH, 0));
	}
	int rc = 0;
	for (i = 0; i < c->nr_regions; i++) {
		struct tcg_region *have = &c->regions[i];
		if (kept[i])
			continue;
		if (!rc) {
			uc_err e = uc_mem_unmap(c->uc, have->start, have->end - have->start);
			rc = uc_err_to_errno(e);
		}
		free(have->mmio);
		have->mmio = NULL;
	}
	for (i = 0; i < n; i++)
		if (fresh[i] && !rc)
			rc = region_map(c, &out[i]);
	if (unmaps) {
		uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TLB_FLUSH, 0));
		uc_ctl(c->uc, UC_CTL_WRITE(UC_CTL_TLB_TYPE, 1), UC_TLB_CPU);
	}
	free(want);
	free(fresh);
	free(kept);
	free(c->regions);
	c->regions = out;
	c->nr_regions = n;
	c->cap_regions = n;
	if (rc)
		return rc;
	c->gen_applied = gen;
	return 0;
}

static uc_err map_ro(struct tcg_vcpu *c, uint64_t start, uint64_t end, uint8_t *host)
{
	if (start == end)
		return UC_ERR_OK;
	return uc_mem_map_ptr(c->uc, start, end - start, UC_PROT_READ | UC_PROT_EXEC, host);
}

/* The engine's region holding @gpa (regions are sorted and disjoint), or NULL. */
static struct tcg_region *region_at(struct tcg_vcpu *c, uint64_t gpa)
{
	size_t lo = 0, hi = c->nr_regions;
	while (lo < hi) { /* the first region ending after gpa */
		size_t mid = lo + (hi - lo) / 2;
		if (c->regions[mid].end <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nr_regions && c->regions[lo].start <= gpa ? &c->regions[lo] : NULL;
}

uint64_t tcg_engine_ro_end(struct tcg_vcpu *c, uint64_t gpa)
{
	struct tcg_region *r = region_at(c, gpa);
	return r && r->kind == TCG_REGION_RO ? r->end : gpa;
}

int tcg_engine_step_scratch(struct tcg_vcpu *c, uint64_t lo, uint64_t hi, uint8_t *scratch,
			    uc_err *step_err)
{
	struct tcg_region *r = region_at(c, lo);
	if (!r || hi > r->end || r->kind != TCG_REGION_RO)
		return -EINVAL;
	uint8_t *host = c->vcpu->vm->ram.host + r->off;
	uint64_t rip = 0;
	uc_reg_read(c->uc, UC_X86_REG_RIP, &rip);
	/* The pieces cost two regions at most, inside TCG_REGIONS_RESERVED. */
	uc_err e = uc_mem_unmap(c->uc, r->start, r->end - r->start);
	if (!e)
		e = map_ro(c, r->start, lo, host);
	if (!e)
		e = uc_mem_map_ptr(c->uc, lo, hi - lo, UC_PROT_ALL, scratch);
	if (!e)
		e = map_ro(c, hi, r->end, host + (hi - r->start));
	if (e)
		return uc_err_to_errno(e);
	/*
	 * One instruction: libunicorn checks the "until" address only when it
	 * translates a block, so the instruction's cached code goes before
	 * (a cached block would run on past it) and after (the new block stops
	 * there whatever the next run's "until").
	 */
	uint64_t len = c->insn.len ? c->insn.len : 1;
	uc_ctl_remove_cache(c->uc, rip, rip + len);
	c->in_gate = true;
	*step_err = tcg_run(c, rip, rip + len, 0);
	c->in_gate = false;
	uc_ctl_remove_cache(c->uc, rip, rip + len);
	/* The region as it was; code translated from the copy goes with it. */
	tcg_code_drop_phys(c, lo, hi); /* physical: tcg_code.c */
	e = uc_mem_unmap(c->uc, r->start, r->end - r->start);
	if (!e)
		e = map_ro(c, r->start, r->end, host);
	tcg_code_drop_phys(c, lo, hi); /* physical: tcg_code.c */
	return uc_err_to_errno(e);
}
