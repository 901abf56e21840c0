/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: exceptions and interrupts through the guest's own IDT (K10).
 * libunicorn only reports them to a hook, so the frame is built here: at the
 * same privilege level by writing guest memory and RSP/RIP/RFLAGS; from CPL3
 * through a temporary call gate (the one privilege-raising path libunicorn
 * kept), after which the call frame is turned into the interrupt frame.
 * Also the exception state libunicorn keeps but never clears (found once
 * per process in a scratch engine). The page walk is tcg_paging.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"


/* Offset of env->old_exception in a uc_context (error_code is 112 before). */
static long exc_off = -1;
static pthread_once_t exc_once = PTHREAD_ONCE_INIT;

static void stop_hook(uc_engine *uc, uint32_t intno, void *opaque)
{
	*(uint32_t *)opaque = intno;
	uc_emu_stop(uc);
}

/*
 * Raise #GP(0x1238) in a scratch engine (mov ds with a selector past the
 * GDT limit) and find the int that went from -1 to 13 with the error code
 * where libunicorn 2.0.1's CPUX86State keeps it.
 */
static void calibrate(void)
{
	static const uint8_t code[] = { 0x66, 0xb8, 0x38, 0x12, 0x8e, 0xd8, 0xf4 };
	uc_engine *uc;
	uc_hook h;
	uint32_t intno = 0;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
		return;
	size_t size = uc_context_size(uc);
	uc_context *a = NULL, *b = NULL;
	if (uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL) ||
	    uc_mem_write(uc, 0x1000, code, sizeof(code)) ||
	    uc_hook_add(uc, &h, UC_HOOK_INTR, stop_hook, &intno, 1, 0) ||
	    uc_context_alloc(uc, &a) || uc_context_alloc(uc, &b) || uc_context_save(uc, a))
		goto out;
	uc_emu_start(uc, 0x1000, 0x2000, 0, 0);
	if (intno != X86_EXC_GP || uc_context_save(uc, b))
		goto out;
	long found = -1;
	for (size_t off = 112; off + 4 <= size; off += 4) {
		int32_t before, after, err;
		memcpy(&before, (char *)a + off, 4);
		memcpy(&after, (char *)b + off, 4);
		memcpy(&err, (char *)b + off - 112, 4);
		if (before == -1 && after == X86_EXC_GP && err == 0x1238) {
			if (found >= 0) {
				found = -1; /* ambiguous */
				break;
			}
			found = (long)off;
		}
	}
	exc_off = found;
out:
	if (a)
		uc_free(a);
	if (b)
		uc_free(b);
	uc_close(uc);
}

int tcg_exception_state_init(void)
{
	pthread_once(&exc_once, calibrate);
	return exc_off < 0 ? -ENOTSUP : 0;
}

uint32_t tcg_exception_take(struct tcg_vcpu *c, bool *is_int)
{
	int32_t err = 0, soft = 0, none = -1;
	char *d = (char *)c->ctx;
	if (uc_context_save(c->uc, c->ctx) == UC_ERR_OK) {
		memcpy(&err, d + exc_off - 112, 4);
		memcpy(&soft, d + exc_off - 108, 4);
		memcpy(d + exc_off, &none, 4);
		uc_context_restore(c->uc, c->ctx);
	}
	*is_int = soft != 0;
	return (uint32_t)err;
}

void tcg_exception_clear(struct tcg_vcpu *c)
{
	int32_t none = -1;
	if (uc_context_save(c->uc, c->ctx) == UC_ERR_OK) {
		memcpy((char *)c->ctx + exc_off, &none, 4);
		uc_context_restore(c->uc, c->ctx);
	}
}

static enum tcg_delivery fail(struct tcg_vcpu *c, enum tcg_delivery how, const char *fmt,
			      unsigned v, uint64_t a)
{
	snprintf(c->reason, sizeof(c->reason), fmt, v, a);
	return how;
}

struct gate {
	uint64_t offset;
	uint16_t sel;
	uint8_t ist, type, dpl;
	bool present;
};

/* Push @n quadwords (or dwords if !wide) below @sp, highest first. */
static bool push_frame(struct tcg_vcpu *c, uint64_t *sp, const uint64_t *v, unsigned n,
		       bool wide)
{
	unsigned w = wide ? 8 : 4;
	uint64_t at = *sp - (uint64_t)n * w;
	uint8_t p[6 * 8];
	for (unsigned i = 0; i < n; i++) /* v[0] goes highest */
		memcpy(p + (uint64_t)(n - 1 - i) * w, &v[i], w);
	if (!tcg_write_virt(c, at, p, (size_t)n * w))
		return false;
	*sp = at;
	return true;
}

