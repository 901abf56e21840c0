/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: CPL3 -> CPL0 without running guest code (K10), used by
 * tcg_call_gate (tcg_deliver.c) whenever this libunicorn's layout is known.
 * The call gate cannot serve a real kernel: it patches the code at RIP,
 * which is not mapped on a #PF for an instruction fetch from CPL3 (every
 * first run of a page of a Linux process), and its run stops at the
 * handler only if the handler's cached code can be dropped, which
 * libunicorn does through the current (CPL3) view of the page tables, so
 * not for a supervisor-only handler: Linux's #PF handler then ran on, with
 * no stops, past the window.
 *
 * libunicorn 2.1.1 has no register write that changes the CPL in 64-bit
 * mode: a write of CS or SS sets the selector alone (qemu/target/i386/
 * unicorn.c, reg_write, UC_MODE_64), and the CPL is the descriptor cache's
 * and the hidden flags' (cpu_x86_load_seg_cache). So this loads CS and SS
 * as a CPU's interrupt would (CS from the GDT, SS null, CPL 0) into a
 * saved context and restores it. Where CPUX86State keeps them is found
 * once per process in a scratch engine (the selectors by writing two
 * values and diffing contexts; hflags and hflags2 just before segs[], as
 * cpu.h lays them out) and checked against a 64-bit engine's flags; if
 * anything does not match, this path reports itself unsupported.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cpu/tcg/tcg_priv.h"

/* qemu/target/i386/cpu.h */
#define SEGCACHE_SIZE 24 /* u32 selector, u64 base, u32 limit, u32 flags */
#define SEG_ES 0
#define SEG_CS 1
#define SEG_SS 2
#define HF_CPL_MASK 3u
#define HF_INHIBIT_IRQ_MASK (1u << 3)
#define HF_CS32_MASK (1u << 4)
#define HF_SS32_MASK (1u << 5)
#define HF_PE_MASK (1u << 7)
#define HF_LMA_MASK (1u << 14)
#define HF_CS64_MASK (1u << 15)
#define DESC_L_MASK (1u << 21)
#define DESC_P_MASK (1u << 15)
#define DESC_S_MASK (1u << 12)
#define DESC_CS_MASK (1u << 11)

static long segs_off = -1, hflags_off = -1;
static pthread_once_t cpl_once = PTHREAD_ONCE_INIT;

static uint32_t rd32(const uc_context *ctx, long off)
{
	uint32_t v;
	memcpy(&v, (const char *)ctx + off, 4);
	return v;
}

static void wr32(uc_context *ctx, long off, uint32_t v)
{
	memcpy((char *)ctx + off, &v, 4);
}

static void wr64(uc_context *ctx, long off, uint64_t v)
{
	memcpy((char *)ctx + off, &v, 8);
}

static void calibrate(void)
{
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return;
	size_t size = uc_context_size(uc);
	uc_context *a = NULL, *b = NULL;
	uint64_t cs = 0x5a58, ss = 0x6a68;
	if (uc_context_alloc(uc, &a) || uc_context_alloc(uc, &b) || uc_context_save(uc, a) ||
	    uc_reg_write(uc, UC_X86_REG_CS, &cs) || uc_reg_write(uc, UC_X86_REG_SS, &ss) ||
	    uc_context_save(uc, b))
		goto out;
	long cs_at = -1, ss_at = -1;
	for (size_t off = 0; off + 4 <= size; off += 4) {
		uint32_t before = rd32(a, (long)off), after = rd32(b, (long)off);
		if (before == after)
			continue;
		if (after == cs && cs_at < 0)
			cs_at = (long)off;
		else if (after == ss && ss_at < 0)
			ss_at = (long)off;
		else
			goto out; /* something else changed: not the layout we know */
	}
	long segs = cs_at - SEGCACHE_SIZE * SEG_CS;
	if (cs_at < 0 || ss_at != segs + SEGCACHE_SIZE * SEG_SS || segs < 8)
		goto out;
	/* A fresh 64-bit engine: protected, long mode, 64-bit CS, CPL 0. */
	uint32_t hf = rd32(a, segs - 8);
	uint32_t want = HF_PE_MASK | HF_LMA_MASK | HF_CS64_MASK;
	if ((hf & want) != want || (hf & HF_CPL_MASK))
		goto out;
	segs_off = segs;
	hflags_off = segs - 8;
out:
	if (a)
		uc_free(a);
	if (b)
		uc_free(b);
	uc_close(uc);
}

