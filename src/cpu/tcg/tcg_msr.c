/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: the APIC base MSR (K12).
 *
 * libunicorn 2.0.1 has no APIC (MSR 0x1b reads 0, writes are dropped) and
 * RDMSR/WRMSR cannot be hooked as instructions. K12's first plan, a
 * UC_HOOK_CODE on each RDMSR/WRMSR, is unusable: when a block-hook stop
 * (K3) leaves a block before its first instruction, cpu_tb_exec puts RIP
 * back to the block's start only if no UC_HOOK_CODE exists at all
 * (qemu/accel/tcg/cpu-exec.c:75, HOOK_EXISTS, whatever the hook's range);
 * with one, RIP stays wherever it was last stored (chained blocks do not
 * store it; the K11 memory hooks store it before each access), so the
 * resumed run repeats instructions. Instead a UC_HOOK_EDGE_GENERATED hook
 * sees every block once, as it is translated, before it runs (tb_find,
 * cpu-exec.c:259-276; skipped for an engine's very first block, always the
 * K9 stub's); it decodes only blocks holding the bytes 0F 30/0F 32.
 * On an RDMSR/WRMSR it calls uc_emu_stop: cpu_exec then never enters the
 * block (cpu-exec.c:601, "if (cpu->exit_request) continue") and RIP is the
 * block's start, exact with or without code hooks. The run loop drops every
 * block holding the instruction, runs to it with "until" (checked for each
 * instruction as a block is translated: translate.c:4801; the address is
 * mapped code, so the page walk libunicorn does at until - 1 after the run,
 * see tcg_run, succeeds), serves MSR 0x1b
 * at CPL0 itself and steps any other MSR natively. Nothing is added to the
 * block hook, so running code pays nothing; each execution of an
 * RDMSR/WRMSR costs a translation and two or three engine restarts
 * (BENCHMARKS.md, design measurements: msr-stop).
 */
#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"

#define APIC_BASE_WRITABLE (0x000ffffffffff000ULL | X86_APIC_BASE_ENABLE)

static bool msr_opcode(const uint8_t *p)
{
	return p[0] == 0x0f && (p[1] == 0x30 || p[1] == 0x32);
}

/* The decoder for the mode the guest runs in now (compat mode counts as 32-bit, as in tcg_mem.c). */
static csh decoder(struct tcg_vcpu *c)
{
	if (!(tcg_reg(c, UC_X86_REG_CR0) & X86_CR0_PE)) {
		if (!c->cs16 && cs_open(CS_ARCH_X86, CS_MODE_16, &c->cs16) != CS_ERR_OK)
			c->cs16 = 0;
		return c->cs16;
	}
	uint64_t efer = tcg_efer(c);
	return efer & X86_EFER_LMA ? c->cs64 : c->cs32;
}

void tcg_hook_new_block(uc_engine *uc, uc_tb *tb, uc_tb *prev, void *opaque)
{
	struct tcg_vcpu *c = opaque;
	(void)prev;
	tcg_code_note(c, tb->pc, tb->size); /* K8 (tcg_code.c) */
	if (c->in_gate || tb->size < 2) /* the boot stub's own WRMSR, single steps */
		return;
	/* tb->pc is linear (virtual); a block spans two pages at most. */
	uint8_t p[2 * GUEST_PAGE_SIZE];
	if (tb->size > sizeof(p) || !tcg_read_virt(c, tb->pc, p, tb->size))
		return;
	unsigned i = 0;
	while (i + 1 < tb->size && !msr_opcode(p + i))
		i++;
	if (i + 1 >= tb->size)
		return; /* the common case: no 0F 30 / 0F 32 anywhere */
	csh h = decoder(c);
	if (!h)
		return;
	cs_insn *in = cs_malloc(h);
	if (!in)
		return;
	const uint8_t *code = p;
	size_t n = tb->size;
	uint64_t addr = tb->pc;
	while (cs_disasm_iter(h, &code, &n, &addr, in)) {
		if (in->id != X86_INS_RDMSR && in->id != X86_INS_WRMSR)
			continue;
		/*
		 * In the run that goes to this very instruction (until), a block
		 * can only hold it if the decoder's idea of the mode is wrong:
		 * let it run rather than stop for ever.
		 */
		if (in->address == c->msr_until)
			continue;
		c->msr_found = true;
		c->msr_tb = tb->pc;
		c->msr_site = in->address;
		c->msr_len = (uint8_t)in->size;
		c->msr_cs_base = tb->pc - tcg_reg(c, UC_X86_REG_RIP); /* RIP is the block's start */
		if (c->stop == TCG_STOP_NONE)
			c->stop = TCG_STOP_MSR;
		uc_emu_stop(uc); /* the block does not run: RIP stays its start */
		break;
	}
	cs_free(in, 1);
}

/* RDMSR/WRMSR of the APIC base at CPL0: done here. false: step it natively. */
static bool serve_apic_base(struct tcg_vcpu *c, uint64_t rip, const uint8_t *op)
{
	if ((uint32_t)tcg_reg(c, UC_X86_REG_RCX) != X86_MSR_APIC_BASE)
		return false;
	if ((tcg_reg(c, UC_X86_REG_CR0) & X86_CR0_PE) && (tcg_reg(c, UC_X86_REG_CS) & 3))
		return false; /* #GP, natively */
	if (!c->apic_base)
		c->apic_base = X86_APIC_BASE_DEFAULT | X86_APIC_BASE_ENABLE |
			       (c->vcpu->id == 0 ? X86_APIC_BASE_BSP : 0);
	if (op[1] == 0x32) {
		tcg_set_reg(c, UC_X86_REG_RAX, (uint32_t)c->apic_base);
		tcg_set_reg(c, UC_X86_REG_RDX, c->apic_base >> 32);
	} else {
		/*
		 * Kept for reads back; the local APIC stays at 0xFEE00000 and
		 * enabled whatever is written (BSP is read-only).
		 */
		uint64_t v = (uint32_t)tcg_reg(c, UC_X86_REG_RAX) |
			     (uint64_t)(uint32_t)tcg_reg(c, UC_X86_REG_RDX) << 32;
		c->apic_base = (v & APIC_BASE_WRITABLE) | (c->apic_base & X86_APIC_BASE_BSP);
	}
	tcg_set_reg(c, UC_X86_REG_RIP, rip + c->msr_len);
	return true;
}

enum tcg_msr_run tcg_msr_before_run(struct tcg_vcpu *c, uint64_t rip, uint64_t *until)
{
	c->msr_until = UINT64_MAX;
	c->msr_until_rip = UINT64_MAX;
	if (!c->msr_pending)
		return TCG_MSR_RUN;
	uint64_t base = c->msr_cs_base;
	if (rip == c->msr_tb - base && c->msr_site != c->msr_tb) {
		/* Translated anew (its blocks were dropped), the block stops at it. */
		c->msr_until = *until = c->msr_site;
		c->msr_until_rip = c->msr_site - base;
		return TCG_MSR_RUN;
	}
	c->msr_pending = false;
	uint8_t insn[16];
	const uint8_t *p = c->msr_len <= sizeof(insn) &&
				   tcg_read_virt(c, c->msr_site, insn, c->msr_len) ? insn : NULL;
	if (rip != c->msr_site - base || !p || c->msr_len < 2 || !msr_opcode(p + c->msr_len - 2))
		return TCG_MSR_RUN; /* elsewhere (an interrupt came first) or rewritten */
	if (serve_apic_base(c, rip, p + c->msr_len - 2))
		return TCG_MSR_SERVED;
	c->msr_until = *until = c->msr_site + c->msr_len;
	c->msr_until_rip = rip + c->msr_len;
	return TCG_MSR_STEP;
}

void tcg_msr_after_run(struct tcg_vcpu *c, uc_err e)
{
	uint64_t until_rip = c->msr_until_rip;
	c->msr_until = UINT64_MAX;
	c->msr_until_rip = UINT64_MAX;
	if (c->msr_found) {
		/*
		 * Every block holding the instruction goes (each one was stopped
		 * before it ran): a translation that holds it again is seen again.
		 */
		c->msr_found = false;
		c->msr_pending = true;
		uc_ctl_remove_cache(c->uc, c->msr_site, c->msr_site + c->msr_len);
		return;
	}
	/* Stopped by the "until" at the instruction, or past the one stepped. */
	if (until_rip != UINT64_MAX && c->stop == TCG_STOP_NONE && e == UC_ERR_OK &&
	    tcg_reg(c, UC_X86_REG_RIP) == until_rip)
		c->stop = TCG_STOP_MSR;
}
