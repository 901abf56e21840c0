/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: SYSCALL and SYSENTER (K10). libunicorn 2.1.1 executes
 * neither: its helper_syscall/helper_sysenter (seg_helper.c) only call the
 * UC_HOOK_INSN hooks and step RIP past the instruction (no EFER.SCE check,
 * no CPL change, a NOP without a hook). SYSRET it runs natively and
 * exactly (#UD without EFER.SCE, #GP at CPL>0, CS/SS from STAR[63:48] with
 * their CPL3 caches, RFLAGS from R11, RIP from RCX).
 *
 * So the hooks record the instruction and stop the engine (the helper then
 * steps RIP past it and the block ends there), and tcg_syscall does what
 * the CPU does, in 64-bit mode: #UD without EFER.SCE; else RCX = the next
 * RIP, R11 = RFLAGS, RFLAGS &= ~SFMASK (RF too), CS = STAR[47:32],
 * SS = STAR[47:32] + 8, RIP = LSTAR, RSP unchanged. From CPL3 the CPL is
 * raised by the K10 call gate (tcg_call_gate) to STAR's CS at LSTAR, which
 * pushes 32 bytes below TSS.RSP0: they are put back, since SYSCALL writes
 * no memory. So on tcg the GDT must hold a 64-bit DPL0 code descriptor at
 * STAR[47:32] (any OS has one: SYSRET's return to it, interrupts) and
 * TSS.RSP0 must point to RAM; CS's hidden part comes from that descriptor,
 * SS's selector is STAR's + 8 over a null SS's hidden part (64-bit mode
 * ignores both but for the DPL, which is 0 either way). From CPL0 only
 * registers change. Not supported (the VM stops with the reason): SYSCALL
 * outside 64-bit mode (legacy or compatibility mode, where this AMD CPU
 * would go to STAR[31:0] or CSTAR) and at CPL1/2. SYSENTER: the CPUID
 * does not offer SEP (tcg_cpuid.c), so it raises #UD (as it does natively
 * in 64-bit mode on this AMD CPU model).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"

#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_SFMASK 0xC0000084u
#define EFER_SCE (1ULL << 0)
#define RFLAGS_VM (1ULL << 17)

/*
 * RIP in the hook is the SYSCALL's (translate.c stores it before the
 * helper), but not the SYSENTER's (nothing stores it: RIP is whatever was
 * stored last in the block, and the helper adds the length to that). Both
 * end their translated block, so the SYSENTER is the last two bytes of the
 * block the block hook saw last (0F 34; checked in tcg_syscall).
 */
static void record(struct tcg_vcpu *c, bool sysenter)
{
	if (c->stop != TCG_STOP_NONE)
		return;
	c->stop = TCG_STOP_SYSCALL;
	c->sys_rip = sysenter ? c->last_block + c->last_block_size - 2
			      : tcg_reg(c, UC_X86_REG_RIP);
	c->sys_enter = sysenter;
	uc_emu_stop(c->uc);
}

void tcg_hook_syscall(uc_engine *uc, void *opaque)
{
	(void)uc;
	record(opaque, false);
}

void tcg_hook_sysenter(uc_engine *uc, void *opaque)
{
	(void)uc;
	record(opaque, true);
}

static uint64_t msr(struct tcg_vcpu *c, uint32_t id)
{
	uc_x86_msr m = { .rid = id };
	uc_reg_read(c->uc, UC_X86_REG_MSR, &m);
	return m.value;
}

static enum tcg_delivery unsupported(struct tcg_vcpu *c, const char *why)
{
	snprintf(c->reason, sizeof(c->reason), "SYSCALL at rip 0x%" PRIx64 " %s: not supported "
		 "on tcg", c->sys_rip, why);
	return TCG_DELIVER_UNSUPPORTED;
}

/* Is the code segment a 64-bit one (its descriptor's L bit)? As far as the GDT says. */
static bool cs_is_64bit(struct tcg_vcpu *c)
{
	uc_x86_mmr gdtr = { 0 };
	uc_reg_read(c->uc, UC_X86_REG_GDTR, &gdtr);
	uint64_t sel = tcg_reg(c, UC_X86_REG_CS) & ~7ULL;
	uint8_t d[8];
	if (sel + 7 > gdtr.limit || !tcg_read_virt(c, gdtr.base + sel, d, 8))
		return true;
	return (d[6] & 0x20) != 0;
}

