/* SPDX-License-Identifier: MIT */
/*
 * tcg backend: instructions checked before they run (K12): RDMSR/WRMSR
 * (the APIC base and the TSC served here, MSRs libunicorn does not
 * implement raise #GP) and MOV to CR4 (a bit the CPUID does not offer
 * raises #GP; libunicorn 2.1.1 takes any, e.g. CR4.OSXSAVE without XSAVE).
 *
 * libunicorn 2.1.1 has no APIC (MSR 0x1b reads 0, writes are dropped),
 * reads 0 from and drops writes to every MSR it does not know, reads 0 from
 * the TSC MSR, and RDMSR/WRMSR/MOV CR cannot be hooked as instructions.
 * K12's first plan, a UC_HOOK_CODE on each, is unusable: when a block-hook
 * stop (K3) leaves a block before its first instruction, cpu_tb_exec puts
 * RIP back to the block's start only if no UC_HOOK_CODE exists at all
 * (qemu/accel/tcg/cpu-exec.c:75, HOOK_EXISTS, whatever the hook's range);
 * with one, RIP stays wherever it was last stored (chained blocks do not
 * store it; the K11 memory hooks store it before each access), so the
 * resumed run repeats instructions. Instead a UC_HOOK_EDGE_GENERATED hook
 * sees every block once, as it is translated, before it runs (tb_find,
 * cpu-exec.c:259-276; skipped for an engine's very first block, always the
 * K9 stub's); it decodes only blocks holding the bytes 0F 30/0F 32/0F 22.
 * On an RDMSR/WRMSR or a MOV to CR4 it calls uc_emu_stop: cpu_exec then
 * never enters the block (cpu-exec.c:601, "if (cpu->exit_request)
 * continue") and RIP is the block's start, exact with or without code
 * hooks. The run loop drops every block holding the instruction, runs to it
 * with "until" (checked for each instruction as a block is translated:
 * translate.c:4801; the address is mapped code, so the page walk libunicorn
 * does at until - 1 after the run, see tcg_run, succeeds), and at CPL0
 * serves it, raises #GP, or steps it natively (at CPL3 it is stepped: the
 * engine raises the #GP itself). Nothing is added to the block hook, so
 * running code pays nothing; each execution of one of these costs a
 * translation and two or three engine restarts (BENCHMARKS.md, design
 * measurements: msr-stop).
 *
 * MSRs a guest can use on tcg (all others, e.g. the x2APIC range 0x800-0x8ff,
 * TSC_DEADLINE 0x6e0, TSC_AUX 0xc0000103, VM_HSAVE_PA 0xc0010117, #GP, as on
 * a CPU without them); "engine" = libunicorn's helper_rdmsr/helper_wrmsr:
 *
 *   MSR                      read          write
 *   0x10 TSC                 here: host    ignored (libunicorn keeps no TSC
 *                            TSC = RDTSC   offset that RDTSC would see)
 *   0x1b APIC base           here          here (kept; reserved bits #GP)
 *   0x34 SMI count           engine        #GP
 *   0x8b microcode revision  engine        #GP
 *   0xfe MTRRcap             engine        #GP
 *   0x174-0x176 SYSENTER     engine        engine (kept, though SEP is not offered)
 *   0x179 MCG_CAP            engine        #GP
 *   0x17a MCG_STATUS         engine        engine
 *   0x17b MCG_CTL            engine        engine (MCG_CAP.CTL_P is set)
 *   0x198 PERF_STATUS        engine        #GP
 *   0x1a0 MISC_ENABLE        engine        engine
 *   0x200-0x20f MTRRphys*    engine        engine (no reserved-bit checks)
 *   0x250, 0x258-0x259,      engine        engine (no reserved-bit checks)
 *   0x268-0x26f fixed MTRRs
 *   0x277 PAT                engine        engine; a type other than 0, 1, 4-7 #GP
 *   0x2ff MTRRdefType        engine        engine (no reserved-bit checks)
 *   0x400-... MC banks       engine        engine (MCG_CAP's count, 4 each)
 *   0xc0000080 EFER          engine        engine; bits not offered #GP
 *   0xc0000081-84 STAR,      engine        engine
 *     LSTAR, CSTAR, SFMASK
 *   0xc0000100-102 FS/GS/    engine        engine
 *     KERNEL_GS base
 */
#include "core/vm.h"
#include "cpu/tcg/tcg_priv.h"

#define MSR_TSC 0x10
#define MSR_MCG_CAP 0x179
#define MSR_PAT 0x277
#define MSR_MC0_CTL 0x400
#define MCG_CTL_P (1ULL << 8)
/* Bits of the APIC base a write may set: base (40-bit physical), enable, BSP. */
#define APIC_BASE_VALID (0x000000fffffff000ULL | X86_APIC_BASE_ENABLE | X86_APIC_BASE_BSP)
#define APIC_BASE_WRITABLE (0x000000fffffff000ULL | X86_APIC_BASE_ENABLE)