static bool read_tss_stack(struct tcg_vcpu *c, unsigned ist, uint64_t *sp)
{
	uc_x86_mmr tr = { 0 };
	uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
	uint64_t off = ist ? 0x24 + 8 * (uint64_t)(ist - 1) : 4;
	return tcg_read_virt(c, tr.base + off, sp, 8);
}

/* A free pair of GDT slots for the call gate: not the target CS, not the TSS. */
static int gate_slot(struct tcg_vcpu *c, const uc_x86_mmr *gdtr, uint16_t target_cs)
{
	uc_x86_mmr tr = { 0 };
	uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
	unsigned avoid[] = { target_cs >> 3, tr.selector >> 3, (tr.selector >> 3) + 1u,
			     (unsigned)(tcg_reg(c, UC_X86_REG_CS) >> 3),
			     (unsigned)(tcg_reg(c, UC_X86_REG_SS) >> 3) };
	unsigned n = (gdtr->limit + 1) / 8;
	/* 0x30/0x38 first: the guest kit leaves them free for this. */
	for (unsigned k = 0; k < n; k++) {
		unsigned s = (6 + k) % n;
		if (s == 0 || s + 1 >= n)
			continue;
		bool ok = true;
		for (unsigned i = 0; i < sizeof(avoid) / sizeof(avoid[0]); i++)
			ok &= avoid[i] != s && avoid[i] != s + 1;
		if (ok)
			return (int)s;
	}
	return -1;
}

/* K10: CPL3 -> CPL0 through a temporary call gate (what it leaves: tcg_priv.h). */
enum tcg_delivery tcg_call_gate(struct tcg_vcpu *c, uint16_t sel, uint64_t target)
{
	if (tcg_raise_cpl_direct_ok())
		return tcg_raise_cpl_direct(c, sel, target); /* see tcg_cpl.c */
	uc_x86_mmr gdtr = { 0 };
	uc_reg_read(c->uc, UC_X86_REG_GDTR, &gdtr);
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP);
	int slot = gate_slot(c, &gdtr, sel);
	uint64_t slots = gdtr.base + (uint64_t)(slot < 0 ? 0 : slot) * 8;
	uint8_t saved_slots[16], saved_code[12];
	/* Through the guest's page tables: a page each at most, wherever they map. */
	if (slot < 0 || !tcg_read_virt(c, slots, saved_slots, 16) ||
	    !tcg_read_virt(c, rip, saved_code, 12) || !tcg_virt_mapped(c, slots, 16) ||
	    !tcg_virt_mapped(c, rip, 12)) {
		snprintf(c->reason, sizeof(c->reason), "cannot raise privilege at rip 0x%" PRIx64
			 " (no free GDT slot, or GDT or code not mapped to RAM)", rip);
		return TCG_DELIVER_UNSUPPORTED;
	}
	uint64_t gate[2] = { (target & 0xffff) | (uint64_t)sel << 16 | 0xECULL << 40 |
				     ((target >> 16) & 0xffff) << 48,
			     target >> 32 };
	tcg_write_virt(c, slots, gate, 16);
	uint16_t gate_sel = (uint16_t)(slot * 8 | 3);
	uint8_t patch[12] = { 0xff, 0x1d, 0, 0, 0, 0, 0, 0, 0, 0 }; /* callf [rip+0] */
	memcpy(patch + 10, &gate_sel, 2);
	tcg_write_virt(c, rip, patch, 12);
	uc_ctl_remove_cache(c->uc, rip, rip + 12);
	/*
	 * libunicorn 2.0.1 checks the "until" address only when it translates
	 * a block: a handler whose code is already cached would run on past it
	 * (seen: the second #PF from CPL3 ran its handler to IRETQ). So drop the
	 * handler's first block before the window, and the stopping block after.
	 */
	uc_ctl_remove_cache(c->uc, target, target + 1);
	/*
	 * The window ends at the handler, and libunicorn then translates
	 * handler - 1 (see tcg_run in tcg_engine.c): if that page is not
	 * mapped, the failed walk overwrites CR2 (a #PF's, set already) and
	 * leaves a #PF in flight. Both are put back.
	 */
	uint64_t cr2 = tcg_reg(c, UC_X86_REG_CR2);
	c->in_gate = true;
	uc_err e = tcg_run(c, rip, target, 0);
	c->in_gate = false;
	if (tcg_reg(c, UC_X86_REG_CR2) != cr2) {
		tcg_set_cr2(c, cr2);
		tcg_exception_clear(c);
	}
	tcg_write_virt(c, rip, saved_code, 12);
	tcg_write_virt(c, slots, saved_slots, 16);
	uc_ctl_remove_cache(c->uc, rip, rip + 12);
	uc_ctl_remove_cache(c->uc, target, target + 1);
	enum tcg_stop stop = c->stop;
	c->stop = TCG_STOP_NONE;
	if (e || stop != TCG_STOP_NONE || tcg_reg(c, UC_X86_REG_RIP) != target ||
	    (tcg_reg(c, UC_X86_REG_CS) & 3) != 0) {
		snprintf(c->reason, sizeof(c->reason), "raising privilege at rip 0x%" PRIx64
			 ": the call gate to %#x:0x%" PRIx64 " faulted", rip, sel, target);
		return TCG_DELIVER_TRIPLE_FAULT;
	}
	return TCG_DELIVERED;
}