/* The CPL3 -> CPL0 part: the K10 call gate, then the 32 bytes it pushed put back. */
static enum tcg_delivery raise_cpl(struct tcg_vcpu *c, uint16_t cs, uint64_t lstar)
{
	uc_x86_mmr tr = { 0 };
	uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
	uint64_t rsp0 = 0;
	uint8_t saved[32];
	if (!tcg_read_virt(c, tr.base + 4, &rsp0, 8) || !tcg_read_virt(c, rsp0 - 32, saved, 32) ||
	    !tcg_virt_mapped(c, rsp0 - 32, 32))
		return unsupported(c, "from CPL3 with TSS.RSP0 not mapped to RAM");
	enum tcg_delivery d = tcg_call_gate(c, cs, lstar);
	tcg_write_virt(c, rsp0 - 32, saved, 32);
	/* A CPU takes no descriptor from the GDT for SYSCALL: a gate that faulted is ours. */
	return d == TCG_DELIVER_TRIPLE_FAULT ? TCG_DELIVER_UNSUPPORTED : d;
}

enum tcg_delivery tcg_syscall(struct tcg_vcpu *c)
{
	uint64_t next = tcg_reg(c, UC_X86_REG_RIP);
	uint64_t efer = tcg_efer(c);
	if (c->sys_enter) {
		uint8_t p[2];
		if (!tcg_read_virt(c, c->sys_rip, p, 2) || p[0] != 0x0f || p[1] != 0x34) {
			snprintf(c->reason, sizeof(c->reason), "SYSENTER not found at the end of the "
				 "block at 0x%" PRIx64 " (tcg needs its address for the #UD)",
				 c->last_block);
			return TCG_DELIVER_UNSUPPORTED;
		}
	}
	if (c->sys_enter || !(efer & EFER_SCE)) {
		tcg_set_reg(c, UC_X86_REG_RIP, c->sys_rip);
		return tcg_deliver(c, X86_EXC_UD, -1, false);
	}
	if (!(efer & X86_EFER_LMA) || !cs_is_64bit(c))
		return unsupported(c, "outside 64-bit mode");
	uint64_t star = msr(c, MSR_STAR), lstar = msr(c, MSR_LSTAR), mask = msr(c, MSR_SFMASK);
	uint16_t cs = (uint16_t)((star >> 32) & 0xfffc);
	uint64_t rflags = tcg_reg(c, UC_X86_REG_EFLAGS), rsp = tcg_reg(c, UC_X86_REG_RSP);
	unsigned cpl = (unsigned)tcg_reg(c, UC_X86_REG_CS) & 3;
	if (cpl == 3) {
		tcg_set_reg(c, UC_X86_REG_RIP, next); /* the gate's patch goes here */
		enum tcg_delivery d = raise_cpl(c, cs, lstar);
		if (d != TCG_DELIVERED)
			return d;
	} else if (cpl == 0) {
		if ((tcg_reg(c, UC_X86_REG_CS) & 0xfffc) != cs)
			tcg_set_reg(c, UC_X86_REG_CS, cs); /* the selector: still CPL0, 64-bit */
	} else {
		return unsupported(c, "at CPL1 or CPL2");
	}
	tcg_set_reg(c, UC_X86_REG_SS, cs + 8u);
	tcg_set_reg(c, UC_X86_REG_RSP, rsp);
	tcg_set_reg(c, UC_X86_REG_RCX, next);
	tcg_set_reg(c, UC_X86_REG_R11, rflags & ~X86_RFLAGS_RF);
	tcg_set_reg(c, UC_X86_REG_EFLAGS, (rflags & ~(mask | X86_RFLAGS_RF | RFLAGS_VM)) | 2);
	tcg_set_reg(c, UC_X86_REG_RIP, lstar);
	return TCG_DELIVERED;
}