enum { R = 1, W = 2 };
static const struct {
	uint32_t first, last;
	uint8_t access;
} engine_msrs[] = { /* what libunicorn's helpers implement (the table above) */
	{ 0x34, 0x34, R }, { 0x8b, 0x8b, R }, { 0xfe, 0xfe, R },
	{ 0x174, 0x176, R | W }, { 0x179, 0x179, R }, { 0x17a, 0x17a, R | W },
	{ 0x198, 0x198, R }, { 0x1a0, 0x1a0, R | W }, { 0x200, 0x20f, R | W },
	{ 0x250, 0x250, R | W }, { 0x258, 0x259, R | W }, { 0x268, 0x26f, R | W },
	{ 0x277, 0x277, R | W }, { 0x2ff, 0x2ff, R | W }, { 0xc0000080, 0xc0000084, R | W },
	{ 0xc0000100, 0xc0000102, R | W },
};

static uint64_t engine_msr(struct tcg_vcpu *c, uint32_t msr)
{
	uc_x86_msr m = { .rid = msr };
	uc_reg_read(c->uc, UC_X86_REG_MSR, &m);
	return m.value;
}

/* Does libunicorn implement @msr for a read (R) or a write (W)? */
static bool engine_has(struct tcg_vcpu *c, uint32_t msr, unsigned access)
{
	for (size_t i = 0; i < sizeof(engine_msrs) / sizeof(engine_msrs[0]); i++)
		if (msr >= engine_msrs[i].first && msr <= engine_msrs[i].last)
			return engine_msrs[i].access & access;
	uint64_t cap = engine_msr(c, MSR_MCG_CAP);
	if (msr == 0x17b)
		return (cap & MCG_CTL_P) != 0; /* MCG_CTL */
	return msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * (cap & 0xff);
}

/* A PAT entry may hold UC, WC, WT, WP, WB, UC- (0, 1, 4, 5, 6, 7). */
static bool pat_valid(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (v >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* 0F 30 (WRMSR), 0F 32 (RDMSR), 0F 22 (MOV to a control register). */
static bool checked_opcode(const uint8_t *p)
{
	return p[0] == 0x0f && (p[1] == 0x30 || p[1] == 0x32 || p[1] == 0x22);
}

/* The decoder for the mode the guest runs in now (compat mode counts as 32-bit, as in tcg_mem.c). */
static csh decoder(struct tcg_vcpu *c)
{
	if (!(tcg_reg(c, UC_X86_REG_CR0) & X86_CR0_PE)) {
		if (!c->cs16) {
			if (cs_open(CS_ARCH_X86, CS_MODE_16, &c->cs16) != CS_ERR_OK)
				c->cs16 = 0;
			else
				cs_option(c->cs16, CS_OPT_DETAIL, CS_OPT_ON);
		}
		return c->cs16;
	}
	uint64_t efer = tcg_efer(c);
	return efer & X86_EFER_LMA ? c->cs64 : c->cs32;
}

/* MOV to CR4 (0F 22 /4, register form): its source register's unicorn id, else 0. */
static int mov_cr4_source(const cs_insn *in)
{
	static const int gprs[16] = {
		UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
		UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
		UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
		UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
	};
	if (in->id != X86_INS_MOV || in->size < 3 || !in->detail)
		return 0;
	const cs_x86 *x = &in->detail->x86;
	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
	    x->operands[0].reg != X86_REG_CR4)
		return 0;
	uint8_t modrm = in->bytes[in->size - 1];
	return gprs[(modrm & 7) | (x->rex & 1 ? 8 : 0)];
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
	while (i + 1 < tb->size && !checked_opcode(p + i))
		i++;
	if (i + 1 >= tb->size)
		return; /* the common case: no 0F 30 / 0F 32 / 0F 22 anywhere */
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
		int cr4_src = mov_cr4_source(in);
		if (in->id != X86_INS_RDMSR && in->id != X86_INS_WRMSR && !cr4_src)
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
		c->msr_cr4_src = cr4_src;
		c->msr_cs_base = tb->pc - tcg_reg(c, UC_X86_REG_RIP); /* RIP is the block's start */
		if (c->stop == TCG_STOP_NONE)
			c->stop = TCG_STOP_MSR;
		uc_emu_stop(uc); /* the block does not run: RIP stays its start */
		break;
	}
	cs_free(in, 1);
}