/* K10: CPL3 -> CPL0 through a temporary call gate, then the interrupt frame. */
static enum tcg_delivery raise_privilege(struct tcg_vcpu *c, unsigned vector, int64_t err,
					const struct gate *g)
{
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP), rsp = tcg_reg(c, UC_X86_REG_RSP);
	uint64_t rflags = tcg_reg(c, UC_X86_REG_EFLAGS);
	uint64_t cs = tcg_reg(c, UC_X86_REG_CS), ss = tcg_reg(c, UC_X86_REG_SS);
	enum tcg_delivery d = tcg_call_gate(c, g->sel, g->offset);
	if (d != TCG_DELIVERED)
		return d;
	uint64_t sp;
	if (!read_tss_stack(c, g->ist, &sp))
		return fail(c, TCG_DELIVER_TRIPLE_FAULT, "vector %u: the TSS's stack pointer "
			    "is not mapped to RAM (rip 0x%" PRIx64 ")", vector, rip);
	sp &= ~15ULL;
	uint64_t frame[6] = { ss, rsp, rflags, cs, rip, (uint64_t)err };
	if (!push_frame(c, &sp, frame, err >= 0 ? 6 : 5, true))
		return fail(c, TCG_DELIVER_TRIPLE_FAULT,
			    "vector %u: kernel stack 0x%" PRIx64 " not mapped to RAM",
			    vector, sp);
	tcg_set_reg(c, UC_X86_REG_RSP, sp);
	rflags &= ~(X86_RFLAGS_TF | X86_RFLAGS_NT | X86_RFLAGS_RF);
	if (g->type == 0xE)
		rflags &= ~X86_RFLAGS_IF;
	tcg_set_reg(c, UC_X86_REG_EFLAGS, rflags);
	return TCG_DELIVERED;
}

static bool read_gate(struct tcg_vcpu *c, unsigned vector, bool long_mode, struct gate *g)
{
	uc_x86_mmr idtr = { 0 };
	uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
	unsigned size = long_mode ? 16 : 8;
	if ((uint64_t)vector * size + size - 1 > idtr.limit)
		return false;
	uint8_t p[16];
	if (!tcg_read_virt(c, idtr.base + (uint64_t)vector * size, p, size))
		return false;
	uint16_t off_lo, sel, off_mid;
	uint32_t off_hi = 0;
	memcpy(&off_lo, p, 2);
	memcpy(&sel, p + 2, 2);
	memcpy(&off_mid, p + 6, 2);
	if (long_mode)
		memcpy(&off_hi, p + 8, 4);
	*g = (struct gate){
		.offset = off_lo | (uint64_t)off_mid << 16 | (uint64_t)off_hi << 32,
		.sel = sel, .ist = long_mode ? p[4] & 7 : 0, .type = p[5] & 0xf,
		.dpl = (p[5] >> 5) & 3, .present = (p[5] & 0x80) != 0,
	};
	return g->present && (g->type == 0xE || g->type == 0xF);
}

/*
 * One try at @vector. Besides TCG_DELIVERED and the final outcomes, what
 * the CPU would raise instead: TCG_DELIVER_NO_GATE (#DF follows), or
 * TCG_DELIVER_GP (a software interrupt through a gate of lower DPL).
 */