bool tcg_raise_cpl_direct_ok(void)
{
	pthread_once(&cpl_once, calibrate);
	return segs_off >= 0;
}

enum tcg_delivery tcg_raise_cpl_direct(struct tcg_vcpu *c, uint16_t sel, uint64_t target)
{
	pthread_once(&cpl_once, calibrate);
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP);
	if (segs_off < 0) {
		snprintf(c->reason, sizeof(c->reason), "cannot raise privilege at rip 0x%" PRIx64
			 " (this libunicorn's CPU state layout is not the one tcg_cpl.c knows)",
			 rip);
		return TCG_DELIVER_UNSUPPORTED;
	}
	uc_x86_mmr gdtr = { 0 };
	uc_reg_read(c->uc, UC_X86_REG_GDTR, &gdtr);
	uint32_t d[2];
	if ((sel | 7u) > gdtr.limit || !tcg_read_virt(c, gdtr.base + (sel & ~7u), d, 8)) {
		snprintf(c->reason, sizeof(c->reason), "raising privilege at rip 0x%" PRIx64
			 ": CS %#x lies outside the GDT or is not mapped", rip, sel);
		return TCG_DELIVER_TRIPLE_FAULT;
	}
	uint32_t e2 = d[1];
	unsigned dpl = (e2 >> 13) & 3;
	if (!(e2 & DESC_P_MASK) || !(e2 & DESC_S_MASK) || !(e2 & DESC_CS_MASK) || dpl ||
	    !(e2 & DESC_L_MASK)) {
		snprintf(c->reason, sizeof(c->reason), "raising privilege at rip 0x%" PRIx64
			 ": CS %#x is not a present 64-bit DPL0 code segment (0x%08x)", rip, sel,
			 e2);
		return TCG_DELIVER_TRIPLE_FAULT;
	}
	uint32_t limit = (d[0] & 0xffff) | (e2 & 0x000f0000u);
	if (e2 & (1u << 23))
		limit = (limit << 12) | 0xfff;
	if (uc_context_save(c->uc, c->ctx) != UC_ERR_OK) {
		snprintf(c->reason, sizeof(c->reason), "raising privilege at rip 0x%" PRIx64
			 ": saving the engine's context failed", rip);
		return TCG_DELIVER_UNSUPPORTED;
	}
	/* As cpu_x86_load_seg_cache for a long-mode interrupt to CPL 0 (do_interrupt64). */
	long cs = segs_off + SEGCACHE_SIZE * SEG_CS, ss = segs_off + SEGCACHE_SIZE * SEG_SS;
	wr32(c->ctx, cs, sel & ~3u);
	wr64(c->ctx, cs + 8, 0);
	wr32(c->ctx, cs + 16, limit);
	wr32(c->ctx, cs + 20, e2);
	wr32(c->ctx, ss, 0);
	wr64(c->ctx, ss + 8, 0);
	wr32(c->ctx, ss + 16, 0);
	wr32(c->ctx, ss + 20, 0);
	uint32_t hf = rd32(c->ctx, hflags_off);
	hf &= ~(HF_CPL_MASK | HF_INHIBIT_IRQ_MASK | HF_SS32_MASK);
	hf |= HF_CS32_MASK | HF_CS64_MASK;
	wr32(c->ctx, hflags_off, hf);
	uc_context_restore(c->uc, c->ctx);
	tcg_set_reg(c, UC_X86_REG_RIP, target);
	return TCG_DELIVERED;
}