/* The instruction at the site is still what was found there. */
static bool site_matches(const struct tcg_vcpu *c, const uint8_t *p)
{
	if (c->msr_cr4_src)
		return c->msr_len >= 3 && p[c->msr_len - 3] == 0x0f && p[c->msr_len - 2] == 0x22 &&
		       ((p[c->msr_len - 1] >> 3) & 7) == 4 && (p[c->msr_len - 1] >> 6) == 3;
	return c->msr_len >= 2 && p[c->msr_len - 2] == 0x0f &&
	       (p[c->msr_len - 1] == 0x30 || p[c->msr_len - 1] == 0x32);
}

static void set_edx_eax(struct tcg_vcpu *c, uint64_t v)
{
	tcg_set_reg(c, UC_X86_REG_RAX, (uint32_t)v);
	tcg_set_reg(c, UC_X86_REG_RDX, v >> 32);
}

/* RDMSR/WRMSR at CPL0: served here, #GP, or stepped natively. */
static enum tcg_msr_run check_msr(struct tcg_vcpu *c, uint64_t rip, bool write)
{
	uint32_t msr = (uint32_t)tcg_reg(c, UC_X86_REG_RCX);
	uint64_t v = (uint32_t)tcg_reg(c, UC_X86_REG_RAX) |
		     (uint64_t)(uint32_t)tcg_reg(c, UC_X86_REG_RDX) << 32;
	switch (msr) {
	case X86_MSR_APIC_BASE:
		if (!c->apic_base)
			c->apic_base = X86_APIC_BASE_DEFAULT | X86_APIC_BASE_ENABLE |
				       (c->vcpu->id == 0 ? X86_APIC_BASE_BSP : 0);
		if (!write) {
			set_edx_eax(c, c->apic_base);
		} else if (v & ~APIC_BASE_VALID) {
			return TCG_MSR_GP; /* x2APIC enable (bit 10) included: not offered */
		} else {
			/*
			 * Kept for reads back; the local APIC stays at 0xFEE00000
			 * and enabled whatever is written (BSP is read-only).
			 */
			c->apic_base = (v & APIC_BASE_WRITABLE) | (c->apic_base & X86_APIC_BASE_BSP);
		}
		break;
	case MSR_TSC:
		/*
		 * libunicorn's RDTSC is the host's TSC (cpu_get_host_ticks, no
		 * offset ever set): the MSR reads the same clock. A write cannot
		 * move what RDTSC reads, so it is dropped.
		 */
		if (!write)
			set_edx_eax(c, __builtin_ia32_rdtsc());
		break;
	case MSR_PAT:
		return write && !pat_valid(v) ? TCG_MSR_GP : TCG_MSR_STEP;
	case X86_MSR_EFER:
		return write && (v & ~tcg_cpuid_efer_allowed()) ? TCG_MSR_GP : TCG_MSR_STEP;
	default:
		return engine_has(c, msr, write ? W : R) ? TCG_MSR_STEP : TCG_MSR_GP;
	}
	tcg_set_reg(c, UC_X86_REG_RIP, rip + c->msr_len);
	return TCG_MSR_SERVED;
}

/* MOV to CR4 at CPL0: #GP for a bit the CPUID does not offer, else stepped. */
static enum tcg_msr_run check_cr4(struct tcg_vcpu *c)
{
	uint64_t v = tcg_reg(c, c->msr_cr4_src);
	if (!(tcg_efer(c) & X86_EFER_LMA))
		v = (uint32_t)v;
	return v & ~tcg_cpuid_cr4_allowed() ? TCG_MSR_GP : TCG_MSR_STEP;
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
	if (rip != c->msr_site - base || !p || !site_matches(c, p))
		return TCG_MSR_RUN; /* elsewhere (an interrupt came first) or rewritten */
	enum tcg_msr_run r = TCG_MSR_STEP; /* at CPL>0 the engine raises #GP itself */
	if (!(tcg_reg(c, UC_X86_REG_CR0) & X86_CR0_PE) || !(tcg_reg(c, UC_X86_REG_CS) & 3))
		r = c->msr_cr4_src ? check_cr4(c) : check_msr(c, rip, p[c->msr_len - 1] == 0x30);
	if (r == TCG_MSR_STEP) {
		c->msr_until = *until = c->msr_site + c->msr_len;
		c->msr_until_rip = rip + c->msr_len;
		/*
		 * The exit at "until" is compiled into the code translated while
		 * it is set: a block starting there that an earlier run (without
		 * this exit) translated would run on, in_gate, for ever. A MOV to
		 * CR4 ends its block, so the next one is looked up, not
		 * translated: drop it (libunicorn itself drops only the code at
		 * until - 1 after the run).
		 */
		uc_ctl_remove_cache(c->uc, *until, *until + 1);
	}
	return r;
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