static enum tcg_delivery deliver_once(struct tcg_vcpu *c, unsigned vector, int64_t err,
				      bool soft)
{
	uint64_t efer = tcg_efer(c);
	bool long_mode = (efer & X86_EFER_LMA) != 0;
	if (!(tcg_reg(c, UC_X86_REG_CR0) & 1))
		return fail(c, TCG_DELIVER_UNSUPPORTED,
			    "vector %u in real mode: not supported on tcg yet (rip 0x%" PRIx64 ")",
			    vector, tcg_reg(c, UC_X86_REG_RIP));
	struct gate g;
	if (!read_gate(c, vector, long_mode, &g))
		return TCG_DELIVER_NO_GATE;
	unsigned cpl = (unsigned)tcg_reg(c, UC_X86_REG_CS) & 3;
	if (soft && g.dpl < cpl)
		return TCG_DELIVER_GP; /* #GP(vector * 8 + 2) */
	unsigned target_dpl = 0;
	uc_x86_mmr gdtr = { 0 };
	uc_reg_read(c->uc, UC_X86_REG_GDTR, &gdtr);
	uint8_t desc[8];
	if ((g.sel | 7) > gdtr.limit || !tcg_read_virt(c, gdtr.base + (g.sel & ~7u), desc, 8) ||
	    !(desc[5] & 0x80) || !(desc[5] & 0x08))
		return TCG_DELIVER_NO_GATE;
	target_dpl = (desc[5] >> 5) & 3;
	if (target_dpl < cpl) {
		if (!long_mode || cpl != 3)
			return fail(c, TCG_DELIVER_UNSUPPORTED,
				    "vector %u: privilege change from CPL%u outside long mode is not "
				    "supported on tcg (rip 0x%" PRIx64 ")", vector,
				    tcg_reg(c, UC_X86_REG_RIP));
		return raise_privilege(c, vector, err, &g);
	}
	uint64_t rip = tcg_reg(c, UC_X86_REG_RIP), rsp = tcg_reg(c, UC_X86_REG_RSP);
	uint64_t rflags = tcg_reg(c, UC_X86_REG_EFLAGS), cs = tcg_reg(c, UC_X86_REG_CS);
	uint64_t sp = rsp;
	bool pushed;
	if (long_mode) {
		if (g.ist && !read_tss_stack(c, g.ist, &sp))
			return TCG_DELIVER_NO_GATE;
		sp &= ~15ULL;
		uint64_t frame[6] = { tcg_reg(c, UC_X86_REG_SS), rsp, rflags, cs, rip, (uint64_t)err };
		pushed = push_frame(c, &sp, frame, err >= 0 ? 6 : 5, true);
	} else {
		sp &= 0xffffffffULL;
		uint64_t frame[4] = { rflags, cs, rip, (uint64_t)err };
		pushed = push_frame(c, &sp, frame, err >= 0 ? 4 : 3, false);
	}
	if (!pushed)
		return fail(c, TCG_DELIVER_TRIPLE_FAULT,
			    "vector %u: stack 0x%" PRIx64 " not mapped to RAM", vector, sp);
	tcg_set_reg(c, UC_X86_REG_RSP, sp);
	if ((g.sel & ~3u) != (cs & ~3u))
		tcg_set_reg(c, UC_X86_REG_CS, g.sel);
	tcg_set_reg(c, UC_X86_REG_RIP, g.offset);
	rflags &= ~(X86_RFLAGS_TF | X86_RFLAGS_NT | X86_RFLAGS_RF);
	if (g.type == 0xE)
		rflags &= ~X86_RFLAGS_IF;
	tcg_set_reg(c, UC_X86_REG_EFLAGS, rflags);
	return TCG_DELIVERED;
}

enum tcg_delivery tcg_deliver(struct tcg_vcpu *c, unsigned vector, int64_t err, bool soft)
{
	/* Faults push RFLAGS with RF set, as the CPU does (the handler's is clear). */
	if (!soft && vector < 32 && ((1u << vector) & 0x1b7ce1u))
		tcg_set_reg(c, UC_X86_REG_EFLAGS, tcg_reg(c, UC_X86_REG_EFLAGS) | X86_RFLAGS_RF);
	enum tcg_delivery rc = deliver_once(c, vector, err, soft);
	if (rc == TCG_DELIVER_GP)
		rc = deliver_once(c, X86_EXC_GP, (int64_t)vector * 8 + 2, false);
	if (rc == TCG_DELIVER_NO_GATE && vector != X86_EXC_DF)
		rc = deliver_once(c, X86_EXC_DF, 0, false);
	if (rc == TCG_DELIVER_NO_GATE || rc == TCG_DELIVER_GP)
		return fail(c, TCG_DELIVER_TRIPLE_FAULT,
			    "vector %u: no usable IDT gate for it nor for #DF (rip 0x%" PRIx64 ")",
			    vector, tcg_reg(c, UC_X86_REG_RIP));
	c->halted = false;
	return rc;
}
